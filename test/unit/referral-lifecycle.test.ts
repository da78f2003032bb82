import { beforeEach, describe, expect, it } from 'vitest';
import {
  amendReferral,
  cancelReferral,
  type LifecycleDeps,
} from '#referral/application/amend-or-cancel-referral.ts';
import { ConflictError, LifecycleConflictError, NotFoundError } from '#kernel/errors.ts';
import { clientErrorResponse } from '#http/responses.ts';
import type { NoticeMessage } from '#messages/notice-message.ts';
import {
  FakeClock,
  InMemoryAuditLog,
  InMemoryMetricCounters,
  InMemoryReferralStore,
  RecordingQueue,
} from './fakes.ts';
import { InMemoryFigures } from './fakes-figures.ts';
import { queueMessages } from '#messages/queue.ts';
import { referralIds, sampleReferral, sampleRequest } from './fixtures.ts';

// Issue 6.11: another practice's referral is indistinguishable from no referral, whatever the conversation.

let referrals: InMemoryReferralStore;
let deps: LifecycleDeps;
let clock: FakeClock;

const referralId = referralIds['leeds-arts-and-mental-health']; // practice A81001
const unknownId = '44444444-4444-4444-8444-444444444444';
const correlationId = '0b6f1f9e-3c0a-4a51-9d1e-2f4b8c7d6e5a';

beforeEach(() => {
  referrals = new InMemoryReferralStore();
  referrals.seed(
    sampleReferral('leeds-arts-and-mental-health', {
      source: { channel: 'fhir', requestId: '9d0c2b1a-0000-4000-8000-000000000001', correlationId },
    }),
  );
  deps = {
    referrals,
    audit: new InMemoryAuditLog(),
    counters: new InMemoryMetricCounters(),
    figures: new InMemoryFigures(),
    routingQueue: new RecordingQueue(queueMessages.referrals),
    deliveryQueue: new RecordingQueue(queueMessages.notifications),
    clock: (clock = new FakeClock('2025-03-05T09:00:00.000Z')),
  };
});

const otherPractice = { ...sampleRequest('leeds-arts-and-mental-health'), practiceOds: 'A81002' };
const strangerConversation = 'ffffffff-ffff-4fff-8fff-ffffffffffff';

const amend = (id: string) =>
  amendReferral(deps, {
    referralId: id,
    request: otherPractice,
    messageAt: '2025-03-05T08:00:00Z',
    actor: 'practice:A81002',
    correlationId: strangerConversation,
  }).catch((e: unknown) => e);

const cancel = (id: string) =>
  cancelReferral(deps, {
    referralId: id,
    practiceOds: 'A81002',
    reason: 'revoked',
    messageAt: '2025-03-05T08:00:00Z',
    actor: 'practice:A81002',
    correlationId: strangerConversation,
  }).catch((e: unknown) => e);

describe("another practice's referral", () => {
  it.each([
    ['amendReferral', amend],
    ['cancelReferral', cancel],
  ])(
    '%s: NotFoundError worded as for an unknown id, before the conversation is checked',
    async (_name, run) => {
      const before = structuredClone(referrals.items.get(referralId));
      const theirs = await run(referralId);
      const none = await run(unknownId);
      expect(theirs).toBeInstanceOf(NotFoundError);
      expect(none).toBeInstanceOf(NotFoundError);
      expect((theirs as Error).message.replace(referralId, '<id>')).toBe(
        (none as Error).message.replace(unknownId, '<id>'),
      );
      expect(referrals.items.get(referralId)).toEqual(before);
    },
  );

  it('the owning practice in another conversation is still a conflict', async () => {
    const error = await cancelReferral(deps, {
      referralId,
      practiceOds: 'A81001',
      reason: 'revoked',
      messageAt: '2025-03-05T08:00:00Z',
      actor: 'practice:A81001',
      correlationId: strangerConversation,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(referrals.items.get(referralId)?.status).toBe('received');
  });
});

// Issue 7.3: the lifecycle decides; one conditional write applies; a refusal is typed and says why.

describe('cancel and update through the lifecycle', () => {
  const delivery = `${referralId}.team.lw-woodhouse`;
  /** Routed, with the team holding it, so a cancellation or an update has someone to tell. */
  const seedRouted = () =>
    referrals.seed(
      sampleReferral('leeds-arts-and-mental-health', {
        source: { channel: 'fhir', requestId: '9d0c2b1a-0000-4000-8000-000000000001', correlationId },
        status: 'routed',
        routing: {
          decidedAt: '2025-03-04T09:20:00.000Z',
          area: 'LS6',
          areaSource: 'patient-postcode',
          team: { id: 'lw-woodhouse', name: 'Woodhouse link workers' },
          teamReason: 'the practice is in the PCN of Woodhouse link workers',
          matches: [],
          unmetNeeds: [],
          deliveries: [
            {
              deliveryId: delivery,
              recipient: { kind: 'team', id: 'lw-woodhouse', name: 'Woodhouse link workers' },
              categories: ['arts'],
              content: 'identifiable',
            },
          ],
        },
        deliveryStatus: { [delivery]: { status: 'delivered' } },
      }),
    );
  const cancelOwn = (messageAt: string) =>
    cancelReferral(deps, {
      referralId,
      practiceOds: 'A81001',
      reason: 'revoked',
      messageAt,
      actor: 'practice:A81001',
      correlationId,
    });
  const amendOwn = (messageAt: string, messageId = `message-at-${messageAt}`) =>
    amendReferral(deps, {
      referralId,
      request: sampleRequest('leeds-arts-and-mental-health'),
      messageAt,
      messageId,
      actor: 'practice:A81001',
      correlationId,
    });
  const conflictOf = async (attempt: Promise<unknown>): Promise<LifecycleConflictError> => {
    const error = await attempt.then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    if (!(error instanceof LifecycleConflictError))
      throw new Error(`expected a conflict, got ${String(error)}`);
    return error;
  };
  const notices = () => (deps.deliveryQueue as RecordingQueue<NoticeMessage>).messages.map((m) => m.body);

  it('a retried cancel after a crash before its notices finishes them: the stored cancellation stands', async () => {
    seedRouted();
    const queue = deps.deliveryQueue as RecordingQueue<NoticeMessage>;
    queue.failWith = new Error('SQS unavailable');
    await expect(cancelOwn('2025-03-05T08:00:00Z')).rejects.toThrow('SQS unavailable');
    const written = structuredClone(referrals.items.get(referralId));
    expect(written).toMatchObject({ status: 'cancelled', lastMessageAt: '2025-03-05T08:00:00.000Z' });

    queue.failWith = undefined;
    clock.advance(60_000);
    await expect(cancelOwn('2025-03-05T08:00:00Z')).resolves.toEqual(written);
    expect(referrals.items.get(referralId)).toEqual(written);
    expect(notices()).toEqual([{ referralId, deliveryId: delivery, kind: 'cancelled' }]);
    expect((deps.audit as InMemoryAuditLog).entries.map((e) => [e.eventKey, e.at])).toEqual([
      ['cancelled', written?.cancellation?.at],
    ]);
  });

  it('a second cancel (another message) is a 409 naming the state and version, and changes nothing', async () => {
    seedRouted();
    await cancelOwn('2025-03-05T08:00:00Z');
    const cancelled = structuredClone(referrals.items.get(referralId));
    const conflict = await conflictOf(cancelOwn('2025-03-05T08:30:00Z'));
    expect(conflict).toMatchObject({ reason: 'invalid', state: 'cancelled', version: 1, event: 'cancel' });
    expect(conflict.message).toBe(
      'referral is cancelled (version 1): cancel is not allowed; an earlier message (2025-03-05T08:00:00.000Z) already did it',
    );
    expect(clientErrorResponse(conflict)?.statusCode).toBe(409);
    expect(referrals.items.get(referralId)).toEqual(cancelled);
  });

  it('an update older than the last applied is refused as invalid (409), one after cancellation too', async () => {
    seedRouted();
    await amendOwn('2025-03-05T08:00:00Z');
    expect(referrals.items.get(referralId)?.version).toBe(2);
    const older = await conflictOf(amendOwn('2025-03-05T07:00:00Z'));
    expect(older.message).toBe(
      'referral is routed (version 2): update is not allowed; a newer message (2025-03-05T08:00:00.000Z) was already applied',
    );
    await cancelOwn('2025-03-05T08:10:00Z');
    const late = await conflictOf(amendOwn('2025-03-05T08:20:00Z'));
    expect(late.message).toBe('referral is cancelled (version 2): update is not allowed; cancelled is final');
    expect(referrals.items.get(referralId)).toMatchObject({ status: 'cancelled', version: 2 });
  });

  it('the same update again finishes without a second write (a retry after a crash)', async () => {
    seedRouted();
    const first = await amendOwn('2025-03-05T08:00:00Z');
    await expect(amendOwn('2025-03-05T08:00:00Z')).resolves.toEqual(first);
    expect(referrals.items.get(referralId)).toEqual(first);
    expect(notices()).toEqual([
      { referralId, deliveryId: delivery, kind: 'updated', version: 2 },
      { referralId, deliveryId: delivery, kind: 'updated', version: 2 },
    ]);
  });

  it('another update with the same timestamp is refused, not acknowledged and dropped', async () => {
    seedRouted();
    const first = await amendOwn('2025-03-05T08:00:00Z', 'first-update');
    const conflict = await conflictOf(amendOwn('2025-03-05T08:00:00Z', 'second-update'));
    expect(conflict).toMatchObject({ reason: 'invalid', state: 'routed' });
    expect(conflict.message).toMatch(/another message with the same timestamp/);
    expect(referrals.items.get(referralId)).toEqual(first);
  });

  it('a write refused by a race is re-read once and answered with the typed reason', async () => {
    seedRouted();
    // Between the use case's read and its write, another message of the practice cancels the referral.
    const apply = referrals.apply.bind(referrals);
    let raced = false;
    referrals.apply = async (...args) => {
      if (!raced) {
        raced = true;
        await cancelReferral(deps, {
          referralId,
          practiceOds: 'A81001',
          reason: 'revoked',
          messageAt: '2025-03-05T08:05:00Z',
          actor: 'practice:A81001',
        });
      }
      return apply(...args);
    };
    const conflict = await conflictOf(amendOwn('2025-03-05T08:00:00Z'));
    expect(conflict).toMatchObject({ reason: 'invalid', state: 'cancelled' });
    expect(conflict.message).toMatch(/^referral is cancelled \(version 1\): update is not allowed/);
    expect(referrals.items.get(referralId)).toMatchObject({ status: 'cancelled', version: 1 });
  });
});
