import type { Clock } from '#kernel/clock.ts';
import type { Figure, FigureCell } from '#reporting/domain/figures.ts';
import {
  addDays,
  baselineDays,
  judgeSurge,
  surgeRule,
  type SurgeRule,
} from '#reporting/domain/surge-rule.ts';
import type { Figures } from '#reporting/ports.ts';

/**
 * The surge job (a scheduled function, daily; `npm run surges` to run it now; docs/surges.md): for one UTC day
 * (default yesterday, the last whole day), every intervention category x area's needs that day against the same
 * weekday over the 8 weeks before (#reporting/domain/surge-rule.ts), and each surge recorded as a row of the
 * `surges` family, which the reports API's `surges` report reads.
 *
 * One `Figures.cells` read of `needs` over the 57 days (the day and the 56 before: a couple of Queries), summed by
 * category x area over every other dimension (matched or unmet, practice, decile...), and one read of the day's
 * `surges` rows. A category x area already recorded for the day is not recorded again, even if late needs changed its
 * count since (a surge row's dimensions carry the counts, so a new count would otherwise be a second row); the
 * unit id `surge#<day>#<category>#<area>` makes two overlapping runs record it once too. Safe to repeat.
 *
 * Weeks before the service's first `needs` figure in the range are not the area's zeros but no baseline: only the
 * weeks since are used, and a day with fewer than `minimumLiveWeeks` of them is not judged (`judged: false`), so the
 * weeks after going live (or a fresh local stack) do not make every busy area a surge.
 *
 * The use case only reads and records: the function's handler emits the `SurgesFound` metric and logs each surge,
 * from the summary (no patient data is in it: categories, postcode districts and counts).
 */

export interface DetectSurgesDeps {
  figures: Figures;
  clock: Clock;
}

export interface SurgeFound {
  category: string;
  area: string;
  observed: number;
  expected: number;
  threshold: number;
  /** `recorded` by this run, `already` recorded by an earlier one, `would-record` in a dry run. */
  step: 'recorded' | 'already' | 'would-record';
}

export interface SurgeRunSummary {
  day: string;
  /** The baseline's days, nearest first: those since the service's first figure (the weeks it was live). */
  baseline: string[];
  /** False while fewer than `minimumLiveWeeks` baseline weeks had the service live: nothing was compared. */
  judged: boolean;
  /** Category x area pairs with any needs on the day or in its baseline. */
  compared: number;
  surges: SurgeFound[];
  recorded: number;
  alreadyRecorded: number;
  /** Surges found per category (the metric's dimension), recorded now or before. */
  byCategory: Record<string, number>;
  dryRun: boolean;
}

/** The last whole UTC day before `now`. */
export function yesterday(now: Date): string {
  return addDays(now.toISOString().slice(0, 10), -1);
}

export async function detectSurges(
  deps: DetectSurgesDeps,
  options: { day?: string; dryRun?: boolean; rule?: SurgeRule } = {},
): Promise<SurgeRunSummary> {
  const rule = options.rule ?? surgeRule;
  const day = options.day ?? yesterday(deps.clock.now());
  const window = baselineDays(day, rule.baselineWeeks);
  const from = window.at(-1) ?? day;
  const dryRun = options.dryRun ?? false;

  const needs = await deps.figures.cells('needs', from, day);
  // The first day with any need in the range: weeks before it the service was not yet live (or had no figures).
  const firstFigure = needs.reduce((first, cell) => (cell.day < first ? cell.day : first), day);
  const baseline = window.filter((week) => week >= firstFigure);
  if (baseline.length < rule.minimumLiveWeeks) return emptySummary(day, baseline, dryRun);
  const counts = countsByPair(needs, day, baseline);
  const recordedBefore = new Set(
    (await deps.figures.cells('surges', day, day)).map((row) =>
      pairKey(row.dimensions.category, row.dimensions.area),
    ),
  );

  const summary: SurgeRunSummary = {
    ...emptySummary(day, baseline, dryRun),
    judged: true,
    compared: counts.size,
  };
  for (const [key, { category, area, observed, weeks }] of [...counts].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const verdict = judgeSurge(observed, weeks, { ...rule, baselineWeeks: baseline.length });
    if (!verdict.surge) continue;
    const found = {
      category,
      area,
      observed,
      expected: round2(verdict.expected),
      threshold: verdict.threshold,
    };
    summary.byCategory[category] = (summary.byCategory[category] ?? 0) + 1;
    if (recordedBefore.has(key)) {
      summary.alreadyRecorded++;
      summary.surges.push({ ...found, step: 'already' });
      continue;
    }
    if (dryRun) {
      summary.surges.push({ ...found, step: 'would-record' });
      continue;
    }
    // `as Figure`: Figure's default (every family) is one type with every family's dimensions, not a union of the
    // families' shapes, so a figure of one family is not assignable to it as written (#reporting/domain/figures.ts).
    await deps.figures.recordOnce([surgeRow(day, found) as Figure], `surge#${day}#${category}#${area}`);
    summary.recorded++;
    summary.surges.push({ ...found, step: 'recorded' });
  }
  return summary;
}

function emptySummary(day: string, baseline: string[], dryRun: boolean): SurgeRunSummary {
  return {
    day,
    baseline,
    judged: false,
    compared: 0,
    surges: [],
    recorded: 0,
    alreadyRecorded: 0,
    byCategory: {},
    dryRun,
  };
}

interface PairCounts {
  category: string;
  area: string;
  observed: number;
  /** Per baseline week, nearest first; a week with no cell stays 0. */
  weeks: number[];
}

/** The day's and each baseline week's needs per category x area; cells on the other days of the range are ignored. */
function countsByPair(
  cells: readonly FigureCell<'needs'>[],
  day: string,
  baseline: readonly string[],
): Map<string, PairCounts> {
  const weekOf = new Map(baseline.map((d, i) => [d, i]));
  const counts = new Map<string, PairCounts>();
  for (const cell of cells) {
    const week = weekOf.get(cell.day);
    if (cell.day !== day && week === undefined) continue;
    const { category, area } = cell.dimensions;
    const key = pairKey(category, area);
    const entry = counts.get(key) ?? { category, area, observed: 0, weeks: baseline.map(() => 0) };
    if (week === undefined) entry.observed += cell.count;
    else entry.weeks[week] = (entry.weeks[week] ?? 0) + cell.count;
    counts.set(key, entry);
  }
  return counts;
}

function surgeRow(day: string, found: Omit<SurgeFound, 'step'>): Figure<'surges'> {
  return {
    family: 'surges',
    day,
    dimensions: {
      category: found.category,
      area: found.area,
      observed: String(found.observed),
      expected: String(found.expected),
      threshold: String(found.threshold),
    },
  };
}

function pairKey(category: string, area: string): string {
  return `${category}\u0000${area}`;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
