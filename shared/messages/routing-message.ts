import * as z from 'zod';

/**
 * A message on the `referrals` queue: route this referral. Intake sends it when a referral is accepted; an update
 * that adds needs after routing sends it again with the referral's version, so the router matches the new needs.
 */
export const RoutingMessage = z.strictObject({
  referralId: z.uuid(),
  /** Set when an update asks for added needs to be routed (absent: the first routing, version 1). */
  version: z.number().int().positive().optional(),
});
export type RoutingMessage = z.infer<typeof RoutingMessage>;

/** One routing per referral version: the router's idempotency key, and the queue id of an update's message. */
export function routingKey(message: RoutingMessage): string {
  return `${message.referralId}.v${message.version ?? 1}`;
}
