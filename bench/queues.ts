import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { performance } from 'node:perf_hooks';
import type { LocalStack } from '../infra/local/local-stack.ts';
import { sleep } from './load.ts';

/**
 * Queue depths on the local SQS server. Scenarios wait here until the pipeline is idle, so the routing and
 * delivery of one scenario's referrals does not eat into the CPU of the next scenario's measurement.
 */

export interface QueueDepth {
  queue: string;
  visible: number;
  inFlight: number;
  delayed: number;
  deadLetters: number;
}

export async function queueDepths(stack: LocalStack, sqs: SQSClient): Promise<QueueDepth[]> {
  return Promise.all(
    Object.entries(stack.aws.queues).map(async ([queue, urls]) => {
      const main = await attributes(sqs, urls.url);
      const dead = await attributes(sqs, urls.deadLetterUrl);
      return {
        queue,
        visible: main.ApproximateNumberOfMessages,
        inFlight: main.ApproximateNumberOfMessagesNotVisible,
        delayed: main.ApproximateNumberOfMessagesDelayed,
        deadLetters: dead.ApproximateNumberOfMessages + dead.ApproximateNumberOfMessagesNotVisible,
      };
    }),
  );
}

type Counts = Record<
  | 'ApproximateNumberOfMessages'
  | 'ApproximateNumberOfMessagesNotVisible'
  | 'ApproximateNumberOfMessagesDelayed',
  number
>;

async function attributes(sqs: SQSClient, queueUrl: string): Promise<Counts> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  const count = (name: keyof Counts): number => Number(Attributes[name] ?? 0);
  return {
    ApproximateNumberOfMessages: count('ApproximateNumberOfMessages'),
    ApproximateNumberOfMessagesNotVisible: count('ApproximateNumberOfMessagesNotVisible'),
    ApproximateNumberOfMessagesDelayed: count('ApproximateNumberOfMessagesDelayed'),
  };
}

export const pending = (depths: readonly QueueDepth[]): number =>
  depths.reduce((sum, d) => sum + d.visible + d.inFlight + d.delayed, 0);

export interface DrainOutcome {
  drained: boolean;
  drainMs: number;
  depths: QueueDepth[];
}

/** Waits until no message is waiting, in flight or delayed on any queue (dead letters aside), or the cap passes. */
export async function waitForIdleQueues(
  stack: LocalStack,
  sqs: SQSClient,
  capMs: number,
): Promise<DrainOutcome> {
  const started = performance.now();
  for (;;) {
    const depths = await queueDepths(stack, sqs);
    const drainMs = performance.now() - started;
    if (pending(depths) === 0) return { drained: true, drainMs, depths };
    if (drainMs > capMs) return { drained: false, drainMs, depths };
    await sleep(100);
  }
}

export function describeDepths(depths: readonly QueueDepth[]): string {
  return depths
    .map(
      (d) =>
        `${d.queue}: ${d.visible} waiting, ${d.inFlight} in flight, ${d.delayed} delayed, ${d.deadLetters} in DLQ`,
    )
    .join('; ');
}
