/**
 * The system's SQS queues: each one's consumer, batch shape, visibility and dead-letter threshold, fitted to the
 * consumer's timeout. Part of the ONE system description (shared/system/).
 */
import { functions } from '#system/functions.ts';
import type { FunctionName, QueueName } from '#system/names.ts';

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
  /**
   * A consumer that holds a failed record back itself (ChangeMessageVisibility on its receipt) for an exponential
   * backoff with full jitter (shared/delivery/domain/retry-policy.ts), instead of the fixed visibility timeout:
   * up to `baseSeconds` for the first retry, doubling to at most `capSeconds`. The consumer gets the queue's URL.
   * Lambda's SQS event source already grants it ChangeMessageVisibility on the queue it consumes.
   */
  retryBackoff?: { baseSeconds: number; capSeconds: number };
}

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
    // Up to 1, 2, 4, 8 then 15 minutes: a recipient that stays down is tried for up to ~31 minutes (~15 on
    // average, the jitter being uniform) over the 6 receives before the notice dead-letters (alarmed, replayable).
    retryBackoff: { baseSeconds: 60, capSeconds: 900 },
  },
};

export const queueNames = Object.keys(queues) as QueueName[];
