import { InMemoryMetricCounters, InMemoryReferralStore } from './fakes.ts';
import { describeReferralStoreContract } from '../contract/referral-store.contract.ts';
import { describeMetricCountersContract } from '../contract/counters-and-audit.contract.ts';

// The in-memory fakes against the contract the DynamoDB adapters also meet (test/integration/referral-store.contract.test.ts).

describeReferralStoreContract('in-memory fake', () => new InMemoryReferralStore());

describeMetricCountersContract('in-memory fake', () => {
  const counters = new InMemoryMetricCounters();
  return { counters, value: async (count, day) => counters.value(count.name, count.dimensions, day) };
});
