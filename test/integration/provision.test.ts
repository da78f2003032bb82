import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTables } from '../../infra/local/provision.ts';
import { startLocalDynamoDb, type LocalServer } from '../../infra/local/servers.ts';
import { tables } from '#system/tables.ts';

// The local tables come from the same description as the CDK ones (test/infra/stack.test.ts checks those): keys,
// the worklist index, and a clear refusal of a table kept from an older key schema.

let server: LocalServer;
let dynamoDb: DynamoDBClient;

beforeAll(async () => {
  server = await startLocalDynamoDb({ port: 0 });
  dynamoDb = new DynamoDBClient({
    endpoint: server.endpoint,
    region: 'eu-west-2',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});

afterAll(async () => {
  dynamoDb.destroy();
  await server.stop();
});

describe('local tables', () => {
  it('the referrals table has the referral partition, the sort key, the worklist, deadline and received indexes', async () => {
    const names = await createTables(dynamoDb);
    const { Table } = await dynamoDb.send(new DescribeTableCommand({ TableName: names.referrals }));
    expect(Table?.KeySchema).toEqual([
      { AttributeName: 'referralId', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    // DescribeTable lists indexes in no particular order (DynamoDB Local's differs from dynalite's).
    const indexes = Table?.GlobalSecondaryIndexes?.map((i) => [i.IndexName, i.KeySchema, i.Projection]);
    expect(indexes).toHaveLength(3);
    expect(indexes).toEqual(
      expect.arrayContaining([
        [
          'worklist',
          [
            { AttributeName: 'recipientKey', KeyType: 'HASH' },
            { AttributeName: 'worklistSortKey', KeyType: 'RANGE' },
          ],
          { ProjectionType: 'ALL' },
        ],
        [
          'deadlines',
          [
            { AttributeName: 'deadlineKey', KeyType: 'HASH' },
            { AttributeName: 'deadlineAt', KeyType: 'RANGE' },
          ],
          { ProjectionType: 'KEYS_ONLY' },
        ],
        [
          'received',
          [
            { AttributeName: 'receivedMonth', KeyType: 'HASH' },
            { AttributeName: 'receivedAt', KeyType: 'RANGE' },
          ],
          { ProjectionType: 'KEYS_ONLY' },
        ],
      ]),
    );
  });

  it("a worklist query answers one recipient's entries of one status, newest first, and skips unlisted items", async () => {
    const names = await createTables(dynamoDb); // a second run keeps what exists
    const client = DynamoDBDocumentClient.from(dynamoDb);
    const put = (item: Record<string, string>) =>
      client.send(new PutCommand({ TableName: names.referrals, Item: item }));
    // What a later item kind (a delivery or offer of its own) would write; the referral item itself is unlisted.
    await put({ referralId: 'r1', sk: 'referral' });
    await put({
      referralId: 'r1',
      sk: 'offer#a',
      recipientKey: 'partner#arts-for-all',
      worklistSortKey: 'offered#2025-03-04T09:00:00.000Z',
    });
    await put({
      referralId: 'r2',
      sk: 'offer#a',
      recipientKey: 'partner#arts-for-all',
      worklistSortKey: 'offered#2025-03-04T10:00:00.000Z',
    });
    await put({
      referralId: 'r3',
      sk: 'offer#a',
      recipientKey: 'partner#arts-for-all',
      worklistSortKey: 'accepted#2025-03-04T11:00:00.000Z',
    });
    await put({
      referralId: 'r4',
      sk: 'offer#a',
      recipientKey: 'partner#green-gym',
      worklistSortKey: 'offered#2025-03-04T12:00:00.000Z',
    });

    const { Items = [] } = await client.send(
      new QueryCommand({
        TableName: names.referrals,
        IndexName: 'worklist',
        KeyConditionExpression: 'recipientKey = :recipient AND begins_with(worklistSortKey, :status)',
        ExpressionAttributeValues: { ':recipient': 'partner#arts-for-all', ':status': 'offered#' },
        ScanIndexForward: false,
      }),
    );
    expect(Items.map((item) => item.referralId)).toEqual(['r2', 'r1']);
  });

  it('refuses a table kept from an older key schema, saying what to do', async () => {
    const other = await startLocalDynamoDb({ port: 0 });
    const client = new DynamoDBClient({
      endpoint: other.endpoint,
      region: 'eu-west-2',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      // The referrals table as it was before it had a sort key.
      await client.send(
        new CreateTableCommand({
          TableName: 'referrals',
          KeySchema: [{ AttributeName: tables.referrals.partitionKey, KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: tables.referrals.partitionKey, AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      await expect(createTables(client)).rejects.toThrow(
        /local table "referrals" was created with keys \(referralId\) but the system description now has \(referralId, sk; deadlines\(deadlineKey, deadlineAt\); received\(receivedMonth, receivedAt\); worklist\(recipientKey, worklistSortKey\)\).*delete the data directory/,
      );
    } finally {
      client.destroy();
      await other.stop();
    }
  });
});
