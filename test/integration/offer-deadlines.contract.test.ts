import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { createTables } from '../../infra/local/provision.ts';
import { startLocalDynamoDb, type LocalServer } from '../../infra/local/servers.ts';
import { DynamoOfferDeadlines } from '#adapters/dynamodb/offer-deadlines.ts';
import { DynamoOfferStore } from '#adapters/dynamodb/offer-store.ts';
import type { TableName } from '#system/names.ts';
import { describeOfferDeadlinesContract } from '../contract/offer-deadlines.contract.ts';

// The deadline index on the local DynamoDB (dynalite, the `deadlines` index from the system description), against
// the contract the in-memory fake also meets (test/unit/offer-deadlines.contract.test.ts).

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

describeOfferDeadlinesContract('DynamoDB index on dynalite', () => ({
  offers: new DynamoOfferStore(client, tables.referrals),
  deadlines: new DynamoOfferDeadlines(client, tables.referrals),
}));
