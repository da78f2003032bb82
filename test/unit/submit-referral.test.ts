import { beforeEach, describe, expect, it } from 'vitest';
import { submitReferral, type SubmitReferralDeps } from '../../shared/application/submit-referral.ts';
import { DependencyUnavailableError, UnprocessableError } from '../../shared/domain/errors.ts';
import { referralIdFor } from '../../shared/domain/ids.ts';
import {
  FakeClock,
  InMemoryAuditLog,
  InMemoryDirectory,
  InMemoryReferralStore,
  RecordingQueue,
} from './fakes.ts';
import { sampleDirectory, sampleRequest } from './fixtures.ts';

let referrals: InMemoryReferralStore;
let audit: InMemoryAuditLog;
let routingQueue: RecordingQueue;
let clock: FakeClock;
let deps: SubmitReferralDeps;

beforeEach(() => {
  referrals = new InMemoryReferralStore();
  audit = new InMemoryAuditLog();
  routingQueue = new RecordingQueue();
  clock = new FakeClock('2025-03-04T09:15:00.000Z');
  deps = { referrals, directory: new InMemoryDirectory(sampleDirectory()), audit, routingQueue, clock };
});

const referralId = referralIdFor('A81001', 'key-1');
const request = () => sampleRequest('leeds-arts-and-mental-health');

describe('submitReferral', () => {
  it('refuses a practice not in the directory with UnprocessableError on practiceOds, storing nothing', async () => {
    const command = { referralId, request: { ...request(), practiceOds: 'Z99999' } };
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
    await submitReferral(deps, { referralId, request: request() });
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
    const error = await submitReferral(deps, { referralId, request: request() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect((error as Error).message).toContain('SQS is down');
    expect(referrals.calls.deleteUnacknowledged).toBe(1);
    expect(referrals.items.has(referralId)).toBe(false);

    // The client's retry then succeeds from a clean start.
    routingQueue.failWith = undefined;
    clock.advance(5_000);
    const ack = await submitReferral(deps, { referralId, request: request() });
    expect(ack.receivedAt).toBe('2025-03-04T09:15:05.000Z');
    expect(referrals.items.get(referralId)?.status).toBe('received');
    expect(routingQueue.sends).toHaveLength(1);
  });

  it('a retry with an existing referral id does not create a second referral and re-enqueues it', async () => {
    const first = await submitReferral(deps, { referralId, request: request() });
    clock.advance(60_000);
    const second = await submitReferral(deps, { referralId, request: request() });

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
    await submitReferral(deps, { referralId, request: request() });
    routingQueue.failWith = new Error('SQS is down');
    await expect(submitReferral(deps, { referralId, request: request() })).rejects.toBeInstanceOf(
      DependencyUnavailableError,
    );
    expect(referrals.calls.deleteUnacknowledged).toBe(0);
    expect(referrals.items.get(referralId)?.status).toBe('received');
  });

  it('a retry for a referral already routed acknowledges without queueing it again', async () => {
    await submitReferral(deps, { referralId, request: request() });
    const stored = referrals.items.get(referralId);
    if (!stored) throw new Error('not stored');
    referrals.seed({ ...stored, status: 'routed' });

    const ack = await submitReferral(deps, { referralId, request: request() });
    expect(ack).toEqual({ referralId, status: 'received', receivedAt: '2025-03-04T09:15:00.000Z' });
    expect(routingQueue.sends).toHaveLength(1);
  });
});
