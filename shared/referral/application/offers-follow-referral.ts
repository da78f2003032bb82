import type { AuditLog } from '#audit/ports.ts';
import type { Clock } from '#kernel/clock.ts';
import { LifecycleConflictError } from '#kernel/errors.ts';
import type { MetricCounters } from '#reporting/ports.ts';
import { decide, isTerminal } from '#referral/domain/lifecycle.ts';
import type { Offer } from '#referral/domain/offer.ts';
import type { Referral } from '#referral/domain/referral.ts';
import type { OfferStore } from '#referral/ports.ts';

/**
 * A practice's update or cancellation reaches the referral's open offers (the lifecycle's offer `update` and `cancel`
 * by `system`): an update moves each offer's version, so a partner acting on details it has not read (a
 * safeguarding flag added) is refused as stale and reads them first; a cancellation withdraws them, without a second
 * stop notice (the cancellation already tells every holder). Safe to repeat: an offer remembers the referral version
 * it was last moved for, and a withdrawn one is final.
 */

export interface OffersFollowDeps {
  offers: OfferStore;
  audit: AuditLog;
  counters: MetricCounters;
  clock: Clock;
}

export async function offersFollowReferral(
  deps: OffersFollowDeps,
  referral: Referral,
  event: 'update' | 'cancel',
): Promise<void> {
  const open = (await deps.offers.ofReferral(referral.referralId)).filter(
    (o) => !isTerminal('offer', o.state),
  );
  await Promise.all(open.map((offer) => follow(deps, referral, offer, event)));
}

async function follow(
  deps: OffersFollowDeps,
  referral: Referral,
  offer: Offer,
  event: 'update' | 'cancel',
): Promise<void> {
  // Moved for this referral version already (a retry of the same update): nothing more.
  if (event === 'update' && (offer.referralVersion ?? 1) >= referral.version) return;
  const decision = decide(
    'offer',
    { state: offer.state, version: offer.version },
    event,
    'system',
    offer.version,
  );
  if (!decision.ok) return;
  const at = deps.clock.now().toISOString();
  try {
    if (decision.kind === 'apply')
      await deps.offers.apply(offer, decision.transition, {
        at,
        changes:
          event === 'update'
            ? { referralVersion: referral.version }
            : { withdrawal: { at, by: 'system', reason: 'the referrer cancelled the referral' } },
      });
  } catch (error) {
    // The partner answered meanwhile (or another update moved it): the offer has moved on without us.
    if (error instanceof LifecycleConflictError) return;
    throw error;
  }
  const step = event === 'update' ? `updated.v${referral.version}` : 'cancelled';
  await deps.audit.append({
    referralId: referral.referralId,
    eventKey: `offer.${offer.offerId}.${step}`,
    action: decision.transition.audit,
    actor: 'system:intake',
    at,
    detail: { offerId: offer.offerId, partnerId: offer.partnerId, referralVersion: referral.version },
  });
  if (decision.transition.counts.length > 0)
    await deps.counters.countOnce(
      decision.transition.counts.map((name) => ({
        name,
        dimensions: { partner: offer.partnerId, category: offer.category },
      })),
      at.slice(0, 10),
      offer.offerId,
    );
}
