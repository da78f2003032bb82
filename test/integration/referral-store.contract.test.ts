import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { createTables } from '../../infra/local/provision.ts';
import { startLocalDynamoDb, type LocalServer } from '../../infra/local/servers.ts';
import { DynamoAuditLog } from '#adapters/dynamodb/audit-log.ts';
import { dayCount, DynamoMetricCounters } from '#adapters/dynamodb/metric-counters.ts';
import { DynamoReferralStore } from '#adapters/dynamodb/referral-store.ts';
import type { AuditEntry } from '#audit/ports.ts';
import type { TableName } from '#system/names.ts';
import { describeReferralStoreContract } from '../contract/referral-store.contract.ts';
import {
  describeAuditLogContract,
  describeMetricCountersContract,
} from '../contract/counters-and-audit.contract.ts';

// The DynamoDB adapters on the local DynamoDB (dynalite, tables from the system description), against the contract
// the in-memory fakes also meet (test/unit/referral-store.contract.test.ts).

let server: LocalServer;
let client: DynamoDBDocumentClient;
let tables: Record<TableName, string>;

beforeAll(async () => {
  server = await startLocalDynamoDb({ port: 0 });
  const dynamoDb = new DynamoDBClient({
    endpoint: server.endpoint,
    region: 'eu-west-2',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  client = DynamoDBDocumentClient.from(dynamoDb, { marshallOptions: { removeUndefinedValues: true } });
  tables = await createTables(dynamoDb);
});

afterAll(async () => {
  client.destroy();
  await server.stop();
});

describeReferralStoreContract(
  'DynamoDB adapter on dynalite',
  () => new DynamoReferralStore(client, tables.referrals),
);

describeMetricCountersContract('DynamoDB adapter on dynalite', () => ({
  counters: new DynamoMetricCounters(client, tables.metrics),
  value: (count, day) => dayCount(client, tables.metrics, count, day),
}));

describeAuditLogContract('DynamoDB adapter on dynalite', () => ({
  log: new DynamoAuditLog(client, tables.audit),
  async entriesOf(referralId) {
    const { Items = [] } = await client.send(
      new QueryCommand({
        TableName: tables.audit,
        KeyConditionExpression: 'referralId = :id',
        ExpressionAttributeValues: { ':id': referralId },
        ConsistentRead: true,
      }),
    );
    return Items as AuditEntry[];
  },
}));
