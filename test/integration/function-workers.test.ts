import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFunctionWorkers, type FunctionWorkers } from '../../infra/local/function-workers.ts';
import { startLocalAws, type LocalAws } from '../../infra/local/local-aws.ts';
import { tableEnvVar, queueEnvVar } from '#system/environment.ts';
import { type FunctionName } from '#system/names.ts';

// Each local function in its own worker thread, as each Lambda function has its own sandbox: only its own
// environment, its own module state, a Lambda context with its timeout; a timed-out or crashed sandbox is replaced.
// A probe function (test/support/sandbox-probe.ts) stands in, so a timeout can be one second.

const probe = new URL('../support/sandbox-probe.ts', import.meta.url).href;
const probed: FunctionName[] = ['metadata', 'router'];

interface Described {
  threadId: number;
  calls: number;
  env: Record<string, string>;
  functionName: string;
  remainingMs: number;
}

let workers: FunctionWorkers;
const logged: string[] = [];

beforeAll(async () => {
  workers = await startFunctionWorkers({
    only: probed,
    environmentOf: (fn) => ({ ONLY_FOR: fn }),
    specOf: (fn) => ({ entry: probe, timeoutSeconds: fn === 'metadata' ? 1 : 30 }),
    log: (line) => logged.push(line),
  });
});
afterAll(() => workers?.stop());

const describeSandbox = async (fn: FunctionName): Promise<Described> =>
  (await workers.invoke(fn, { action: 'describe' })) as Described;

describe('function workers', () => {
  it('give each function exactly its own environment, its own thread and a context with its timeout', async () => {
    const metadata = await describeSandbox('metadata');
    const router = await describeSandbox('router');
    expect(metadata.env).toEqual({ ONLY_FOR: 'metadata' });
    expect(router.env).toEqual({ ONLY_FOR: 'router' });
    expect(metadata.threadId).not.toBe(router.threadId);
    expect(metadata.functionName).toBe('local-metadata');
    expect(router.functionName).toBe('local-router');
    expect(metadata.remainingMs).toBeGreaterThan(0);
    expect(metadata.remainingMs).toBeLessThanOrEqual(1000);
  });

  it('keep a sandbox across invocations, and pass a thrown error back with its name', async () => {
    const before = await describeSandbox('router');
    await expect(workers.invoke('router', { action: 'fail' })).rejects.toMatchObject({
      name: 'TypeError',
      message: 'probe failed',
    });
    const after = await describeSandbox('router');
    expect(after.threadId).toBe(before.threadId);
    expect(after.calls).toBe(before.calls + 2);
  });

  it('fail an invocation past its timeout, and give the next one a fresh sandbox', async () => {
    const before = await describeSandbox('metadata');
    const started = Date.now();
    await expect(workers.invoke('metadata', { action: 'hang' })).rejects.toThrow(
      'Task timed out after 1 seconds',
    );
    expect(Date.now() - started).toBeLessThan(5000);
    const after = await describeSandbox('metadata');
    expect(after.threadId).not.toBe(before.threadId);
    expect(after.calls).toBe(1);
    expect(logged.some((line) => line.startsWith('metadata: sandbox timed out'))).toBe(true);
  });

  it('fail the invocation a crashed sandbox was running, and serve the next from a fresh one', async () => {
    const before = await describeSandbox('router');
    await expect(workers.invoke('router', { action: 'crash' })).rejects.toThrow('probe crashed');
    const after = await describeSandbox('router');
    expect(after.threadId).not.toBe(before.threadId);
    expect(after.calls).toBe(1);
  });
});

describe('the environment a local function gets', () => {
  let aws: LocalAws;
  beforeAll(async () => {
    aws = await startLocalAws({ settings: { JWT_ISSUER: 'i', JWT_AUDIENCE: 'a', JWKS_URL: 'http://j' } });
  });
  afterAll(() => aws?.stop());

  it("holds its own grants and settings from the topology, and none of another function's", () => {
    const env = aws.environmentOf('referralStatus');
    expect(env[tableEnvVar('referrals')]).toBe(aws.tables.referrals);
    expect(env.AWS_LAMBDA_FUNCTION_NAME).toBe('local-referralStatus');
    for (const other of [tableEnvVar('metrics'), queueEnvVar('notifications'), 'JWT_ISSUER']) {
      expect(env, other).not.toHaveProperty(other);
    }
    expect(aws.environmentOf('authorizer')).toMatchObject({ JWT_ISSUER: 'i', JWKS_URL: 'http://j' });
  });

  it('a function missing a grant fails to start, as its first invocation would fail in AWS', async () => {
    const { [tableEnvVar('referrals')]: _withheld, ...withoutGrant } = aws.environmentOf('referralStatus');
    await expect(
      startFunctionWorkers({ only: ['referralStatus'], environmentOf: () => withoutGrant }),
    ).rejects.toThrow(/referralStatus failed to initialise: .*REFERRALS_TABLE is not set/);
  });
});
