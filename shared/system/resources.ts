/**
 * The system's stores and queues: each DynamoDB table (keys, expiry) and each SQS queue (its consumer, batch shape,
 * visibility, dead-letter threshold). Part of the ONE system description (shared/system/), pure data read by both
 * the CDK stack (infra/stack.ts) and the local runtime (infra/local/), so a table key or a queue setting cannot
 * differ between a laptop and AWS.
 */
import { functions, type FunctionName } from '#system/functions.ts';

export type TableName = 'referrals' | 'audit' | 'metrics' | 'directory' | 'idempotency';
export type QueueName = 'referrals' | 'notifications';

export interface TableSpec {
  /** Why the table exists, shown in docs and as the CloudFormation description. */
  purpose: string;
  partitionKey: string;
  sortKey?: string;
  /** Attribute holding an epoch-seconds expiry; DynamoDB deletes the item some time after it. */
  timeToLiveAttribute?: string;
  /** Global secondary indexes, created with the table (CDK and locally) from this one description. */
  indexes?: readonly IndexSpec[];
}

/**
 * A global secondary index. Both keys are strings. `projection` is what an index item carries besides the keys:
 * every attribute, or only the keys (a reader then fetches the item itself).
 */
export interface IndexSpec {
  name: string;
  purpose: string;
  partitionKey: string;
  sortKey?: string;
  projection: 'all' | 'keys-only';
}

export interface QueueSpec {
  purpose: string;
  /** The function that consumes the queue through an SQS event source. */
  consumer: FunctionName;
  batchSize: number;
  /** How long Lambda may wait to fill a batch; it adds to a message's time in flight. */
  maxBatchingWindowSeconds: number;
  /** Receives before a message is moved to the queue's dead-letter queue. */
  maxReceiveCount: number;
  /**
   * Lambda's guidance: at least six times the consumer's timeout plus the batching window, so a message still
   * being worked on is not received a second time.
   */
  visibilityTimeoutSeconds: number;
  /** Upper bound on concurrent consumer invocations, to protect partners and tables from a burst. */
  maxConcurrency: number;
  /** How long a message (and its dead letter) is kept. */
  retentionDays: number;
}

export const tables: Record<TableName, TableSpec> = {
  referrals: {
    purpose:
      'Each referral and what belongs to it, one partition per referral: the referral (status, routing, deliveries) ' +
      'at sk "referral"; responses and outcomes as items beside it.',
    partitionKey: 'referralId',
    // The sort key is there before anything but the referral item needs it: adding one later means a new table
    // and a copy of every referral (the key schema of a DynamoDB table cannot change). Item kinds are prefixes:
    // `referral` today, then e.g. `response#<at>#<id>`, `outcome#<at>#<id>` (shared/adapters/dynamodb/referral-store.ts).
    sortKey: 'sk',
    indexes: [
      {
        name: 'worklist',
        purpose:
          "A recipient's worklist, by status, newest first: Query recipientKey = 'team#<id>' or 'partner#<id>', " +
          "optionally begins_with(worklistSortKey, '<status>#'), ScanIndexForward false.",
        // Sparse: only items that set recipientKey are listed, so the referral item (which names several
        // recipients) stays out and a worklist entry is written when the item that lists it is.
        partitionKey: 'recipientKey',
        // `<status>#<listedAt ISO timestamp>`: one status's entries are contiguous and sort by time.
        sortKey: 'worklistSortKey',
        // A worklist page is then one Query with no GetItem per row. A projection cannot be changed without
        // rebuilding the index, so guessing a list of attributes now would be the migration this avoids; the
        // cost is only that listed items are written twice, and only listed items are.
        projection: 'all',
      },
    ],
  },
  audit: {
    purpose: 'Append-only record of who did what to which referral, one item per step (never updated).',
    partitionKey: 'referralId',
    sortKey: 'eventKey',
  },
  metrics: {
    purpose:
      'Exact daily counters by dimension; each counter remembers what it counted, so repeats add nothing.',
    partitionKey: 'metric',
    sortKey: 'day',
  },
  directory: {
    purpose:
      'Practices, PCNs, link-worker teams, VCSE partners, services and a coverage index by need and area.',
    partitionKey: 'pk',
    sortKey: 'sk',
  },
  idempotency: {
    purpose:
      'Powertools idempotency records: a retried request or redelivered message replays its first result.',
    partitionKey: 'id',
    timeToLiveAttribute: 'expiration',
  },
};

/**
 * Lambda's advice for an SQS event source: visibility timeout at least six times the function's timeout, plus the
 * batching window. It is also what a crash costs: a message in flight in a crashed or timed-out invocation waits
 * this long before it is received again.
 */
export const visibilityTimeoutFor = (consumer: FunctionName, maxBatchingWindowSeconds: number): number =>
  6 * functions[consumer].timeoutSeconds + maxBatchingWindowSeconds;

export const queues: Record<QueueName, QueueSpec> = {
  referrals: {
    purpose: 'Accepted referrals waiting to be routed.',
    consumer: 'router',
    batchSize: 10,
    maxBatchingWindowSeconds: 1,
    maxReceiveCount: 5,
    visibilityTimeoutSeconds: visibilityTimeoutFor('router', 1), // 61 s
    maxConcurrency: 10,
    retentionDays: 14,
  },
  notifications: {
    purpose: 'One message per (referral, recipient) delivery.',
    consumer: 'notifier',
    // A crashed or timed-out invocation strands its whole batch for the visibility timeout: 5 keeps that small,
    // and with maxConcurrency 10 still allows 50 POSTs at once, more than any partner needs.
    batchSize: 5,
    maxBatchingWindowSeconds: 1,
    maxReceiveCount: 6,
    visibilityTimeoutSeconds: visibilityTimeoutFor('notifier', 1), // 73 s
    maxConcurrency: 10,
    retentionDays: 14,
  },
};

export const tableNames = Object.keys(tables) as TableName[];
export const queueNames = Object.keys(queues) as QueueName[];
