import type { APIGatewayProxyResult } from 'aws-lambda';
import type { Report, ReportFormat } from '#reporting/domain/report-shape.ts';
import { reportCsv, reportFileName } from '#reporting/domain/reports/csv.ts';
import { json } from '#http/responses.ts';

/**
 * A report as the API answers it: JSON (the Report shape) or CSV (the same columns), as `format` asks, else as the
 * Accept header prefers (text/csv over application/json only when it is given a higher or equal weight and named
 * first); JSON when neither says.
 */

/** The format Accept asks for, by RFC 9110 weights; undefined when it names neither (JSON is then given). */
export function formatFromAccept(accept: string | undefined): ReportFormat | undefined {
  if (accept === undefined) return undefined;
  let best: { format: ReportFormat; weight: number } | undefined;
  for (const range of accept.slice(0, 1000).split(',')) {
    const [type = '', ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
    const format = type === 'text/csv' ? 'csv' : type === 'application/json' ? 'json' : undefined;
    if (format === undefined) continue;
    const q = parameters.find((parameter) => parameter.startsWith('q='));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    if (!Number.isFinite(weight) || weight <= 0) continue;
    if (best === undefined || weight > best.weight) best = { format, weight };
  }
  return best?.format;
}

export function reportResponse(report: Report, format: ReportFormat): APIGatewayProxyResult {
  if (format === 'json') return json(200, report);
  return {
    statusCode: 200,
    headers: {
      'Content-Type': 'text/csv; charset=utf-8; header=present',
      'Content-Disposition': `attachment; filename="${reportFileName(report)}"`,
      // The CSV holds the table only: the threshold applied travels beside it.
      'X-Suppressed-Below': report.suppressedBelow === null ? 'none' : String(report.suppressedBelow),
    },
    body: reportCsv(report),
  };
}
