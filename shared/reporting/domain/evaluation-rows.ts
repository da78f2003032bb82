import {
  ons4Band,
  ons4Items,
  swemwbsRawTotal,
  ucla3Total,
  type Ons4Item,
} from '#outcomes/domain/instruments.ts';
import { baselineOf, latestFollowUp, type MeasureSetRecord } from '#outcomes/domain/measure-set.ts';
import { ageOn } from '#matching/domain/age.ts';
import { isoWeekOf } from '#matching/domain/week.ts';
import type { Offer } from '#referral/domain/offer.ts';
import type { Referral } from '#referral/domain/referral.ts';
import { ageBandOf, unknownValue } from '#reporting/domain/figures.ts';
import { sexOf } from '#reporting/domain/referral-figures.ts';

/**
 * The evaluation extract's rows (issue 10, item 8; docs/evaluation.md is the data dictionary): one row per referral,
 * keyed by the patient's pseudonym, holding codes, bands and ISO weeks only. What identifies a person directly (NHS
 * number, name, date of birth, postcode, phone, email) and all free text (the reason for referral, a decline's or a
 * closure's own words, reasonable adjustments) never reach a row: the builder reads only the fields below, so a field
 * added to the referral later stays out until someone adds a column for it here and to the dictionary.
 *
 * The finest organisation a row names is the PCN, the one the k check groups by: a PCN holds several practices, so a
 * practice column would split a cell that passes into smaller ones nobody checked. Nor does a row carry a key of its
 * referral: one would match the same referral across two extracts, and so tell (by what is in one and not the other)
 * which of them it was received in; the pseudonym is the linkage the evaluation needs.
 */

/** Everything one referral's partition holds that the extract reads: the referral, its offers, its measure sets. */
export interface ReferralPartition {
  referral: Referral;
  offers: Offer[];
  outcomes: MeasureSetRecord[];
}

/** What the row builder is given besides the partition: the patient's pseudonym (a keyed hash) and the PCN. */
export interface RowContext {
  /** HMAC of the patient's NHS number (#reporting/domain/pseudonym.ts). */
  pseudonym: string;
  /** The practice's PCN code from the directory, if it is there. */
  pcn: string | undefined;
}

/** ONS4's items as columns. */
const ons4Columns = {
  lifeSatisfaction: 'ons4_life_satisfaction',
  worthwhile: 'ons4_worthwhile',
  happiness: 'ons4_happiness',
  anxiety: 'ons4_anxiety',
} as const satisfies Record<Ons4Item, string>;

/** What is given of one measure set (the baseline, the latest follow-up), each as `<timepoint>_<suffix>`. */
const outcomeSuffixes = [
  'week',
  ...ons4Items.flatMap((item) => [ons4Columns[item], `${ons4Columns[item]}_band` as const]),
  'ucla3_total',
  'loneliness_direct',
  'swemwbs_raw_total',
] as const;
type OutcomeSuffix = (typeof outcomeSuffixes)[number];
type Timepoint = 'baseline' | 'followup';

const outcomeColumns = <T extends Timepoint>(timepoint: T): Array<`${T}_${OutcomeSuffix}`> =>
  outcomeSuffixes.map((suffix) => `${timepoint}_${suffix}` as const);

/** Every column, in the CSV's order; docs/evaluation.md describes each (a unit test holds the two together). */
export const evaluationColumns = [
  'pseudonym',
  'channel',
  'pcn',
  'imd_edition',
  'imd_decile',
  'age_band',
  'sex',
  'categories',
  'unmet_categories',
  'status',
  'received_week',
  'accepted_week',
  'first_contact_week',
  'started_week',
  'closed_week',
  'declined_week',
  'team_decline_reason',
  'partner_decline_reasons',
  'closure_reason',
  'follow_ups',
  ...outcomeColumns('baseline'),
  ...outcomeColumns('followup'),
] as const;
export type EvaluationColumn = (typeof evaluationColumns)[number];
export type EvaluationRow = Record<EvaluationColumn, string>;

/** The quasi-identifiers the k check groups by (#reporting/domain/k-anonymity.ts). */
export const quasiIdentifiers = [
  'imd_decile',
  'age_band',
  'sex',
  'pcn',
] as const satisfies readonly EvaluationColumn[];

/** An instant's ISO week (`2026-W03`), or empty when there is none: the extract carries no day. */
const weekOf = (instant: string | undefined): string => (instant === undefined ? '' : isoWeekOf(instant));

/** Several codes in one cell, `;`-separated, sorted and without repeats. */
const codes = (values: Iterable<string>): string => [...new Set(values)].sort().join(';');

function outcomeCells(timepoint: Timepoint, set: MeasureSetRecord | undefined): Record<string, string> {
  const cells: Record<string, string> = Object.fromEntries(outcomeColumns(timepoint).map((c) => [c, '']));
  if (set === undefined) return cells;
  // The day a set was taken is a date like any other: coarsened to its week.
  cells[`${timepoint}_week`] = isoWeekOf(`${set.takenOn}T12:00:00Z`);
  if (set.ons4) {
    for (const item of ons4Items) {
      cells[`${timepoint}_${ons4Columns[item]}`] = String(set.ons4[item]);
      cells[`${timepoint}_${ons4Columns[item]}_band`] = ons4Band(item, set.ons4[item]);
    }
  }
  if (set.ucla3) cells[`${timepoint}_ucla3_total`] = String(ucla3Total(set.ucla3));
  if (set.lonelinessDirect) cells[`${timepoint}_loneliness_direct`] = set.lonelinessDirect;
  if (set.swemwbs) cells[`${timepoint}_swemwbs_raw_total`] = String(swemwbsRawTotal(set.swemwbs));
  return cells;
}

/** One referral's row. Pure: every value is a code, a band, a count, an ISO week or a keyed hash. */
export function evaluationRowOf(partition: ReferralPartition, context: RowContext): EvaluationRow {
  const { referral, offers, outcomes } = partition;
  const classification = referral.routing?.classification;
  const imd = classification?.imd ?? null;
  // The PCN the router found; for a referral not routed yet (or routed before it was kept), the directory's.
  const pcn = referral.routing?.pcn ?? context.pcn ?? referral.routing?.noTeam?.pcn;
  // Every column but the outcomes' (built per timepoint below); `satisfies` keeps their names checked.
  const row = {
    pseudonym: context.pseudonym,
    channel: referral.source.channel,
    pcn: pcn ?? unknownValue,
    imd_edition: imd?.edition ?? classification?.imdEdition ?? unknownValue,
    imd_decile: imd === null ? unknownValue : String(imd.decile),
    age_band: ageBandOf(ageOn(referral.patient.birthDate, referral.receivedAt)),
    // The patient as the referral now holds them (a practice's correction wins), as the figures read sex.
    sex: sexOf(referral.patient),
    categories: codes(referral.needs),
    unmet_categories: codes(
      (referral.routing?.unmetNeeds ?? []).map((need) => `${need.category}:${need.code}`),
    ),
    status: referral.status,
    received_week: weekOf(referral.receivedAt),
    accepted_week: weekOf(referral.acceptance?.at),
    first_contact_week: weekOf(referral.firstContact?.at),
    started_week: weekOf(referral.interventionStart?.at),
    closed_week: weekOf(referral.closure?.at),
    declined_week: weekOf(referral.teamDecline?.at),
    team_decline_reason: referral.teamDecline?.reason ?? '',
    partner_decline_reasons: codes(offers.flatMap((offer) => (offer.decline ? [offer.decline.reason] : []))),
    closure_reason: referral.closure?.reason ?? '',
    follow_ups: String(outcomes.filter((set) => set.timepoint === 'follow-up').length),
  } satisfies Partial<EvaluationRow>;
  return {
    ...row,
    ...outcomeCells('baseline', baselineOf(outcomes)),
    ...outcomeCells('followup', latestFollowUp(outcomes)),
  } as EvaluationRow;
}

/**
 * The UTC months a date range touches, as `YYYY-MM`, in order: the received index's partitions to Query (one per
 * month). `from` and `to` are `YYYY-MM-DD`, `from` not after `to`.
 */
export function monthsOf(from: string, to: string): string[] {
  const months: string[] = [];
  let year = Number(from.slice(0, 4));
  let month = Number(from.slice(5, 7));
  const last = to.slice(0, 7);
  for (;;) {
    const current = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}`;
    if (current > last) return months;
    months.push(current);
    month += 1;
    if (month > 12) {
      month = 1;
      year += 1;
    }
  }
}

/**
 * Rows in an order that says nothing of when each referral arrived beyond its week: by pseudonym, then by the row's
 * own values column by column, so the same rows always come out in the same order.
 */
export function byPseudonym(a: EvaluationRow, b: EvaluationRow): number {
  for (const column of evaluationColumns) {
    const order = a[column].localeCompare(b[column]);
    if (order !== 0) return order;
  }
  return 0;
}
