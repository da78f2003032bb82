import type { LifecycleTransition } from '#referral/domain/lifecycle.ts';
import type {
  CancellationReason,
  clinicalContent,
  Referral,
  ReferralStatus,
  RoutingDecision,
} from '#referral/domain/referral.ts';

/**
 * A transition of the referral between statuses the referral model has today. The lifecycle has more (accepted,
 * declined, ...); the stored `status` takes them once the model does, and this type widens with it.
 */
export type ReferralTransition = LifecycleTransition<'referral'> & {
  from: ReferralStatus;
  to: ReferralStatus;
};

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
   * Records the routing decision and pending deliveries, only while the referral is still `received`.
   * Returns the referral as it now stands (with the decision recorded first, if another attempt won).
   */
  recordRouting(referralId: string, decision: RoutingDecision): Promise<Referral | undefined>;
  /**
   * Replaces the decision with an extended one (needs added by an update), adding pending deliveries for new
   * recipients; only while the referral is routed and still at `version`. Returns the referral as it now stands.
   */
  extendRouting(
    referralId: string,
    version: number,
    decision: RoutingDecision,
  ): Promise<Referral | undefined>;
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
   * Applies an update from the referring practice, only while the referral is open and only if the message is
   * newer than the last one applied; the version goes up by one. False if refused (the caller explains why).
   */
  amend(change: {
    referralId: string;
    practiceOds: string;
    content: ReturnType<typeof clinicalContent>;
    messageAt: string;
    at: string;
  }): Promise<boolean>;
  /** Cancels an open referral of the practice; false if it is not open (or not theirs). */
  cancel(change: {
    referralId: string;
    practiceOds: string;
    reason: CancellationReason;
    messageAt: string;
    at: string;
  }): Promise<boolean>;
  /**
   * Applies a transition `decide` (#referral/domain/lifecycle.ts) returned as `apply`, in ONE write conditional on
   * the referral being in `from` at `expectedVersion`, belonging to `ownerId` when the transition has an owner, and,
   * for the newer-message guard, on `messageAt` being newer than the last message applied. Sets `to`, `nextVersion`,
   * `updatedAt` (and `lastMessageAt`). Returns the referral as written; a refused write throws
   * LifecycleConflictError saying why (stale, not the owner's, or no such referral) and changes nothing.
   */
  apply(
    referralId: string,
    transition: ReferralTransition,
    context: { at: string; ownerId?: string; messageAt?: string },
  ): Promise<Referral>;
  /** Records that a recipient was told of a cancellation or update; false if it already was. */
  recordNotice(
    referralId: string,
    deliveryId: string,
    notice: { cancellationNoticeAt: string } | { updateNoticeVersion: number },
  ): Promise<boolean>;
}
