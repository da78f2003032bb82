/** A queue a use case sends messages to (SQS in AWS and locally: shared/adapters/sqs/sqs-queue.ts). */

export interface OutboundMessage {
  /** Stable id of what the message stands for (a referral or delivery id). */
  id: string;
  body: unknown;
}

export interface Queue {
  send(messages: OutboundMessage[]): Promise<void>;
}
