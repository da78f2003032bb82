import { dayCount, DynamoMetricCounters } from '#adapters/dynamodb/metric-counters.ts';
import { DynamoReferralStore } from '#adapters/dynamodb/referral-store.ts';
import { describeReferralStoreContract } from '../contract/referral-store.contract.ts';
import { describeMetricCountersContract } from '../contract/counters-and-audit.contract.ts';
import { useLocalTables } from '../support/local-tables.ts';

// The DynamoDB adapters on the local DynamoDB (dynalite, tables from the system description), against the contract
// the in-memory fakes also meet (test/unit/referral-store.contract.test.ts).

const local = useLocalTables();

describeReferralStoreContract(
  'DynamoDB adapter on dynalite',
  () => new DynamoReferralStore(local.client, local.tables.referrals),
);

describeMetricCountersContract('DynamoDB adapter on dynalite', () => ({
  counters: new DynamoMetricCounters(local.client, local.tables.metrics),
  value: (count, day) => dayCount(local.client, local.tables.metrics, count, day),
}));
