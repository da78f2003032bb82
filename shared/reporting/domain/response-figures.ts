import type { DeclineReason } from '#referral/domain/lifecycle.ts';
import { notApplicable, type Figure } from '#reporting/domain/figures.ts';
import { bandOf } from '#reporting/domain/response-record.ts';

/**
 * The `responses` figure of one partner answer to one offer (accepted, declined with its coded reason, or left to
 * expire), on the day of the answer as recorded on the offer, so a retry names the same day and cell. The band is
 * the response-time band of #reporting/domain/response-record.ts (`-` for an expiry: nobody answered). The offer's
 * id is the unit. The shape is a partner answer's (#reporting/ports.ts PartnerAnswer) with the offer's category.
 */
export type AnswerOfOffer = { partnerId: string; at: string; category: string } & (
  | { outcome: 'accepted'; responseHours: number }
  | { outcome: 'declined'; reason: DeclineReason; responseHours: number }
  | { outcome: 'expired' }
);

export function responseFigure(answer: AnswerOfOffer): Figure<'responses'> {
  return {
    family: 'responses',
    day: answer.at.slice(0, 10),
    dimensions: {
      partner: answer.partnerId,
      category: answer.category,
      outcome: answer.outcome,
      reason: answer.outcome === 'declined' ? answer.reason : notApplicable,
      band: answer.outcome === 'expired' ? notApplicable : bandOf(answer.responseHours),
    },
  };
}
