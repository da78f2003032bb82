import type { AuditLog } from '#audit/ports.ts';
import type { MetricCounters } from '#reporting/ports.ts';
import { entryFor } from '#referral/domain/lifecycle.ts';
import { offerDeadline } from '#referral/domain/case-work.ts';
import { newOffer, type Offer, type OfferTerms } from '#referral/domain/offer.ts';
import type { Referral, ServiceMatch } from '#referral/domain/referral.ts';
import type { OfferStore, ServiceTerms } from '#referral/ports.ts';

/**
 * Making an offer (the lifecycle's offer creation: `(new) -> offered`), safe to repeat: the offer's id is fixed by
 * its referral, need and service, the item is created only where none exists, and its audit entry and count are
 * keyed by that id, so the router's redelivery or a retried decline makes, audits and counts nothing twice.
 */

export interface MakeOfferDeps {
  offers: OfferStore;
  services: ServiceTerms;
  audit: AuditLog;
  counters: MetricCounters;
}

/** When a service's response time is not known (a service gone from the directory): the directory's default. */
const defaultResponseDays = 5;

/** The terms of offering `match`'s need to its service, made at `offeredAt`. */
export async function offerTermsFor(
  deps: Pick<MakeOfferDeps, 'services'>,
  referral: Referral,
  match: Pick<
    ServiceMatch,
    'category' | 'serviceId' | 'serviceName' | 'partnerId' | 'partnerName' | 'content'
  >,
  offeredAt: string,
  follows?: string,
): Promise<OfferTerms> {
  const responseDays = (await deps.services.responseDays(match.serviceId)) ?? defaultResponseDays;
  return {
    category: match.category,
    serviceId: match.serviceId,
    serviceName: match.serviceName,
    partnerId: match.partnerId,
    partnerName: match.partnerName,
    content: match.content,
    offeredAt,
    deadline: offerDeadline(offeredAt, responseDays, referral.respondBy),
    ...(follows === undefined ? {} : { follows }),
  };
}

/** Creates the offer unless it exists, then audits and counts it (once per offer); returns it as stored. */
export async function makeOffer(
  deps: MakeOfferDeps,
  referral: Referral,
  terms: OfferTerms,
  actor: string,
): Promise<Offer> {
  const made = newOffer(referral, terms);
  const created = await deps.offers.create(made);
  const offer = created ? made : ((await deps.offers.get(made.referralId, made.offerId)) ?? made);
  const entry = entryFor('offer', null, 'offer');
  if (!entry) throw new Error('lifecycle: no offer creation entry');
  await deps.audit.append({
    referralId: offer.referralId,
    eventKey: `offer.${offer.offerId}.made`,
    action: entry.audit,
    actor,
    at: offer.offeredAt,
    detail: {
      offerId: offer.offerId,
      partnerId: offer.partnerId,
      serviceId: offer.serviceId,
      category: offer.category,
      content: offer.content,
      deadline: offer.deadline,
      ...(offer.follows ? { follows: offer.follows } : {}),
    },
  });
  await deps.counters.countOnce(
    entry.counts.map((name) => ({
      name,
      dimensions: { partner: offer.partnerId, category: offer.category },
    })),
    offer.offeredAt.slice(0, 10),
    offer.offerId,
  );
  return offer;
}

/** The router's offers: one per need matched, to the matched service, made when the decision was. */
export async function offerMatches(deps: MakeOfferDeps, referral: Referral): Promise<Offer[]> {
  const decision = referral.routing;
  if (!decision) return [];
  return Promise.all(
    decision.matches.map(async (match) =>
      makeOffer(
        deps,
        referral,
        await offerTermsFor(deps, referral, match, decision.decidedAt),
        'system:router',
      ),
    ),
  );
}
