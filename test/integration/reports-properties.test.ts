import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoFigures } from '#adapters/dynamodb/figures.ts';
import type { Caller } from '#auth/caller.ts';
import type { Figure } from '#reporting/domain/figures.ts';
import { reportDefinitions } from '#reporting/domain/reports/catalogue.ts';
import { reportNames, type Report } from '#reporting/domain/report-shape.ts';
import {
  apiEvent,
  contextFor,
  expectWellFormed,
  startHandlerRig,
  type ApiHandler,
  type HandlerRig,
} from '../support/local.ts';

// Property-based: whatever query and Accept header an ops or commissioner caller sends to any report (unknown,
// repeated, prototype-pollution and huge parameters, days that are not days, any area or format), the answer is never
// a 5xx, every refusal is a well-formed OperationOutcome naming a parameter, and every success is a whole report (JSON
// or CSV) whose commissioner version holds no count from 1 to 4. The real reports handler against local DynamoDB.

let rig: HandlerRig;
let reports: ApiHandler;

beforeAll(async () => {
  rig = await startHandlerRig();
  reports = ((await import('../../functions/reports/handler.ts')) as { handler: ApiHandler }).handler;
  // A few small counts today in every family (3 units a cell), for the default range to find and suppress.
  const figures = new DynamoFigures(rig.aws.documentClient, rig.aws.tables.metrics);
  const day = new Date().toISOString().slice(0, 10);
  const cells: Figure[] = [
    {
      family: 'needs',
      day,
      dimensions: { category: 'arts', outcome: 'unmet', reason: 'no-service', area: 'LS6', imd: '2019:2' },
    },
    { family: 'funnel', day, dimensions: { stage: 'referred', reason: '-', area: 'LS6', imd: '2019:2' } },
    {
      family: 'responses',
      day,
      dimensions: {
        partner: 'arts-for-all',
        category: 'arts',
        outcome: 'accepted',
        reason: '-',
        band: 'within-4h',
      },
    },
    {
      family: 'outcomes',
      day,
      dimensions: { measure: 'ucla3', timepoint: 'baseline', band: '6', change: '-', pcn: 'U00001' },
    },
    {
      family: 'surges',
      day,
      dimensions: { category: 'arts', area: 'LS6', observed: '9', expected: '1.5', threshold: '6' },
    },
  ] as Figure[];
  for (const unit of ['a', 'b', 'c']) await figures.recordOnce(cells, `prop-${unit}`);
});
afterAll(() => rig?.stop());

const callers: Caller[] = [
  { subject: 'prop-ops', role: 'ops', organisations: [] },
  { subject: 'prop-commissioner', role: 'commissioner', organisations: [] },
];

const day = fc.oneof(
  fc
    .date({ min: new Date('1990-01-01'), max: new Date('2100-12-31'), noInvalidDate: true })
    .map((d) => d.toISOString().slice(0, 10)),
  fc.constantFrom(
    '2026-02-30',
    '2026-13-01',
    '26-11-01',
    '2026-11-1',
    '',
    ' 2026-11-01',
    '2026-11-01T00:00:00Z',
  ),
  fc.string({ maxLength: 40 }),
);
const value = fc.oneof(
  day,
  fc.constantFrom('csv', 'json', 'CSV', 'LS6', 'e08000035', 'U00001', '__proto__', '\u0000', '\ud800', '%zz'),
  fc.string({ maxLength: 3000 }),
  fc.string({ unit: 'binary', maxLength: 50 }),
);
const name = fc.oneof(
  fc.constantFrom('from', 'to', 'area', 'format'),
  fc.constantFrom('From', 'toString', '__proto__', 'constructor', 'report', 'format[]', ''),
  fc.string({ minLength: 1, maxLength: 80 }),
);
const query = fc.array(fc.tuple(name, value), { maxLength: 6 });
const accept = fc.option(
  fc.oneof(
    fc.constantFrom('text/csv', 'application/json', 'text/csv;q=0', '*/*', 'text/csv;q=NaN'),
    fc.string({ maxLength: 200 }),
  ),
  { nil: undefined },
);

describe('the reports under hostile queries', () => {
  it('never a 5xx; a refusal names a parameter; a success is a whole report, suppressed for commissioners', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...reportNames),
        fc.constantFrom(...callers),
        query,
        accept,
        async (report, caller, parameters, acceptHeader) => {
          const event = apiEvent(
            'GET',
            `/reports/${report}`,
            '',
            acceptHeader === undefined ? {} : { Accept: acceptHeader },
            caller,
          );
          // The query as Lambda hands it over (parsed from JSON, so `__proto__` is a key like any other): built here
          // rather than by the local gateway, which cannot hold a `__proto__` parameter (reported to the lead).
          const multi = new Map<string, string[]>();
          for (const [key, given] of parameters) multi.set(key, [...(multi.get(key) ?? []), given]);
          event.queryStringParameters =
            multi.size === 0
              ? null
              : JSON.parse(JSON.stringify(Object.fromEntries([...multi].map(([k, v]) => [k, v.at(-1)]))));
          event.multiValueQueryStringParameters =
            multi.size === 0 ? null : JSON.parse(JSON.stringify(Object.fromEntries(multi)));
          const response = await reports(event, contextFor('reports'));
          expectWellFormed(response);
          if (response.statusCode >= 400) {
            expect(response.statusCode).toBe(400);
            const outcome = JSON.parse(response.body) as { issue: Array<{ expression?: string[] }> };
            expect(outcome.issue.every((issue) => (issue.expression?.length ?? 0) === 1)).toBe(true);
            return;
          }
          expect(response.statusCode).toBe(200);
          const type = String(response.headers?.['Content-Type'] ?? '');
          if (type.startsWith('text/csv')) {
            expect(response.body.split('\r\n')[0]?.length).toBeGreaterThan(0);
            return;
          }
          const body = JSON.parse(response.body) as Report;
          expect(body.report).toBe(report);
          expect(body.suppressedBelow).toBe(caller.role === 'ops' ? null : 5);
          expect(body.from <= body.to).toBe(true);
          if (caller.role === 'ops') return;
          const counts = reportDefinitions[report].columns.filter((column) => column.kind === 'count');
          for (const row of body.rows)
            for (const column of counts) expect([1, 2, 3, 4]).not.toContain(row[column.name]);
        },
      ),
      { numRuns: 300 },
    );
  });
});
