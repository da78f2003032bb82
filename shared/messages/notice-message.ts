import { z } from 'zod';

/** What a notice tells a recipient: the referral itself (`assigned`), an update to it, or its cancellation. */
export const NoticeKind = z.enum(['assigned', 'updated', 'cancelled']);
export type NoticeKind = z.infer<typeof NoticeKind>;

/** A message on the `notifications` queue: one notice about one delivery. */
export const NoticeMessage = z.strictObject({
  referralId: z.uuid(),
  deliveryId: z.string().min(1).max(200),
  // Delivery messages from before notices had kinds carry none, and may still be queued: they mean the first one.
  kind: NoticeKind.default('assigned'),
  /** For `updated`: the referral version the notice carries. */
  version: z.number().int().positive().optional(),
});
export type NoticeMessage = z.infer<typeof NoticeMessage>;

/** Stable per notice: the webhook-id recipients de-duplicate on, and the notifier's idempotency key. */
export function noticeId(message: NoticeMessage): string {
  if (message.kind === 'assigned') return message.deliveryId;
  if (message.kind === 'cancelled') return `${message.deliveryId}.cancelled`;
  return `${message.deliveryId}.updated.v${message.version ?? 0}`;
}
