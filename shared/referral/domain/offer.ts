import type { InterventionCategory } from '#referral/domain/categories.ts';
import type { LifecycleRefusal, LifecycleTransition, OfferState } from '#referral/domain/lifecycle.ts';
import type { ContentLevel, PlannedDelivery, Referral } from '#referral/domain/referral.ts';
import type { ActedBy, ClosureRecord, ContactRecord, DeclineRecord } from '#referral/domain/case-work.ts';
import { buildDeliveryPayload, type DeliveryPayload } from '#delivery/domain/minimisation.ts';
import { deliveryIdFor } from '#matching/domain/routing.ts';

/**
 * An offer: one VCSE partner asked to take the referral on for one need (the lifecycle's `offer` entity). Kept as an
 * item of its own beside the referral, so a partner's answer never overwrites the referral's state and is
 * version-checked against the offer the partner saw.
 */
export interface Offer {
  referralId: string;
  offerId: string;
  state: OfferState;
  /** The offer's version: 1 when made; the referral's updates move it (lifecycle `update`). */
  version: number;
  partnerId: string;
  partnerName: string;
  serviceId: string;
  serviceName: string;
  category: InterventionCategory;
  /** What the partner may see: identifiable (with the patient's consent) or signposting only. */
  content: ContentLevel;
  /** The partner delivery that tells it (the notifier's delivery id). */
  deliveryId: string;
  offeredAt: string;
  updatedAt: string;
  /** When the partner must answer by: the service's response days, capped by the referral's respondBy. */
  deadline: string;
  nudgedAt?: string;
  /** The referral version the offer was last made or moved for (a practice's update moves it: lifecycle `update`). */
  referralVersion?: number;
  /** The offer this one follows: the declined (or expired) offer of the same need. */
  follows?: string;
  /** What the partner was shown when offered (minimisation.ts); the view is rebuilt from the referral when read. */
  view: DeliveryPayload;
  acceptance?: ActedBy;
  decline?: DeclineRecord;
  lastContactAttempt?: ContactRecord;
  firstContact?: ContactRecord;
  interventionStart?: ActedBy;
  closure?: ClosureRecord;
  withdrawal?: ActedBy & { reason: string };
}

/** Deterministic: the same need offered to the same service is the same offer, so a retry makes no second one. */
export const offerIdFor = (referralId: string, category: InterventionCategory, serviceId: string): string =>
  `${referralId}.offer.${category}.${serviceId}`;

/** An offer id as the API takes it: `<referral uuid>.offer.<category>.<service id>`. */
export const offerIdPattern =
  /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.offer\.[a-z-]{1,40}\.[a-z0-9]+(-[a-z0-9]+)*$/;

/** The referral an offer id names (the offer's item is in its partition). */
export function referralOfOffer(offerId: string): string | undefined {
  return offerIdPattern.exec(offerId)?.[1];
}

export interface OfferTerms {
  category: InterventionCategory;
  serviceId: string;
  serviceName: string;
  partnerId: string;
  partnerName: string;
  content: ContentLevel;
  offeredAt: string;
  deadline: string;
  follows?: string;
}

/** The partner delivery an offer is told through: one per partner and referral, as routing plans them. */
export function partnerDeliveryOf(referral: Referral, terms: OfferTerms): PlannedDelivery {
  return {
    deliveryId: deliveryIdFor(referral.referralId, 'partner', terms.partnerId),
    recipient: { kind: 'partner', id: terms.partnerId, name: terms.partnerName },
    categories: [terms.category],
    content: terms.content,
  };
}

/** What the partner of an offer sees of the referral now (consent checked again, as at every send). */
export function partnerView(referral: Referral, offer: Pick<Offer, keyof OfferTerms>): DeliveryPayload {
  return buildDeliveryPayload(
    referral,
    partnerDeliveryOf(referral, offer),
    referral.routing?.area ?? 'unknown',
  );
}

export function newOffer(referral: Referral, terms: OfferTerms): Offer {
  const delivery = partnerDeliveryOf(referral, terms);
  return {
    referralId: referral.referralId,
    offerId: offerIdFor(referral.referralId, terms.category, terms.serviceId),
    state: 'offered',
    version: 1,
    partnerId: terms.partnerId,
    partnerName: terms.partnerName,
    serviceId: terms.serviceId,
    serviceName: terms.serviceName,
    category: terms.category,
    content: terms.content,
    deliveryId: delivery.deliveryId,
    offeredAt: terms.offeredAt,
    updatedAt: terms.offeredAt,
    deadline: terms.deadline,
    referralVersion: referral.version,
    ...(terms.follows === undefined ? {} : { follows: terms.follows }),
    view: partnerView(referral, terms),
  };
}

/**
 * Why a store refused an offer transition's write, said from the offer as it stands after the refusal (shared by the
 * DynamoDB store and the in-memory fake, as refusalOf is for referrals). Another partner's offer reveals nothing.
 */
export function offerRefusalOf(
  offer: Offer | undefined,
  transition: LifecycleTransition<'offer'>,
  ownerId: string | undefined,
): LifecycleRefusal<'offer'> {
  const base = { ok: false as const, entity: 'offer' as const, event: transition.event };
  if (offer === undefined)
    return { ...base, reason: 'invalid', state: null, version: 0, message: 'offer does not exist' };
  if (transition.owner === 'partner' && offer.partnerId !== ownerId)
    return {
      ...base,
      reason: 'forbidden',
      state: null,
      version: 0,
      message: `${transition.role} may not ${transition.event} this offer`,
    };
  return {
    ...base,
    reason: 'stale',
    state: offer.state,
    version: offer.version,
    message: `offer changed: expected version ${transition.expectedVersion} (${transition.from ?? 'new'}), it is at version ${offer.version} (${offer.state})`,
  };
}
