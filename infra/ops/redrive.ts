import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/**
 * Replaying a dead-letter queue: moves every message from `<queue>-dlq` back to `<queue>`, where the consumer
 * (which is idempotent) processes it again. For a fixed cause: a partner's endpoint back up, a bug fixed.
 *
 * In AWS, SQS's own redrive (StartMessageMoveTask: redrive-aws.ts, which `npm run redrive` uses there) does the
 * same server-side; this is the same operation through the plain SQS API, for the local stack, whose SQS server
 * (fauxqs) has no move task. A message is deleted from the DLQ only after it is safely on the source queue, so a
 * crash part-way repeats a message, never loses one.
 */

export interface RedriveResult {
  moved: number;
}

export async function redrive(
  client: SQSClient,
  sourceQueueUrl: string,
  deadLetterQueueUrl: string,
  options: { maxMessages?: number; onProgress?: (moved: number) => void } = {},
): Promise<RedriveResult> {
  const limit = options.maxMessages ?? Number.POSITIVE_INFINITY;
  let moved = 0;
  while (moved < limit) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: deadLetterQueueUrl,
        MaxNumberOfMessages: Math.min(10, limit - moved),
        WaitTimeSeconds: 1,
        // Long enough to move a batch; if we crash, the messages reappear on the DLQ.
        VisibilityTimeout: 30,
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) break;
    const sent = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: sourceQueueUrl,
        Entries: Messages.map((m, i) => ({
          Id: String(i),
          MessageBody: m.Body ?? '',
          ...(m.MessageAttributes ? { MessageAttributes: m.MessageAttributes } : {}),
        })),
      }),
    );
    const sentIds = new Set((sent.Successful ?? []).map((s) => s.Id));
    const done = Messages.map((m, i) => ({ m, i })).filter(({ i }) => sentIds.has(String(i)));
    if (done.length > 0) {
      await client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: deadLetterQueueUrl,
          Entries: done.map(({ m, i }) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
    }
    moved += done.length;
    options.onProgress?.(moved);
    if (done.length < Messages.length) {
      throw new Error(
        `SQS refused ${Messages.length - done.length} message(s) on ${sourceQueueUrl}; they stay on the DLQ`,
      );
    }
  }
  return { moved };
}

/** Queue URLs by name, through the SDK (in AWS the stack's queue names carry a suffix: pass the full name). */
export async function queueUrlOf(client: SQSClient, name: string): Promise<string> {
  const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: name }));
  if (!QueueUrl) throw new Error(`No queue named ${name}`);
  return QueueUrl;
}

/**
 * How many messages a queue holds, visible or in flight (SQS's approximate counts): what a redrive would move, for
 * its dry run.
 */
export async function messageCount(
  client: SQSClient,
  queueUrl: string,
): Promise<{ visible: number; inFlight: number }> {
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(Attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}
