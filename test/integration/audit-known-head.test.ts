import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAuditLog } from '#adapters/dynamodb/audit-log.ts';
import { verifyChain, type AuditEntry } from '#audit/domain/chain.ts';
import { startLocalAws, type LocalAws } from '../../infra/local/local-aws.ts';
import { callsBetween } from '../../bench/aws-calls.ts';

// An append skips the chain's read when its process knows the head (audit-log.ts): the router's routing and offers,
// the notifier's deliveries of one referral. These show it saves the reads, and that a head grown stale (another
// process appended) or a retried step still gives one unbroken chain with each step once.

let aws: LocalAws;

beforeAll(async () => {
  aws = await startLocalAws();
});
afterAll(() => aws.stop());

const entry = (referralId: string, eventKey: string): AuditEntry => ({
  referralId,
  eventKey,
  action: `test.${eventKey}`,
  actor: 'system:test',
  at: '2026-12-02T10:00:00.000Z',
  detail: {},
});

async function verified(log: DynamoAuditLog, referralId: string): Promise<string[]> {
  const links = await log.chainOf(referralId);
  expect(verifyChain(referralId, links)).toMatchObject({ ok: true, length: links.length });
  return links.map((l) => l.eventKey);
}

describe('audit appends on a known head', () => {
  it('reads the chain once, then appends each next step with one put', async () => {
    const log = new DynamoAuditLog(aws.documentClient, aws.tables.audit);
    const id = 'known-head-1';
    const before = aws.requestCounts();
    await log.append(entry(id, 'routed'));
    await log.append(entry(id, 'offer.a'));
    await log.append(entry(id, 'offer.b'));
    expect(callsBetween(before, aws.requestCounts())).toEqual({
      'DynamoDB.Query': 1,
      'DynamoDB.PutItem': 3,
    });
    expect(await verified(log, id)).toEqual(['routed', 'offer.a', 'offer.b']);
  });

  it('appends made together from one process go one after another: no lost race, no retry', async () => {
    const log = new DynamoAuditLog(aws.documentClient, aws.tables.audit);
    const id = 'known-head-2';
    const before = aws.requestCounts();
    await Promise.all(['delivered.a', 'delivered.b', 'delivered.c'].map((key) => log.append(entry(id, key))));
    expect(callsBetween(before, aws.requestCounts())).toEqual({
      'DynamoDB.Query': 1,
      'DynamoDB.PutItem': 3,
    });
    expect(await verified(log, id)).toHaveLength(3);
  });

  it('a step repeated in the same process adds nothing and asks nothing', async () => {
    const log = new DynamoAuditLog(aws.documentClient, aws.tables.audit);
    const id = 'known-head-3';
    await log.append(entry(id, 'routed'));
    const before = aws.requestCounts();
    await log.append(entry(id, 'routed'));
    expect(callsBetween(before, aws.requestCounts())).toEqual({});
    expect(await verified(log, id)).toEqual(['routed']);
  });

  it('a head grown stale (another process appended since) costs one refused put, then a read, never a fork', async () => {
    const router = new DynamoAuditLog(aws.documentClient, aws.tables.audit);
    const caseWork = new DynamoAuditLog(aws.documentClient, aws.tables.audit);
    const id = 'known-head-4';
    await router.append(entry(id, 'routed'));
    await caseWork.append(entry(id, 'accepted'));
    const before = aws.requestCounts();
    await router.append(entry(id, 'offer.a'));
    expect(callsBetween(before, aws.requestCounts())).toEqual({
      'DynamoDB.PutItem': 2,
      'DynamoDB.Query': 1,
    });
    // The other process's step, repeated where this one's head is stale, is found by the read: still once.
    await router.append(entry(id, 'accepted'));
    expect(await verified(router, id)).toEqual(['routed', 'accepted', 'offer.a']);
  });
});

describe('the first link of a chain just created', () => {
  it('is put without a read', async () => {
    const log = new DynamoAuditLog(aws.documentClient, aws.tables.audit);
    const before = aws.requestCounts();
    await log.append(entry('new-chain-1', 'received'), { chainIsNew: true });
    expect(callsBetween(before, aws.requestCounts())).toEqual({ 'DynamoDB.PutItem': 1 });
    expect(await verified(log, 'new-chain-1')).toEqual(['received']);
  });

  it('follows what a withdrawn acceptance left, when the chain was not new after all', async () => {
    const earlier = new DynamoAuditLog(aws.documentClient, aws.tables.audit);
    await earlier.append(entry('new-chain-2', 'received.t1'));
    await earlier.append(entry('new-chain-2', 'withdrawn.t1'));
    const log = new DynamoAuditLog(aws.documentClient, aws.tables.audit);
    await log.append(entry('new-chain-2', 'received.t2'), { chainIsNew: true });
    expect(await verified(log, 'new-chain-2')).toEqual(['received.t1', 'withdrawn.t1', 'received.t2']);
  });
});
