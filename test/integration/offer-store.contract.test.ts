import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { createTables } from '../../infra/local/provision.ts';
import { startLocalDynamoDb, type LocalServer } from '../../infra/local/servers.ts';
import { DynamoOfferStore, DynamoWorklists } from '#adapters/dynamodb/offer-store.ts';
import { DynamoReferralStore } from '#adapters/dynamodb/referral-store.ts';
import type { TableName } from '#system/names.ts';
import { describeOfferStoreContract } from '../contract/offer-store.contract.ts';

// The DynamoDB adapters on the local DynamoDB (dynalite, tables and the worklist index from the system
// description), against the contract the in-memory fakes also meet (test/unit/offer-store.contract.test.ts).

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

describeOfferStoreContract('DynamoDB adapters on dynalite', () => ({
  referrals: new DynamoReferralStore(client, tables.referrals),
  offers: new DynamoOfferStore(client, tables.referrals),
  worklists: new DynamoWorklists(client, tables.referrals),
}));
