import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  decide,
  LifecycleConflictError,
  type EventOf,
  type LifecycleActor,
  type LifecycleTransition,
} from '#referral/domain/lifecycle.ts';
import { newOffer, type Offer } from '#referral/domain/offer.ts';
import type { Referral, RoutingDecision } from '#referral/domain/referral.ts';
import { referralTransition } from '#referral/domain/transition-refusal.ts';
import type { OfferStore, ReferralStore, Worklists } from '#referral/ports.ts';
import { ValidationError } from '#kernel/errors.ts';
import { sampleReferral } from '../unit/fixtures.ts';

/**
 * What every OfferStore and Worklists promise, run against the in-memory fakes (test/unit/offer-store.contract.test.ts)
 * and the DynamoDB adapters on dynalite (test/integration/offer-store.contract.test.ts): an offer is created once,
 * every transition is one write conditional on state, version and (for a partner) whose it is, a refused write
 * changes nothing, and the worklists list a team's referrals and a partner's offers newest first by status, page by
 * page, from the index.
 */

export interface OfferStoreSubject {
  referrals: ReferralStore;
  offers: OfferStore;
  worklists: Worklists;
}

export function describeOfferStoreContract(
  name: string,
  make: () => OfferStoreSubject | Promise<OfferStoreSubject>,
): void {
  describe(`OfferStore and Worklists contract: ${name}`, () => {
    let subject: OfferStoreSubject;
    let id: string;
    /** A partner and team of this case alone, so each case's worklists hold only its own entries. */
    let partner: string;
    let team: string;

    beforeEach(async () => {
      subject = await make();
      id = randomUUID();
      partner = `partner-${id.slice(0, 8)}`;
      team = `team-${id.slice(0, 8)}`;
    });

    const referral = (referralId = id, receivedAt = '2025-03-04T09:15:00.000Z'): Referral =>
      sampleReferral('leeds-arts-and-mental-health', { referralId, receivedAt });
    const offer = (
      overrides: Partial<{
        category: 'arts' | 'mental-health' | 'food';
        at: string;
        referralId: string;
      }> = {},
    ): Offer =>
      newOffer(referral(overrides.referralId ?? id), {
        category: overrides.category ?? 'arts',
        serviceId: 'svc-arts-studio',
        serviceName: 'Arts studio',
        partnerId: partner,
        partnerName: 'Arts for All',
        content: 'identifiable',
        offeredAt: overrides.at ?? '2025-03-04T09:20:00.000Z',
        deadline: '2025-03-11T09:20:00.000Z',
      });
    const decided = (
      current: Offer,
      event: EventOf<'offer'>,
      role: LifecycleActor,
      now?: string,
    ): LifecycleTransition<'offer'> => {
      const decision = decide(
        'offer',
        {
          state: current.state,
          version: current.version,
          deadline: current.deadline,
          ...(current.nudgedAt ? { nudgedAt: current.nudgedAt } : {}),
        },
        event,
        role,
        current.version,
        now === undefined ? {} : { now },
      );
      if (!decision.ok || decision.kind !== 'apply')
        throw new Error(`not an apply: ${JSON.stringify(decision)}`);
      return decision.transition;
    };
    const refusal = async (write: Promise<unknown>): Promise<LifecycleConflictError> => {
      const error = await write.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(LifecycleConflictError);
      return error as LifecycleConflictError;
    };

    describe('create and read', () => {
      it('stores a new offer and reads it back exactly; a second create keeps the first', async () => {
        const first = offer();
        expect(await subject.offers.create(first)).toBe(true);
        expect(await subject.offers.get(id, first.offerId)).toEqual(first);
        expect(await subject.offers.create({ ...first, partnerName: 'changed' })).toBe(false);
        expect(await subject.offers.get(id, first.offerId)).toEqual(first);
      });

      it("lists a referral's offers, oldest first, and no other referral's", async () => {
        const other = randomUUID();
        const later = offer({ category: 'mental-health', at: '2025-03-05T10:00:00.000Z' });
        const earlier = offer({ category: 'arts' });
        await subject.offers.create(later);
        await subject.offers.create(earlier);
        await subject.offers.create(offer({ referralId: other }));
        expect((await subject.offers.ofReferral(id)).map((o) => o.offerId)).toEqual([
          earlier.offerId,
          later.offerId,
        ]);
        expect(await subject.offers.get(other, earlier.offerId)).toBeUndefined();
      });

      it('an unknown offer is undefined', async () => {
        expect(await subject.offers.get(id, `${id}.offer.arts.svc-none`)).toBeUndefined();
        expect(await subject.offers.ofReferral(id)).toEqual([]);
      });
    });

    describe('transitions', () => {
      it("the partner's accept applies with its data in the same write; a second decided at the same version is refused", async () => {
        const made = offer();
        await subject.offers.create(made);
        const transition = decided(made, 'accept', 'partner');
        const acceptance = { at: '2025-03-05T08:00:00.000Z', by: 'partner-user' };
        const written = await subject.offers.apply(made, transition, {
          at: acceptance.at,
          ownerId: partner,
          changes: { acceptance },
        });
        expect(written).toMatchObject({
          state: 'accepted',
          version: 1,
          acceptance,
          updatedAt: acceptance.at,
        });
        expect(await subject.offers.get(id, made.offerId)).toEqual(written);
        const again = await refusal(
          subject.offers.apply(made, transition, { at: acceptance.at, ownerId: partner }),
        );
        expect(again).toMatchObject({ reason: 'stale', state: 'accepted', version: 1 });
      });

      it("another partner's transition is refused without revealing the offer, and changes nothing", async () => {
        const made = offer();
        await subject.offers.create(made);
        const error = await refusal(
          subject.offers.apply(made, decided(made, 'accept', 'partner'), {
            at: made.offeredAt,
            ownerId: 'someone-else',
          }),
        );
        expect(error).toMatchObject({ reason: 'forbidden', state: null, version: 0 });
        expect(await subject.offers.get(id, made.offerId)).toEqual(made);
      });

      it('a transition at a stale version is refused naming the stored version, and changes nothing', async () => {
        const made = offer();
        await subject.offers.create(made);
        const updated = await subject.offers.apply(made, decided(made, 'update', 'system'), {
          at: made.offeredAt,
        });
        expect(updated.version).toBe(2);
        const error = await refusal(
          subject.offers.apply(made, decided(made, 'accept', 'partner'), {
            at: made.offeredAt,
            ownerId: partner,
          }),
        );
        expect(error).toMatchObject({ reason: 'stale', state: 'offered', version: 2 });
        expect(error.message).toContain('version 2');
        expect(await subject.offers.get(id, made.offerId)).toEqual(updated);
      });

      it('a transition of an offer that does not exist is refused and creates nothing', async () => {
        const made = offer();
        await refusal(
          subject.offers.apply(made, decided(made, 'accept', 'partner'), {
            at: made.offeredAt,
            ownerId: partner,
          }),
        );
        expect(await subject.offers.get(id, made.offerId)).toBeUndefined();
      });

      it('a reminder applies only once the deadline has passed, and only once', async () => {
        const made = offer();
        await subject.offers.create(made);
        const nudge = decided(made, 'nudge', 'system', made.deadline);
        await refusal(subject.offers.apply(made, nudge, { at: '2025-03-10T00:00:00.000Z' }));
        const nudged = await subject.offers.apply(made, nudge, {
          at: made.deadline,
          changes: { nudgedAt: made.deadline },
        });
        expect(nudged.nudgedAt).toBe(made.deadline);
        await refusal(subject.offers.apply(made, nudge, { at: '2025-03-12T00:00:00.000Z' }));
      });
    });

    describe('worklists', () => {
      it("a partner's offers newest first, by status, page by page; a cursor of another worklist is refused", async () => {
        const offers = [
          '2025-03-04T09:20:00.000Z',
          '2025-03-05T09:20:00.000Z',
          '2025-03-06T09:20:00.000Z',
        ].map((at) => offer({ referralId: randomUUID(), at }));
        for (const o of offers) await subject.offers.create(o);
        const accepted = offers[0] as Offer;
        await subject.offers.apply(accepted, decided(accepted, 'accept', 'partner'), {
          at: '2025-03-07T00:00:00.000Z',
          ownerId: partner,
        });

        const offered = await subject.worklists.partnerOffers(partner, { status: 'offered', limit: 10 });
        expect(offered.items.map((o) => o.offeredAt)).toEqual([offers[2]?.offeredAt, offers[1]?.offeredAt]);
        expect(offered.cursor).toBeUndefined();
        const acceptedPage = await subject.worklists.partnerOffers(partner, {
          status: 'accepted',
          limit: 10,
        });
        expect(acceptedPage.items.map((o) => [o.offerId, o.state])).toEqual([[accepted.offerId, 'accepted']]);

        const first = await subject.worklists.partnerOffers(partner, { status: 'offered', limit: 1 });
        expect(first.items.map((o) => o.offeredAt)).toEqual([offers[2]?.offeredAt]);
        expect(first.cursor).toEqual(expect.any(String));
        const second = await subject.worklists.partnerOffers(partner, {
          status: 'offered',
          limit: 1,
          ...(first.cursor ? { cursor: first.cursor } : {}),
        });
        expect(second.items.map((o) => o.offeredAt)).toEqual([offers[1]?.offeredAt]);

        expect((await subject.worklists.partnerOffers('nobody', { limit: 10 })).items).toEqual([]);
        await expect(
          subject.worklists.partnerOffers('someone-else', { limit: 1, cursor: first.cursor ?? '' }),
        ).rejects.toBeInstanceOf(ValidationError);
        await expect(
          subject.worklists.partnerOffers(partner, { limit: 1, cursor: 'not-a-cursor' }),
        ).rejects.toBeInstanceOf(ValidationError);
      });

      it("a team's referrals are listed once routed to it, and move with their status", async () => {
        const ids = [randomUUID(), randomUUID()];
        const received = ['2025-03-04T09:15:00.000Z', '2025-03-05T09:15:00.000Z'];
        const routing: RoutingDecision = {
          decidedAt: '2025-03-05T09:20:00.000Z',
          area: 'LS6',
          areaSource: 'patient-postcode',
          team: { id: team, name: 'A team' },
          teamReason: 'the practice is in its PCN',
          matches: [],
          unmetNeeds: [],
          deliveries: [],
        };
        for (const [i, referralId] of ids.entries()) {
          const stored = referral(referralId, received[i]);
          await subject.referrals.create(stored);
          expect(
            (await subject.worklists.teamReferrals(team, { limit: 10 })).items.map((r) => r.referralId),
          ).not.toContain(referralId);
          const route = decide('referral', { state: 'received', version: 1 }, 'route', 'system', 1);
          if (!route.ok || route.kind !== 'apply') throw new Error('route must apply');
          await subject.referrals.apply(referralId, referralTransition(route.transition), {
            at: routing.decidedAt,
            listedAt: stored.receivedAt,
            changes: { routing, deliveryStatus: {} },
          });
        }
        const routed = await subject.worklists.teamReferrals(team, { status: 'routed', limit: 10 });
        expect(routed.items.map((r) => r.referralId)).toEqual([ids[1], ids[0]]);
        expect(routed.items[0]).toEqual(await subject.referrals.get(ids[1] ?? ''));

        const accept = decide('referral', { state: 'routed', version: 1 }, 'accept', 'link-worker', 1);
        if (!accept.ok || accept.kind !== 'apply') throw new Error('accept must apply');
        await subject.referrals.apply(ids[0] ?? '', referralTransition(accept.transition), {
          at: '2025-03-06T09:00:00.000Z',
          ownerId: team,
          listedAt: received[0] as string,
        });
        expect(
          (await subject.worklists.teamReferrals(team, { status: 'routed', limit: 10 })).items.map(
            (r) => r.referralId,
          ),
        ).toEqual([ids[1]]);
        expect(
          (await subject.worklists.teamReferrals(team, { status: 'accepted', limit: 10 })).items.map((r) => [
            r.referralId,
            r.status,
          ]),
        ).toEqual([[ids[0], 'accepted']]);
        expect((await subject.worklists.teamReferrals('another-team', { limit: 10 })).items).toEqual([]);
      });
    });
  });
}
