import type { DeclineReason } from '#referral/domain/lifecycle.ts';
import type { ResponseRecord } from '#directory/domain/directory.ts';

/**
 * A partner's response record (issue 9, item 7), computed from what it did with its offers in a rolling window: how
 * many it answered (accepted or declined with a coded reason), how many it accepted, the median time to answer, the
 * decline reasons by code, and how many it let expire. Pure: the figures come from PartnerResponses
 * (#reporting/ports.ts), each answer counted once per offer however often its step is retried.
 *
 * An expiry is counted apart from the answers: silence is not a coded answer, so it is neither in `answered` (the
 * acceptance rate is accepted out of answered) nor in the median (an expired offer has no response time).
 */

/** The rolling window the record covers: the last 90 days, today included. */
export const responseWindowDays = 90;

/**
 * Response-time bands, by their upper bound in hours (an answer within 1 hour, within 4, ...), and one open band for
 * answers after more than 336 hours (two weeks). Counted per band rather than per answer, so a day's figures stay a
 * few counters whatever the number of answers. Chosen around what a small charity's week looks like: the same
 * morning, the same day, the next day, within the working week, the next week.
 */
export const responseBandHours = [1, 4, 8, 24, 48, 72, 120, 168, 336] as const;
export type ResponseBand = `within-${(typeof responseBandHours)[number]}h` | 'over-336h';
export const responseBands: readonly ResponseBand[] = [
  ...responseBandHours.map((hours) => `within-${hours}h` as const),
  'over-336h',
];

/** The band of an answer `hours` after the offer: the first whose bound it is within (exactly on a bound is in it). */
export function bandOf(hours: number): ResponseBand {
  const bound = responseBandHours.find((limit) => hours <= limit);
  return bound === undefined ? 'over-336h' : `within-${bound}h`;
}

/** Hours from the offer to its answer (never negative: a clock a little behind is an immediate answer). */
export function responseHours(offeredAt: string, answeredAt: string): number {
  return Math.max(0, (Date.parse(answeredAt) - Date.parse(offeredAt)) / 3_600_000);
}

/** A partner's figures over some days: the sum of its days' counters. */
export interface ResponseFigures {
  accepted: number;
  declined: Partial<Record<DeclineReason, number>>;
  expired: number;
  /** Answers (accepted and declined) by response-time band. */
  bands: Partial<Record<ResponseBand, number>>;
}

export const noFigures = (): ResponseFigures => ({ accepted: 0, declined: {}, expired: 0, bands: {} });

function addCounts<K extends string>(
  a: Partial<Record<K, number>>,
  b: Partial<Record<K, number>>,
): Partial<Record<K, number>> {
  const sum: Partial<Record<K, number>> = { ...a };
  for (const [key, value] of Object.entries(b) as Array<[K, number | undefined]>)
    sum[key] = (sum[key] ?? 0) + (value ?? 0);
  return sum;
}

export function addFigures(a: ResponseFigures, b: ResponseFigures): ResponseFigures {
  return {
    accepted: a.accepted + b.accepted,
    declined: addCounts(a.declined, b.declined),
    expired: a.expired + b.expired,
    bands: addCounts(a.bands, b.bands),
  };
}

/** The days of the window ending on `today` (a `YYYY-MM-DD` date), first and last, both included. */
export function responseWindow(today: string, days = responseWindowDays): { from: string; to: string } {
  const from = new Date(Date.parse(`${today}T00:00:00.000Z`) - (days - 1) * 86_400_000);
  return { from: from.toISOString().slice(0, 10), to: today };
}

/**
 * The median response time from the bands: the band holding the median answer (the lower median, the
 * ceil(n/2)-th answer in order, for an even count), reported as that band's upper bound, so "median 24" reads "half
 * the answers came within a day". The open band reports its lower bound (336). Undefined with no answer.
 */
export function medianFromBands(bands: Partial<Record<ResponseBand, number>>): number | undefined {
  const total = responseBands.reduce((sum, band) => sum + (bands[band] ?? 0), 0);
  if (total === 0) return undefined;
  const middle = Math.ceil(total / 2);
  let seen = 0;
  for (const [index, band] of responseBands.entries()) {
    seen += bands[band] ?? 0;
    if (seen >= middle) return responseBandHours[index] ?? 336;
  }
  return 336;
}

/** The record matching ranks by and the directory shows, from the window's figures. */
export function responseRecordOf(figures: ResponseFigures, windowDays = responseWindowDays): ResponseRecord {
  const declined = Object.values(figures.declined).reduce((sum, n) => sum + (n ?? 0), 0);
  const median = medianFromBands(figures.bands);
  const declineReasons = Object.fromEntries(
    Object.entries(figures.declined)
      .filter(([, n]) => (n ?? 0) > 0)
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  ) as Partial<Record<DeclineReason, number>>;
  return {
    answered: figures.accepted + declined,
    accepted: figures.accepted,
    ...(median === undefined ? {} : { medianResponseHours: median }),
    declineReasons,
    expired: figures.expired,
    windowDays,
  };
}

/**
 * Records compared by what they say, so an unchanged one is not written again (each write moves the partner's
 * version and re-indexes its services). A missing count reads as none.
 */
export function sameResponseRecord(a: ResponseRecord | undefined, b: ResponseRecord | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  const reasons = new Set([...Object.keys(a.declineReasons ?? {}), ...Object.keys(b.declineReasons ?? {})]);
  return (
    a.answered === b.answered &&
    a.accepted === b.accepted &&
    a.medianResponseHours === b.medianResponseHours &&
    (a.expired ?? 0) === (b.expired ?? 0) &&
    a.windowDays === b.windowDays &&
    [...reasons].every(
      (reason) =>
        (a.declineReasons?.[reason as DeclineReason] ?? 0) ===
        (b.declineReasons?.[reason as DeclineReason] ?? 0),
    )
  );
}
