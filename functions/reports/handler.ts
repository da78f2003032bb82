import type { APIGatewayProxyEvent } from 'aws-lambda';
import { DynamoFigures } from '#adapters/dynamodb/figures.ts';
import type { Caller } from '#auth/caller.ts';
import { systemClock } from '#kernel/clock.ts';
import { ValidationError } from '#kernel/errors.ts';
import { safeKey } from '#kernel/validation.ts';
import { buildReport, type ReportAudience } from '#reporting/application/build-report.ts';
import type { ReportName } from '#reporting/domain/report-shape.ts';
import { reportDefinitions } from '#reporting/domain/reports/catalogue.ts';
import { parseReportQuery } from '#reporting/domain/reports/query.ts';
import { formatFromAccept, reportResponse } from '#http/report-response.ts';
import { documentClient } from '#platform/clients.ts';
import { tableName } from '#platform/config.ts';
import { header, httpHandler, type HttpHandler } from '#platform/handlers.ts';

/**
 * The reports API (docs/reports.md): `GET /reports/<report>` for ops (exact counts) and commissioners (counts 1-4
 * suppressed), from the pre-aggregated figures only. httpHandler has checked the role against the route table.
 */

const figures = new DynamoFigures(documentClient, tableName('metrics'));

/** Only ops sees exact counts; a commissioner, and any other role a route might one day let in, sees them suppressed. */
const audienceOf = (caller: Caller | undefined): ReportAudience =>
  caller?.role === 'ops' ? 'exact' : 'suppressed';

/** The query parameters, each given once: a repeated one is refused rather than one of its values picked. */
function parametersOf(event: APIGatewayProxyEvent): Record<string, string | undefined> {
  const repeated = Object.entries(event.multiValueQueryStringParameters ?? {}).filter(
    ([, values]) => (values?.length ?? 0) > 1,
  );
  if (repeated.length > 0)
    throw new ValidationError(
      repeated
        .slice(0, 10)
        .map(([name]) => ({ field: safeKey(name), rule: 'must be given once', kind: 'structure' })),
    );
  return event.queryStringParameters ?? {};
}

const answer =
  (report: ReportName): HttpHandler =>
  async (event, _context, caller) => {
    const today = systemClock.now().toISOString().slice(0, 10);
    const query = parseReportQuery(report, reportDefinitions[report].families, parametersOf(event), today);
    const built = await buildReport(figures, {
      report,
      from: query.from,
      to: query.to,
      ...(query.area === undefined ? {} : { area: query.area }),
      audience: audienceOf(caller),
    });
    return reportResponse(built, query.format ?? formatFromAccept(header(event, 'Accept')) ?? 'json');
  };

export const handler = httpHandler('reports', {
  getVolumesReport: answer('volumes'),
  getSurgesReport: answer('surges'),
  getFunnelReport: answer('funnel'),
  getDeprivationReport: answer('deprivation'),
  getGapsReport: answer('gaps'),
  getPartnersReport: answer('partners'),
  getOutcomesReport: answer('outcomes'),
  getCaseloadsReport: answer('caseloads'),
});
