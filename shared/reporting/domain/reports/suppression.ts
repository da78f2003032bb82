import { suppressedValue, suppressionThreshold } from '#reporting/domain/report-shape.ts';
import type { ColumnSpec, ReportRow } from '#reporting/domain/reports/table.ts';

/**
 * Small-count suppression for what a commissioner sees (issue 10: "no patient can be singled out").
 *
 * This is PRIMARY suppression: every count from 1 to `suppressionThreshold - 1` (1 to 4) is shown as `<5`, and every
 * value derived from such a count (an acceptance rate, a median response band) is shown as `suppressed`; 0 is shown
 * as 0 (nobody is singled out by nobody). It is applied cell by cell, to the rows as built.
 *
 * What it does NOT protect against:
 * - differencing: a suppressed count can sometimes be worked out from others that are not (a partner's `answered`
 *   minus `accepted` is its declines; a total in one report minus the visible rows of another), or from two reports
 *   over overlapping ranges (days 1-30 and days 1-31 differ by one day's counts). Secondary suppression (hiding a
 *   complementary cell so no row or column can be solved) is not done;
 * - linkage with what the reader already knows (the only referral from one practice in one week, known locally);
 * - zeros: a 0 says "nobody", which in a small group can itself be telling.
 * The area filter and the range limit narrow what one answer holds, not what many answers can be combined into; the
 * reports API is for commissioners with a legitimate interest, and their tokens and reads are the control for that.
 */

/** Shown for a value derived from a suppressed count: not `<5`, which would read as a small rate or time. */
export const suppressedDerivedValue = 'suppressed';

export const isSuppressible = (value: unknown, threshold: number): value is number =>
  typeof value === 'number' && value > 0 && value < threshold;

/** The rows with every small count suppressed, and the values derived from them. */
export function suppressRows(
  rows: readonly ReportRow[],
  columns: readonly ColumnSpec[],
  threshold: number = suppressionThreshold,
): ReportRow[] {
  return rows.map((row) => {
    const out: ReportRow = { ...row };
    const suppressed = new Set<string>();
    for (const column of columns) {
      if (column.kind === 'count' && isSuppressible(row[column.name], threshold)) {
        out[column.name] = threshold === suppressionThreshold ? suppressedValue : `<${threshold}`;
        suppressed.add(column.name);
      }
    }
    for (const column of columns) {
      if (column.kind === 'derived' && column.from.some((name) => suppressed.has(name)))
        out[column.name] = suppressedDerivedValue;
    }
    return out;
  });
}
