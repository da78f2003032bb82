import type { DeclineReason } from '#referral/domain/lifecycle.ts';
import type { ResponseFigures } from '#reporting/domain/response-record.ts';
import type { Figure, FigureCell, FigureFamily } from '#reporting/domain/figures.ts';

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

/**
 * The observatory's pre-aggregated figures (#reporting/domain/figures.ts): every report reads whole families over a
 * date range with a handful of Queries, never a scan.
 */
export interface Figures {
  /**
   * Adds one to each figure's cell, once per `unitId` per cell: a repeat (a retried step, a redelivered message) adds
   * nothing. `unitId` names what is counted (a referral id, `<referralId>#<category>`, an offer id, ...), the same
   * on every retry.
   */
  recordOnce(figures: Figure[], unitId: string): Promise<void>;
  /** Every cell of `family` on the days from `from` to `to` (`YYYY-MM-DD`, both included), with its count. */
  cells<F extends FigureFamily>(family: F, from: string, to: string): Promise<FigureCell<F>[]>;
}
