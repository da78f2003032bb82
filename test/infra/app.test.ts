/**
 * infra/app.ts run the way the CDK CLI runs it: a Node process that gets its context as JSON in CDK_CONTEXT_JSON,
 * every `-c key=value` as a string, and writes the cloud assembly to CDK_OUTDIR. Bundling is skipped, so a synth
 * takes seconds; the cdk-nag plugin still runs.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../infra/stack.ts';
import { usageKeyFor } from '#auth/usage-key.ts';

const outputs: string[] = [];
afterAll(() => {
  for (const directory of outputs) rmSync(directory, { recursive: true, force: true });
});

interface Synthesised {
  status: number | null;
  stderr: string;
  template: () => { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };
}

/** Runs the app with this context (as the CLI would pass it): its exit status, error output and template. */
async function synth(context: Record<string, unknown>): Promise<Synthesised> {
  const outdir = mkdtempSync(path.join(tmpdir(), 'referrals-app-'));
  outputs.push(outdir);
  const child = spawn(process.execPath, ['--import', 'tsx', 'infra/app.ts'], {
    cwd: projectRoot,
    env: {
      PATH: process.env.PATH,
      CDK_OUTDIR: outdir,
      CDK_CONTEXT_JSON: JSON.stringify({ 'aws:cdk:bundling-stacks': [], ...context }),
    },
    // Three cdk-nag packs run in each synth, and these processes share the machine: allow them time.
    timeout: 110_000,
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const status = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  return {
    status,
    stderr,
    template: () =>
      JSON.parse(
        readFileSync(path.join(outdir, 'SocialPrescribingReferrals.template.json'), 'utf8'),
      ) as never,
  };
}

const issuer = { jwtIssuer: 'https://login.example.test', jwtAudience: 'social-prescribing-api' };

// Each test is a process of its own that mostly waits on module loading: they run side by side.
describe.concurrent('the CDK app', () => {
  it('refuses to synthesise with an issuer that is not an https URL', async () => {
    const result = await synth({ ...issuer, jwtIssuer: 'http://login.example.test' });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('jwtIssuer must be an https URL');
  });

  it('refuses to synthesise without an issuer', async () => {
    const result = await synth({ jwtAudience: issuer.jwtAudience });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('Context jwtIssuer is required');
  });

  it('refuses apiClients that are not a JSON array of subjects', async () => {
    const result = await synth({ ...issuer, apiClients: 'emis-web-prod' });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('apiClients must be a JSON array of strings');
  });

  it('takes the issuer and apiClients as the CLI passes them (strings), and passes its cdk-nag checks', async () => {
    const result = await synth({
      ...issuer,
      jwksUrl: 'https://login.example.test/keys',
      apiClients: '["emis-web-prod", "tpp-systmone-prod"]',
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);

    const resources = Object.values(result.template().Resources);
    const keys = resources.filter((each) => each.Type === 'AWS::ApiGateway::ApiKey');
    expect(keys.map((key) => key.Properties?.Value).sort()).toEqual(
      [usageKeyFor('emis-web-prod'), usageKeyFor('tpp-systmone-prod')].sort(),
    );
    const authorizer = resources.find(
      (each) =>
        each.Type === 'AWS::Lambda::Function' &&
        JSON.stringify(each.Properties?.Environment).includes('JWKS_URL'),
    );
    expect(authorizer?.Properties?.Environment).toEqual({
      Variables: expect.objectContaining({
        JWT_ISSUER: 'https://login.example.test',
        JWT_AUDIENCE: 'social-prescribing-api',
        JWKS_URL: 'https://login.example.test/keys',
      }),
    });
  });

  it('subscribes -c alarmEmail to the alarm topic, and refuses one that is no address', async () => {
    const result = await synth({ ...issuer, alarmEmail: 'on-call@example.test' });
    expect(result.status).toBe(0);
    const subscriptions = Object.values(result.template().Resources).filter(
      (each) => each.Type === 'AWS::SNS::Subscription',
    );
    expect(subscriptions.map((each) => each.Properties)).toEqual([
      expect.objectContaining({ Protocol: 'email', Endpoint: 'on-call@example.test' }),
    ]);
    const refused = await synth({ ...issuer, alarmEmail: 'on-call' });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('alarmEmail must be an email address');
  });
});
