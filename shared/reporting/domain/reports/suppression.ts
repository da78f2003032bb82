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
 * - differencing across rows or reports: a suppressed count can sometimes be worked out from others that are not
 *   (a total in one report minus the visible rows of another), or from two reports
 *   over overlapping ranges (days 1-30 and days 1-31 differ by one day's counts). Secondary suppression is done
 *   within a row only (a total with a suppressed part is hidden too), not across rows, columns or reports;
 * - linkage with what the reader already knows (the only referral from one practice in one week, known locally);
 * - zeros: a 0 says "nobody", which in a small group can itself be telling.
 * The area filter and the range limit narrow what one answer holds, not what many answers can be combined into; the
 * reports API is for commissioners with a legitimate interest, and their tokens and reads are the control for that.
 */

/** Shown for a value derived from a suppressed count: not `<5`, which would read as a small rate or time. */
export const suppressedDerivedValue = 'suppressed';

export const isSuppressible = (value: unknown, threshold: number): value is number =>
  typeof value === 'number' && value > 0 && value < threshold;

/**
 * The rows with every small count suppressed (primary), every total one of whose parts is suppressed (else that part
 * is the total minus the parts shown: secondary suppression within the row, repeated until no total is left to
 * hide), and the values derived from any of them.
 */
export function suppressRows(
  rows: readonly ReportRow[],
  columns: readonly ColumnSpec[],
  threshold: number = suppressionThreshold,
): ReportRow[] {
  const small = threshold === suppressionThreshold ? suppressedValue : `<${threshold}`;
  return rows.map((row) => {
    const out: ReportRow = { ...row };
    const suppressed = new Set<string>();
    for (const column of columns) {
      if (
        (column.kind === 'count' || column.kind === 'total') &&
        isSuppressible(row[column.name], threshold)
      ) {
        out[column.name] = small;
        suppressed.add(column.name);
      }
    }
    for (let changed = true; changed;) {
      changed = false;
      for (const column of columns) {
        if (column.kind !== 'total' || suppressed.has(column.name)) continue;
        if (column.of.some((name) => suppressed.has(name))) {
          out[column.name] = suppressedDerivedValue;
          suppressed.add(column.name);
          changed = true;
        }
      }
    }
    for (const column of columns) {
      if (column.kind === 'derived' && column.from.some((name) => suppressed.has(name)))
        out[column.name] = suppressedDerivedValue;
    }
    return out;
  });
}
