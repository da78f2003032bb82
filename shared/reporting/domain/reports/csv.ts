import { stringify } from 'csv-stringify/sync';
import type { Report } from '#reporting/domain/report-shape.ts';

/**
 * A report as CSV (RFC 4180, CRLF line ends, via csv-stringify): a header row of the report's columns, then one
 * record per row, the same columns in the same order as the JSON, suppressed values (`<5`, `suppressed`) as they are.
 * The range, area and threshold are not in the file (a header line would break spreadsheets' and parsers' reading of
 * it): the API's Content-Disposition file name and the CLI's file name carry them.
 */
export function reportCsv(report: Report): string {
  return stringify(
    report.rows.map((row) => report.columns.map((column) => guarded(row[column] ?? ''))),
    { header: true, columns: report.columns, record_delimiter: 'windows', eof: true },
  );
}

/**
 * A text value a spreadsheet would run as a formula (`=`, `+`, `@`, a tab or CR first, or `-` before more) is
 * prefixed with `'`, as OWASP advises against CSV injection. The values are codes and bands of our own, so this is a
 * guard for a value a writer let through, not a routine change; numbers are left alone.
 */
function guarded(value: string | number): string | number {
  if (typeof value === 'number') return value;
  return /^[=+@\t\r]/.test(value) || /^-./.test(value) ? `'${value}` : value;
}

/** The file name a report's CSV is offered as: its name, range and area. */
export const reportFileName = (
  report: Pick<Report, 'report' | 'from' | 'to' | 'area'>,
  extension = 'csv',
): string =>
  `${report.report}-${report.from}-to-${report.to}${report.area === undefined ? '' : `-${report.area}`}.${extension}`;
