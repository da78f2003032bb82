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
    const answer = await extract(`from=${day}&to=${day}`);
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
    expect(new Set(rows.map((row) => row.referral_key)).size).toBe(6);
    for (const row of rows) {
      expect(row).toMatchObject({
        channel: 'json',
        practice: 'A81001',
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
  });

  it('the CLI makes the same extract with the same key: the same pseudonyms across extracts', async () => {
    const run = await runCli(['export', '--from', day, '--to', day]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('6 rows, 5 people');
    expect(rowsOf(run.stdout).map((row) => row.pseudonym)).toEqual(rowsOf(csv).map((row) => row.pseudonym));
  });

  it('is refused, naming the cell, when a cell falls below k', async () => {
    // k above the five people of the one cell: that cell is named.
    const strict = await extract(`from=${day}&to=${day}&k=6`);
    expect(strict.status, strict.text).toBe(422);
    const outcome = JSON.parse(strict.text) as OperationOutcome;
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue[0]?.diagnostics).toMatch(
      /fewer than k=6 people: imd_decile=\d+, age_band=65-74, sex=female, pcn=U00001 \(5 people\)/,
    );

    // One man referred: a cell of one, so the default k (5) refuses the extract, naming his cell and nobody.
    const man = await refer(patients[5]!);
    await routed(man);
    const refused = await extract(`from=${day}&to=${day}`);
    expect(refused.status, refused.text).toBe(422);
    const diagnostics = (JSON.parse(refused.text) as OperationOutcome).issue[0]?.diagnostics ?? '';
    expect(diagnostics).toMatch(
      /fewer than k=5 people: imd_decile=\d+, age_band=65-74, sex=male, pcn=U00001 \(1 person\)/,
    );
    expect(diagnostics).not.toContain('sex=female');
    for (const identifier of identifiersOf(patients[5]!)) expect(refused.text).not.toContain(identifier);
    expect(refused.text).not.toContain(man);

    const cli = await runCli(['export', '--from', day, '--to', day, '--dry-run']);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain('sex=male, pcn=U00001 (1 person)');
    expect(cli.stdout).toBe('');
  });

  it('answers a bad request 400 naming the field', async () => {
    const answer = await extract(`from=${day}`);
    expect(answer.status).toBe(400);
    expect(answer.text).toContain('to: is required');
    const repeated = await extract(`from=${day}&to=${day}&to=${day}`);
    expect(repeated.status).toBe(400);
    expect(repeated.text).toContain('to: must be given once');
    const unknown = await extract(`from=${day}&to=${day}&nhsNumber=${patients[0]!.nhsNumber}`);
    expect(unknown.status).toBe(400);
    expect(unknown.text).toContain('nhsNumber');
    expect(unknown.text).not.toContain(patients[0]!.nhsNumber);
  });
});
