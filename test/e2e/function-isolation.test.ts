import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReferralStatusView } from '#referral/application/referral-status.ts';
import { eventually, sampleReferral, anyFreePorts } from '../support/local.ts';

// `npm start --verbose` as a person runs it: each function runs in its own worker with its own Powertools logger,
// so every function's log lines name that function (not whichever function last set a shared logger's context),
// and every answer over HTTP, the functions' and the gateway's own, tells browsers and proxies not to keep it.

const projectRoot = new URL('../../', import.meta.url).pathname;

let child: ChildProcess;
let output = '';
let apiUrl = '';
let issuerUrl = '';

beforeAll(async () => {
  child = spawn(process.execPath, ['--import', 'tsx', 'infra/local/start.ts', '--in-memory', '--verbose'], {
    cwd: projectRoot,
    env: {
      ...process.env,
      ...anyFreePorts,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const ready = await eventually(
    async () => /Ready: API (\S+) .*token issuer (\S+?)\)/.exec(output) ?? undefined,
    () => `the ready line; output so far:\n${output}`,
    90_000,
  );
  apiUrl = ready[1] ?? '';
  issuerUrl = ready[2] ?? '';
});
afterAll(async () => {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  await exited;
});

interface LogLine {
  message?: string;
  function_name?: string;
}

/** The functions' JSON log lines (Powertools) in the stack's output. */
const logLines = (): LogLine[] =>
  output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);

const expectNoStore = (response: Response): void => {
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.headers.get('x-content-type-options')).toBe('nosniff');
};

describe('functions in their own workers', () => {
  let auth: { Authorization: string };
  let referralId = '';

  it('log lines name the function that wrote them: intake, router, notifier', async () => {
    const minted = await fetch(`${issuerUrl}/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ role: 'gp-system', ods: ['A81001'] }),
    });
    auth = { Authorization: `Bearer ${((await minted.json()) as { token: string }).token}` };
    const accepted = await fetch(`${apiUrl}/referrals`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...auth },
      body: JSON.stringify(sampleReferral('leeds-arts-and-mental-health')),
    });
    expect(accepted.status).toBe(202);
    expectNoStore(accepted);
    referralId = ((await accepted.json()) as { referralId: string }).referralId;

    await eventually(async () => {
      const view = (await (
        await fetch(`${apiUrl}/referrals/${referralId}`, { headers: auth })
      ).json()) as ReferralStatusView;
      return view.status === 'routed' && view.deliveries.every((d) => d.status === 'delivered')
        ? view
        : undefined;
    }, 'the referral to be routed and delivered');
    // The last delivery's log line may still be on its way from the worker.
    const byMessage = await eventually(async () => {
      const lines = logLines();
      return lines.filter((l) => l.message === 'Delivery processed').length >= 3 ? lines : undefined;
    }, 'three "Delivery processed" log lines');

    const namesOf = (message: string) =>
      new Set(byMessage.filter((l) => l.message === message).map((l) => l.function_name));
    expect(namesOf('Referral accepted')).toEqual(new Set(['local-intake']));
    expect(namesOf('Referral routed')).toEqual(new Set(['local-router']));
    expect(namesOf('Delivery processed')).toEqual(new Set(['local-notifier']));
  });

  it('answers carrying patient data, errors and the gateway own answers are no-store, nosniff', async () => {
    expect(referralId).not.toBe('');
    const fhir = await fetch(`${apiUrl}/ServiceRequest/${referralId}`, { headers: auth });
    expect(fhir.status).toBe(200);
    expectNoStore(fhir);
    const missing = await fetch(`${apiUrl}/ServiceRequest/00000000-0000-4000-8000-000000000000`, {
      headers: auth,
    });
    expect(missing.status).toBe(404);
    expectNoStore(missing);
    const metadata = await fetch(`${apiUrl}/metadata`);
    expect(metadata.status).toBe(200);
    expectNoStore(metadata);
    for (const gatewayAnswer of [
      await fetch(`${apiUrl}/ServiceRequest/${referralId}`),
      await fetch(`${apiUrl}/no-such-route`),
    ]) {
      expect(gatewayAnswer.status).toBeGreaterThanOrEqual(400);
      expectNoStore(gatewayAnswer);
    }
  });
});
