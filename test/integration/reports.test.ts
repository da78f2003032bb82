import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../infra/local/local-stack.ts';
import { DynamoFigures } from '#adapters/dynamodb/figures.ts';
import type { OperationOutcome } from '#http/operation-outcome.ts';
import { reportNames, type Report, type ReportName } from '#reporting/domain/report-shape.ts';
import { reportDefinitions } from '#reporting/domain/reports/catalogue.ts';
import { offerIdFor } from '#referral/domain/offer.ts';
import { eventually, sampleReferral, storedReferral } from '../support/local.ts';

// The reports API over the whole local stack: referrals submitted by a GP system are routed (the router records
// their figures), a link worker takes one up and a partner answers its offer (the funnel's and the responses'
// figures); a surge row is recorded as the surge job would. Then every report is read over HTTP (gateway, authorizer,
// the reports function in its own worker, dynalite) as ops and as a commissioner, as JSON and as CSV, with the
// DynamoDB requests each makes counted at the local server: Queries of the figures only, never a scan.

let stack: LocalStack;
let ops = '';
let commissioner = '';
const today = new Date().toISOString().slice(0, 10);
// One calendar month (the figures are one partition a month), so each family is exactly one Query.
const monthStart = `${today.slice(0, 8)}01`;
let leedsArea = '';

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

async function get(path: string, token: string, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(`${stack.apiUrl}${path}`, {
    headers: { Authorization: `Bearer ${token}`, ...headers },
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

async function report(
  name: ReportName,
  token: string,
  query = `from=${monthStart}&to=${today}`,
): Promise<Report> {
  const answer = await get(`/reports/${name}?${query}`, token);
  expect(answer.status, answer.text).toBe(200);
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
  return JSON.parse(answer.text) as Report;
}

async function post(path: string, token: string, body: unknown): Promise<Answer> {
  const response = await fetch(`${stack.apiUrl}${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

beforeAll(async () => {
  stack = await startLocalStack({ port: 0, throttle: { ratePerSecond: 1000, burst: 1000 } });
  [ops, commissioner] = await Promise.all([
    stack.issuer.mint({ role: 'ops', subject: 'reports-ops' }),
    stack.issuer.mint({ role: 'commissioner', subject: 'reports-commissioner' }),
  ]);
  const gp = await stack.issuer.mint({
    role: 'gp-system',
    ods: ['A81001', 'B82001', 'C83001'],
    subject: 'reports-gp',
  });
  const samples = [
    'leeds-arts-and-mental-health',
    'leeds-arts-and-mental-health',
    'blackpool-benefits-and-activity',
    'hastings-befriending-no-consent',
  ];
  const ids: string[] = [];
  for (const sample of samples) {
    const answer = await post('/referrals', gp, sampleReferral(sample));
    expect(answer.status, answer.text).toBe(202);
    ids.push((JSON.parse(answer.text) as { referralId: string }).referralId);
  }
  for (const id of ids)
    await eventually(async () => (await storedReferral(stack.aws, id))?.routing, `referral ${id} routed`);

  // The team takes the first up; the arts partner accepts its offer.
  const [first = ''] = ids;
  const team = await stack.issuer.mint({ role: 'link-worker', team: 'lw-woodhouse', subject: 'reports-lw' });
  const referral = await storedReferral(stack.aws, first);
  const accepted = await post(`/team/referrals/${first}/accept`, team, { version: referral?.version });
  expect(accepted.status, accepted.text).toBe(200);
  const partner = await stack.issuer.mint({
    role: 'partner',
    partner: 'arts-for-all',
    subject: 'reports-partner',
  });
  const offerId = offerIdFor(first, 'arts', 'svc-arts-studio');
  const offer = JSON.parse((await get(`/partner/offers/${offerId}`, partner)).text) as { version: number };
  const answered = await post(`/partner/offers/${offerId}/accept`, partner, { version: offer.version });
  expect(answered.status, answered.text).toBe(200);

  // A surge row, as the daily surge job records one (its own test shows the job finding it).
  const figures = new DynamoFigures(stack.aws.documentClient, stack.aws.tables.metrics);
  await figures.recordOnce(
    [
      {
        family: 'surges',
        day: today,
        dimensions: { category: 'arts', area: 'LS6', observed: '14', expected: '3.25', threshold: '11' },
      },
    ],
    `surge#${today}#arts#LS6`,
  );
  const needs = await figures.cells('needs', today, today);
  leedsArea = needs.find((cell) => cell.dimensions.practice === 'A81001')?.dimensions.area ?? '';
  expect(leedsArea).not.toBe('');
}, 120_000);

afterAll(() => stack?.stop());

describe('the reports over HTTP', () => {
  it('volumes: ops sees exact counts, a commissioner the same rows with small counts suppressed', async () => {
    const exact = await report('volumes', ops);
    expect(exact).toMatchObject({ report: 'volumes', from: monthStart, to: today, suppressedBelow: null });
    const arts = exact.rows.find((row) => row.day === today && row.category === 'arts');
    // Two Leeds referrals, each with an arts need.
    expect(arts?.needs).toBe(2);
    const suppressed = await report('volumes', commissioner);
    expect(suppressed.suppressedBelow).toBe(5);
    expect(suppressed.rows.map((row) => [row.day, row.category])).toEqual(
      exact.rows.map((row) => [row.day, row.category]),
    );
    expect(suppressed.rows.find((row) => row.day === today && row.category === 'arts')?.needs).toBe('<5');
    expect(JSON.stringify(suppressed.rows)).not.toMatch(/"needs":[1-4][,}]/);
  });

  it('funnel, deprivation, gaps, partners, outcomes and surges answer what happened', async () => {
    const funnel = await report('funnel', ops);
    expect(funnel.rows).toContainEqual({ stage: 'referred', reason: '-', referrals: 4 });
    expect(funnel.rows).toContainEqual({ stage: 'received', reason: '-', referrals: 1 });
    const deprivation = await report('deprivation', ops);
    const total = (column: string) =>
      deprivation.rows.reduce((sum, row) => sum + (typeof row[column] === 'number' ? row[column] : 0), 0);
    expect(total('referred')).toBe(4);
    expect(total('takenUp')).toBe(1);
    const partners = await report('partners', ops);
    expect(partners.rows).toContainEqual(
      expect.objectContaining({ partner: 'arts-for-all', answered: 1, accepted: 1, acceptanceRate: 100 }),
    );
    const forCommissioner = await report('partners', commissioner);
    expect(forCommissioner.rows).toContainEqual(
      expect.objectContaining({ partner: 'arts-for-all', answered: '<5', acceptanceRate: 'suppressed' }),
    );
    expect((await report('surges', commissioner)).rows).toEqual([
      // The threshold is worked out from the expected count, so it is hidden with it.
      { day: today, category: 'arts', area: 'LS6', observed: 14, expected: '<5', threshold: 'suppressed' },
    ]);
    for (const name of ['gaps', 'outcomes'] as const) {
      const answer = await report(name, ops);
      expect(answer.columns).toEqual(reportDefinitions[name].columns.map((column) => column.name));
    }
  });

  it('the area filter keeps one area only', async () => {
    const leeds = await report('volumes', ops, `from=${monthStart}&area=${leedsArea.toLowerCase()}`);
    expect(leeds.area).toBe(leedsArea);
    expect(leeds.rows.map((row) => row.category).sort()).toEqual(['arts', 'mental-health']);
    expect((await report('volumes', ops, 'area=ZZ99')).rows).toEqual([]);
  });

  it('CSV, by format=csv or Accept: text/csv: the same columns and values, suppression visible', async () => {
    for (const [query, headers] of [
      [`from=${monthStart}&format=csv`, {}],
      [`from=${monthStart}`, { Accept: 'text/csv' }],
    ] as const) {
      const answer = await get(`/reports/volumes?${query}`, commissioner, headers);
      expect(answer.status, answer.text).toBe(200);
      expect(answer.headers.get('content-type')).toMatch(/^text\/csv/);
      expect(answer.headers.get('content-disposition')).toBe(
        `attachment; filename="volumes-${monthStart}-to-${today}.csv"`,
      );
      expect(answer.headers.get('x-suppressed-below')).toBe('5');
      const records = parse(answer.text) as string[][];
      expect(records[0]).toEqual(['day', 'category', 'needs']);
      expect(records).toContainEqual([today, 'arts', '<5']);
    }
    const exact = await get(`/reports/volumes?from=${monthStart}&format=csv`, ops);
    expect(parse(exact.text)).toContainEqual([today, 'arts', '2']);
    expect(exact.headers.get('x-suppressed-below')).toBe('none');
  });

  it.each([
    ['an unknown parameter', 'form=2026-01-01', 'form'],
    ['a day that is no day', 'from=2026-02-30', 'from'],
    ['to before from', 'from=2026-03-02&to=2026-03-01', 'to'],
    ['a range over 366 days', 'from=2025-01-01&to=2026-01-02', 'from'],
    ['a format not offered', 'format=xlsx', 'format'],
    ['a repeated parameter', 'from=2026-01-01&from=2026-01-02', 'from'],
  ])('400 for %s, naming the parameter', async (_what, query, parameter) => {
    const answer = await get(`/reports/volumes?${query}`, commissioner);
    expect(answer.status, answer.text).toBe(400);
    expect(answer.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    const outcome = JSON.parse(answer.text) as OperationOutcome;
    expect(outcome.issue[0]?.expression).toEqual([parameter]);
    expect(outcome.issue[0]?.details.coding[0]?.code).toBe('REC_BAD_REQUEST');
  });

  it('400 for an area on the partners report (its figures carry none)', async () => {
    const answer = await get('/reports/partners?area=LS6', ops);
    expect(answer.status).toBe(400);
    expect((JSON.parse(answer.text) as OperationOutcome).issue[0]?.expression).toEqual(['area']);
  });

  it('each report is one DynamoDB Query per family for a month, and nothing else', async () => {
    for (const name of reportNames) {
      const families = reportDefinitions[name].families.length;
      // The smallest of three tries: a scheduled job's requests landing in one window cannot hide a report's own.
      const tries: Array<Record<string, number>> = [];
      for (let i = 0; i < 3; i++) {
        stack.aws.resetRequestCounts();
        await report(name, commissioner);
        tries.push(
          Object.fromEntries(
            Object.entries(stack.aws.requestCounts()).filter(([operation]) =>
              operation.startsWith('DynamoDB'),
            ),
          ),
        );
      }
      const requests = (counts: Record<string, number>) =>
        Object.values(counts).reduce((sum, n) => sum + n, 0);
      const fewest = tries.sort((a, b) => requests(a) - requests(b))[0];
      expect(fewest, name).toEqual({ 'DynamoDB_20120810.Query': families });
    }
  });
});

describe('npm run reports -- export, against the same figures', () => {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const run = (args: string[], endpoint = stack.aws.dynamoDbEndpoint) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'infra/ops/reports-cli.ts', ...args], {
        cwd: root,
        env: {
          ...process.env,
          AWS_ENDPOINT_URL_DYNAMODB: endpoint,
          METRICS_TABLE: stack.aws.tables.metrics,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 60_000,
        killSignal: 'SIGKILL',
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  const range = (): string[] => ['--from', monthStart, '--to', today];

  it('exports CSV as a commissioner by default, and exact counts --as ops, as the API answers them', async () => {
    const suppressed = await run(['export', 'volumes', ...range()]);
    expect(suppressed.code, suppressed.stderr).toBe(0);
    expect(parse(suppressed.stdout)).toContainEqual([today, 'arts', '<5']);
    expect(suppressed.stderr).toMatch(/counts below 5 suppressed/);
    const api = await get(`/reports/volumes?from=${monthStart}&to=${today}&format=csv`, commissioner);
    expect(suppressed.stdout).toBe(api.text);

    const out = join(mkdtempSync(join(tmpdir(), 'reports-cli-')), 'volumes.json');
    const exact = await run(['export', 'volumes', ...range(), '--as', 'ops', '--out', out]);
    expect(exact.code, exact.stderr).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(await report('volumes', ops));
  });

  it('--dry-run names its Queries and reads nothing (against a DynamoDB that is not there)', async () => {
    const dry = await run(['export', 'deprivation', ...range(), '--dry-run'], 'http://127.0.0.1:9');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`metric = figure#funnel#${today.slice(0, 7)}`);
    expect(dry.stdout).toContain(`metric = figure#needs#${today.slice(0, 7)}`);
    expect(dry.stdout).toMatch(/2 Queries/);
    // The control: the same export for real finds no DynamoDB there.
    expect((await run(['export', 'deprivation', ...range()], 'http://127.0.0.1:9')).code).toBe(1);
  });

  it('refuses what the API refuses, naming the option (exit 2)', async () => {
    const backwards = await run(['export', 'volumes', '--from', today, '--to', '2020-01-01']);
    expect(backwards.code).toBe(2);
    expect(backwards.stderr).toMatch(/^--to must not be before from/);
    const unknown = await run(['export', 'referrals', ...range()]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^no report "referrals"/);
  });
});
