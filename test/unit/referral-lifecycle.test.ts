import { beforeEach, describe, expect, it } from 'vitest';
import {
  amendReferral,
  cancelReferral,
  type LifecycleDeps,
} from '#referral/application/amend-or-cancel-referral.ts';
import { ConflictError, NotFoundError } from '#kernel/errors.ts';
import {
  FakeClock,
  InMemoryAuditLog,
  InMemoryMetricCounters,
  InMemoryReferralStore,
  RecordingQueue,
} from './fakes.ts';
import { queueMessages } from '#messages/queue.ts';
import { referralIds, sampleReferral, sampleRequest } from './fixtures.ts';

// Issue 6.11: another practice's referral is indistinguishable from no referral, whatever the conversation.

let referrals: InMemoryReferralStore;
let deps: LifecycleDeps;

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
    routingQueue: new RecordingQueue(queueMessages.referrals),
    deliveryQueue: new RecordingQueue(queueMessages.notifications),
    clock: new FakeClock('2025-03-05T09:00:00.000Z'),
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
