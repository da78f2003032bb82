import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { deliverNotification } from '#delivery/application/deliver-notification.ts';
import type { NoticeMessage } from '#messages/notice-message.ts';
import type { OutboundMessage, Queue } from '#messages/queue.ts';
import type { RoutingMessage } from '#messages/routing-message.ts';
import { cancelReferral } from '#referral/application/amend-or-cancel-referral.ts';
import {
  amendedContent,
  type DeliveryState,
  type PlannedDelivery,
  type Referral,
  type RoutingDecision,
} from '#referral/domain/referral.ts';
import {
  decide,
  LifecycleConflictError,
  type EventOf,
  type GuardFacts,
  type LifecycleActor,
  type LifecycleCurrent,
} from '#referral/domain/lifecycle.ts';
import type { ReferralStore, ReferralTransition } from '#referral/ports.ts';
import { referralTransition } from '#referral/domain/transition-refusal.ts';
import {
  FakeClock,
  FakeWebhookSender,
  InMemoryAuditLog,
  InMemoryDirectory,
  InMemoryRecipientSecrets,
  InMemoryMetricCounters,
  localChannels,
  testRetries,
} from '../unit/fakes.ts';
import { InMemoryFigures } from '../unit/fakes-figures.ts';
import { sampleDirectory, sampleReferral, sampleRequest } from '../unit/fixtures.ts';

/**
 * What every ReferralStore promises, run against each implementation: the in-memory fake the unit tests use
 * (test/unit/referral-store.contract.test.ts) and the DynamoDB adapter on the local DynamoDB
 * (test/integration/referral-store.contract.test.ts). The conditional writes are the referral's rules (whose
 * practice it is, whether it is still open, which message or version is newer); a unit test that matches an
 * expression string cannot tell whether the condition holds on a real table, and a fake that drifts from the adapter
 * makes every use-case test prove the wrong thing. Each case states a rule and checks both the answer and that a
 * refused write changed nothing.
 *
 * Every case uses a fresh referral id, so one table serves the whole suite.
 */
export function describeReferralStoreContract(
  name: string,
  makeStore: () => ReferralStore | Promise<ReferralStore>,
): void {
  describe(`ReferralStore contract: ${name}`, () => {
    let store: ReferralStore;
    let id: string;

    beforeEach(async () => {
      store = await makeStore();
      id = randomUUID();
    });

    const referral = (overrides: Partial<Referral> = {}): Referral =>
      sampleReferral('leeds-arts-and-mental-health', { referralId: id, ...overrides });
    const teamDelivery = (): PlannedDelivery => ({
      deliveryId: `${id}.team.lw-woodhouse`,
      recipient: { kind: 'team', id: 'lw-woodhouse', name: 'Woodhouse link workers' },
      categories: ['arts'],
      content: 'identifiable',
    });
    const partnerDelivery = (): PlannedDelivery => ({
      deliveryId: `${id}.partner.arts-for-all`,
      recipient: { kind: 'partner', id: 'arts-for-all', name: 'Arts for All' },
      categories: ['arts'],
      content: 'identifiable',
    });
    const decision = (deliveries: PlannedDelivery[] = [teamDelivery()]): RoutingDecision => ({
      decidedAt: '2025-03-04T09:20:00.000Z',
      area: 'LS6',
      areaSource: 'patient-postcode',
      team: { id: 'lw-woodhouse', name: 'Woodhouse link workers' },
      teamReason: 'the practice is in the PCN of Woodhouse link workers',
      matches: [],
      unmetNeeds: [],
      deliveries,
    });
    /** The router's route, as routeReferral writes it: the decision and pending deliveries in the same write. */
    const routeWith = (
      routing: RoutingDecision = decision(),
      current: LifecycleCurrent<'referral'> = { state: 'received', version: 1 },
    ): Promise<Referral> =>
      store.apply(id, decided(current, 'route', 'system'), {
        at: routing.decidedAt,
        changes: {
          routing,
          deliveryStatus: Object.fromEntries(
            routing.deliveries.map((d) => [d.deliveryId, { status: 'pending' as const }]),
          ),
        },
      });
    const routed = async (): Promise<Referral> => {
      await store.create(referral());
      return routeWith();
    };
    /** The transition the state machine decides for the referral as the caller read it. */
    const decided = (
      current: LifecycleCurrent<'referral'>,
      event: EventOf<'referral'>,
      role: LifecycleActor,
      facts: GuardFacts = {},
    ): ReferralTransition => {
      const decision = decide('referral', current, event, role, current.version, facts);
      if (!decision.ok || decision.kind !== 'apply')
        throw new Error(`not an apply: ${JSON.stringify(decision)}`);
      return referralTransition(decision.transition);
    };
    /** The practice's transition decided from the referral as stored now (or as `assumed` when there is none). */
    const decidedNow = async (
      event: 'cancel' | 'update',
      assumed: LifecycleCurrent<'referral'> = { state: 'routed', version: 1 },
    ): Promise<ReferralTransition> => {
      const stored = await store.get(id);
      return decided(
        stored
          ? { state: stored.status, version: stored.version, lastMessageAt: stored.lastMessageAt }
          : assumed,
        event,
        'gp-system',
      );
    };
    const conflictOf = async (attempt: Promise<unknown>): Promise<LifecycleConflictError> => {
      const error = await attempt.then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      if (!(error instanceof LifecycleConflictError))
        throw new Error(`expected a conflict, got ${String(error)}`);
      return error;
    };
    const at = '2025-03-04T10:00:01.000Z';
    /** The practice's cancel, as cancelReferral writes it: the cancellation in the same write as the state. */
    const cancelBy = async (
      practiceOds: string,
      messageAt = '2025-03-04T10:00:00.000Z',
      transition?: ReferralTransition,
    ): Promise<Referral> =>
      store.apply(id, transition ?? (await decidedNow('cancel')), {
        at,
        ownerId: practiceOds,
        messageAt,
        changes: { cancellation: { reason: 'revoked', at } },
      });
    /**
     * The practice's update, as amendReferral writes it, decided without the message time so that only the store's
     * condition can refuse an older message.
     */
    const amendBy = async (
      practiceOds: string,
      messageAt: string,
      reasonForReferral = 'Amended reason',
    ): Promise<Referral> =>
      store.apply(id, await decidedNow('update'), {
        at,
        ownerId: practiceOds,
        messageAt,
        changes: { ...amendedContent(sampleRequest('leeds-arts-and-mental-health')), reasonForReferral },
      });

    describe('create and get', () => {
      it('stores a new referral and reads it back exactly', async () => {
        await expect(store.create(referral())).resolves.toBe(true);
        await expect(store.get(id)).resolves.toEqual(referral());
      });

      it('a second create with the same id keeps the first', async () => {
        await store.create(referral());
        await expect(store.create(referral({ practiceOds: 'B82001', needs: ['food'] }))).resolves.toBe(false);
        await expect(store.get(id)).resolves.toEqual(referral());
      });

      it('get of an unknown referral is undefined', async () => {
        await expect(store.get(id)).resolves.toBeUndefined();
      });
    });

    describe('cancel: apply with the cancellation in the same write', () => {
      it('a cancel naming another practice is refused without revealing the referral, and changes nothing', async () => {
        const before = await routed();
        await expect(conflictOf(cancelBy('B82001'))).resolves.toMatchObject({
          reason: 'forbidden',
          state: null,
          version: 0,
        });
        await expect(store.get(id)).resolves.toEqual(before);
      });

      it('another practice learns the same of a referral that exists as of one that does not', async () => {
        await routed();
        const theirs = await conflictOf(cancelBy('B82001'));
        id = randomUUID();
        const none = await conflictOf(cancelBy('B82001'));
        // The use case answers both 404; what the store says must not tell them apart by state or version either.
        expect([theirs.state, theirs.version]).toEqual([none.state, none.version]);
        await expect(store.get(id)).resolves.toBeUndefined();
      });

      it('a cancel of an unknown referral is refused and creates nothing', async () => {
        await expect(conflictOf(cancelBy('A81001'))).resolves.toMatchObject({
          reason: 'invalid',
          state: null,
        });
        await expect(store.get(id)).resolves.toBeUndefined();
      });

      it("the practice's own cancel applies once; a second is `already`, and its stale write keeps the first", async () => {
        const before = await routed();
        const routedCancel = await decidedNow('cancel');
        const cancelled = await cancelBy('A81001', '2025-03-04T10:00:00.000Z', routedCancel);
        expect(cancelled).toEqual({
          ...before,
          status: 'cancelled',
          cancellation: { reason: 'revoked', at },
          lastMessageAt: '2025-03-04T10:00:00.000Z',
          updatedAt: at,
        });
        await expect(store.get(id)).resolves.toEqual(cancelled);
        // Decided again from the cancelled referral: nothing to write (the use case answers 409 to another message).
        expect(
          decide('referral', { state: 'cancelled', version: 1 }, 'cancel', 'gp-system', 1),
        ).toMatchObject({ ok: true, kind: 'already' });
        // The first decision written again (a race both sides read routed): the store refuses it.
        const conflict = await conflictOf(cancelBy('A81001', '2025-03-04T11:00:00.000Z', routedCancel));
        expect(conflict).toMatchObject({ reason: 'stale', state: 'cancelled', version: 1 });
        await expect(store.get(id)).resolves.toEqual(cancelled);
      });
    });

    describe('update: apply with the content in the same write', () => {
      it('an amend naming another practice changes nothing', async () => {
        const before = await routed();
        await expect(conflictOf(amendBy('B82001', '2025-03-04T10:00:00.000Z'))).resolves.toMatchObject({
          reason: 'forbidden',
        });
        await expect(store.get(id)).resolves.toEqual(before);
      });

      it('an amend of an unknown referral is refused and creates nothing', async () => {
        await expect(conflictOf(amendBy('A81001', '2025-03-04T10:00:00.000Z'))).resolves.toMatchObject({
          reason: 'invalid',
        });
        await expect(store.get(id)).resolves.toBeUndefined();
      });

      it('replaces the content, removes what the sender left out, moves the version and the message time', async () => {
        const before = await routed();
        const written = await store.apply(id, await decidedNow('update'), {
          at,
          ownerId: 'A81001',
          messageAt: '2025-03-04T10:00:00.000Z',
          changes: {
            ...amendedContent(sampleRequest('leeds-arts-and-mental-health')),
            needs: ['arts', 'food'],
            reasonForReferral: undefined,
          },
        });
        const { reasonForReferral: _gone, ...kept } = before;
        expect(written).toEqual({
          ...kept,
          needs: ['arts', 'food'],
          version: before.version + 1,
          lastMessageAt: '2025-03-04T10:00:00.000Z',
          updatedAt: at,
        });
        await expect(store.get(id)).resolves.toEqual(written);
      });

      it('a message no newer than the last one applied is refused: an older update cannot overwrite a newer one', async () => {
        await routed();
        await amendBy('A81001', '2025-03-04T10:00:00.000Z', 'newer');
        const after = await store.get(id);
        for (const messageAt of ['2025-03-04T09:59:59.000Z', '2025-03-04T10:00:00.000Z'])
          await expect(conflictOf(amendBy('A81001', messageAt, 'older'))).resolves.toMatchObject({
            reason: 'invalid',
            state: 'routed',
            version: 2,
          });
        await expect(store.get(id)).resolves.toEqual(after);
        expect(after).toMatchObject({ reasonForReferral: 'newer', version: 2 });
      });

      it('a stale amend (decided before another update landed) is refused with the typed reason', async () => {
        await routed();
        const update = await decidedNow('update');
        await amendBy('A81001', '2025-03-04T10:00:00.000Z', 'first'); // version 2
        const after = await store.get(id);
        const conflict = await conflictOf(
          store.apply(id, update, { at, ownerId: 'A81001', messageAt: '2025-03-04T10:05:00.000Z' }),
        );
        expect(conflict).toMatchObject({ reason: 'stale', state: 'routed', version: 2 });
        expect(conflict.message).toMatch(/expected version 1 \(routed\), it is at version 2 \(routed\)/);
        await expect(store.get(id)).resolves.toEqual(after);
      });

      it('a cancelled referral cannot be amended: the update decided while it was open is refused', async () => {
        await routed();
        const update = await decidedNow('update');
        await cancelBy('A81001');
        const cancelled = await store.get(id);
        const conflict = await conflictOf(
          store.apply(id, update, { at, ownerId: 'A81001', messageAt: '2025-03-04T11:00:00.000Z' }),
        );
        expect(conflict).toMatchObject({ reason: 'stale', state: 'cancelled' });
        await expect(store.get(id)).resolves.toEqual(cancelled);
      });
    });

    describe('routing', () => {
      it('route applies the decision and pending deliveries with the transition, in one write', async () => {
        await store.create(referral());
        const written = await routeWith();
        expect(written).toEqual({
          ...referral(),
          status: 'routed',
          routing: decision(),
          deliveryStatus: { [teamDelivery().deliveryId]: { status: 'pending' } },
          updatedAt: '2025-03-04T09:20:00.000Z',
        });
        await expect(store.get(id)).resolves.toEqual(written);
      });

      it('a second route decided while received is refused as stale and does not replace the decision', async () => {
        const first = await routed();
        const later = {
          ...decision([teamDelivery(), partnerDelivery()]),
          decidedAt: '2025-03-04T09:30:00.000Z',
        };
        await expect(conflictOf(routeWith(later))).resolves.toMatchObject({
          reason: 'stale',
          state: 'routed',
          version: 1,
        });
        await expect(store.get(id)).resolves.toEqual(first);
      });

      it('a route decided before an update landed is refused as stale; at the new version it applies', async () => {
        await store.create(referral());
        await amendBy('A81001', '2025-03-04T09:19:00.000Z', 'Amended before routing'); // version 2
        const amended = await store.get(id);
        await expect(conflictOf(routeWith())).resolves.toMatchObject({
          reason: 'stale',
          state: 'received',
          version: 2,
        });
        await expect(store.get(id)).resolves.toEqual(amended);
        await expect(routeWith(decision(), { state: 'received', version: 2 })).resolves.toMatchObject({
          status: 'routed',
          version: 2,
          reasonForReferral: 'Amended before routing',
          routing: decision(),
        });
      });

      it('a route of an unknown referral is refused and creates nothing', async () => {
        await expect(conflictOf(routeWith())).resolves.toMatchObject({ reason: 'invalid', state: null });
        await expect(store.get(id)).resolves.toBeUndefined();
      });

      /** The router's re-route, as routeReferral writes it: the extended decision and the added deliveries. */
      const rerouteWith = (
        routing: RoutingDecision,
        addedDeliveries: Record<string, DeliveryState>,
        current: LifecycleCurrent<'referral'> = { state: 'routed', version: 1 },
      ): Promise<Referral> =>
        store.apply(id, decided(current, 're-route', 'system'), {
          at: '2025-03-04T10:30:00.000Z',
          changes: { routing, addedDeliveries },
        });

      it('re-route writes the extended decision and adds pending deliveries, keeping the states of the others', async () => {
        await routed();
        await store.markSending(
          id,
          teamDelivery().deliveryId,
          '2025-03-04T09:21:00.000Z',
          '2025-03-04T09:21:00.000Z',
        );
        const extended = decision([teamDelivery(), partnerDelivery()]);
        const written = await rerouteWith(extended, {
          [partnerDelivery().deliveryId]: { status: 'pending' },
        });
        expect(written).toMatchObject({
          status: 'routed',
          version: 1,
          updatedAt: '2025-03-04T10:30:00.000Z',
        });
        expect(written.routing).toEqual(extended);
        expect(written.deliveryStatus).toEqual({
          [teamDelivery().deliveryId]: {
            status: 'sending',
            attemptedAt: '2025-03-04T09:21:00.000Z',
            attempts: 1,
          },
          [partnerDelivery().deliveryId]: { status: 'pending' },
        });
        await expect(store.get(id)).resolves.toEqual(written);
      });

      it('re-route keeps the state of a delivery it names that already has one (a repeated re-route)', async () => {
        await routed();
        const extended = decision([teamDelivery(), partnerDelivery()]);
        const pending = { [partnerDelivery().deliveryId]: { status: 'pending' as const } };
        await rerouteWith(extended, pending);
        await store.markSending(
          id,
          partnerDelivery().deliveryId,
          '2025-03-04T10:31:00.000Z',
          '2025-03-04T10:31:00.000Z',
        );
        const again = await rerouteWith(extended, {
          ...pending,
          [teamDelivery().deliveryId]: { status: 'pending' },
        });
        expect(again.deliveryStatus).toEqual({
          [teamDelivery().deliveryId]: { status: 'pending' },
          [partnerDelivery().deliveryId]: {
            status: 'sending',
            attemptedAt: '2025-03-04T10:31:00.000Z',
            attempts: 1,
          },
        });
      });

      it('re-route at a stale version (an update landed since) is refused and changes nothing', async () => {
        await routed();
        await amendBy('A81001', '2025-03-04T10:00:00.000Z'); // version 2
        const before = await store.get(id);
        const conflict = await conflictOf(
          rerouteWith(decision([teamDelivery(), partnerDelivery()]), {
            [partnerDelivery().deliveryId]: { status: 'pending' },
          }),
        );
        expect(conflict).toMatchObject({ reason: 'stale', state: 'routed', version: 2 });
        await expect(store.get(id)).resolves.toEqual(before);
      });

      it('re-route of a referral not routed (received, or cancelled) is refused and changes nothing', async () => {
        await store.create(referral());
        const added = { [partnerDelivery().deliveryId]: { status: 'pending' as const } };
        await expect(conflictOf(rerouteWith(decision(), added))).resolves.toMatchObject({
          reason: 'stale',
          state: 'received',
        });
        await expect(store.get(id)).resolves.toEqual(referral());
        await routeWith();
        await cancelBy('A81001');
        const cancelled = await store.get(id);
        await expect(
          conflictOf(rerouteWith(decision([teamDelivery(), partnerDelivery()]), added)),
        ).resolves.toMatchObject({ reason: 'stale', state: 'cancelled' });
        await expect(store.get(id)).resolves.toEqual(cancelled);
      });
    });

    describe('delivery marks', () => {
      it('markSending returns the referral as written and counts each attempt', async () => {
        await routed();
        const delivery = teamDelivery().deliveryId;
        const first = await store.markSending(
          id,
          delivery,
          '2025-03-04T09:21:00.000Z',
          '2025-03-04T09:21:00.000Z',
        );
        expect(first?.deliveryStatus?.[delivery]).toEqual({
          status: 'sending',
          attemptedAt: '2025-03-04T09:21:00.000Z',
          attempts: 1,
        });
        await expect(store.get(id)).resolves.toEqual(first);
        const second = await store.markSending(
          id,
          delivery,
          '2025-03-04T09:22:00.000Z',
          '2025-03-04T09:22:00.000Z',
        );
        expect(second?.deliveryStatus?.[delivery]).toMatchObject({
          attemptedAt: '2025-03-04T09:22:00.000Z',
          attempts: 2,
        });
      });

      it('markSending is refused for a delivery not planned, one delivered, or a cancelled referral', async () => {
        await expect(
          store.markSending(
            id,
            teamDelivery().deliveryId,
            '2025-03-04T09:21:00.000Z',
            '2025-03-04T09:21:00.000Z',
          ),
        ).resolves.toBeUndefined();
        await expect(store.get(id)).resolves.toBeUndefined();
        await routed();
        await expect(
          store.markSending(id, `${id}.team.nobody`, '2025-03-04T09:21:00.000Z', '2025-03-04T09:21:00.000Z'),
        ).resolves.toBeUndefined();

        const delivery = teamDelivery().deliveryId;
        await store.markSending(id, delivery, '2025-03-04T09:21:00.000Z', '2025-03-04T09:21:00.000Z');
        await store.markDelivered(id, delivery, {
          status: 'delivered',
          deliveredAt: '2025-03-04T09:21:01.000Z',
          responseStatus: 202,
        });
        const delivered = await store.get(id);
        await expect(
          store.markSending(id, delivery, '2025-03-04T09:22:00.000Z', '2025-03-04T09:22:00.000Z'),
        ).resolves.toBeUndefined();
        await expect(store.get(id)).resolves.toEqual(delivered);
      });

      it('markSending is a claim: refused while another attempt holds it, taken over once it has lapsed', async () => {
        await routed();
        const delivery = teamDelivery().deliveryId;
        const claimed = await store.markSending(
          id,
          delivery,
          '2025-03-04T09:21:00.000Z',
          '2025-03-04T09:20:48.000Z',
        );
        expect(claimed?.deliveryStatus?.[delivery]?.status).toBe('sending');
        // A second receipt 5 s later, while claims younger than 12 s hold: refused, and nothing written.
        await expect(
          store.markSending(id, delivery, '2025-03-04T09:21:05.000Z', '2025-03-04T09:20:53.000Z'),
        ).resolves.toBeUndefined();
        await expect(store.get(id)).resolves.toEqual(claimed);
        // The first attempt crashed: 13 s on, its claim has lapsed and the retry takes the delivery over.
        const retry = await store.markSending(
          id,
          delivery,
          '2025-03-04T09:21:13.000Z',
          '2025-03-04T09:21:01.000Z',
        );
        expect(retry?.deliveryStatus?.[delivery]).toMatchObject({
          status: 'sending',
          attemptedAt: '2025-03-04T09:21:13.000Z',
          attempts: 2,
        });
        // An attempt that recorded its failure released the claim: the next one may go at once.
        await store.markAttemptFailed(id, delivery, 'HTTP 503');
        await expect(
          store.markSending(id, delivery, '2025-03-04T09:21:14.000Z', '2025-03-04T09:21:02.000Z'),
        ).resolves.toBeDefined();
      });

      it('markSending is refused once the referral is cancelled', async () => {
        await routed();
        await cancelBy('A81001');
        const cancelled = await store.get(id);
        await expect(
          store.markSending(
            id,
            teamDelivery().deliveryId,
            '2025-03-04T10:01:00.000Z',
            '2025-03-04T10:01:00.000Z',
          ),
        ).resolves.toBeUndefined();
        await expect(store.get(id)).resolves.toEqual(cancelled);
      });

      it('markDelivered records once, drops the last failure, and shows a cancellation that raced the POST', async () => {
        await routed();
        const delivery = teamDelivery().deliveryId;
        await store.markSending(id, delivery, '2025-03-04T09:21:00.000Z', '2025-03-04T09:21:00.000Z');
        await expect(store.markAttemptFailed(id, delivery, 'HTTP 503')).resolves.toBe(true);
        await store.markSending(id, delivery, '2025-03-04T09:22:00.000Z', '2025-03-04T09:22:00.000Z');
        await cancelBy('A81001');
        const state = {
          status: 'delivered' as const,
          deliveredAt: '2025-03-04T10:00:02.000Z',
          responseStatus: 202,
        };
        const recorded = await store.markDelivered(id, delivery, state);
        expect(recorded?.status).toBe('cancelled');
        expect(recorded?.updatedAt).toBe('2025-03-04T10:00:02.000Z');
        expect(recorded?.deliveryStatus?.[delivery]).toEqual({
          ...state,
          attemptedAt: '2025-03-04T09:22:00.000Z',
          attempts: 2,
        });
        await expect(store.get(id)).resolves.toEqual(recorded);
        await expect(
          store.markDelivered(id, delivery, { ...state, deliveredAt: '2025-03-04T11:00:00.000Z' }),
        ).resolves.toBeUndefined();
        await expect(store.get(id)).resolves.toEqual(recorded);
      });

      it('markDelivered of a delivery not planned is refused and creates nothing', async () => {
        const state = {
          status: 'delivered' as const,
          deliveredAt: '2025-03-04T09:21:01.000Z',
          responseStatus: 202,
        };
        await expect(store.markDelivered(id, teamDelivery().deliveryId, state)).resolves.toBeUndefined();
        await expect(store.get(id)).resolves.toBeUndefined();
        const before = await routed();
        await expect(store.markDelivered(id, `${id}.team.nobody`, state)).resolves.toBeUndefined();
        await expect(store.get(id)).resolves.toEqual(before);
      });

      it('markFailed records a refusal for good only while sending; a failed delivery is never marked sending again', async () => {
        await routed();
        const delivery = teamDelivery().deliveryId;
        const failure = { reason: 'HTTP 410', failedAt: '2025-03-04T09:21:01.000Z' };
        await expect(store.markFailed(id, delivery, failure)).resolves.toBe(false);
        await store.markSending(id, delivery, '2025-03-04T09:21:00.000Z', '2025-03-04T09:21:00.000Z');
        await expect(store.markFailed(id, delivery, failure)).resolves.toBe(true);
        expect((await store.get(id))?.deliveryStatus?.[delivery]).toEqual({
          status: 'failed',
          attemptedAt: '2025-03-04T09:21:00.000Z',
          attempts: 1,
          lastFailure: 'HTTP 410',
          failedAt: '2025-03-04T09:21:01.000Z',
        });
        await expect(store.markFailed(id, delivery, failure)).resolves.toBe(false);
        await expect(
          store.markSending(id, delivery, '2025-03-04T09:30:00.000Z', '2025-03-04T09:30:00.000Z'),
        ).resolves.toBeUndefined();
        expect((await store.get(id))?.deliveryStatus?.[delivery]?.attempts).toBe(1);
      });

      it('markDelivered records the channel, and a webhook status only when there is one', async () => {
        await routed();
        const delivery = teamDelivery().deliveryId;
        await store.markSending(id, delivery, '2025-03-04T09:21:00.000Z', '2025-03-04T09:21:00.000Z');
        const recorded = await store.markDelivered(id, delivery, {
          status: 'delivered',
          deliveredAt: '2025-03-04T09:21:01.000Z',
          channel: 'email',
        });
        expect(recorded?.deliveryStatus?.[delivery]).toEqual({
          status: 'delivered',
          attemptedAt: '2025-03-04T09:21:00.000Z',
          attempts: 1,
          deliveredAt: '2025-03-04T09:21:01.000Z',
          channel: 'email',
        });
      });

      it('markAttemptFailed applies only while the delivery is sending', async () => {
        await routed();
        const delivery = teamDelivery().deliveryId;
        const pending = await store.get(id);
        await expect(store.markAttemptFailed(id, delivery, 'HTTP 503')).resolves.toBe(false);
        await expect(store.get(id)).resolves.toEqual(pending);
        await store.markSending(id, delivery, '2025-03-04T09:21:00.000Z', '2025-03-04T09:21:00.000Z');
        await expect(store.markAttemptFailed(id, delivery, 'timeout')).resolves.toBe(true);
        expect((await store.get(id))?.deliveryStatus?.[delivery]).toEqual({
          status: 'retrying',
          attemptedAt: '2025-03-04T09:21:00.000Z',
          attempts: 1,
          lastFailure: 'timeout',
        });
        await expect(store.markAttemptFailed(id, delivery, 'HTTP 500')).resolves.toBe(false);
        expect((await store.get(id))?.deliveryStatus?.[delivery]?.lastFailure).toBe('timeout');
      });
    });

    describe('notices', () => {
      it('a cancellation notice is recorded once', async () => {
        await routed();
        const delivery = teamDelivery().deliveryId;
        await expect(
          store.recordNotice(id, delivery, { cancellationNoticeAt: '2025-03-04T10:01:00.000Z' }),
        ).resolves.toBe(true);
        await expect(
          store.recordNotice(id, delivery, { cancellationNoticeAt: '2025-03-04T10:02:00.000Z' }),
        ).resolves.toBe(false);
        expect((await store.get(id))?.deliveryStatus?.[delivery]?.cancellationNoticeAt).toBe(
          '2025-03-04T10:01:00.000Z',
        );
      });

      it('an update notice only moves forward in version', async () => {
        await routed();
        const delivery = teamDelivery().deliveryId;
        await expect(store.recordNotice(id, delivery, { updateNoticeVersion: 2 })).resolves.toBe(true);
        await expect(store.recordNotice(id, delivery, { updateNoticeVersion: 2 })).resolves.toBe(false);
        await expect(store.recordNotice(id, delivery, { updateNoticeVersion: 1 })).resolves.toBe(false);
        await expect(store.recordNotice(id, delivery, { updateNoticeVersion: 3 })).resolves.toBe(true);
        expect((await store.get(id))?.deliveryStatus?.[delivery]?.updateNoticeVersion).toBe(3);
      });

      it('a notice for a delivery not planned, or an unknown referral, is refused and creates nothing', async () => {
        await expect(
          store.recordNotice(id, teamDelivery().deliveryId, { updateNoticeVersion: 2 }),
        ).resolves.toBe(false);
        await expect(store.get(id)).resolves.toBeUndefined();
        const before = await routed();
        await expect(
          store.recordNotice(id, `${id}.team.nobody`, { cancellationNoticeAt: '2025-03-04T10:01:00.000Z' }),
        ).resolves.toBe(false);
        await expect(store.get(id)).resolves.toEqual(before);
      });
    });

    describe('messages back to the practice', () => {
      const delivered = {
        status: 'delivered' as const,
        at: '2025-03-04T10:01:00.000Z',
        messageId: '0195a0c2-0000-8000-8000-000000000001',
        responseStatus: 200,
      };

      it('records each event once: the first stands, another event is kept beside it', async () => {
        await routed();
        await expect(store.recordPracticeMessage(id, 'accepted', delivered)).resolves.toBe(true);
        await expect(
          store.recordPracticeMessage(id, 'accepted', {
            status: 'failed',
            at: '2025-03-04T10:02:00.000Z',
            reason: 'HTTP 410',
          }),
        ).resolves.toBe(false);
        const notSent = {
          status: 'not-sent' as const,
          at: '2025-03-04T10:03:00.000Z',
          reason: 'no endpoint',
        };
        await expect(store.recordPracticeMessage(id, 'seen', notSent)).resolves.toBe(true);
        expect((await store.get(id))?.practiceMessages).toEqual({ accepted: delivered, seen: notSent });
      });

      it('two writers of the first messages of a referral both land, each once', async () => {
        await routed();
        const results = await Promise.all([
          store.recordPracticeMessage(id, 'accepted', delivered),
          store.recordPracticeMessage(id, 'seen', delivered),
          store.recordPracticeMessage(id, 'accepted', delivered),
        ]);
        expect(results.filter(Boolean)).toHaveLength(2);
        expect(Object.keys((await store.get(id))?.practiceMessages ?? {}).sort()).toEqual([
          'accepted',
          'seen',
        ]);
      });

      it('an unknown referral is refused and nothing is created', async () => {
        await expect(store.recordPracticeMessage(id, 'accepted', delivered)).resolves.toBe(false);
        await expect(store.get(id)).resolves.toBeUndefined();
      });
    });

    describe('deleteUnacknowledged', () => {
      it('withdraws a referral still received, and leaves one that moved on', async () => {
        await store.create(referral());
        await store.deleteUnacknowledged(id);
        await expect(store.get(id)).resolves.toBeUndefined();

        const before = await routed();
        await store.deleteUnacknowledged(id);
        await expect(store.get(id)).resolves.toEqual(before);
      });
    });

    describe('apply: a lifecycle transition in one version-conditional write', () => {
      it('applies at the version the caller saw and returns the referral as written', async () => {
        const before = await routed();
        const cancel = decided({ state: 'routed', version: 1 }, 'cancel', 'gp-system');
        const written = await store.apply(id, cancel, { at, ownerId: 'A81001' });
        expect(written).toEqual({ ...before, status: 'cancelled', updatedAt: at });
        await expect(store.get(id)).resolves.toEqual(written);
      });

      it('a transition with a stale version is refused, says so, and changes nothing', async () => {
        await routed();
        const cancel = decided({ state: 'routed', version: 1 }, 'cancel', 'gp-system');
        await amendBy('A81001', '2025-03-04T09:59:00.000Z'); // version 2 lands first
        const before = await store.get(id);
        const conflict = await conflictOf(store.apply(id, cancel, { at, ownerId: 'A81001' }));
        expect(conflict).toMatchObject({ reason: 'stale', state: 'routed', version: 2 });
        expect(conflict.message).toMatch(/expected version 1 \(routed\), it is at version 2 \(routed\)/);
        await expect(store.get(id)).resolves.toEqual(before);
      });

      it('a transition from a state the referral has left is refused as stale', async () => {
        const before = await routed();
        const route = decided({ state: 'received', version: 1 }, 'route', 'system');
        await expect(conflictOf(store.apply(id, route, { at }))).resolves.toMatchObject({ reason: 'stale' });
        await expect(store.get(id)).resolves.toEqual(before);
      });

      it("another practice's transition is refused without revealing the referral, and changes nothing", async () => {
        const before = await routed();
        const cancel = decided({ state: 'routed', version: 1 }, 'cancel', 'gp-system');
        await expect(conflictOf(store.apply(id, cancel, { at, ownerId: 'B82001' }))).resolves.toMatchObject({
          reason: 'forbidden',
          state: null,
          version: 0,
        });
        await expect(store.get(id)).resolves.toEqual(before);
      });

      it('a transition of an unknown referral is refused and creates nothing', async () => {
        const cancel = decided({ state: 'routed', version: 1 }, 'cancel', 'gp-system');
        await expect(conflictOf(store.apply(id, cancel, { at, ownerId: 'A81001' }))).resolves.toMatchObject({
          reason: 'invalid',
          state: null,
        });
        await expect(store.get(id)).resolves.toBeUndefined();
      });

      it('an update moves the version and the message time; an older message at the new version is refused', async () => {
        const before = await routed();
        const messageAt = '2025-03-04T10:00:00.000Z';
        const update = decided({ state: 'routed', version: 1 }, 'update', 'gp-system', { messageAt });
        expect(update).toMatchObject({ from: 'routed', to: 'routed', expectedVersion: 1, nextVersion: 2 });
        const written = await store.apply(id, update, { at, ownerId: 'A81001', messageAt });
        expect(written).toEqual({ ...before, version: 2, lastMessageAt: messageAt, updatedAt: at });

        // Decided without the message time (a caller that did not pass it): only the store's condition can refuse.
        const older = decided({ state: 'routed', version: 2 }, 'update', 'gp-system');
        const conflict = await conflictOf(
          store.apply(id, older, { at, ownerId: 'A81001', messageAt: '2025-03-04T09:00:00.000Z' }),
        );
        expect(conflict).toMatchObject({ reason: 'invalid', state: 'routed', version: 2 });
        await expect(store.get(id)).resolves.toEqual(written);
      });
    });

    describe('a referral cancelled while its delivery is in flight', () => {
      it('the recipient gets the assignment, then the cancellation notice, once', async () => {
        await routed();
        const clock = new FakeClock('2025-03-04T09:21:00.000Z');
        const audit = new InMemoryAuditLog();
        const counters = new InMemoryMetricCounters();
        const queued: Array<OutboundMessage<NoticeMessage>> = [];
        const deliveryQueue: Queue<NoticeMessage> = {
          send: async (messages) => void queued.push(...messages),
        };
        const routingQueue: Queue<RoutingMessage> = { send: async () => undefined };
        const webhooks = new FakeWebhookSender();
        // The practice cancels while the assignment's POST is on the wire: the store has the delivery `sending`.
        webhooks.onSend = async (call) => {
          if (call.eventType !== 'referral.assigned') return;
          clock.advance(1_000);
          await cancelReferral(
            {
              referrals: store,
              audit,
              counters,
              figures: new InMemoryFigures(),
              routingQueue,
              deliveryQueue,
              clock,
            },
            {
              referralId: id,
              practiceOds: 'A81001',
              reason: 'revoked',
              messageAt: '2025-03-04T09:21:00.500Z',
              actor: 'gp-system:A81001',
            },
          );
        };
        const deps = {
          referrals: store,
          directory: new InMemoryDirectory(sampleDirectory()),
          secrets: new InMemoryRecipientSecrets(sampleDirectory()),
          audit,
          counters,
          webhooks,
          clock,
          channels: localChannels,
          ...testRetries,
        };
        const delivery = teamDelivery().deliveryId;

        await expect(deliverNotification(deps, { referralId: id, deliveryId: delivery })).resolves.toBe(
          'delivered',
        );

        expect(webhooks.calls.map((c) => [c.eventType, c.messageId])).toEqual([
          ['referral.assigned', delivery],
          ['referral.cancelled', `${delivery}.cancelled`],
        ]);
        // The canceller saw no delivery yet, so queued no notice: the notifier's own notice is the only one.
        expect(queued).toEqual([]);
        const stored = await store.get(id);
        expect(stored?.status).toBe('cancelled');
        expect(stored?.deliveryStatus?.[delivery]).toMatchObject({
          status: 'delivered',
          cancellationNoticeAt: '2025-03-04T09:21:01.000Z',
        });
        expect(audit.entries.map((e) => e.eventKey)).toEqual([
          'cancelled',
          `delivered.${delivery}`,
          `cancellation-notified.${delivery}`,
        ]);

        // The assignment's message redelivered (a lost acknowledgement): nothing more reaches the recipient.
        await expect(deliverNotification(deps, { referralId: id, deliveryId: delivery })).resolves.toBe(
          'skipped-cancelled',
        );
        expect(webhooks.calls).toHaveLength(2);
      });
    });
  });
}
