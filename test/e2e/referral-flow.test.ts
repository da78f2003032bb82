import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, describe, expect, it } from 'vitest';
import { readDirectory, sampleDirectoryFile } from '../../infra/local/seed.ts';
import type { ReceivedDelivery } from '../../infra/local/webhook-receiver.ts';
import type { ReferralStatusView } from '#referral/application/referral-status.ts';
import { eventually, sampleReferral, anyFreePorts } from '../support/local.ts';

// The system as a person runs it: `npm start` (infra/local/start.ts) in its own process, driven over HTTP only.

const projectRoot = new URL('../../', import.meta.url).pathname;

interface RunningStack {
  child: ChildProcess;
  apiUrl: string;
  webhookUrl: string;
  issuerUrl: string;
  output: () => string;
}

async function start(args: string[], env: Record<string, string> = {}): Promise<RunningStack> {
  // One process (tsx as a loader, not its CLI wrapper), so a signal reaches the stack itself.
  const child = spawn(process.execPath, ['--import', 'tsx', 'infra/local/start.ts', ...args], {
    cwd: projectRoot,
    env: {
      ...process.env,
      ...anyFreePorts,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const ready = await eventually(
    async () => /Ready: API (\S+) .*webhooks (\S+?), token issuer (\S+?)\)/.exec(output) ?? undefined,
    () => `the ready line; output so far:\n${output}`,
    60_000,
  );
  return {
    child,
    apiUrl: ready[1] ?? '',
    webhookUrl: ready[2] ?? '',
    issuerUrl: ready[3] ?? '',
    output: () => output,
  };
}

/** Bearer authorisation from the stack's development issuer, as `npm run token` gets it. */
async function authFor(
  stack: RunningStack,
  claims: Record<string, unknown>,
): Promise<{ Authorization: string }> {
  const response = await fetch(`${stack.issuerUrl}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(claims),
  });
  return { Authorization: `Bearer ${((await response.json()) as { token: string }).token}` };
}

/** Runs `body` against a started stack and always stops it, so the next start finds the data directory free. */
async function withStack(
  args: string[],
  env: Record<string, string>,
  body: (stack: RunningStack) => Promise<void>,
) {
  const stack = await start(args, env);
  running.push(stack);
  try {
    await body(stack);
  } finally {
    if (stack.child.exitCode === null) await stop(stack);
  }
}

async function stop(stack: RunningStack): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => stack.child.once('exit', (code) => resolve(code)));
  stack.child.kill('SIGINT');
  return exited;
}

const running: RunningStack[] = [];
const dataDir = mkdtempSync(join(tmpdir(), 'sp-e2e-'));
afterAll(() => {
  for (const stack of running) stack.child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start, end to end over HTTP', () => {
  let referralId = '';

  it('accepts a referral, routes it and delivers correctly signed webhooks', async () => {
    // --verbose: the functions' INFO logs are in the output too, so the privacy check below reads every line.
    await withStack(['--verbose'], { DATA_DIR: dataDir }, async (stack) => {
      const auth = await authFor(stack, { role: 'gp-system', ods: ['A81001'] });

      const response = await fetch(`${stack.apiUrl}/referrals`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...auth },
        body: JSON.stringify(sampleReferral('leeds-arts-and-mental-health')),
      });
      expect(response.status).toBe(202);
      referralId = ((await response.json()) as { referralId: string }).referralId;
      expect(response.headers.get('location')).toBe(`/referrals/${referralId}`);

      const view = await eventually(async () => {
        const current = (await (
          await fetch(`${stack.apiUrl}/referrals/${referralId}`, { headers: auth })
        ).json()) as ReferralStatusView;
        const settled =
          current.status === 'routed' && current.deliveries.every((d) => d.status === 'delivered');
        return settled ? current : undefined;
      }, 'the referral to be routed and delivered');
      expect(view.team?.id).toBe('lw-woodhouse');
      expect(view.partners.map((p) => p.partnerId).sort()).toEqual(['arts-for-all', 'mind-matters']);
      expect(view.deliveries).toHaveLength(3);
      expect(JSON.stringify(view)).not.toContain('9995260182');

      const received = (await (await fetch(`${stack.webhookUrl}/received`)).json()) as ReceivedDelivery[];
      const mine = received.filter((r) => r.raw.body.includes(referralId));
      expect(mine).toHaveLength(3);
      const directory = readDirectory(sampleDirectoryFile, stack.webhookUrl);
      for (const delivery of mine) {
        const recipient = [...directory.teams, ...directory.partners].find((r) =>
          r.channel.kind === 'webhook' ? r.channel.url.endsWith(delivery.path) : false,
        );
        expect(recipient, delivery.path).toBeDefined();
        expect(() =>
          // The receiver's path is /hooks/<kind>/<id>: the secret store's name for the recipient is <kind>/<id>.
          new Webhook(directory.secrets?.[delivery.path.split('/').slice(-2).join('/')] ?? '').verify(
            delivery.raw.body,
            delivery.raw.headers,
          ),
        ).not.toThrow();
        // A wrong secret must fail, or this check proves nothing.
        expect(() =>
          new Webhook('whsec_' + Buffer.from('not the secret at all').toString('base64')).verify(
            delivery.raw.body,
            delivery.raw.headers,
          ),
        ).toThrow();
      }
      expect(stack.output()).toContain('"message":"Referral routed"');
      for (const identifier of [
        '9995260182',
        '999 526 0182',
        'Testpatient',
        '0113 496 0001',
        'LS6 1AA',
        '1961-04-12',
      ]) {
        expect(stack.output(), `log output must not carry ${identifier}`).not.toContain(identifier);
      }

      const unknown = await fetch(`${stack.apiUrl}/no-such-route`);
      expect(unknown.status).toBe(404);
      expect(((await unknown.json()) as { resourceType: string }).resourceType).toBe('OperationOutcome');

      expect(await stop(stack)).toBe(0);
      expect(stack.output()).toContain('stopped');
    });
  });

  it('keeps the data across a restart', async () => {
    expect(referralId).not.toBe('');
    await withStack([], { DATA_DIR: dataDir }, async (stack) => {
      const auth = await authFor(stack, { role: 'gp-system', ods: ['A81001'] });
      const response = await fetch(`${stack.apiUrl}/referrals/${referralId}`, { headers: auth });
      expect(response.status).toBe(200);
      expect(((await response.json()) as ReferralStatusView).status).toBe('routed');
      expect(await stop(stack)).toBe(0);
    });
  });

  it('keeps nothing with --in-memory', async () => {
    expect(referralId).not.toBe('');
    await withStack(['--in-memory'], {}, async (stack) => {
      const auth = await authFor(stack, { role: 'gp-system', ods: ['A81001'] });
      expect((await fetch(`${stack.apiUrl}/referrals/${referralId}`, { headers: auth })).status).toBe(404);
      expect(await stop(stack)).toBe(0);
    });
  });
});
