import type { FigureCell, FigureFamily } from '#reporting/domain/figures.ts';
import { suppressionThreshold, type Report, type ReportName } from '#reporting/domain/report-shape.ts';
import { reportDefinitions } from '#reporting/domain/reports/catalogue.ts';
import { areaDimensionsOf, type ReportQuery } from '#reporting/domain/reports/query.ts';
import { suppressRows } from '#reporting/domain/reports/suppression.ts';
import type { CellsByFamily } from '#reporting/domain/reports/table.ts';
import type { Figures } from '#reporting/ports.ts';

/**
 * A report, from the pre-aggregated figures only: one `Figures.cells` read per family the report names (each a
 * handful of Queries: one a month of the range), never a scan and never a referral. Cells outside the area filter
 * are dropped before the report is built; counts are exact for `exact` (ops) and suppressed for `suppressed`
 * (commissioners, and anyone else: the safe default).
 */

export type ReportAudience = 'exact' | 'suppressed';

export interface ReportRequest extends Pick<ReportQuery, 'from' | 'to' | 'area'> {
  report: ReportName;
  audience: ReportAudience;
}

/** The reads a report makes, in order: what the CLI's dry run prints. */
export function plannedReads(
  request: Pick<ReportRequest, 'report' | 'from' | 'to'>,
): Array<{ family: FigureFamily; from: string; to: string }> {
  return reportDefinitions[request.report].families.map((family) => ({
    family,
    from: request.from,
    to: request.to,
  }));
}

function inArea<F extends FigureFamily>(cell: FigureCell<F>, area: string): boolean {
  const dimensions = cell.dimensions as Record<string, string>;
  return areaDimensionsOf(cell.family).some((name) => dimensions[name]?.toUpperCase() === area);
}

export async function buildReport(figures: Figures, request: ReportRequest): Promise<Report> {
  const definition = reportDefinitions[request.report];
  const read = await Promise.all(
    definition.families.map(async (family) => {
      const cells = await figures.cells(family, request.from, request.to);
      return [
        family,
        request.area === undefined ? cells : cells.filter((cell) => inArea(cell, request.area ?? '')),
      ] as const;
    }),
  );
  // Every family the definition names is read above; the definition reads no other.
  const rows = definition.build(Object.fromEntries(read) as CellsByFamily);
  const suppressed = request.audience === 'suppressed';
  return {
    report: request.report,
    from: request.from,
    to: request.to,
    ...(request.area === undefined ? {} : { area: request.area }),
    suppressedBelow: suppressed ? suppressionThreshold : null,
    columns: definition.columns.map((column) => column.name),
    rows: suppressed ? suppressRows(rows, definition.columns) : rows,
  };
}
