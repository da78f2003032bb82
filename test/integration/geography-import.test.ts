import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTables } from '../../infra/local/provision.ts';
import { startLocalDynamoDb, type LocalServer } from '../../infra/local/servers.ts';
import { startLocalAws } from '../../infra/local/local-aws.ts';
import { generateNspl } from '../../infra/ops/geography/generate-nspl.ts';
import { countGeographyItems, DynamoGeography } from '#adapters/dynamodb/geography-store.ts';

// `npm run geography -- import ...` as an operator runs it (a child process, tsx, from the repository root) against
// a local DynamoDB server: the samples land and answer lookups, bad rows are reported by line while good rows land,
// the wrong IMD edition is refused before any write, and an import killed with SIGKILL resumes from its checkpoint
// to the same row count as an uninterrupted one.

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = 'infra/ops/geography-cli.ts';
const sample = (name: string) => join(root, 'events/geography', name);

let server: LocalServer;
let client: DynamoDBDocumentClient;
let geography: DynamoGeography;
let work: string;
let table: string;

beforeAll(async () => {
  server = await startLocalDynamoDb({ port: 0 });
  const dynamoDb = new DynamoDBClient({
    endpoint: server.endpoint,
    region: 'eu-west-2',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  client = DynamoDBDocumentClient.from(dynamoDb, { marshallOptions: { removeUndefinedValues: true } });
  table = (await createTables(dynamoDb)).geography;
  geography = new DynamoGeography(client, table);
  work = mkdtempSync(join(tmpdir(), 'geography-import-'));
});

afterAll(async () => {
  client.destroy();
  await server.stop();
  rmSync(work, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function start(args: string[], target?: Record<string, string>): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], {
    cwd: root,
    env: { ...process.env, AWS_ENDPOINT_URL_DYNAMODB: server.endpoint, GEOGRAPHY_TABLE: table, ...target },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

const run = (args: string[]): Promise<Run> => start(args).done;

/** The summary's count of one kind (`rows read   60,000` -> 60000). */
function counted(run: Run, what: string): number {
  const match = new RegExp(`^\\s+${what}\\s+([\\d,]+)`, 'm').exec(run.stdout);
  if (!match?.[1]) throw new Error(`no "${what}" in the summary:\n${run.stdout}\n${run.stderr}`);
  return Number(match[1].replaceAll(',', ''));
}

describe('the samples', () => {
  beforeAll(async () => {
    const runs = await Promise.all([
      run(['import', 'nspl', sample('nspl-sample.csv'), '--state-dir', work]),
      run(['import', 'imd', sample('imd2019-sample.csv'), '--edition', '2019', '--state-dir', work]),
      run(['import', 'imd', sample('imd2025-sample.csv'), '--edition', '2025', '--state-dir', work]),
    ]);
    for (const result of runs) expect(result.code, result.stderr).toBe(0);
    const [nspl] = runs;
    expect(nspl && counted(nspl, 'rows read')).toBe(47);
    expect(nspl && counted(nspl, 'written')).toBe(47);
    expect(nspl && counted(nspl, 'bad')).toBe(0);
  }, 60_000);

  it('locates a live postcode in any spelling, with its LSOA, local authority and country', async () => {
    for (const spelling of ['LS6 1AA', 'ls61aa', ' LS6  1AA ']) {
      await expect(geography.locate(spelling)).resolves.toEqual({
        postcode: 'LS6 1AA',
        district: 'LS6',
        lsoa21: 'E01011331',
        localAuthority: 'E08000035',
        country: 'E92000001',
        terminated: false,
      });
    }
  });

  it('keeps terminated postcodes, marked', async () => {
    await expect(geography.locate('FY1 4BB')).resolves.toMatchObject({
      terminated: true,
      terminatedOn: '201107',
    });
    await expect(geography.locate('LS6 9ZZ')).resolves.toEqual({
      postcode: 'LS6 9ZZ',
      district: 'LS6',
      country: 'E92000001',
      terminated: true,
      terminatedOn: '200512',
    });
  });

  it('stores postcodes of other nations with their country', async () => {
    await expect(geography.locate('CF10 1ZZ')).resolves.toMatchObject({ country: 'W92000004' });
    await expect(geography.locate('EH1 1ZZ')).resolves.toMatchObject({ country: 'S92000003' });
    await expect(geography.locate('ZZ1 1ZZ')).resolves.toBeUndefined();
  });

  it("gives an LSOA's deprivation by edition: Blackpool FY1 in the most deprived tenth, Adel in the least", async () => {
    await expect(geography.deprivation('E01012670', '2019')).resolves.toEqual({
      edition: '2019',
      lsoa: 'E01012670',
      rank: 12,
      decile: 1,
    });
    await expect(geography.deprivation('E01012670', '2025')).resolves.toMatchObject({ rank: 8, decile: 1 });
    // "32,500" in the file: thousands separators stripped.
    await expect(geography.deprivation('E01011400', '2019')).resolves.toMatchObject({
      rank: 32_500,
      decile: 10,
    });
    // Split in 2021: the new code is ranked in 2025 only.
    await expect(geography.deprivation('E01035001', '2025')).resolves.toMatchObject({
      rank: 5_200,
      decile: 2,
    });
    await expect(geography.deprivation('E01035001', '2019')).resolves.toBeUndefined();
    // Out of scope: other nations' indices.
    await expect(geography.deprivation('W01001900', '2019')).resolves.toBeUndefined();
  });

  it('npm run geography -- locate shows a postcode with its deprivation in both editions', async () => {
    const result = await run(['locate', 'fy1 4ab']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      location: {
        postcode: 'FY1 4AB',
        district: 'FY1',
        lsoa21: 'E01012670',
        localAuthority: 'E06000009',
        country: 'E92000001',
        terminated: false,
      },
      deprivation: [
        { edition: '2019', lsoa: 'E01012670', rank: 12, decile: 1 },
        { edition: '2025', lsoa: 'E01012670', rank: 8, decile: 1 },
      ],
    });
  });
});

it('bad rows are reported with their line and rule while the good rows land', async () => {
  const errors = join(work, 'bad-rows.jsonl');
  const result = await run([
    'import',
    'nspl',
    sample('nspl-bad-rows.csv'),
    '--errors',
    errors,
    '--state-dir',
    work,
  ]);
  expect(result.code, result.stderr).toBe(0);
  const expected = [
    { line: 3, rule: 'postcode is empty' },
    { line: 4, rule: 'postcode "LS6 XBA" is not shaped like a UK postcode' },
    { line: 5, rule: 'doterm "2019-03" is not a month as YYYYMM' },
    { line: 6, rule: 'lsoa21 "E01BAD" is not an area code (a letter and 8 digits)' },
    { line: 8, rule: 'has 30 fields where the header has 35' },
    { line: 9, rule: 'a quote is not closed on this line' },
  ];
  for (const { line, rule } of expected) expect(result.stderr).toContain(`bad row, line ${line}: ${rule}`);
  expect(
    readFileSync(errors, 'utf8')
      .trim()
      .split('\n')
      .map((text) => JSON.parse(text) as unknown),
  ).toEqual(expected.map((e) => ({ ...e, severity: 'error' })));
  expect([counted(result, 'rows read'), counted(result, 'written'), counted(result, 'bad')]).toEqual([
    10, 4, 6,
  ]);
  expect(counted(result, 'terminated')).toBe(1);
  // The good rows on either side of the bad ones, the one after the unreadable line included.
  for (const postcode of ['LS6 1AA', 'FY1 4AD', 'TN34 2DA']) {
    await expect(geography.locate(postcode)).resolves.toMatchObject({ postcode, terminated: false });
  }
  await expect(geography.locate('TN37 7LE')).resolves.toMatchObject({ terminated: true });
}, 60_000);

it('an IMD file given with the wrong edition is refused before anything is written', async () => {
  const before = await countGeographyItems(client, table, 'LSOA#');
  const result = await run([
    'import',
    'imd',
    sample('imd2019-sample.csv'),
    '--edition',
    '2025',
    // A state directory of its own: the samples' complete checkpoint of this file (imd-2019) is in `work`.
    '--state-dir',
    join(work, 'wrong-edition'),
  ]);
  expect(result.code).toBe(1);
  expect(result.stderr).toContain(
    'edition 2025 is keyed on 2021 LSOAs ("LSOA code (2021)"), but this file\'s LSOA column is "LSOA code (2011)": ' +
      'it looks like the IMD 2019 file (edition 2019)',
  );
  expect(result.stderr).not.toMatch(/^\s+at /m);
  expect(await countGeographyItems(client, table, 'LSOA#')).toBe(before);
}, 60_000);

it('an import killed with SIGKILL resumes from its checkpoint and ends with the row count of an uninterrupted one', async () => {
  // A server of its own, so the table holds this import's rows alone.
  const own = await startLocalDynamoDb({ port: 0 });
  const dynamoDb = new DynamoDBClient({
    endpoint: own.endpoint,
    region: 'eu-west-2',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const ownClient = DynamoDBDocumentClient.from(dynamoDb);
  const ownTable = (await createTables(dynamoDb)).geography;
  try {
    const file = join(work, 'nspl-30k.csv');
    const generated = await generateNspl(file, { rows: 30_000, seed: 8 });
    const checkpoint = `${file}.checkpoint.json`;
    const args = ['import', 'nspl', file];
    const env = { AWS_ENDPOINT_URL_DYNAMODB: own.endpoint, GEOGRAPHY_TABLE: ownTable };

    const first = start(args, env);
    // Kill it once a checkpoint shows a good part written, but well before the end.
    const killedAt = await new Promise<number>((resolve, reject) => {
      const timer = setInterval(() => {
        if (!existsSync(checkpoint)) return;
        const { line } = JSON.parse(readFileSync(checkpoint, 'utf8')) as { line: number };
        if (line > 6_000) {
          clearInterval(timer);
          first.child.kill('SIGKILL');
          resolve(line);
        }
      }, 50);
      void first.done.then(() => {
        clearInterval(timer);
        reject(new Error('the import finished before it could be killed'));
      });
    });
    expect((await first.done).signal).toBe('SIGKILL');
    expect(killedAt).toBeLessThan(25_000);
    // Rows were written past the checkpoint before the kill (they are written again: puts are idempotent).
    expect(await countGeographyItems(ownClient, ownTable, 'PC#')).toBeGreaterThanOrEqual(killedAt - 2);

    const second = await start(args, env).done;
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/Resuming after line [\d,]+/);
    expect(second.stdout).toMatch(/resumed after line/);
    // The counts of an uninterrupted run of this file: what the generator wrote.
    expect(counted(second, 'rows read')).toBe(30_000);
    expect(counted(second, 'written')).toBe(generated.good);
    expect(counted(second, 'terminated')).toBe(generated.terminated);
    expect(counted(second, 'bad')).toBe(generated.bad);
    // Every good row stored, once.
    expect(await countGeographyItems(ownClient, ownTable, 'PC#')).toBe(generated.good);
  } finally {
    ownClient.destroy();
    await own.stop();
  }
}, 120_000);

it('the local stack loads the samples at start (seedGeography), and loading them again changes nothing', async () => {
  const aws = await startLocalAws();
  try {
    expect(await aws.seedGeography()).toEqual({ locations: 47, deprivation: 41 });
    expect(await aws.seedGeography()).toEqual({ locations: 47, deprivation: 41 });
    const local = new DynamoGeography(aws.documentClient, aws.tables.geography);
    await expect(local.locate('TN37 6AA')).resolves.toMatchObject({
      lsoa21: 'E01020970',
      localAuthority: 'E07000062',
    });
    await expect(local.deprivation('E01020970', '2019')).resolves.toMatchObject({ rank: 3_300, decile: 2 });
    await expect(local.deprivation('E01020970', '2025')).resolves.toMatchObject({ rank: 3_300, decile: 1 });
    expect(await countGeographyItems(aws.documentClient, aws.tables.geography, 'PC#')).toBe(47);
  } finally {
    await aws.stop();
  }
});
