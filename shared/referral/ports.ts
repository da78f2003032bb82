import type { ReferralTransition } from '#referral/domain/transition-refusal.ts';
import type {
  AmendableField,
  DeliveryState,
  PracticeMessageState,
  Referral,
} from '#referral/domain/referral.ts';
import type { LifecycleTransition, OfferState, ReferralState } from '#referral/domain/lifecycle.ts';
import type { Offer } from '#referral/domain/offer.ts';
import type { CaseWork } from '#referral/domain/case-work.ts';

export type { ReferralTransition };

/** A delivery's delivered mark: when, how (its channel), and for a webhook the HTTP status it was answered with. */
export interface DeliveredState {
  status: 'delivered';
  deliveredAt: string;
  /** Absent in marks written before channels had kinds (all webhooks). */
  channel?: 'webhook' | 'email' | 'worklist';
  responseStatus?: number;
}

/**
 * What a transition writes besides state, version, `updatedAt` and `lastMessageAt`, in the same conditional write:
 * a cancellation's reason and time, an update's content, a routing's decision and pending delivery states. Each
 * field named is replaced; one named as undefined is removed (an update drops what the sender left out).
 */
export type TransitionChanges = {
  [K in 'cancellation' | 'routing' | 'deliveryStatus' | AmendableField | keyof CaseWork]?:
    Referral[K] | undefined;
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
  /**
   * When the referral was received: its team worklist entry sorts by `<status>#<receivedAt>`, so the store rewrites
   * the sort key with the new status (use cases pass it; transitionReferral does for every step).
   */
  listedAt?: string;
  /**
   * For a change of `routing` made on a recorded decision: the decision's revision it was made on (absent is 0). The
   * write is conditional on the stored decision still being at it, and the new decision carries revision + 1.
   */
  routingRevision?: number;
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
   * Claims the delivery for one attempt: records that a POST of it is about to go out (`sending`, `attemptedAt`, one
   * more attempt), only while the delivery is planned, neither delivered nor failed for good, not claimed by another
   * attempt since `claimsLapseBefore` (a `sending` mark older than that is an attempt that crashed or timed out:
   * no invocation outlives the notifier's timeout), and the referral is not cancelled. One conditional write that
   * also returns the referral as it now stands (so the sender needs no read of its own); undefined if refused. The
   * claim is what stops two receipts of one message from both POSTing it.
   */
  markSending(
    referralId: string,
    deliveryId: string,
    attemptedAt: string,
    claimsLapseBefore: string,
  ): Promise<Referral | undefined>;
  /**
   * Records that the recipient accepted the delivery, unless it already was; returns the referral as it now stands
   * (a cancellation that raced the POST shows in it), undefined if it was already delivered (a repeat).
   */
  markDelivered(referralId: string, deliveryId: string, state: DeliveredState): Promise<Referral | undefined>;
  /** Records a failed attempt (`retrying`, with the reason), only while the delivery is still `sending`. */
  markAttemptFailed(referralId: string, deliveryId: string, reason: string): Promise<boolean>;
  /**
   * Records that the recipient refused the delivery for good (`failed`, the reason, `failedAt`), only while it is
   * still `sending`; false otherwise (a repeat). A failed delivery is never sent again (markSending refuses it).
   */
  markFailed(
    referralId: string,
    deliveryId: string,
    failure: { reason: string; failedAt: string },
  ): Promise<boolean>;
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
  /**
   * Records what became of the message back to the practice about `event` (delivered, failed, not sent), only if
   * none is recorded for that event yet (the first stands); false if one was, or there is no such referral.
   */
  recordPracticeMessage(referralId: string, event: string, state: PracticeMessageState): Promise<boolean>;
  /** Records that a recipient was told of a cancellation or update; false if it already was. */
  recordNotice(
    referralId: string,
    deliveryId: string,
    notice: { cancellationNoticeAt: string } | { updateNoticeVersion: number },
  ): Promise<boolean>;
}

/** The changes an offer's transition writes with it; each field named is replaced. */
export type OfferChanges = Partial<
  Pick<
    Offer,
    | 'acceptance'
    | 'decline'
    | 'lastContactAttempt'
    | 'firstContact'
    | 'interventionStart'
    | 'closure'
    | 'withdrawal'
    | 'nudgedAt'
    | 'referralVersion'
    // The reminder's new deadline: the offer's deadline index follows it (shared/adapters/dynamodb/offer-store.ts).
    | 'deadline'
  >
>;

/**
 * Offers, each an item beside its referral (sk `offer#<offerId>`), listed on its partner's worklist. The DynamoDB
 * adapter (shared/adapters/dynamodb/offer-store.ts) and the in-memory fake meet the same contract
 * (test/contract/offer-store.contract.ts).
 */
export interface OfferStore {
  /** Stores a new offer; false if that offer exists (a retry adds nothing, and nothing is overwritten). */
  create(offer: Offer): Promise<boolean>;
  get(referralId: string, offerId: string): Promise<Offer | undefined>;
  /** Every offer of a referral, oldest first (one Query of its partition). */
  ofReferral(referralId: string): Promise<Offer[]>;
  /**
   * Applies an offer transition `decide` returned as `apply`, in ONE write conditional on the offer being in `from` at
   * `expectedVersion` and, for a partner's transition, being that partner's. Moves the worklist sort key with the
   * state. Returns the offer as written; a refused write throws LifecycleConflictError and changes nothing.
   */
  apply(
    offer: Pick<Offer, 'referralId' | 'offerId' | 'offeredAt'>,
    transition: LifecycleTransition<'offer'>,
    context: { at: string; ownerId?: string; changes?: OfferChanges },
  ): Promise<Offer>;
}

/** One page of a worklist, newest first; `cursor` (opaque) is there when more follow. */
export interface WorklistPage<T> {
  items: T[];
  cursor?: string;
}

export interface WorklistQuery<S extends string> {
  status?: S;
  limit: number;
  cursor?: string;
}

/**
 * Recipients' worklists, read from the `worklist` index (never a scan): a team's referrals, a partner's offers. A
 * cursor that is not one this worklist gave (garbled, or another recipient's) is refused with ValidationError.
 */
export interface Worklists {
  teamReferrals(teamId: string, query: WorklistQuery<ReferralState>): Promise<WorklistPage<Referral>>;
  partnerOffers(partnerId: string, query: WorklistQuery<OfferState>): Promise<WorklistPage<Offer>>;
}

/** What an offer needs to know of a service from the directory: how many working days its partner takes to answer. */
export interface ServiceTerms {
  responseDays(serviceId: string): Promise<number | undefined>;
}

/** Which offer an entry of the deadline index names. */
export interface OfferKey {
  referralId: string;
  offerId: string;
}

/**
 * Offers waiting for their partner's answer whose deadline has passed, read from the `deadlines` index (never a
 * scan), most overdue first. The index is eventually consistent and holds only keys: the deadline job reads each
 * offer before acting, and its conditional write is what decides.
 */
export interface OfferDeadlines {
  due(now: string, limit: number): Promise<OfferKey[]>;
  /**
   * Offers whose deadline step (a reminder, an expiry) is written but not yet followed up (its audit entry, count,
   * notices and, for an expiry, the next match): a run stopped between the two. Oldest first.
   */
  awaitingFollowUp(limit: number): Promise<Array<OfferKey & { step: DeadlineStep }>>;
  /**
   * The step's follow-up is done: a reminded offer is waiting for its partner again (by its new deadline), an
   * expired one leaves the index. Only from that step's pending state: a repeat, or an offer answered meanwhile,
   * changes nothing.
   */
  followedUp(key: OfferKey, step: DeadlineStep): Promise<void>;
}

/** The deadline job's two steps, each written first and then followed up. */
export type DeadlineStep = 'reminded' | 'expired';
