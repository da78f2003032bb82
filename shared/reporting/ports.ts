import type { DeclineReason } from '#referral/domain/lifecycle.ts';
import type { ResponseFigures } from '#reporting/domain/response-record.ts';

/** Exact counts for the figures ops and commissioners read: each unit is counted once, however often it is seen. */

export interface MetricCount {
  name: string;
  dimensions?: Record<string, string>;
}

export interface MetricCounters {
  /** Adds one to each counter for `day`, once per `unitId`: a repeat with the same unit adds nothing. */
  countOnce(counts: MetricCount[], day: string, unitId: string): Promise<void>;
}

/**
 * One partner's outcome of one offer, as the response record counts it: accepted, declined (with its coded reason)
 * or expired (no answer). `at` is when it happened, as recorded on the offer (so a retry names the same day).
 */
export type PartnerAnswer = {
  partnerId: string;
  offerId: string;
  at: string;
} & (
  | { outcome: 'accepted'; responseHours: number }
  | { outcome: 'declined'; reason: DeclineReason; responseHours: number }
  | { outcome: 'expired' }
);

/** A partner's figures for one day (`YYYY-MM-DD`). */
export interface DailyResponseFigures extends ResponseFigures {
  day: string;
}

/**
 * Each partner's answers, counted once per offer, for its response record (issue 9, item 7). Per partner per day,
 * so a rolling window is one read of the partner's days.
 */
export interface PartnerResponses {
  /** Adds the answer to its partner's day, once per offer: a repeat (or another outcome that day) adds nothing. */
  recordOnce(answer: PartnerAnswer): Promise<void>;
  /** The partner's figures for the days from `from` to `to` (both included), days with none left out. */
  figures(partnerId: string, from: string, to: string): Promise<DailyResponseFigures[]>;
}
