import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { MetricCount, MetricCounters } from '#reporting/ports.ts';

/**
 * What the count-once counters promise (the audit log's contract is test/contract/audit-log.contract.ts), run against the in-memory fakes
 * (test/unit/referral-store.contract.test.ts) and the DynamoDB adapters on the local DynamoDB
 * (test/integration/referral-store.contract.test.ts). Each subject comes with a reader of its own, since the ports
 * only write: the fakes read their memory, the adapters' readers query the table.
 */

export interface CountersUnderTest {
  counters: MetricCounters;
  value(count: MetricCount, day: string): Promise<number>;
}

export function describeMetricCountersContract(
  name: string,
  make: () => CountersUnderTest | Promise<CountersUnderTest>,
): void {
  describe(`MetricCounters contract: ${name}`, () => {
    let subject: CountersUnderTest;
    let count: MetricCount;
    const day = '2025-03-04';

    beforeEach(async () => {
      subject = await make();
      // A counter of its own per case, so one table serves the whole suite.
      count = { name: `contract.${randomUUID()}`, dimensions: { area: 'LS6', category: 'arts' } };
    });

    it('a counter given the same unit id twice counts once', async () => {
      await subject.counters.countOnce([count], day, 'unit-1');
      await subject.counters.countOnce([count], day, 'unit-1');
      await expect(subject.value(count, day)).resolves.toBe(1);
    });

    it('the same unit id sent at once from several places still counts once', async () => {
      await Promise.all(Array.from({ length: 5 }, () => subject.counters.countOnce([count], day, 'unit-1')));
      await expect(subject.value(count, day)).resolves.toBe(1);
    });

    it('different unit ids each count', async () => {
      for (const unit of ['unit-1', 'unit-2', 'unit-3', 'unit-2'])
        await subject.counters.countOnce([count], day, unit);
      await expect(subject.value(count, day)).resolves.toBe(3);
    });

    it('dimensions in any order name the same counter; another day or dimension is another counter', async () => {
      await subject.counters.countOnce([count], day, 'unit-1');
      await subject.counters.countOnce(
        [{ name: count.name, dimensions: { category: 'arts', area: 'LS6' } }],
        day,
        'unit-1',
      );
      await subject.counters.countOnce([count], '2025-03-05', 'unit-1');
      const other = { name: count.name, dimensions: { area: 'LS7', category: 'arts' } };
      await subject.counters.countOnce([other], day, 'unit-1');
      await expect(subject.value(count, day)).resolves.toBe(1);
      await expect(subject.value(count, '2025-03-05')).resolves.toBe(1);
      await expect(subject.value(other, day)).resolves.toBe(1);
    });

    it('one call counts the unit once in each counter it names', async () => {
      const plain = { name: `${count.name}.plain` };
      await subject.counters.countOnce([count, plain], day, 'unit-1');
      await subject.counters.countOnce([count, plain], day, 'unit-1');
      await expect(subject.value(count, day)).resolves.toBe(1);
      await expect(subject.value(plain, day)).resolves.toBe(1);
    });
  });
}
