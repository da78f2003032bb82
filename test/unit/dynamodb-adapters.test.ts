import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoAuditLog } from '#adapters/dynamodb/audit-log.ts';
import {
  counterShards,
  DynamoMetricCounters,
  metricKey,
  shardOf,
} from '#adapters/dynamodb/metric-counters.ts';
import { DynamoReferralStore } from '#adapters/dynamodb/referral-store.ts';
import type { RoutingDecision } from '#referral/domain/referral.ts';
import { decideOrThrow } from '#referral/domain/lifecycle.ts';
import { referralTransition } from '#referral/domain/transition-refusal.ts';
import { referralIds, sampleReferral } from './fixtures.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-2' }));

const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

/** What dynalite (the local DynamoDB) throws: the right name, but not an instance of the SDK's class. */
const dynaliteConditionFailed = () =>
  Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' });

beforeEach(() => {
  ddb.reset();
});

afterAll(() => {
  ddb.restore();
});

describe('metricKey', () => {
  it('is the name alone without dimensions', () => {
    expect(metricKey({ name: 'referrals.received' })).toBe('referrals.received');
    expect(metricKey({ name: 'referrals.received', dimensions: {} })).toBe('referrals.received');
  });

  it('sorts dimensions by key, whatever order they were given in', () => {
    const expected = 'referrals.unmet|area=LS6|category=food';
    expect(metricKey({ name: 'referrals.unmet', dimensions: { category: 'food', area: 'LS6' } })).toBe(
      expected,
    );
    expect(metricKey({ name: 'referrals.unmet', dimensions: { area: 'LS6', category: 'food' } })).toBe(
      expected,
    );
    expect(
      metricKey({
        name: 'deliveries.delivered',
        dimensions: { recipient: 'team', content: 'identifiable', a: 'x' },
      }),
    ).toBe('deliveries.delivered|a=x|content=identifiable|recipient=team');
  });

  it('different dimension values give different keys', () => {
    expect(metricKey({ name: 'n', dimensions: { area: 'LS6' } })).not.toBe(
      metricKey({ name: 'n', dimensions: { area: 'LS2' } }),
    );
  });
});

describe('DynamoMetricCounters', () => {
  const counters = new DynamoMetricCounters(client, 'metrics-table');

  it('adds one per counter, conditional on the unit id not having been counted', async () => {
    ddb.on(UpdateCommand).resolves({});
    await counters.countOnce(
      [
        { name: 'referrals.received', dimensions: { practice: 'A81001' } },
        { name: 'referrals.need', dimensions: { category: 'arts', area: 'LS6' } },
      ],
      '2025-03-04',
      'ref-1',
    );
    expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 2);
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      TableName: 'metrics-table',
      Key: { metric: 'referrals.need|area=LS6|category=arts', day: `2025-03-04#${shardOf('ref-1')}` },
      ConditionExpression: 'attribute_not_exists(#counted) OR NOT contains(#counted, :unitId)',
    });
    const input = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.Key).toEqual({
      metric: 'referrals.received|practice=A81001',
      day: `2025-03-04#${shardOf('ref-1')}`,
    });
    expect(input?.UpdateExpression).toContain('ADD #count :one, #counted :unit');
    expect(input?.ExpressionAttributeValues).toEqual({
      ':one': 1,
      ':unit': new Set(['ref-1']),
      ':unitId': 'ref-1',
      ':name': 'referrals.received',
      ':dimensions': { practice: 'A81001' },
    });
  });

  it('swallows ConditionalCheckFailedException: that unit was already counted', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed());
    await expect(
      counters.countOnce([{ name: 'referrals.received' }], '2025-03-04', 'ref-1'),
    ).resolves.toBeUndefined();
    ddb.on(UpdateCommand).rejects(dynaliteConditionFailed());
    await expect(
      counters.countOnce([{ name: 'referrals.received' }], '2025-03-04', 'ref-1'),
    ).resolves.toBeUndefined();
  });

  it('passes on any other failure (so the message is retried)', async () => {
    ddb
      .on(UpdateCommand)
      .rejects(Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' }));
    await expect(counters.countOnce([{ name: 'referrals.received' }], '2025-03-04', 'ref-1')).rejects.toThrow(
      'slow down',
    );
  });

  it('sends nothing for no counts', async () => {
    await counters.countOnce([], '2025-03-04', 'ref-1');
    expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 0);
  });
});

describe('DynamoReferralStore', () => {
  const store = new DynamoReferralStore(client, 'referrals-table');
  const referral = sampleReferral('leeds-arts-and-mental-health');
  const id = referralIds['leeds-arts-and-mental-health'];
  const decision: RoutingDecision = {
    decidedAt: '2025-03-04T09:20:00.000Z',
    area: 'LS6',
    areaSource: 'patient-postcode',
    team: { id: 'lw-woodhouse', name: 'Woodhouse link workers' },
    teamReason: 'r',
    matches: [],
    unmetNeeds: [],
    deliveries: [
      {
        deliveryId: `${id}.team.lw-woodhouse`,
        recipient: { kind: 'team', id: 'lw-woodhouse', name: 'Woodhouse link workers' },
        categories: ['arts'],
        content: 'identifiable',
      },
    ],
  };

  it('create puts only if no referral has that id, and reports whether it did', async () => {
    ddb.on(PutCommand).resolvesOnce({}).rejectsOnce(conditionFailed());
    await expect(store.create(referral)).resolves.toBe(true);
    await expect(store.create(referral)).resolves.toBe(false);
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      TableName: 'referrals-table',
      // receivedMonth lists it on the `received` index (the evaluation extract's month).
      Item: { ...referral, sk: 'referral', receivedMonth: '2025-03' },
      ConditionExpression: 'attribute_not_exists(referralId)',
    });
  });

  it('create passes on other failures', async () => {
    ddb.on(PutCommand).rejects(new Error('network'));
    await expect(store.create(referral)).rejects.toThrow('network');
  });

  it('get reads consistently and returns undefined for a missing item', async () => {
    ddb
      .on(GetCommand)
      .resolvesOnce({ Item: { ...referral, sk: 'referral' } })
      .resolvesOnce({});
    await expect(store.get(id)).resolves.toEqual(referral);
    await expect(store.get('missing')).resolves.toBeUndefined();
    expect(ddb).toHaveReceivedCommandWith(GetCommand, {
      TableName: 'referrals-table',
      Key: { referralId: id, sk: 'referral' },
      ConsistentRead: true,
    });
  });

  it('apply of a route writes the decision and pending deliveries in its one conditional write, no read-back', async () => {
    const routed = { ...referral, status: 'routed', routing: decision };
    const pending = { [`${id}.team.lw-woodhouse`]: { status: 'pending' } };
    ddb.on(UpdateCommand).resolves({ Attributes: { ...routed, deliveryStatus: pending, sk: 'referral' } });
    const route = decideOrThrow('referral', { state: 'received', version: 1 }, 'route', 'system', 1);
    await expect(
      store.apply(id, referralTransition(route.transition), {
        at: decision.decidedAt,
        changes: {
          routing: decision,
          deliveryStatus: { [`${id}.team.lw-woodhouse`]: { status: 'pending' } },
        },
      }),
    ).resolves.toEqual({ ...routed, deliveryStatus: pending });
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { referralId: id, sk: 'referral' },
      // Routed to a team: listed on its worklist in the same write.
      UpdateExpression:
        'SET #status = :to, #version = :next, updatedAt = :at, recipientKey = :recipientKey, #c0 = :c0, #c1 = :c1',
      ConditionExpression: '#status = :from AND #version = :expected',
      ExpressionAttributeNames: {
        '#status': 'status',
        '#version': 'version',
        '#c0': 'routing',
        '#c1': 'deliveryStatus',
      },
      ExpressionAttributeValues: {
        ':from': 'received',
        ':to': 'routed',
        ':expected': 1,
        ':next': 1,
        ':at': '2025-03-04T09:20:00.000Z',
        ':recipientKey': 'team#lw-woodhouse',
        ':c0': decision,
        ':c1': pending,
      },
      ReturnValues: 'ALL_NEW',
    });
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 0);
  });

  it('markSending is one conditional write that returns the referral; undefined when refused', async () => {
    const delivery = `${id}.team.lw-woodhouse`;
    const written = { ...referral, status: 'routed' };
    ddb.on(UpdateCommand).resolvesOnce({ Attributes: written }).rejectsOnce(conditionFailed());
    await expect(
      store.markSending(id, delivery, '2025-03-04T09:21:00.000Z', '2025-03-04T09:21:00.000Z'),
    ).resolves.toEqual(written);
    await expect(
      store.markSending(id, delivery, '2025-03-04T09:21:00.000Z', '2025-03-04T09:21:00.000Z'),
    ).resolves.toBeUndefined();
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      UpdateExpression:
        'SET deliveryStatus.#delivery.#status = :sending, deliveryStatus.#delivery.attemptedAt = :at ' +
        'ADD deliveryStatus.#delivery.attempts :one',
      ConditionExpression:
        'attribute_exists(deliveryStatus.#delivery) AND deliveryStatus.#delivery.#status <> :delivered ' +
        'AND deliveryStatus.#delivery.#status <> :failed AND #status <> :cancelled ' +
        'AND (deliveryStatus.#delivery.#status <> :sending OR deliveryStatus.#delivery.attemptedAt < :lapsed)',
      ExpressionAttributeNames: { '#delivery': delivery, '#status': 'status' },
      ReturnValues: 'ALL_NEW',
    });
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 0);
  });

  it('markDelivered is conditional on the delivery not being delivered; undefined on a repeat', async () => {
    const state = {
      status: 'delivered' as const,
      deliveredAt: '2025-03-04T09:21:00.000Z',
      responseStatus: 202,
    };
    const written = { ...referral, status: 'cancelled' };
    ddb.on(UpdateCommand).resolvesOnce({ Attributes: written }).rejectsOnce(conditionFailed());
    await expect(store.markDelivered(id, `${id}.team.lw-woodhouse`, state)).resolves.toEqual(written);
    await expect(store.markDelivered(id, `${id}.team.lw-woodhouse`, state)).resolves.toBeUndefined();
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      ConditionExpression:
        'attribute_exists(deliveryStatus.#delivery) AND deliveryStatus.#delivery.#status <> :delivered',
      ExpressionAttributeNames: { '#delivery': `${id}.team.lw-woodhouse`, '#status': 'status' },
      ExpressionAttributeValues: {
        ':delivered': 'delivered',
        ':at': '2025-03-04T09:21:00.000Z',
        ':response': 202,
      },
      ReturnValues: 'ALL_NEW',
    });
  });

  it('markAttemptFailed records the reason only while the delivery is sending', async () => {
    ddb.on(UpdateCommand).resolvesOnce({}).rejectsOnce(conditionFailed());
    await expect(store.markAttemptFailed(id, `${id}.team.lw-woodhouse`, 'HTTP 503')).resolves.toBe(true);
    await expect(store.markAttemptFailed(id, `${id}.team.lw-woodhouse`, 'HTTP 503')).resolves.toBe(false);
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      ConditionExpression: 'deliveryStatus.#delivery.#status = :sending',
      ExpressionAttributeValues: { ':retrying': 'retrying', ':sending': 'sending', ':reason': 'HTTP 503' },
    });
  });

  it('deleteUnacknowledged deletes only a referral still received, and tolerates one that moved on', async () => {
    ddb.on(DeleteCommand).rejects(conditionFailed());
    await expect(store.deleteUnacknowledged(id)).resolves.toBeUndefined();
    expect(ddb).toHaveReceivedCommandWith(DeleteCommand, {
      Key: { referralId: id, sk: 'referral' },
      ConditionExpression: '#status = :received',
      ExpressionAttributeValues: { ':received': 'received' },
    });
  });
});

describe('DynamoAuditLog', () => {
  // A log per test: a log remembers the heads of the chains it has read or appended to (a new one knows none).
  let log: DynamoAuditLog;
  beforeEach(() => {
    log = new DynamoAuditLog(client, 'audit-table');
  });
  const entry = {
    referralId: 'r',
    eventKey: 'routed',
    action: 'referral.routed',
    actor: 'system:router',
    at: 't',
  };

  it('reads the chain consistently, then puts the next link on condition its seq is free', async () => {
    ddb.on(QueryCommand).resolves({ Items: [{ seq: '0000000001', eventKey: 'received', hash: 'h1' }] });
    ddb.on(PutCommand).resolves({});
    await log.append(entry);
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, {
      TableName: 'audit-table',
      KeyConditionExpression: 'referralId = :id',
      ExpressionAttributeValues: { ':id': 'r' },
      ConsistentRead: true,
    });
    const item = ddb.commandCalls(PutCommand)[0]?.args[0].input;
    expect(item).toMatchObject({
      TableName: 'audit-table',
      Item: { ...entry, seq: '0000000002', prevHash: 'h1', hash: expect.stringMatching(/^[0-9a-f]{64}$/) },
      ConditionExpression: 'attribute_not_exists(seq)',
    });
  });

  it("a step's key is looked for in the whole chain, page by page; a read's (unique to its request) in the newest 50", async () => {
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [{ seq: '0000000002', eventKey: 'b', hash: 'h2' }], LastEvaluatedKey: { k: 1 } })
      .resolvesOnce({ Items: [{ seq: '0000000001', eventKey: 'routed', hash: 'h1' }] });
    await log.append(entry);
    expect(ddb).toHaveReceivedCommandTimes(QueryCommand, 2);
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 0);
    ddb.reset();
    log = new DynamoAuditLog(client, 'audit-table');
    ddb
      .on(QueryCommand)
      .resolves({ Items: [{ seq: '0000000007', eventKey: 'x', hash: 'h7' }], LastEvaluatedKey: { k: 1 } });
    ddb.on(PutCommand).resolves({});
    await log.append({ ...entry, eventKey: 'read.gw-1' });
    expect(ddb).toHaveReceivedCommandTimes(QueryCommand, 1);
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, {
      ScanIndexForward: false,
      Limit: 50,
      ConsistentRead: true,
    });
    expect(ddb.commandCalls(PutCommand)[0]?.args[0].input.Item).toMatchObject({
      seq: '0000000008',
      prevHash: 'h7',
    });
  });

  it('an event key the chain holds already (a retried step) puts nothing', async () => {
    ddb.on(QueryCommand).resolves({ Items: [{ seq: '0000000001', eventKey: 'routed', hash: 'h1' }] });
    await log.append(entry);
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 0);
  });

  it("a lost race (dynalite's error too) re-reads and appends after the winner", async () => {
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [] })
      .resolvesOnce({ Items: [] })
      .resolves({ Items: [{ seq: '0000000001', eventKey: 'other', hash: 'h1' }] });
    ddb.on(PutCommand).rejectsOnce(conditionFailed()).rejectsOnce(dynaliteConditionFailed()).resolves({});
    await log.append(entry);
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 3);
    expect(ddb.commandCalls(PutCommand)[2]?.args[0].input.Item).toMatchObject({
      seq: '0000000002',
      prevHash: 'h1',
    });
  });

  it('gives up after a bounded number of lost races, and any other error is thrown at once', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(PutCommand).rejects(conditionFailed());
    await expect(log.append(entry)).rejects.toThrow(/contended chain after 20 attempts/);
    ddb.reset();
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(PutCommand).rejects(new Error('throttled'));
    await expect(log.append(entry)).rejects.toThrow('throttled');
  });
});

describe('counter shards', () => {
  it('puts a unit id always in the same shard, and spreads ids over all shards', () => {
    expect(shardOf('ref-1')).toBe(shardOf('ref-1'));
    const shards = new Set(Array.from({ length: 2000 }, (_, i) => shardOf(`referral-${i}`)));
    expect(shards.size).toBe(counterShards);
    expect([...shards].every((s) => /^\d{2}$/.test(s))).toBe(true);
  });
});
