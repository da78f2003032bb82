import * as z from 'zod';
import { NoticeMessage } from '#messages/notice-message.ts';
import { RoutingMessage } from '#messages/routing-message.ts';
import type { QueueName } from '#system/names.ts';

/**
 * A queue a use case sends messages to (SQS in AWS and locally: shared/adapters/sqs/sqs-queue.ts), bound to the one
 * message it carries. Producers and the consumer share the message's schema, so a renamed or missing field is a
 * compile error at the producer, and a body that still does not parse is refused before it is sent.
 */

/** The message each queue carries: the producers' adapters validate with it, the consumer parses with it. */
export const queueMessages = {
  referrals: RoutingMessage,
  notifications: NoticeMessage,
} satisfies Record<QueueName, z.ZodType>;

export interface OutboundMessage<T> {
  /** Stable id of what the message stands for (a referral or delivery id). */
  id: string;
  body: T;
}

// Invariant (`in out`): a message shape that happens to contain another (a notice has a referralId, as a routing
// message does) must not let one queue be wired where the other is expected.
export interface Queue<in out T> {
  send(messages: Array<OutboundMessage<T>>): Promise<void>;
}

/** A producer built a body its queue's schema refuses: a bug in the producer, never the caller's fault. */
export class InvalidMessageError extends Error {
  override readonly name = 'InvalidMessageError';
}

/** Checks every body before any is sent, so a bad message fails its producer and never reaches the consumer. */
export function assertMessages<T>(schema: z.ZodType<T>, messages: ReadonlyArray<OutboundMessage<T>>): void {
  for (const message of messages) {
    const result = schema.safeParse(message.body);
    if (!result.success) {
      throw new InvalidMessageError(
        `message ${message.id} does not match its queue's schema: ${z.prettifyError(result.error)}`,
      );
    }
  }
}
