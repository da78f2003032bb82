import { beforeEach, describe, expect, it } from 'vitest';
import { submitReferral, type SubmitReferralDeps } from '#referral/application/submit-referral.ts';
import { ConflictError, DependencyUnavailableError, UnprocessableError } from '#kernel/errors.ts';
import { referralIdFor, requestFingerprint } from '#kernel/ids.ts';
import {
  FakeClock,
  InMemoryAuditLog,
  InMemoryDirectory,
  InMemoryReferralStore,
  RecordingQueue,
} from './fakes.ts';
import { queueMessages } from '#messages/queue.ts';
import type { RoutingMessage } from '#messages/routing-message.ts';
import { sampleDirectory, sampleRequest } from './fixtures.ts';

let referrals: InMemoryReferralStore;
let audit: InMemoryAuditLog;
let routingQueue: RecordingQueue<RoutingMessage>;
let clock: FakeClock;
let deps: SubmitReferralDeps;

beforeEach(() => {
  referrals = new InMemoryReferralStore();
  audit = new InMemoryAuditLog();
  routingQueue = new RecordingQueue(queueMessages.referrals);
  clock = new FakeClock('2025-03-04T09:15:00.000Z');
  deps = { referrals, directory: new InMemoryDirectory(sampleDirectory()), audit, routingQueue, clock };
});

const referralId = referralIdFor({ route: '/referrals', caller: 'gp-1', practiceOds: 'A81001' }, 'key-1');
const request = () => sampleRequest('leeds-arts-and-mental-health');
const fingerprint = requestFingerprint('/referrals', request());

describe('submitReferral', () => {
  it('refuses a practice not in the directory with UnprocessableError on practiceOds, storing nothing', async () => {
    const command = { referralId, request: { ...request(), practiceOds: 'Z99999' }, fingerprint };
    const error = await submitReferral(deps, command).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnprocessableError);
    expect(error).toMatchObject({
      field: 'practiceOds',
      message: 'practice Z99999 is not in the service directory',
    });
    expect(referrals.items.size).toBe(0);
    expect(audit.entries).toEqual([]);
    expect(routingQueue.sends).toEqual([]);
  });

  it('stores the referral as received, audits it and queues it for routing', async () => {
    const ack = await submitReferral(deps, {
      referralId,
      request: request(),
      fingerprint,
      source: { channel: 'json', idempotencyKey: 'key-1' },
    });
    expect(ack).toEqual({ referralId, status: 'received', receivedAt: '2025-03-04T09:15:00.000Z' });

    const stored = referrals.items.get(referralId);
    expect(stored).toMatchObject({
      referralId,
      status: 'received',
      receivedAt: '2025-03-04T09:15:00.000Z',
      practiceOds: 'A81001',
      needs: ['arts', 'mental-health'],
      source: { channel: 'json', idempotencyKey: 'key-1' },
    });
    expect(stored?.patient.nhsNumber).toBe('9995260182');

    expect(audit.entries).toEqual([
      {
        referralId,
        eventKey: 'received.2025-03-04T09:15:00.000Z',
        action: 'referral.received',
        actor: 'practice:A81001',
        at: '2025-03-04T09:15:00.000Z',
        detail: { needs: ['arts', 'mental-health'], channel: 'json' },
      },
    ]);
    expect(routingQueue.sends).toEqual([[{ id: referralId, body: { referralId } }]]);
  });

  it('keeps patient identifiers out of the audit detail and the queue message', async () => {
    await submitReferral(deps, { referralId, request: request(), fingerprint });
    const text = JSON.stringify([audit.entries, routingQueue.sends]);
    for (const identifier of [
      '9995260182',
      'Alex',
      'Testpatient',
      '1961-04-12',
      'LS6 1AA',
      '0113 496 0001',
    ]) {
      expect(text).not.toContain(identifier);
    }
  });

  it('when the enqueue fails: withdraws the stored referral and throws DependencyUnavailableError', async () => {
    routingQueue.failWith = new Error('SQS is down');
    const error = await submitReferral(deps, { referralId, request: request(), fingerprint }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect((error as Error).message).toContain('SQS is down');
    expect(referrals.calls.deleteUnacknowledged).toBe(1);
    expect(referrals.items.has(referralId)).toBe(false);

    // The client's retry then succeeds from a clean start.
    routingQueue.failWith = undefined;
    clock.advance(5_000);
    const ack = await submitReferral(deps, { referralId, request: request(), fingerprint });
    expect(ack.receivedAt).toBe('2025-03-04T09:15:05.000Z');
    expect(referrals.items.get(referralId)?.status).toBe('received');
    expect(routingQueue.sends).toHaveLength(1);
  });

  it('a retry with an existing referral id does not create a second referral and re-enqueues it', async () => {
    const first = await submitReferral(deps, { referralId, request: request(), fingerprint });
    clock.advance(60_000);
    const second = await submitReferral(deps, { referralId, request: request(), fingerprint });

    expect(second).toEqual(first); // the original receivedAt, not the retry's
    expect(referrals.calls.create).toBe(2);
    expect(referrals.items.size).toBe(1);
    expect(referrals.items.get(referralId)?.receivedAt).toBe('2025-03-04T09:15:00.000Z');
    expect(routingQueue.messages).toEqual([
      { id: referralId, body: { referralId } },
      { id: referralId, body: { referralId } },
    ]);
    expect(audit.forReferral(referralId)).toHaveLength(1);
  });

  it('a retry whose enqueue fails does not delete the referral an earlier attempt stored', async () => {
    await submitReferral(deps, { referralId, request: request(), fingerprint });
    routingQueue.failWith = new Error('SQS is down');
    await expect(
      submitReferral(deps, { referralId, request: request(), fingerprint }),
    ).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(referrals.calls.deleteUnacknowledged).toBe(0);
    expect(referrals.items.get(referralId)?.status).toBe('received');
  });

  it('a retry for a referral already routed acknowledges without queueing it again', async () => {
    await submitReferral(deps, { referralId, request: request(), fingerprint });
    const stored = referrals.items.get(referralId);
    if (!stored) throw new Error('not stored');
    referrals.seed({ ...stored, status: 'routed' });

    const ack = await submitReferral(deps, { referralId, request: request(), fingerprint });
    expect(ack).toEqual({ referralId, status: 'received', receivedAt: '2025-03-04T09:15:00.000Z' });
    expect(routingQueue.sends).toHaveLength(1);
  });

  // Issue 6.1: the key lives as long as the referral, not as long as an idempotency record.
  it('a different request under a taken id is a ConflictError, and the stored referral is left as it was', async () => {
    const first = await submitReferral(deps, { referralId, request: request(), fingerprint });
    const before = structuredClone(referrals.items.get(referralId));
    const other = { ...request(), needs: ['nature' as const] };
    clock.advance(25 * 3600_000); // long after any idempotency record would have expired

    const error = await submitReferral(deps, {
      referralId,
      request: other,
      fingerprint: requestFingerprint('/referrals', other),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).duplicate).toBe(false);
    expect((error as Error).message).toMatch(/already used for another request/);
    expect(referrals.items.get(referralId)).toEqual(before);
    expect(referrals.calls.deleteUnacknowledged).toBe(0);
    expect(routingQueue.sends).toHaveLength(1);
    expect(audit.forReferral(referralId)).toHaveLength(1);

    // The same request again is a retry: the first answer.
    expect(await submitReferral(deps, { referralId, request: request(), fingerprint })).toEqual(first);
  });

  it('keeps the fingerprint on the referral; a referral stored without one is never taken for a retry', async () => {
    await submitReferral(deps, { referralId, request: request(), fingerprint });
    const stored = referrals.items.get(referralId);
    expect(stored?.requestFingerprint).toBe(fingerprint);
    if (!stored) throw new Error('not stored');
    const { requestFingerprint: _f, ...legacy } = stored;
    referrals.seed(legacy);
    await expect(
      submitReferral(deps, { referralId, request: request(), fingerprint }),
    ).rejects.toBeInstanceOf(ConflictError);
  });

  it('the fingerprint ignores key order and whitespace but not content or route', () => {
    const reordered = Object.fromEntries(Object.entries(request()).reverse()) as ReturnType<typeof request>;
    expect(Object.keys(reordered)).not.toEqual(Object.keys(request()));
    expect(requestFingerprint('/referrals', reordered)).toBe(fingerprint);
    expect(requestFingerprint('/$process-message', request())).not.toBe(fingerprint);
    expect(requestFingerprint('/referrals', { ...request(), reasonForReferral: 'other' })).not.toBe(
      fingerprint,
    );
  });
});
