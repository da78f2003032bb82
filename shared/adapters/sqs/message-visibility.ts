import { ChangeMessageVisibilityCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { RedeliveryDelay } from '#delivery/ports.ts';

/**
 * Holds a received message back for a while: ChangeMessageVisibility on its receipt. The consumer then reports the
 * record failed, Lambda's event source leaves it on the queue (it never resets a failed record's visibility), and
 * SQS hands it out again once the new visibility ends; the receive count still moves it to the DLQ after
 * maxReceiveCount. The change is measured from now, at most 12 hours from the receive (SQS refuses more), and at
 * least 1 s: a visibility of 0 is valid in SQS, but the local emulator on disk then loses the message (found by the
 * torture suite), and no retry policy here wants an immediate redelivery.
 */
export class SqsMessageVisibility implements RedeliveryDelay {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async holdBack(receiptHandle: string, delaySeconds: number): Promise<void> {
    await this.client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.queueUrl,
        ReceiptHandle: receiptHandle,
        VisibilityTimeout: Math.max(1, Math.min(Math.round(delaySeconds), 43_200)),
      }),
    );
  }
}
