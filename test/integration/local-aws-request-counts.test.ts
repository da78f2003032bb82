import { Worker } from 'node:worker_threads';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalAws, type LocalAws } from '../../infra/local/local-aws.ts';

// The bench counts AWS requests per referral at the local servers, because the functions make theirs from worker
// threads whose SDK clients the bench cannot see. These check that the servers count every request by operation,
// from the real SDK clients and from another thread, and that a reset starts again from zero.

let aws: LocalAws;

beforeAll(async () => {
  aws = await startLocalAws();
});
afterAll(() => aws.stop());

describe('local AWS request counts', () => {
  it('counts one PutItem and one SendMessage by their X-Amz-Target, and nothing else', async () => {
    aws.resetRequestCounts();
    await aws.documentClient.send(
      new PutCommand({ TableName: aws.tables.idempotency, Item: { id: 'request-count-probe' } }),
    );
    await aws.sqs.send(new SendMessageCommand({ QueueUrl: aws.queues.referrals.url, MessageBody: '{}' }));
    expect(aws.requestCounts()).toEqual({
      'DynamoDB_20120810.PutItem': 1,
      'AmazonSQS.SendMessage': 1,
    });
  });

  it('adds up repeated calls, and starts from zero after a reset', async () => {
    aws.resetRequestCounts();
    for (let i = 0; i < 3; i++) {
      await aws.dynamoDb.send(
        new GetItemCommand({ TableName: aws.tables.idempotency, Key: { id: { S: 'request-count-probe' } } }),
      );
    }
    expect(aws.requestCounts()).toEqual({ 'DynamoDB_20120810.GetItem': 3 });
    aws.resetRequestCounts();
    expect(aws.requestCounts()).toEqual({});
  });

  it('counts requests made from another thread, as the function workers make theirs', async () => {
    aws.resetRequestCounts();
    // A bare request with the header the SDK sends: what is counted is what arrives, whoever sent it.
    const worker = new Worker(
      `const { workerData, parentPort } = require('node:worker_threads');
       fetch(workerData.endpoint, {
         method: 'POST',
         headers: { 'X-Amz-Target': 'DynamoDB_20120810.ListTables', 'Content-Type': 'application/x-amz-json-1.0' },
         body: '{}',
       }).then((r) => r.arrayBuffer()).then(() => parentPort.postMessage('done'), (e) => parentPort.postMessage(String(e)));`,
      { eval: true, workerData: { endpoint: aws.dynamoDbEndpoint } },
    );
    const outcome = await new Promise<unknown>((resolve) => worker.once('message', resolve));
    await worker.terminate();
    expect(outcome).toBe('done');
    expect(aws.requestCounts()).toEqual({ 'DynamoDB_20120810.ListTables': 1 });
  });
});
