import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalAws, type LocalAws } from '../../infra/local/local-aws.ts';
import { accountRequests, tallyTotals, withRequestTally } from '#platform/request-accounting.ts';
import { callsBetween } from '../../bench/aws-calls.ts';

// The functions' SDK middleware (shared/platform/request-accounting.ts) is what says what a referral costs: these
// tie its tally to what the real local servers received, request for request.

let aws: LocalAws;
let documentClient: DynamoDBDocumentClient;
let sqs: SQSClient;
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

beforeAll(async () => {
  aws = await startLocalAws();
  const dynamoDb = accountRequests(
    new DynamoDBClient({ endpoint: aws.dynamoDbEndpoint, region: 'eu-west-2', credentials }),
    'DynamoDB',
  );
  documentClient = DynamoDBDocumentClient.from(dynamoDb);
  sqs = accountRequests(
    new SQSClient({ endpoint: aws.sqsEndpoint, region: 'eu-west-2', credentials }),
    'SQS',
  );
});
afterAll(async () => {
  sqs.destroy();
  documentClient.destroy();
  await aws.stop();
});

describe('request accounting', () => {
  it('counts each request by operation and table, with the units DynamoDB reports, as the server saw them', async () => {
    const table = aws.tables.idempotency;
    const before = aws.requestCounts();
    const { tally } = await withRequestTally(async () => {
      await documentClient.send(
        new PutCommand({ TableName: table, Item: { id: 'accounting-probe', note: 'x' } }),
      );
      await documentClient.send(new GetCommand({ TableName: table, Key: { id: 'accounting-probe' } }));
      // A refused conditional write is a request too (DynamoDB bills it), so it is counted.
      await documentClient
        .send(
          new PutCommand({
            TableName: table,
            Item: { id: 'accounting-probe' },
            ConditionExpression: 'attribute_not_exists(id)',
          }),
        )
        .catch(() => undefined);
      await documentClient.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'id = :id',
          ExpressionAttributeValues: { ':id': 'accounting-probe' },
        }),
      );
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: aws.queues.referrals.url,
          Entries: [{ Id: 'a', MessageBody: '{}' }],
        }),
      );
    });
    expect(tally).toEqual({
      [`DynamoDB.PutItem ${table}`]: { requests: 2, readUnits: 0, writeUnits: 1 },
      [`DynamoDB.GetItem ${table}`]: { requests: 1, readUnits: 0.5, writeUnits: 0 },
      [`DynamoDB.Query ${table}`]: { requests: 1, readUnits: 0.5, writeUnits: 0 },
      ['SQS.SendMessageBatch referrals']: { requests: 1, readUnits: 0, writeUnits: 0 },
    });
    expect(callsBetween(before, aws.requestCounts())).toEqual({
      'DynamoDB.PutItem': 2,
      'DynamoDB.GetItem': 1,
      'DynamoDB.Query': 1,
      'AmazonSQS.SendMessageBatch': 1,
    });
    expect(tallyTotals(tally)).toEqual({
      dynamoDbRequests: 4,
      sqsRequests: 1,
      otherRequests: 0,
      readUnits: 1,
      writeUnits: 1,
    });
  });

  it('keeps two interleaved invocations apart, and counts nothing outside one', async () => {
    const table = aws.tables.idempotency;
    await documentClient.send(new GetCommand({ TableName: table, Key: { id: 'outside' } }));
    const get = (id: string) => documentClient.send(new GetCommand({ TableName: table, Key: { id } }));
    const [one, two] = await Promise.all([
      withRequestTally(async () => {
        await get('one-a');
        await get('one-b');
        await get('one-c');
      }),
      withRequestTally(async () => {
        await get('two-a');
      }),
    ]);
    expect(one.tally[`DynamoDB.GetItem ${table}`]?.requests).toBe(3);
    expect(two.tally[`DynamoDB.GetItem ${table}`]?.requests).toBe(1);
  });

  it('returns the tally of an invocation that threw, with the error', async () => {
    const outcome = await withRequestTally(async () => {
      await documentClient.send(new GetCommand({ TableName: aws.tables.idempotency, Key: { id: 'x' } }));
      throw new Error('the step failed');
    });
    expect('error' in outcome && (outcome.error as Error).message).toBe('the step failed');
    expect(tallyTotals(outcome.tally).dynamoDbRequests).toBe(1);
  });
});
