import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { decide, type EventOf, type LifecycleTransition } from '#referral/domain/lifecycle.ts';
import { newOffer, type Offer } from '#referral/domain/offer.ts';
import type { OfferDeadlines, OfferStore } from '#referral/ports.ts';
import { sampleReferral } from '../unit/fixtures.ts';

/**
 * What every OfferDeadlines promises, over the in-memory fake (test/unit/offer-deadlines.contract.test.ts) and the
 * DynamoDB index on dynalite (test/integration/offer-deadlines.contract.test.ts): an offered offer is due once its
 * deadline is at or before now, most overdue first; a reminder or an expiry is pending until followed up (then the
 * reminded offer is due again by its new deadline, the expired one gone); an answered offer is never due nor
 * pending; a repeat changes nothing.
 */

export interface OfferDeadlinesSubject {
  offers: OfferStore;
  deadlines: OfferDeadlines;
}

export function describeOfferDeadlinesContract(
  name: string,
  make: () => OfferDeadlinesSubject | Promise<OfferDeadlinesSubject>,
): void {
  describe(`OfferDeadlines contract: ${name}`, () => {
    let subject: OfferDeadlinesSubject;
    /** Deadlines far in the future and unique to this case, so other cases' offers never fall in its window. */
    let base: number;

    beforeEach(async () => {
      subject = await make();
      base = Date.parse('2090-01-01T00:00:00.000Z') + Math.floor(Math.random() * 1e9) * 1000;
    });

    const at = (hours: number): string => new Date(base + hours * 3_600_000).toISOString();

    async function offered(deadlineHours: number, category: 'arts' | 'food' = 'arts'): Promise<Offer> {
      const referralId = randomUUID();
      const offer = newOffer(sampleReferral('leeds-arts-and-mental-health', { referralId }), {
        category,
        serviceId: 'svc-arts-studio',
        serviceName: 'Arts studio',
        partnerId: `partner-${referralId.slice(0, 8)}`,
        partnerName: 'Arts for All',
        content: 'identifiable',
        offeredAt: at(-100),
        deadline: at(deadlineHours),
      });
      expect(await subject.offers.create(offer)).toBe(true);
      return offer;
    }

    const transition = (offer: Offer, event: EventOf<'offer'>, role: 'system' | 'partner', now: string) => {
      const decision = decide(
        'offer',
        {
          state: offer.state,
          version: offer.version,
          deadline: offer.deadline,
          ...(offer.nudgedAt ? { nudgedAt: offer.nudgedAt } : {}),
        },
        event,
        role,
        offer.version,
        { now },
      );
      if (!decision.ok || decision.kind !== 'apply')
        throw new Error(`not an apply: ${JSON.stringify(decision)}`);
      return decision.transition as LifecycleTransition<'offer'>;
    };

    /** Due offers of this case's window (the index is shared with other cases' offers). */
    async function dueOf(now: string, mine: Offer[]): Promise<string[]> {
      const ids = new Set(mine.map((o) => o.offerId));
      const due = await subject.deadlines.due(now, 1000);
      return due.filter((k) => ids.has(k.offerId)).map((k) => k.offerId);
    }

    it('an offered offer is due once its deadline is at or before now, most overdue first', async () => {
      const later = await offered(2);
      const earlier = await offered(1);
      const notYet = await offered(10);
      const mine = [later, earlier, notYet];
      expect(await dueOf(at(0), mine)).toEqual([]);
      expect(await dueOf(at(1), mine)).toEqual([earlier.offerId]);
      expect(await dueOf(at(5), mine)).toEqual([earlier.offerId, later.offerId]);
      const [first] = await subject.deadlines.due(at(5), 1);
      expect(first).toBeDefined();
    });

    /** This offer's entries pending a follow-up, as `<step>` (the index is shared with other cases' offers). */
    const pendingOf = async (offer: Offer): Promise<string[]> =>
      (await subject.deadlines.awaitingFollowUp(1000))
        .filter((k) => k.offerId === offer.offerId && k.referralId === offer.referralId)
        .map((k) => k.step);
    const remind = (offer: Offer) =>
      subject.offers.apply(offer, transition(offer, 'nudge', 'system', at(2)), {
        at: at(2),
        changes: { nudgedAt: at(2), deadline: at(50) },
      });

    it('a reminder is pending until followed up, then the offer is due again by the new deadline only', async () => {
      const offer = await offered(1);
      const reminded = await remind(offer);
      expect(reminded).toMatchObject({ state: 'offered', nudgedAt: at(2), deadline: at(50) });
      // Written, not yet sent: pending, and not due whatever the time.
      expect(await pendingOf(offer)).toEqual(['reminded']);
      expect(await dueOf(at(100), [offer])).toEqual([]);
      await subject.deadlines.followedUp(offer, 'reminded');
      expect(await pendingOf(offer)).toEqual([]);
      expect(await dueOf(at(3), [offer])).toEqual([]);
      expect(await dueOf(at(50), [offer])).toEqual([offer.offerId]);
      // A repeat, or the other step's follow-up, changes nothing.
      await subject.deadlines.followedUp(offer, 'reminded');
      await subject.deadlines.followedUp(offer, 'expired');
      expect(await dueOf(at(50), [offer])).toEqual([offer.offerId]);
    });

    it('an answered offer is never due nor pending, even answered while its reminder was pending', async () => {
      const offer = await offered(1);
      await subject.offers.apply(offer, transition(offer, 'accept', 'partner', at(0)), {
        at: at(0),
        ownerId: offer.partnerId,
        changes: { acceptance: { at: at(0), by: 'partner-user' } },
      });
      expect(await dueOf(at(5), [offer])).toEqual([]);
      expect(await pendingOf(offer)).toEqual([]);

      const other = await offered(1);
      const reminded = await remind(other);
      await subject.offers.apply(reminded, transition(reminded, 'accept', 'partner', at(3)), {
        at: at(3),
        ownerId: other.partnerId,
        changes: { acceptance: { at: at(3), by: 'partner-user' } },
      });
      expect(await pendingOf(other)).toEqual([]);
      await subject.deadlines.followedUp(other, 'reminded');
      expect(await dueOf(at(100), [other])).toEqual([]);
    });

    it('an expired offer is pending until followed up, then gone; a repeat changes nothing', async () => {
      const offer = await offered(1);
      const reminded = await remind(offer);
      await subject.deadlines.followedUp(offer, 'reminded');
      await subject.offers.apply(reminded, transition(reminded, 'escalate', 'system', at(51)), {
        at: at(51),
      });
      expect(await dueOf(at(100), [offer])).toEqual([]);
      expect(await pendingOf(offer)).toEqual(['expired']);
      await subject.deadlines.followedUp(offer, 'reminded');
      expect(await pendingOf(offer)).toEqual(['expired']);
      await subject.deadlines.followedUp(offer, 'expired');
      expect(await pendingOf(offer)).toEqual([]);
      await subject.deadlines.followedUp(offer, 'expired');
      expect(await pendingOf(offer)).toEqual([]);
      expect((await subject.offers.get(offer.referralId, offer.offerId))?.state).toBe('expired');
    });

    it('following up an offer still waiting for its partner leaves it due', async () => {
      const offer = await offered(1);
      await subject.deadlines.followedUp(offer, 'reminded');
      await subject.deadlines.followedUp(offer, 'expired');
      expect(await dueOf(at(5), [offer])).toEqual([offer.offerId]);
    });
  });
}
