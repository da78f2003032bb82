import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { z } from 'zod';
import { DependencyUnavailableError } from '#kernel/errors.ts';
import { assertMessages, type OutboundMessage, type Queue } from '#messages/queue.ts';

/**
 * An SQS queue as a port, bound to its message's schema: every body is checked before the first batch goes, so a bad
 * one sends nothing. Messages go in batches of ten; any entry SQS refuses fails the whole send.
 */
export class SqsQueue<T> implements Queue<T> {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    private readonly schema: z.ZodType<T>,
  ) {}

  async send(messages: Array<OutboundMessage<T>>): Promise<void> {
    assertMessages(this.schema, messages);
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
