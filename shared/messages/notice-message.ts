import * as z from 'zod';

/**
 * What a notice tells a recipient: the referral itself (`assigned`), an update to it, or its cancellation; and from
 * the offers' lifecycle (shared/referral/domain/lifecycle.ts): a partner's `reminder` to answer, an offer
 * `withdrawn` from its partner, an `offer-expired` (told to the team: its partner never answered), an
 * `offer-declined` or `offer-closed` by its partner, a `need-returned` to the link worker (no fitting service left).
 */
export const NoticeKind = z.enum([
  'assigned',
  'updated',
  'cancelled',
  'reminder',
  'withdrawn',
  'offer-expired',
  // Case work (shared/referral/application/case-work.ts), told to the team: a partner declined or closed its offer,
  // or a declined need has no fitting service left and is the link worker's again.
  'offer-declined',
  'offer-closed',
  'need-returned',
  // To a partner that already holds the referral for another need: a new offer to it (a re-offer, a hand re-route).
  'offered',
  // The message back to the referring practice (a BaRS servicerequest-response) about the lifecycle `event` it
  // answers; its delivery id is the practice's (practiceDeliveryId), not one of the routing's planned deliveries.
  'practice-response',
]);
export type NoticeKind = z.infer<typeof NoticeKind>;

/**
 * The lifecycle notices to the practice (#referral/domain/lifecycle.ts, audience `practice`), the same list as
 * #fhir/outbound/servicerequest-response.ts `practiceResponseKinds` (a unit test holds them equal; not imported from
 * there, which would tie the queue's schema to the FHIR builder).
 */
export const PracticeResponseEvent = z.enum([
  'accepted',
  'seen',
  'declined',
  'intervention-started',
  'closed',
]);
export type PracticeResponseEvent = z.infer<typeof PracticeResponseEvent>;

/** The delivery id of a referral's messages back to its practice (one practice per referral). */
export const practiceDeliveryId = (referralId: string): string => `practice.${referralId}`;

/** A message on the `notifications` queue: one notice about one delivery. */
export const NoticeMessage = z.strictObject({
  referralId: z.uuid(),
  deliveryId: z.string().min(1).max(200),
  // Delivery messages from before notices had kinds carry none, and may still be queued: they mean the first one.
  kind: NoticeKind.default('assigned'),
  /** For `updated`: the referral version the notice carries. */
  version: z.number().int().positive().optional(),
  /** For the offers' notices: which offer it is about (a team hears of each of its referral's offers). */
  offerId: z.string().min(1).max(300).optional(),
  /** For `practice-response`: the lifecycle event the message back to the practice reports. */
  event: PracticeResponseEvent.optional(),
});
export type NoticeMessage = z.infer<typeof NoticeMessage>;

/** Stable per notice: the webhook-id recipients de-duplicate on, and the notifier's idempotency key. */
export function noticeId(message: NoticeMessage): string {
  if (message.kind === 'assigned') return message.deliveryId;
  if (message.kind === 'cancelled') return `${message.deliveryId}.cancelled`;
  if (message.kind === 'updated') return `${message.deliveryId}.updated.v${message.version ?? 0}`;
  // One per referral and event (practice.<referralId>.<event>): the message's webhook-id (practiceResponseFor).
  if (message.kind === 'practice-response') return `${message.deliveryId}.${message.event ?? 'unknown'}`;
  // One of each per offer: an offer is reminded once, withdrawn once, expires once.
  return `${message.deliveryId}.${message.kind}.${message.offerId ?? 'referral'}`;
}
