import * as z from 'zod';
import {
  maxReportDays,
  reportNames,
  suppressedValue,
  suppressionThreshold,
  type ReportName,
} from '#reporting/domain/report-shape.ts';
import { reportDefinitions } from '#reporting/domain/reports/catalogue.ts';
import { areaDimensionsOf, defaultReportDays } from '#reporting/domain/reports/query.ts';
import { suppressedDerivedValue } from '#reporting/domain/reports/suppression.ts';
import type { OperationSpec } from '#http/openapi.ts';

/**
 * The reports' part of the OpenAPI document (shared/http/openapi.ts spreads it in): one operation per report, its
 * columns described from the report's own definition (#reporting/domain/reports/catalogue.ts), so the document
 * cannot name a column the report does not have.
 */

/** The table every report answers (#reporting/domain/report-shape.ts). */
export const ReportTable = z
  .object({
    report: z.enum(reportNames),
    from: z.string().meta({ description: 'First day covered, YYYY-MM-DD (UTC)' }),
    to: z.string().meta({ description: 'Last day covered, YYYY-MM-DD (UTC), included' }),
    area: z.string().optional().meta({ description: 'The area filter applied, upper-cased' }),
    suppressedBelow: z
      .number()
      .int()
      .nullable()
      .meta({
        description: `${suppressionThreshold} for a commissioner (counts 1 to ${suppressionThreshold - 1} shown as "${suppressedValue}"); null for ops (exact counts)`,
      }),
    columns: z.array(z.string()).meta({ description: 'The columns, in order: every row has each' }),
    rows: z.array(z.record(z.string(), z.union([z.string(), z.number()]))),
  })
  .meta({
    id: 'Report',
    description:
      `A report's table. A suppressed count is the string "${suppressedValue}", a value derived from one ` +
      `"${suppressedDerivedValue}"; docs/reports.md describes each report's columns.`,
  });

export type ReportOperationId = `get${Capitalize<ReportName>}Report`;
const operationIdOf = (name: ReportName): ReportOperationId =>
  `get${name.charAt(0).toUpperCase()}${name.slice(1)}Report` as ReportOperationId;

const outcome = (description: string) => ({
  description,
  content: { 'application/fhir+json': { schema: { $ref: '#/components/schemas/OperationOutcome' } } },
});

function operation(name: ReportName): OperationSpec {
  const definition = reportDefinitions[name];
  const areas = [...new Set(definition.families.flatMap(areaDimensionsOf))];
  const columns = definition.columns
    .map(
      (column) =>
        `- \`${column.name}\`${column.kind === 'label' ? '' : ` (${column.kind})`}: ${column.description}`,
    )
    .join('\n');
  return {
    tags: ['Reports'],
    summary: `The ${name} report`,
    description:
      `${definition.summary} From pre-aggregated figures only (${definition.families.join(' and ')}): ` +
      `a few Queries, never a scan, never a patient. For a commissioner every count from 1 to ` +
      `${suppressionThreshold - 1} is "${suppressedValue}" and a rate or band derived from one "${suppressedDerivedValue}" ` +
      `(docs/reports.md).\n\nColumns:\n${columns}`,
    parameters: [
      {
        name: 'from',
        in: 'query',
        required: false,
        description: `First day, YYYY-MM-DD (UTC); default ${defaultReportDays - 1} days before \`to\``,
        schema: { type: 'string', format: 'date' },
      },
      {
        name: 'to',
        in: 'query',
        required: false,
        description: `Last day, included, YYYY-MM-DD (UTC); default today. At most ${maxReportDays} days from \`from\``,
        schema: { type: 'string', format: 'date' },
      },
      ...(areas.length === 0
        ? []
        : [
            {
              name: 'area',
              in: 'query',
              required: false,
              description: `Only figures whose ${areas.join(' or ')} is this code (e.g. LS6, E08000035), case-insensitive`,
              schema: { type: 'string', pattern: '^[A-Za-z0-9]{1,12}$' },
            },
          ]),
      {
        name: 'format',
        in: 'query',
        required: false,
        description: 'json or csv; without it, the Accept header decides (text/csv), else JSON',
        schema: { type: 'string', enum: ['json', 'csv'] },
      },
    ],
    responses: {
      '200': {
        description: 'The report, as JSON or as CSV with the same columns (a header row first)',
        headers: {
          'X-Suppressed-Below': {
            description: `On CSV answers: the threshold applied (${suppressionThreshold}), or none for exact counts`,
            schema: { type: 'string' },
          },
        },
        content: {
          'application/json': { schema: { $ref: '#/components/schemas/Report' } },
          'text/csv': { schema: { type: 'string' } },
        },
      },
      '400': outcome(
        'An unknown or repeated parameter, a day that is not YYYY-MM-DD, `to` before `from`, a range over ' +
          `${maxReportDays} days, a malformed area${areas.length === 0 ? ' or any area (this report has none)' : ''}, ` +
          'or a format other than json or csv, each named (`REC_BAD_REQUEST`)',
      ),
    },
  };
}

export const reportOperations = Object.fromEntries(
  reportNames.map((name) => [operationIdOf(name), operation(name)]),
) as Record<ReportOperationId, OperationSpec>;
