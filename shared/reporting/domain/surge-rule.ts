/**
 * When a day's needs in one intervention category x area are a surge (issue 10, item 4; docs/surges.md): the day's
 * count against the same weekday over the previous `baselineWeeks` weeks (a week with no cell counts 0). Same weekday,
 * because referrals follow the working week (Mondays are busy, Sundays near empty); a mean over every day would flag
 * each Monday.
 *
 *   expected  = mean of the baseline counts
 *   spread    = sqrt(max(expected, sample variance, 1))
 *   threshold = max(minimumCount, ceil(expected + k * spread))
 *   surge     = observed >= threshold
 *
 * Why this shape, for counts that are mostly small:
 * - The counts are roughly Poisson, whose variance is its mean: `max(expected, variance)` keeps a quiet baseline
 *   from claiming more certainty than Poisson noise allows (eight weeks of 2, 2, 2... has variance 0, yet 5 the next
 *   week is unremarkable), while a baseline that really does vary widens the band.
 * - The floor of 1 under the spread keeps an all-zero baseline from making any single referral a surge.
 * - `minimumCount` (5) means fewer than 5 needs in a day is never a surge, whatever the history: one or two
 *   referrals in a new area must not page anyone, and 5 is also the reports' suppression threshold.
 * - `k` = 4 was chosen on synthetic Poisson data (bench/surges.ts, docs/surges.md): at k = 3, 0.7-1.1% of quiet
 *   category x area days at means 2-5 were flagged, which over a few hundred cells is an alarm most days; at k = 4
 *   it is 0.3% or less at every mean (0.01% at 0.5), at the cost of missing most doublings of small counts (those
 *   are within the noise of an 8-week baseline anyway) while still catching a tripling of 20 a day.
 * - Weeks before the service had any figures are not zeros but no baseline at all: the job (detect-surges.ts) uses
 *   only the weeks since its first figure, and judges nothing until there are `minimumLiveWeeks` of them, so going
 *   live is not a surge everywhere. Within those weeks a category x area with no needs counts 0.
 * - The baseline is estimated from only 8 numbers; the ceiling and the integer comparison keep the threshold a
 *   count, so what the row records (observed >= threshold) reads plainly.
 */

export const surgeRule = {
  /** Same weekdays looked back over. */
  baselineWeeks: 8,
  /** Below this many needs in a day, never a surge. */
  minimumCount: 5,
  /** Spreads above the expected count the day must reach. */
  k: 4,
  /**
   * Baseline weeks the service must have had figures in (was live) before a day is judged at all: in its first
   * weeks every area's history is zeros, and every busy area would be a surge.
   */
  minimumLiveWeeks: 4,
} as const;

export interface SurgeRule {
  baselineWeeks: number;
  minimumCount: number;
  k: number;
  minimumLiveWeeks: number;
}

export interface SurgeVerdict {
  surge: boolean;
  observed: number;
  /** The baseline mean. */
  expected: number;
  /** The count at which the day is a surge. */
  threshold: number;
}

/**
 * The verdict for one category x area day. `baseline` is the counts on the same weekday in the weeks before, most
 * recent first or not (order does not matter); weeks missing from it (fewer than `rule.baselineWeeks` given) count
 * 0, extra ones are ignored.
 */
export function judgeSurge(
  observed: number,
  baseline: readonly number[],
  rule: SurgeRule = surgeRule,
): SurgeVerdict {
  const weeks = Array.from({ length: rule.baselineWeeks }, (_, i) => baseline[i] ?? 0);
  const threshold = surgeThreshold(weeks, rule);
  return { surge: observed >= threshold, observed, expected: mean(weeks), threshold };
}

/** The count at which a day with this baseline (already `rule.baselineWeeks` long) is a surge. */
export function surgeThreshold(weeks: readonly number[], rule: SurgeRule = surgeRule): number {
  const expected = mean(weeks);
  const spread = Math.sqrt(Math.max(expected, sampleVariance(weeks, expected), 1));
  // Rounded before the ceiling, so float noise (4.000000000001) cannot lift a threshold by one.
  const raw = Math.round((expected + rule.k * spread) * 1e9) / 1e9;
  return Math.max(rule.minimumCount, Math.ceil(raw));
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;
}

function sampleVariance(values: readonly number[], average: number): number {
  if (values.length < 2) return 0;
  return values.reduce((sum, value) => sum + (value - average) ** 2, 0) / (values.length - 1);
}

/** The same weekdays before `day` (`YYYY-MM-DD`, UTC), nearest first: the baseline's days. */
export function baselineDays(day: string, weeks: number = surgeRule.baselineWeeks): string[] {
  return Array.from({ length: weeks }, (_, i) => addDays(day, -7 * (i + 1)));
}

/** `day` moved by `days` (UTC calendar days). */
export function addDays(day: string, days: number): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}
