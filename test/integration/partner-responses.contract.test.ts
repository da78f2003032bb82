import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { createTables } from '../../infra/local/provision.ts';
import { startLocalDynamoDb, type LocalServer } from '../../infra/local/servers.ts';
import { DynamoPartnerResponses } from '#adapters/dynamodb/partner-responses.ts';
import type { TableName } from '#system/names.ts';
import { describePartnerResponsesContract } from '../contract/partner-responses.contract.ts';

// The DynamoDB adapter on the local DynamoDB (dynalite, the metrics table from the system description), against
// the contract the in-memory fake also meets (test/unit/partner-responses.contract.test.ts): one conditional
// UpdateItem adding to several attributes, refused for an offer id already counted.

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

describePartnerResponsesContract(
  'DynamoDB adapter on dynalite',
  () => new DynamoPartnerResponses(client, tables.metrics),
);
