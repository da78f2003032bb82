import type { Offer } from '#referral/domain/offer.ts';
import { responseFigure } from '#reporting/domain/response-figures.ts';
import { responseHours } from '#reporting/domain/response-record.ts';
import type { Figures, PartnerAnswer, PartnerResponses } from '#reporting/ports.ts';

/**
 * Counts a partner's answer to its offer for the response record, once per offer: called where the accept or
 * decline step is finished (case-work.ts) and where an expiry is recorded (offer-deadlines.ts), after the step's
 * write, so a step retried after a crash counts it then, and a repeat adds nothing (PartnerResponses.recordOnce).
 * The same answer is the observatory's `responses` figure (#reporting/domain/response-figures.ts), counted once per
 * offer id too.
 *
 * `at` is the step's time as recorded on the offer, so a retry names the same day. Optional `responses`: only the
 * partner's answer routes and the deadline job are wired with it.
 */
export async function recordPartnerAnswer(
  responses: PartnerResponses | undefined,
  offer: Offer,
  outcome: 'accepted' | 'declined' | 'expired',
  at: string,
  figures?: Figures,
): Promise<void> {
  const base = { partnerId: offer.partnerId, offerId: offer.offerId, at };
  const hours = responseHours(offer.offeredAt, at);
  const answer: PartnerAnswer =
    outcome === 'expired'
      ? { ...base, outcome }
      : outcome === 'accepted'
        ? { ...base, outcome, responseHours: hours }
        : { ...base, outcome, reason: offer.decline?.reason ?? 'other', responseHours: hours };
  await Promise.all([
    responses?.recordOnce(answer),
    figures?.recordOnce([responseFigure({ ...answer, category: offer.category })], offer.offerId),
  ]);
}
