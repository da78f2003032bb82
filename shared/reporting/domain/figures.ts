/**
 * The observatory's figures (issue 10, item 2): exact counts, pre-aggregated by day and dimension, so every report is
 * a handful of Queries and never a scan. A figure is one cell of one family: `family`, the UTC day it happened, and
 * its dimensions (never patient data: codes, bands and ids of organisations only). Each unit (a referral, a need of a
 * referral, an offer, a measure set) is counted once per cell however often its step is retried or its message
 * redelivered (Figures.recordOnce, #reporting/ports.ts).
 *
 * Families and their dimensions are fixed here, so the writers (routing, case work, outcomes, deadlines) and the
 * readers (reports, surges, the observatory page) cannot disagree on a name. A dimension a writer does not know is
 * `unknown`, never left out: a cell's key always has every dimension of its family.
 */

export const figureFamilies = [
  /** One per routed referral, on the day it was received. */
  'referrals',
  /** One per need of a routed referral (a referral with two needs is two), matched or unmet, on the day received. */
  'needs',
  /** One per referral per stage reached, on the day it was reached. */
  'funnel',
  /** One per partner answer to an offer (accepted, declined, expired), on the day of the answer. */
  'responses',
  /** One per outcome measure per measure set recorded, on the day the set was taken. */
  'outcomes',
  /** One per surge found by the daily surge job, on the day it was found in. */
  'surges',
] as const;
export type FigureFamily = (typeof figureFamilies)[number];

/**
 * Every family's dimensions, in key order. Values:
 * - `practice` an ODS code; `pcn` a PCN code; `team` and `partner` directory ids;
 * - `area` the postcode district matched in (`LS6`); `localAuthority` an ONS code (`E08000035`) or `unknown`;
 * - `imd` `<edition>:<decile>` (`2019:3`) or `<edition>:unknown`: always with its edition, never mixed in one count;
 * - `channel` `fhir` | `json`; `ageBand` (ageBands below) or `unknown`; `sex` (sexes below) or `unknown`;
 * - `category` an intervention category; `outcome` and `reason` per family (below); `-` where none applies.
 */
export const familyDimensions = {
  referrals: ['practice', 'pcn', 'team', 'area', 'localAuthority', 'imd', 'channel', 'ageBand', 'sex'],
  /** `outcome`: `matched` | `unmet`; `reason`: the unmet code (UnmetReason) or `no-link-worker-team`, else `-`. */
  needs: ['category', 'outcome', 'reason', 'practice', 'pcn', 'area', 'localAuthority', 'imd'],
  /**
   * `stage` (funnelStages); `reason`: a decline's coded reason or a closure's reason for `declined` / `closed`, else
   * `-`.
   */
  funnel: ['stage', 'reason', 'practice', 'pcn', 'team', 'area', 'localAuthority', 'imd'],
  /**
   * `outcome`: `accepted` | `declined` | `expired`; `reason` a decline's coded reason, else `-`; `band` the
   * response-time band (#reporting/domain/response-record.ts) or `-` for an expiry.
   */
  responses: ['partner', 'category', 'outcome', 'reason', 'band'],
  /**
   * `measure` (outcomeMeasures); `timepoint` `baseline` | `follow-up`; `band` the ONS4 band, else the score as a
   * string (UCLA-3 total 3-9, the direct question's answer, SWEMWBS raw total); `change` for a follow-up: `improved` |
   * `same` | `worse` against the baseline (`-` at baseline or with no baseline).
   */
  outcomes: ['measure', 'timepoint', 'band', 'change', 'pcn', 'team', 'imd'],
  /** `observed` and `expected` counts and the `threshold` crossed, as strings (a surge is a row, counted once). */
  surges: ['category', 'area', 'observed', 'expected', 'threshold'],
} as const satisfies Record<FigureFamily, readonly string[]>;
export type FigureDimension<F extends FigureFamily> = (typeof familyDimensions)[F][number];

/**
 * The funnel a referral goes down: referred (routed), received by the link worker (the team accepted it), contacted
 * (first contact with the patient), intervention started, closed; or declined (by the team, or by the patient, with
 * the coded reason) or cancelled (by the practice) at any point.
 */
export const funnelStages = [
  'referred',
  'received',
  'contacted',
  'started',
  'closed',
  'declined',
  'cancelled',
] as const;
export type FunnelStage = (typeof funnelStages)[number];

/** Ages in whole years on the day received (#matching/domain/age.ts), in bands wide enough not to single anyone out. */
export const ageBands = ['0-17', '18-24', '25-34', '35-44', '45-54', '55-64', '65-74', '75+'] as const;
export type AgeBand = (typeof ageBands)[number];

export function ageBandOf(age: number | undefined): AgeBand | 'unknown' {
  if (age === undefined || !Number.isFinite(age) || age < 0) return 'unknown';
  if (age < 18) return '0-17';
  if (age < 25) return '18-24';
  if (age >= 75) return '75+';
  const decade = Math.floor((age - 5) / 10) * 10 + 5;
  return `${decade}-${decade + 9}` as AgeBand;
}

/** FHIR administrative gender, as the patient's record gives it. */
export const sexes = ['female', 'male', 'other', 'unknown'] as const;
export type Sex = (typeof sexes)[number];

export const outcomeMeasures = [
  'ons4-life-satisfaction',
  'ons4-worthwhile',
  'ons4-happiness',
  'ons4-anxiety',
  'ucla3',
  'loneliness-direct',
  'swemwbs',
] as const;
export type OutcomeMeasure = (typeof outcomeMeasures)[number];

/** A value for a dimension nobody recorded, and for one that does not apply to the cell. */
export const unknownValue = 'unknown';
export const notApplicable = '-';

/**
 * One cell to add one to: its family, its UTC day (`YYYY-MM-DD`) and every dimension of its family. Distributive, so
 * `Figure` (any family) is the union of each family's shape and a `Figure<'needs'>` is one of them (a single object
 * type with every family's dimensions would accept no family's figure).
 */
export type Figure<F extends FigureFamily = FigureFamily> = F extends FigureFamily
  ? { family: F; day: string; dimensions: Record<FigureDimension<F>, string> }
  : never;

/** A stored cell: the count of units in it. */
export interface FigureCell<F extends FigureFamily = FigureFamily> {
  family: F;
  day: string;
  dimensions: Record<FigureDimension<F>, string>;
  count: number;
}
