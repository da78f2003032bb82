import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoAuditLog } from '#adapters/dynamodb/audit-log.ts';
import { dayCount, DynamoMetricCounters } from '#adapters/dynamodb/metric-counters.ts';
import { DynamoReferralStore } from '#adapters/dynamodb/referral-store.ts';
import type { AuditEntry } from '#audit/ports.ts';
import { describeReferralStoreContract } from '../contract/referral-store.contract.ts';
import {
  describeAuditLogContract,
  describeMetricCountersContract,
} from '../contract/counters-and-audit.contract.ts';
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

describeAuditLogContract('DynamoDB adapter on dynalite', () => ({
  log: new DynamoAuditLog(local.client, local.tables.audit),
  async entriesOf(referralId) {
    const { Items = [] } = await local.client.send(
      new QueryCommand({
        TableName: local.tables.audit,
        KeyConditionExpression: 'referralId = :id',
        ExpressionAttributeValues: { ':id': referralId },
        ConsistentRead: true,
      }),
    );
    return Items as AuditEntry[];
  },
}));
