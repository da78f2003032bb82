import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../infra/local/local-stack.ts';
import type { OperationOutcome } from '#http/operation-outcome.ts';
import { nhsCheckDigit } from '#referral/domain/nhs-number.ts';
import { FilePseudonymKey } from '#adapters/secrets/file-pseudonym-key.ts';
import { pseudonymOf } from '#reporting/domain/pseudonym.ts';
import { evaluationColumns } from '#reporting/domain/evaluation-rows.ts';
import { eventually, sampleReferral, storedReferral } from '../support/local.ts';

// The evaluation extract over the whole local stack: synthetic patients referred over HTTP by a GP system, routed by
// the router (IMD decile from the sample geography), then the extract asked for by ops over HTTP (gateway, authorizer,
// the evaluation function in its own worker with only its own environment, dynalite) and by the CLI. One patient has
// two referrals: the extract links them by pseudonym, carries none of the patients' identifiers, and is refused,
// naming the cell, once a cell holds fewer than k people.

const root = fileURLToPath(new URL('../../', import.meta.url));

/** An NHS number in the 999 range (never issued to a real person) with a valid Modulus 11 check digit. */
function syntheticNhsNumber(seed: number): string {
  for (let n = seed; ; n++) {
    const stem = `999${String(n).padStart(6, '0')}`;
    const check = nhsCheckDigit(stem);
    // A stem whose check digit would be 10 has no valid number: try the next.
    if (check !== undefined) return `${stem}${check}`;
  }
}

interface Synthetic {
  nhsNumber: string;
  given: string;
  family: string;
  birthDate: string;
  phone: string;
  email: string;
  postcode: string;
  gender: 'female' | 'male';
}

const patients: Synthetic[] = [0, 1, 2, 3, 4, 5].map((i) => ({
  nhsNumber: syntheticNhsNumber(731_000 + i * 17),
  given: `Evalgiven${'abcdef'[i]}`,
  family: `Evalfamily${'abcdef'[i]}`,
  // All 65-74 on any day of 2026-2028, so they share one age band.
  birthDate: `1958-0${i + 1}-1${i}`,
  phone: `0113 496 07${i}${i}`,
  email: `eval.patient${i}@example.org`,
  postcode: 'LS6 1AA',
  // The last one is the only man: alone in a cell of his own.
  gender: i === 5 ? 'male' : 'female',
}));

let stack: LocalStack;
let gpToken = '';
let opsToken = '';
const day = new Date().toISOString().slice(0, 10);
/** The day `offset` days from this week's Monday (UTC), as YYYY-MM-DD. */
function ofThisWeek(offset: number): string {
  const today = new Date(`${day}T00:00:00Z`);
  const sinceMonday = (today.getUTCDay() + 6) % 7;
  return new Date(today.getTime() + (offset - sinceMonday) * 86_400_000).toISOString().slice(0, 10);
}
// This ISO week, Monday to Sunday: an extract covers whole weeks only.
const monday = ofThisWeek(0);
const sunday = ofThisWeek(6);
const thisWeek = `from=${monday}&to=${sunday}`;
const ids: string[] = [];

async function refer(patient: Synthetic): Promise<string> {
  const body = sampleReferral('leeds-arts-and-mental-health') as { patient: Record<string, unknown> };
  body.patient = {
    nhsNumber: patient.nhsNumber,
    nhsNumberVerification: 'verified',
    name: { given: patient.given, family: patient.family },
    birthDate: patient.birthDate,
    gender: patient.gender,
    contact: { phone: patient.phone, email: patient.email, preferred: 'phone' },
    postcode: patient.postcode,
  };
  const answer = await fetch(`${stack.apiUrl}/referrals`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${gpToken}` },
    body: JSON.stringify(body),
  });
  expect(answer.status, await answer.clone().text()).toBe(202);
  const { referralId } = (await answer.json()) as { referralId: string };
  ids.push(referralId);
  return referralId;
}

async function routed(referralId: string): Promise<void> {
  await eventually(async () => {
    const referral = await storedReferral(stack.aws, referralId);
    return referral?.routing?.classification ? referral : undefined;
  }, `referral ${referralId} to be routed`);
}

async function extract(query: string): Promise<{ status: number; type: string; text: string }> {
  const answer = await fetch(`${stack.apiUrl}/evaluation/extract?${query}`, {
    headers: { Authorization: `Bearer ${opsToken}` },
  });
  return { status: answer.status, type: answer.headers.get('content-type') ?? '', text: await answer.text() };
}

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'infra/ops/evaluation-cli.ts', ...args], {
      cwd: root,
      env: {
        ...process.env,
        AWS_ENDPOINT_URL_DYNAMODB: stack.aws.dynamoDbEndpoint,
        REFERRALS_TABLE: stack.aws.tables.referrals,
        DIRECTORY_TABLE: stack.aws.tables.directory,
        PSEUDONYM_KEY: stack.aws.pseudonymKeyLocation,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const rowsOf = (csv: string): Array<Record<string, string>> =>
  parse(csv, { columns: true, skip_empty_lines: true }) as Array<Record<string, string>>;

/** Every way a synthetic patient could be recognised, as it might be written in a CSV. */
function identifiersOf(patient: Synthetic): string[] {
  return [
    patient.nhsNumber,
    `${patient.nhsNumber.slice(0, 3)} ${patient.nhsNumber.slice(3, 6)} ${patient.nhsNumber.slice(6)}`,
    patient.given,
    patient.family,
    patient.birthDate,
    patient.phone,
    patient.phone.replaceAll(' ', ''),
    patient.email,
    patient.postcode,
    patient.postcode.replace(' ', ''),
  ];
}

beforeAll(async () => {
  stack = await startLocalStack({ port: 0 });
  gpToken = await stack.issuer.mint({ role: 'gp-system', ods: ['A81001'], subject: 'evaluation-gp' });
  opsToken = await stack.issuer.mint({ role: 'ops', subject: 'evaluation-ops' });
  // The first patient twice, then four more: five women of 65-74 in one decile and one PCN.
  for (const patient of [patients[0]!, ...patients.slice(0, 5)]) await refer(patient);
  for (const id of ids) await routed(id);
}, 120_000);
afterAll(() => stack?.stop());

describe('the evaluation extract on the local stack', () => {
  let csv = '';

  it("links one patient's two referrals by pseudonym, and reads no referral by a scan", async () => {
    stack.aws.resetRequestCounts();
    const answer = await extract(thisWeek);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.type).toMatch(/^text\/csv/);
    expect(stack.aws.requestCounts()['DynamoDB_20120810.Scan'] ?? 0).toBe(0);
    csv = answer.text;
    expect(csv.split('\r\n')[0]).toBe(evaluationColumns.join(','));
    const rows = rowsOf(csv);
    expect(rows).toHaveLength(6);

    const key = await new FilePseudonymKey(stack.aws.pseudonymKeyLocation.slice('file:'.length)).key();
    const twice = pseudonymOf(key, 'patient', patients[0]!.nhsNumber);
    expect(rows.filter((row) => row.pseudonym === twice)).toHaveLength(2);
    expect(new Set(rows.map((row) => row.pseudonym)).size).toBe(5);
    for (const row of rows) {
      // No practice (finer than the PCN the k check groups by), no key of the referral (the pseudonym links).
      expect(Object.keys(row)).not.toContain('practice');
      expect(Object.keys(row)).not.toContain('referral_key');
      expect(Object.values(row)).not.toContain('A81001');
      expect(row).toMatchObject({
        channel: 'json',
        pcn: 'U00001',
        age_band: '65-74',
        sex: 'female',
        categories: 'arts;mental-health',
      });
      expect(row.imd_decile).toMatch(/^(\d{1,2})$/);
      expect(row.received_week).toMatch(/^\d{4}-W\d{2}$/);
    }
  });

  it("carries none of the synthetic patients' NHS numbers, names, birth dates, postcodes, phones or emails", () => {
    expect(csv).not.toBe('');
    for (const patient of patients)
      for (const identifier of identifiersOf(patient)) expect(csv).not.toContain(identifier);
    for (const id of ids) expect(csv).not.toContain(id);
    expect(csv).not.toContain(day);
    expect(csv).not.toContain('A81001');
  });

  it('the CLI makes the same extract with the same key: the same pseudonyms across extracts', async () => {
    const run = await runCli(['export', '--from', monday, '--to', sunday]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('6 rows, 5 people');
    expect(rowsOf(run.stdout).map((row) => row.pseudonym)).toEqual(rowsOf(csv).map((row) => row.pseudonym));
  });

  it('is refused, naming the cell, when a cell falls below k', async () => {
    // k above the five people of the one cell: that cell is named.
    const strict = await extract(`${thisWeek}&k=6`);
    expect(strict.status, strict.text).toBe(422);
    const outcome = JSON.parse(strict.text) as OperationOutcome;
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue[0]?.diagnostics).toMatch(
      /fewer than k=6 people: imd_decile=\d+, age_band=65-74, sex=female, pcn=U00001 \(5 people\)/,
    );

    // One man referred: a cell of one, so the default k (5) refuses the extract, naming his cell and nobody.
    const man = await refer(patients[5]!);
    await routed(man);
    const refused = await extract(thisWeek);
    expect(refused.status, refused.text).toBe(422);
    const diagnostics = (JSON.parse(refused.text) as OperationOutcome).issue[0]?.diagnostics ?? '';
    expect(diagnostics).toMatch(
      /fewer than k=5 people: imd_decile=\d+, age_band=65-74, sex=male, pcn=U00001 \(1 person\)/,
    );
    expect(diagnostics).not.toContain('sex=female');
    for (const identifier of identifiersOf(patients[5]!)) expect(refused.text).not.toContain(identifier);
    expect(refused.text).not.toContain(man);

    const cli = await runCli(['export', '--from', monday, '--to', sunday, '--dry-run']);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain('sex=male, pcn=U00001 (1 person)');
    expect(cli.stdout).toBe('');
  });

  it('answers a bad request 400 naming the field', async () => {
    const answer = await extract(`from=${monday}`);
    expect(answer.status).toBe(400);
    expect(answer.text).toContain('to: is required');
    const repeated = await extract(`${thisWeek}&to=${sunday}`);
    expect(repeated.status).toBe(400);
    expect(repeated.text).toContain('to: must be given once');
    const unknown = await extract(`${thisWeek}&nhsNumber=${patients[0]!.nhsNumber}`);
    expect(unknown.status).toBe(400);
    expect(unknown.text).toContain('nhsNumber');
    expect(unknown.text).not.toContain(patients[0]!.nhsNumber);
  });

  it('takes whole ISO weeks only: a day, or a range from any day but a Monday to any but a Sunday, is 400', async () => {
    // One day (Tuesday to Tuesday): every row would give its received day.
    const oneDay = await extract(`from=${ofThisWeek(1)}&to=${ofThisWeek(1)}`);
    expect(oneDay.status, oneDay.text).toBe(400);
    expect(oneDay.text).toContain('from: must be a Monday: the extract covers whole ISO weeks');
    expect(oneDay.text).toContain('to: must be a Sunday: the extract covers whole ISO weeks');
    // A day off at either end: two such ranges differenced would give a day's rows.
    const lateStart = await extract(`from=${ofThisWeek(1)}&to=${sunday}`);
    expect(lateStart.status, lateStart.text).toBe(400);
    expect(lateStart.text).toContain('from: must be a Monday');
    expect(lateStart.text).not.toContain('to: must be');
    const earlyEnd = await extract(`from=${monday}&to=${ofThisWeek(5)}`);
    expect(earlyEnd.status, earlyEnd.text).toBe(400);
    expect(earlyEnd.text).toContain('to: must be a Sunday');

    const cli = await runCli(['export', '--from', ofThisWeek(1), '--to', sunday, '--dry-run']);
    expect(cli.code, cli.stderr).toBe(2);
    expect(cli.stderr).toContain('--from must be a Monday: the extract covers whole ISO weeks');
    expect(cli.stdout).toBe('');
  });

  it('lets k be raised, never lowered below the default 5: a lower k is 400 naming k', async () => {
    for (const k of ['2', '4']) {
      const lowered = await extract(`${thisWeek}&k=${k}`);
      expect(lowered.status, lowered.text).toBe(400);
      expect(lowered.text).toContain(
        'k: must be a whole number from 5 to 100: k may be raised above the default 5, never lowered below it',
      );
      expect(lowered.text).not.toContain('pseudonym');
    }
    const cli = await runCli(['export', '--from', monday, '--to', sunday, '--k', '2', '--dry-run']);
    expect(cli.code, cli.stderr).toBe(2);
    expect(cli.stderr).toContain('--k must be a whole number from 5 to 100');
    expect(cli.stdout).toBe('');
  });
});
