import type { Context } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { submitReferral, type SubmitReferralCommand } from '#referral/application/submit-referral.ts';
import { ConflictError, DependencyUnavailableError, UnprocessableError } from '#kernel/errors.ts';
import { referralIdFor, requestFingerprint, scopedKey } from '#kernel/ids.ts';
import { decideOnce } from '#platform/idempotency.ts';
import {
  FakeClock,
  InMemoryAuditLog,
  InMemoryDirectory,
  InMemoryIdempotencyStore,
  InMemoryReferralStore,
  RecordingQueue,
} from './fakes.ts';
import { queueMessages } from '#messages/queue.ts';
import type { RoutingMessage } from '#messages/routing-message.ts';
import { sampleDirectory, sampleRequest } from './fixtures.ts';

// decideOnce (shared/platform/idempotency.ts): Powertools idempotency around a use case, here submitReferral on
// in-memory ports, with an in-memory idempotency store whose writes can be made to fail.

let store: InMemoryIdempotencyStore;
let referrals: InMemoryReferralStore;
let routingQueue: RecordingQueue<RoutingMessage>;
/** The Lambda context Powertools reads the in-progress expiry from. */
const context = { getRemainingTimeInMillis: () => 10_000 } as Context;
let decide: ReturnType<typeof decideOnce<SubmitReferralCommand, Awaited<ReturnType<typeof submitReferral>>>>;

const scope = { route: '/referrals', caller: 'gp-1', practiceOds: 'A81001' };
const request = () => sampleRequest('leeds-arts-and-mental-health');
const fingerprint = requestFingerprint('/referrals', request());
const referralId = referralIdFor(scope, 'key-1');
const submitOnce = (request: ReturnType<typeof call>) => decide(request, context);
const call = (overrides: Partial<SubmitReferralCommand> = {}) => {
  const command = { referralId, request: request(), fingerprint, ...overrides };
  return { key: scopedKey(scope, 'key-1'), fingerprint: command.fingerprint, command };
};

beforeEach(() => {
  store = new InMemoryIdempotencyStore();
  referrals = new InMemoryReferralStore();
  routingQueue = new RecordingQueue(queueMessages.referrals);
  const deps = {
    referrals,
    directory: new InMemoryDirectory(sampleDirectory()),
    audit: new InMemoryAuditLog(),
    routingQueue,
    clock: new FakeClock(),
  };
  decide = decideOnce((command: SubmitReferralCommand) => submitReferral(deps, command), {
    expiresAfterSeconds: 3600,
    persistenceStore: store,
  });
});

describe('decideOnce', () => {
  it('runs once; a retry is answered from the record (executed: false) with the same result', async () => {
    const first = await submitOnce(call());
    expect(first.executed).toBe(true);
    const again = await submitOnce(call());
    expect(again).toEqual({ result: first.result, executed: false });
    expect(referrals.calls.create).toBe(1);
    expect(store.records.size).toBe(1);
  });

  it('the same key with another fingerprint is a ConflictError (409), without running the function', async () => {
    await submitOnce(call());
    const other = { ...request(), needs: ['nature' as const] };
    const error = await submitOnce(
      call({ request: other, fingerprint: requestFingerprint('/referrals', other) }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(referrals.calls.create).toBe(1);
  });

  // Issue 6.2: after the durable write nothing may fail the answer.
  it('if the success record cannot be written, still answers with what the function decided', async () => {
    store.failNext.update = new Error('ProvisionedThroughputExceededException');
    const answer = await submitOnce(call());
    expect(answer.executed).toBe(true);
    expect(answer.result).toEqual({
      referralId,
      status: 'received',
      receivedAt: '2025-03-04T09:15:00.000Z',
    });
    expect(referrals.items.get(referralId)?.status).toBe('received');
    expect(routingQueue.messages).toEqual([{ id: referralId, body: { referralId } }]);
  });

  it("if the function threw and the record cannot be cleared, the function's error is the answer", async () => {
    store.failNext.delete = new Error('DynamoDB unreachable');
    const error = await submitOnce(call({ request: { ...request(), practiceOds: 'Z99999' } })).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UnprocessableError);
  });

  it('if the store fails before the function ran, it is a 503 and nothing was done', async () => {
    store.failNext.put = new Error('DynamoDB unreachable');
    await expect(submitOnce(call())).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(referrals.calls.create).toBe(0);
  });
});
