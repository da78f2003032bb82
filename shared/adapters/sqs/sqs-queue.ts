import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { DependencyUnavailableError } from '#kernel/errors.ts';
import type { OutboundMessage, Queue } from '#messages/queue.ts';

/** An SQS queue as a port: messages go in batches of ten; any entry SQS refuses fails the whole send. */
export class SqsQueue implements Queue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(messages: OutboundMessage[]): Promise<void> {
    for (let i = 0; i < messages.length; i += 10) {
      const batch = messages.slice(i, i + 10);
      const result = await this.client.send(
        new SendMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: batch.map((message, index) => ({
            // Batch entry ids allow only letters, digits, '-' and '_'.
            Id: `m${i + index}`,
            MessageBody: JSON.stringify(message.body),
          })),
        }),
      );
      if (result.Failed && result.Failed.length > 0) {
        const reasons = result.Failed.map((f) => `${f.Code ?? 'unknown'}: ${f.Message ?? ''}`).join('; ');
        throw new DependencyUnavailableError(`SQS refused ${result.Failed.length} message(s): ${reasons}`);
      }
    }
  }
}
