import type { ReferralTransition } from '#referral/domain/transition-refusal.ts';
import type { AmendableField, DeliveryState, Referral } from '#referral/domain/referral.ts';

export type { ReferralTransition };

/**
 * What a transition writes besides state, version, `updatedAt` and `lastMessageAt`, in the same conditional write:
 * a cancellation's reason and time, an update's content, a routing's decision and pending delivery states. Each
 * field named is replaced; one named as undefined is removed (an update drops what the sender left out).
 */
export type TransitionChanges = {
  [K in 'cancellation' | 'routing' | 'deliveryStatus' | AmendableField]?: Referral[K] | undefined;
} & {
  /**
   * Delivery states added to `deliveryStatus` one by one, each only where that delivery has none yet (a re-route's
   * new recipients). Not a replacement of the map: the notifier marks deliveries `sending`/`delivered` without
   * moving the version, so a whole-map write conditional on the version could still undo such a mark, and a
   * repeated re-route must not reset a delivery already under way. Not combined with `deliveryStatus`.
   */
  addedDeliveries?: Record<string, DeliveryState>;
};

/** The facts of one `apply`: when, whose, which message, and what else it writes. */
export interface TransitionContext {
  at: string;
  /** The caller's organisation, which the write's condition ties to the transition's owner. */
  ownerId?: string;
  /** The sender's message time: recorded as `lastMessageAt`, and the newer-message guard's condition. */
  messageAt?: string;
  /** Which message it is (BaRS: its X-Request-ID): recorded as `lastMessageId`, so a retry knows itself. */
  messageId?: string;
  changes?: TransitionChanges;
}

/**
 * Where referrals are kept: the port the referral, matching and delivery use cases work through. The DynamoDB
 * adapter (shared/adapters/dynamodb/referral-store.ts) implements it with conditional writes; unit tests use an
 * in-memory fake (test/unit/fakes.ts).
 */

export interface ReferralStore {
  /** Stores a new referral; false if one with that id already exists (nothing is overwritten). */
  create(referral: Referral): Promise<boolean>;
  get(referralId: string): Promise<Referral | undefined>;
  /**
   * Records that a POST of the delivery is about to go out (`sending`, `attemptedAt`, one more attempt), only while
   * the delivery is planned and not delivered and the referral is not cancelled. One conditional write that also
   * returns the referral as it now stands (so the sender needs no read of its own); undefined if refused.
   */
  markSending(referralId: string, deliveryId: string, attemptedAt: string): Promise<Referral | undefined>;
  /**
   * Records that the recipient accepted the delivery, unless it already was; returns the referral as it now stands
   * (a cancellation that raced the POST shows in it), undefined if it was already delivered (a repeat).
   */
  markDelivered(
    referralId: string,
    deliveryId: string,
    state: { status: 'delivered'; deliveredAt: string; responseStatus: number },
  ): Promise<Referral | undefined>;
  /** Records a failed attempt (`retrying`, with the reason), only while the delivery is still `sending`. */
  markAttemptFailed(referralId: string, deliveryId: string, reason: string): Promise<boolean>;
  /** Withdraws a referral that was never acknowledged (enqueue failed), so a retry starts clean. */
  deleteUnacknowledged(referralId: string): Promise<void>;
  /**
   * Applies a transition `decide` (#referral/domain/lifecycle.ts) returned as `apply`, in ONE write conditional on
   * the referral being in `from` at `expectedVersion`, belonging to `ownerId` when the transition has an owner, and,
   * for the newer-message guard, on `messageAt` being newer than the last message applied. Sets `to`, `nextVersion`,
   * `updatedAt`, `lastMessageAt` (when `messageAt` is given) and the `changes`. Returns the referral as written; a
   * refused write throws LifecycleConflictError saying why (stale, not the owner's, or no such referral) and changes
   * nothing.
   */
  apply(referralId: string, transition: ReferralTransition, context: TransitionContext): Promise<Referral>;
  /** Records that a recipient was told of a cancellation or update; false if it already was. */
  recordNotice(
    referralId: string,
    deliveryId: string,
    notice: { cancellationNoticeAt: string } | { updateNoticeVersion: number },
  ): Promise<boolean>;
}
