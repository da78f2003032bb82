import { CreateTableCommand, DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, DeleteQueueCommand } from '@aws-sdk/client-sqs';
import { Worker } from 'node:worker_threads';
import type { LocalStack } from '../infra/local/local-stack.ts';
import type { RawSetup, RawTask, RawTaskResult } from './raw-capacity-worker.ts';
import { withResourceUsage, type ResourceUsage } from './resources.ts';
import { perSecond } from './stats.ts';
import type { RawRates } from './throughput-figures.ts';

/**
 * The local servers' raw capacity, measured in the same run and against the same servers as the throughput levels
 * (the stack's dynalite and fauxqs, idle meanwhile): plain PutItem, GetItem and BatchWriteItem on a bench-only table,
 * and SQS send, receive and delete in batches of 10 on a bench-only queue, from worker threads. A level's request
 * rate over these reads as how much of what the servers can take the pipeline asked for.
 */

export interface RawCapacity {
  rates: RawRates;
  dynamoDbBatchWriteItemsPerSec: number;
  sqsMessagesPerSec: number;
  tasks: Array<RawTaskResult & { requestsPerSec: number; itemsPerSec: number }>;
  resources: ResourceUsage;
  problems: string[];
}

const table = 'bench-raw-capacity';
const queue = 'bench-raw-capacity';
const workerExecArgv = ['--experimental-transform-types', '--disable-warning=ExperimentalWarning'];

/** In flight per task: about what the functions together keep in flight at 50 clients; batches fewer, being 25 items. */
export function rawTasks(durationMs: number): RawTask[] {
  return [
    { kind: 'dynamodb-put', concurrency: 32, durationMs },
    { kind: 'dynamodb-get', concurrency: 32, durationMs },
    { kind: 'dynamodb-batch-write', concurrency: 8, durationMs },
    { kind: 'sqs-send-receive-delete', concurrency: 8, durationMs },
  ];
}

export async function measureRawCapacity(stack: LocalStack, durationMs: number): Promise<RawCapacity> {
  await stack.aws.dynamoDb.send(
    new CreateTableCommand({
      TableName: table,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  const QueueUrl = await createBenchQueue(stack, queue);
  try {
    const setup = {
      dynamoDbEndpoint: stack.aws.dynamoDbEndpoint,
      sqsEndpoint: stack.aws.sqsEndpoint,
      table,
      queueUrl: QueueUrl,
    };
    const { value: results, usage } = await withResourceUsage(() => runWorkers(setup, rawTasks(durationMs)));
    const tasks = results.map((r) => ({
      ...r,
      requestsPerSec: perSecond(r.requests, r.wallMs),
      itemsPerSec: perSecond(r.items, r.wallMs),
    }));
    const rate = (kind: RawTask['kind']): { requestsPerSec: number; itemsPerSec: number } =>
      tasks.find((t) => t.kind === kind) ?? { requestsPerSec: 0, itemsPerSec: 0 };
    const problems = tasks
      .filter((t) => t.errors > 0)
      .map((t) => `raw ${t.kind}: ${t.errors} error(s), e.g. ${t.firstError ?? ''}`);
    return {
      rates: {
        dynamoDbPutItemPerSec: rate('dynamodb-put').requestsPerSec,
        dynamoDbGetItemPerSec: rate('dynamodb-get').requestsPerSec,
        sqsRequestsPerSec: rate('sqs-send-receive-delete').requestsPerSec,
      },
      dynamoDbBatchWriteItemsPerSec: rate('dynamodb-batch-write').itemsPerSec,
      sqsMessagesPerSec: rate('sqs-send-receive-delete').itemsPerSec,
      tasks,
      resources: usage,
      problems,
    };
  } finally {
    // Nothing of the raw load stays behind to slow the levels that follow (dynalite keeps tables in memory).
    await stack.aws.dynamoDb.send(new DeleteTableCommand({ TableName: table }));
    await stack.aws.sqs.send(new DeleteQueueCommand({ QueueUrl }));
  }
}

/**
 * A bench-only queue on the stack's SQS server, addressed at the local endpoint as provision.ts addresses the
 * topology's (fauxqs answers with a regional-looking host that does not resolve).
 */
export async function createBenchQueue(stack: LocalStack, name: string): Promise<string> {
  const { QueueUrl = '' } = await stack.aws.sqs.send(new CreateQueueCommand({ QueueName: name }));
  return `${stack.aws.sqsEndpoint}${new URL(QueueUrl).pathname}`;
}

/** Threads generating the raw load: with one, the SDK's own CPU would cap the rate below the server's. */
export const rawWorkers = 2;

async function runWorkers(setup: Omit<RawSetup, 'workerIndex'>, tasks: RawTask[]): Promise<RawTaskResult[]> {
  const workers = await Promise.all(
    Array.from({ length: rawWorkers }, (_, workerIndex) => startWorker({ ...setup, workerIndex })),
  );
  try {
    const results: RawTaskResult[] = [];
    for (const task of tasks) {
      // Each worker takes its share of the task's concurrency; their counts add up.
      const share = { ...task, concurrency: Math.max(1, Math.round(task.concurrency / rawWorkers)) };
      const parts = await Promise.all(workers.map((w) => w.run(share)));
      results.push({
        ...task,
        requests: parts.reduce((sum, p) => sum + p.requests, 0),
        items: parts.reduce((sum, p) => sum + p.items, 0),
        errors: parts.reduce((sum, p) => sum + p.errors, 0),
        ...(parts.find((p) => p.firstError)
          ? { firstError: parts.find((p) => p.firstError)?.firstError }
          : {}),
        wallMs: Math.max(...parts.map((p) => p.wallMs)),
      });
    }
    return results;
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
}

interface RawWorker {
  run(task: RawTask): Promise<RawTaskResult>;
  stop(): Promise<void>;
}

function startWorker(setup: RawSetup): Promise<RawWorker> {
  const worker = new Worker(new URL('./raw-capacity-worker.ts', import.meta.url), {
    execArgv: workerExecArgv,
    workerData: setup,
    name: `bench-raw-capacity-${setup.workerIndex}`,
  });
  let failed: ((error: Error) => void) | undefined;
  worker.on('error', (error) => failed?.(error));
  const next = <T>(): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      failed = reject;
      worker.once('message', (message: T) => resolve(message));
    });
  return next<'ready'>().then(() => ({
    run: (task) => {
      const answer = next<RawTaskResult>();
      worker.postMessage(task);
      return answer;
    },
    async stop() {
      worker.postMessage('stop');
      await worker.terminate();
    },
  }));
}
