import type { Message } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { FaultInjector, type FaultRates } from '../../infra/local/fault-injector.ts';

// The soak suite's fault injector (infra/local/fault-injector.ts): off until enabled, reproducible from its seed,
// every message handed over twice, and a step crash failing every SDK attempt of its request.

const none: Partial<FaultRates> = {
  sqsHoldBack: 0,
  sqsPoison: 0,
  dynamoFailBefore: 0,
  dynamoFailAfter: 0,
  dynamoStepCrash: 0,
  deliveredMarkCrash: 0,
  workerCrash: 0,
  intakeCrash: 0,
  recipientError: 0,
  recipientTimeout: 0,
};

const messages: Message[] = ['a', 'b', 'c'].map((id) => ({ MessageId: id, Body: `{"id":"${id}"}` }));

describe('FaultInjector', () => {
  it('injects nothing until enabled', () => {
    const faults = new FaultInjector({ seed: 1, rates: { dynamoFailBefore: 1, recipientError: 1 } });
    expect(faults.dynamoAction('PutItem', '{}')).toEqual({ kind: 'pass' });
    expect(faults.recipientAction()).toBe('pass');
    expect(faults.sqsDelivery('referrals', messages).invocations).toHaveLength(1);
    expect(faults.total()).toBe(0);
  });

  it('draws the same decisions from the same seed', () => {
    const draws = (seed: number) => {
      const faults = new FaultInjector({ seed });
      faults.enabled = true;
      return Array.from({ length: 200 }, (_, i) => faults.dynamoAction('UpdateItem', `{"n":${i}}`).kind);
    };
    expect(draws(7)).toEqual(draws(7));
    expect(draws(7)).not.toEqual(draws(8));
  });

  it('hands every message over twice, each time in its own order, and counts them', () => {
    const faults = new FaultInjector({ seed: 3, rates: none });
    faults.enabled = true;
    const plan = faults.sqsDelivery('notifications', messages);
    expect(plan.invocations).toHaveLength(2);
    for (const { messages: batch } of plan.invocations)
      expect(batch.map((m) => m.MessageId).sort()).toEqual(['a', 'b', 'c']);
    expect(faults.counts()['sqs.duplicate']).toBe(3);
  });

  it('fails every SDK attempt of a crashed step, then lets the request through again', () => {
    const faults = new FaultInjector({ seed: 5, rates: { ...none, deliveredMarkCrash: 1 } });
    faults.enabled = true;
    const body = '{"UpdateExpression":"SET deliveryStatus.#delivery.#status = :delivered"}';
    const attempts = [1, 2, 3].map(() => faults.dynamoAction('UpdateItem', body).kind);
    expect(attempts.slice(1)).toEqual(['before', 'before']);
    const counts = faults.counts();
    expect(
      counts['dynamodb.delivered-mark-crash-before-write'] +
        counts['dynamodb.delivered-mark-crash-after-write'],
    ).toBe(1);
    // Another kind of write is not a delivered mark: with no other rate, it passes.
    expect(faults.dynamoAction('PutItem', '{"other":1}')).toEqual({ kind: 'pass' });
  });

  it('keeps every attempt of a count write by its unit, and nothing of other writes', () => {
    const faults = new FaultInjector({ seed: 1, rates: none });
    const countWrite = JSON.stringify({
      TableName: 'metrics',
      Key: { metric: { S: 'deliveries.delivered' }, day: { S: '2026-12-02#07' } },
      ExpressionAttributeValues: { ':one': { N: '1' }, ':unitId': { S: 'r1.partner.p1' } },
    });
    faults.recordCountWrite(countWrite, 'failed before (reset)');
    faults.recordCountWrite(countWrite, 'server 200');
    faults.recordCountWrite(
      JSON.stringify({ TableName: 'referrals', Key: { pk: { S: 'r1' } } }),
      'server 200',
    );
    const lines = faults.countWrites.get('r1.partner.p1') ?? [];
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/failed before \(reset\) .*deliveries\.delivered.*2026-12-02#07/);
    expect(lines[1]).toMatch(/server 200/);
    expect(faults.countWrites.size).toBe(1);
  });
});
