import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTables } from '../../infra/local/provision.ts';
import { startLocalDynamoDb, type LocalServer } from '../../infra/local/servers.ts';
import { DynamoOutcomeStore } from '#adapters/dynamodb/outcome-store.ts';
import { DynamoReferralStore } from '#adapters/dynamodb/referral-store.ts';
import type { TableName } from '#system/names.ts';
import { describeOutcomeStoreContract } from '../contract/outcome-store.contract.ts';
import { sampleReferral } from '../unit/fixtures.ts';

// The DynamoDB adapter on the local DynamoDB (dynalite, tables from the system description), against the contract
// the in-memory fake also meets (test/unit/outcome-store.contract.test.ts).

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

describeOutcomeStoreContract(
  'DynamoDB adapter on dynalite',
  () => new DynamoOutcomeStore(client, tables.referrals),
);

describe('measure sets beside the referral in its partition', () => {
  it('leave the referral item as it was, and the referral item is not listed as a set', async () => {
    const referrals = new DynamoReferralStore(client, tables.referrals);
    const outcomes = new DynamoOutcomeStore(client, tables.referrals);
    const referral = sampleReferral('leeds-arts-and-mental-health', { referralId: randomUUID() });
    await referrals.create(referral);
    await outcomes.add({
      referralId: referral.referralId,
      id: randomUUID(),
      timepoint: 'baseline',
      takenOn: '2026-03-10',
      recordedAt: '2026-03-10T10:15:00.000Z',
      recordedBy: { subject: 'lw-subject', team: 'lw-woodhouse' },
      fingerprint: 'a'.repeat(64),
      lonelinessDirect: 'never',
    });
    await expect(referrals.get(referral.referralId)).resolves.toEqual(referral);
    expect(await outcomes.list(referral.referralId)).toHaveLength(1);
  });
});
