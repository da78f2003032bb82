import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { BatchWriteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';

/**
 * The raw-capacity load, in a worker thread of its own as each function runs in one (infra/local/function-workers.ts):
 * the local DynamoDB and SQS servers run on the main thread, so a load generated there would take its CPU from the
 * very servers it measures. Each task runs closed loop at `concurrency` for `durationMs` with the same SDK clients
 * the functions use, and reports requests and items done. Several such workers run each task together (one alone
 * spends as much CPU in the SDK as the server does, and would measure itself).
 */

export interface RawTask {
  kind: 'dynamodb-put' | 'dynamodb-get' | 'dynamodb-batch-write' | 'sqs-send-receive-delete';
  concurrency: number;
  durationMs: number;
}

export interface RawSetup {
  dynamoDbEndpoint: string;
  sqsEndpoint: string;
  table: string;
  queueUrl: string;
  /** Keys this worker writes are prefixed with it, so workers never write the same item. */
  workerIndex: number;
}

export interface RawTaskResult extends RawTask {
  requests: number;
  /** Items written or read, or messages that went through send, receive and delete. */
  items: number;
  errors: number;
  firstError?: string;
  wallMs: number;
}

/** About the size of a referral item (a few hundred bytes of JSON and its keys). */
const payload = 'x'.repeat(1000);
const message = JSON.stringify({ referralId: '00000000-0000-4000-8000-000000000000', pad: 'x'.repeat(100) });

const port = parentPort;
if (!port) throw new Error('raw-capacity-worker.ts runs as a worker thread (bench/raw-capacity.ts)');
const setup = workerData as RawSetup;
const dynamoDb = new DynamoDBClient({ endpoint: setup.dynamoDbEndpoint });
const documents = DynamoDBDocumentClient.from(dynamoDb);
const sqs = new SQSClient({ endpoint: setup.sqsEndpoint });
/** Items put so far (GetItem reads among them) and batch items written. */
let put = 0;
let batched = 0;

/** One step of a task: the requests it made and the items it moved. */
type Step = () => Promise<{ requests: number; items: number }>;

const steps: Record<RawTask['kind'], Step> = {
  'dynamodb-put': async () => {
    const key = put++;
    await documents.send(
      new PutCommand({
        TableName: setup.table,
        Item: { pk: `item-${setup.workerIndex}-${key}`, payload, n: key },
      }),
    );
    return { requests: 1, items: 1 };
  },
  'dynamodb-get': async () => {
    const key = Math.floor(Math.random() * Math.max(1, put));
    await documents.send(
      new GetCommand({
        TableName: setup.table,
        Key: { pk: `item-${setup.workerIndex}-${key}` },
        ConsistentRead: true,
      }),
    );
    return { requests: 1, items: 1 };
  },
  'dynamodb-batch-write': async () => {
    const first = batched;
    batched += 25;
    const items = Array.from({ length: 25 }, (_, i) => ({
      PutRequest: { Item: { pk: `batch-${setup.workerIndex}-${first + i}`, payload, n: first + i } },
    }));
    const { UnprocessedItems } = await documents.send(
      new BatchWriteCommand({ RequestItems: { [setup.table]: items } }),
    );
    return { requests: 1, items: 25 - (UnprocessedItems?.[setup.table]?.length ?? 0) };
  },
  'sqs-send-receive-delete': async () => {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: setup.queueUrl,
        Entries: Array.from({ length: 10 }, (_, i) => ({ Id: `m${i}`, MessageBody: message })),
      }),
    );
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: setup.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) return { requests: 2, items: 0 };
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: setup.queueUrl,
        Entries: Messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle ?? '' })),
      }),
    );
    return { requests: 3, items: Messages.length };
  },
};

async function run(task: RawTask): Promise<RawTaskResult> {
  const step = steps[task.kind];
  const result: RawTaskResult = { ...task, requests: 0, items: 0, errors: 0, wallMs: 0 };
  const started = performance.now();
  const deadline = started + task.durationMs;
  const loop = async (): Promise<void> => {
    while (performance.now() < deadline) {
      try {
        const done = await step();
        result.requests += done.requests;
        result.items += done.items;
      } catch (error) {
        result.errors++;
        result.firstError ??= String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: task.concurrency }, loop));
  result.wallMs = performance.now() - started;
  return result;
}

// One task per message, so the main thread can start every worker's run of a task at the same moment.
port.on('message', (task: RawTask | 'stop') => {
  if (task === 'stop') {
    dynamoDb.destroy();
    sqs.destroy();
    port.close();
    return;
  }
  void run(task).then((result) => port.postMessage(result));
});
port.postMessage('ready');
