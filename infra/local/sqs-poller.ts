import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { queues } from '#system/queues.ts';
import { type QueueName } from '#system/names.ts';
import type { FaultInjector } from './fault-injector.ts';
import { invokeWithTimeout } from './lambda-context.ts';

/**
 * Lambda's SQS event source, run locally: receive up to batchSize messages, invoke the consumer with an SQSEvent,
 * delete the records it did not report in batchItemFailures, and leave the rest to reappear after the visibility
 * timeout. A thrown error or a timeout fails the whole batch, as in Lambda. The queue's redrive policy (enforced
 * by the SQS server) moves a message to the DLQ after maxReceiveCount receives.
 *
 * Like Lambda, it never touches a failed record's visibility: a consumer that holds a record back for a backoff
 * (the notifier's ChangeMessageVisibility on the record's `receiptHandle`) decides when SQS hands it out again. So
 * each record carries the real receipt handle, and its real ApproximateReceiveCount, which the backoff grows with.
 */

export type SqsConsumer = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;
/** Invokes the consumer function with a batch, with its Lambda context and timeout (lambda-context.ts `Invoke`). */
export type SqsInvoke = (event: SQSEvent) => Promise<SQSBatchResponse | void>;

export interface PollerOptions {
  client: SQSClient;
  queue: QueueName;
  queueUrl: string;
  /** The consumer function in this process, or `invoke` to reach it wherever it runs (a worker). */
  consumer?: SqsConsumer;
  invoke?: SqsInvoke;
  /** Parallel poll loops (Lambda scales pollers; two is plenty on one machine). */
  concurrency?: number;
  log?: (line: string) => void;
  /** The torture suite's faults (fault-injector.ts): each batch handed over twice, shuffled, some held back. */
  faults?: FaultInjector;
}

export interface Poller {
  stop(): Promise<void>;
}

export function startPoller(options: PollerOptions): Poller {
  const spec = queues[options.queue];
  const abort = new AbortController();
  const loops = Array.from({ length: Math.min(options.concurrency ?? 2, spec.maxConcurrency) }, () =>
    pollLoop(options, abort.signal),
  );
  return {
    async stop() {
      abort.abort();
      await Promise.allSettled(loops);
    },
  };
}

async function pollLoop(options: PollerOptions, signal: AbortSignal): Promise<void> {
  const spec = queues[options.queue];
  const { consumer } = options;
  const invoke: SqsInvoke =
    options.invoke ??
    ((event) => {
      if (!consumer) throw new Error(`poller ${options.queue}: neither consumer nor invoke given`);
      return invokeWithTimeout(spec.consumer, (context) => consumer(event, context));
    });
  while (!signal.aborted) {
    let messages: Message[];
    try {
      const received = await options.client.send(
        new ReceiveMessageCommand({
          QueueUrl: options.queueUrl,
          MaxNumberOfMessages: Math.min(spec.batchSize, 10),
          WaitTimeSeconds: 2,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
        { abortSignal: signal },
      );
      messages = received.Messages ?? [];
    } catch (error) {
      if (signal.aborted) return;
      options.log?.(`poller ${options.queue}: receive failed (${String(error)}); retrying`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      continue;
    }
    if (messages.length === 0) continue;

    let failedIds: Set<string>;
    if (options.faults) {
      failedIds = await invokeWithFaults(options, invoke, messages, options.faults);
    } else {
      const event: SQSEvent = { Records: messages.map((m) => toRecord(m, options.queue)) };
      try {
        const response = await invoke(event);
        failedIds = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      } catch (error) {
        options.log?.(`${spec.consumer}: batch of ${messages.length} failed (${String(error)})`);
        continue;
      }
    }
    const done = messages.filter((m) => !failedIds.has(m.MessageId ?? ''));
    if (failedIds.size > 0) {
      options.log?.(
        `${spec.consumer}: ${failedIds.size} of ${messages.length} record(s) failed; SQS will redeliver`,
      );
    }
    if (done.length > 0) {
      await options.client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: options.queueUrl,
          Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
    }
  }
}

/**
 * One batch as the fault injector plans it: several invocations (the same messages, each its own order and delay)
 * at once. A message is done, and deleted, if any invocation processed it, as when two consumers got it from SQS
 * and one deleted it; one that no invocation processed (or that none was given) is left to reappear.
 */
async function invokeWithFaults(
  options: PollerOptions,
  invoke: SqsInvoke,
  messages: Message[],
  faults: FaultInjector,
): Promise<Set<string>> {
  const plan = faults.sqsDelivery(options.queue, messages);
  const once = async (batch: Message[], delayMs: number): Promise<Set<string>> => {
    if (batch.length === 0) return new Set<string>();
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    try {
      const response = await invoke({ Records: batch.map((m) => toRecord(m, options.queue)) });
      return new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    } catch (error) {
      options.log?.(`${queues[options.queue].consumer}: batch of ${batch.length} failed (${String(error)})`);
      return new Set(batch.map((m) => m.MessageId ?? ''));
    }
  };
  const started: Array<Promise<Set<string>>> = [];
  for (const { messages: batch, delayMs, afterPrevious } of plan.invocations) {
    const previous = afterPrevious ? started.at(-1) : undefined;
    started.push(previous ? previous.then(() => once(batch, delayMs)) : once(batch, delayMs));
  }
  const outcomes = await Promise.all(started);
  faults.recordReceipt(options.queue, messages, plan, outcomes);
  const processed = new Set(
    plan.invocations.flatMap(({ messages: batch }, i) =>
      batch.map((m) => m.MessageId ?? '').filter((id) => !outcomes[i]?.has(id)),
    ),
  );
  // A poison message (given to no invocation) is returned within a second, so it reaches the dead-letter queue in
  // seconds rather than after maxReceiveCount visibility timeouts. Not 0: fauxqs on disk loses a message whose
  // visibility is set to 0 (it answers MessageNotInflight to the next change and never hands it out again).
  const given = new Set(plan.invocations.flatMap(({ messages: batch }) => batch));
  const poisoned = messages.filter((m) => !given.has(m));
  if (poisoned.length > 0)
    await options.client
      .send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: options.queueUrl,
          Entries: poisoned.map((m, i) => ({
            Id: String(i),
            ReceiptHandle: m.ReceiptHandle,
            VisibilityTimeout: 1,
          })),
        }),
      )
      .catch(() => undefined);
  return new Set(messages.map((m) => m.MessageId ?? '').filter((id) => !processed.has(id)));
}

/** An SQS message as Lambda's event source hands it to the function. */
export function toRecord(message: Message, queue: QueueName): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:eu-west-2:000000000000:${queue}`,
    awsRegion: 'eu-west-2',
  };
}
