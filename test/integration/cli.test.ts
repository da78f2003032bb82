import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { defineCommand } from '../../infra/cli/args.ts';
import { anyFreePorts } from '../support/local.ts';

// Every npm script with options keeps one contract: `--help` prints the usage and exits 0 without doing the work;
// an unknown flag prints the usage to stderr and exits 2, never a stack trace. Each script is run as npm runs it
// (tsx, from the repository root), all at once, so the file stays fast.

const root = fileURLToPath(new URL('../../', import.meta.url));
const openApiFile = `${root}docs/openapi.json`;
/** Long enough for tsx to load a script on a busy machine; a script that starts its servers would not exit. */
const exitWithinMs = 20_000;

const scripts = [
  {
    name: 'start',
    file: 'infra/local/start.ts',
    environment: [
      'PORT',
      'WEBHOOK_PORT',
      'ISSUER_PORT',
      'DYNAMODB_PORT',
      'SQS_PORT',
      'DATA_DIR',
      'WEBHOOK_URL',
    ],
  },
  {
    name: 'demo',
    file: 'infra/local/demo.ts',
    environment: ['API_URL', 'PORT', 'ISSUER_URL', 'ISSUER_PORT'],
  },
  { name: 'token', file: 'infra/local/token.ts', environment: ['ISSUER_URL', 'ISSUER_PORT'] },
  { name: 'redrive', file: 'infra/ops/redrive-cli.ts', environment: ['SQS_PORT', 'AWS_ENDPOINT_URL_SQS'] },
  {
    name: 'directory',
    file: 'infra/ops/directory-cli.ts',
    environment: [
      'DYNAMODB_PORT',
      'AWS_ENDPOINT_URL_DYNAMODB',
      'DIRECTORY_TABLE',
      'RECIPIENT_SECRETS',
      'DATA_DIR',
    ],
  },
  {
    name: 'geography',
    file: 'infra/ops/geography-cli.ts',
    environment: ['DYNAMODB_PORT', 'AWS_ENDPOINT_URL_DYNAMODB', 'GEOGRAPHY_TABLE'],
  },
  {
    name: 'deadlines',
    file: 'infra/ops/deadlines-cli.ts',
    environment: ['DYNAMODB_PORT', 'AWS_ENDPOINT_URL_DYNAMODB', 'SQS_PORT', 'NOTIFICATIONS_QUEUE_URL'],
  },
  {
    name: 'response-records',
    file: 'infra/ops/response-records-cli.ts',
    environment: ['DYNAMODB_PORT', 'AWS_ENDPOINT_URL_DYNAMODB', 'METRICS_TABLE', 'DIRECTORY_TABLE'],
  },
  {
    name: 'surges',
    file: 'infra/ops/surges-cli.ts',
    environment: ['DYNAMODB_PORT', 'AWS_ENDPOINT_URL_DYNAMODB', 'METRICS_TABLE'],
  },
  {
    name: 'audit',
    file: 'infra/ops/audit-cli.ts',
    environment: [
      'DYNAMODB_PORT',
      'AWS_ENDPOINT_URL_DYNAMODB',
      'AUDIT_TABLE',
      'SQS_PORT',
      'AWS_ENDPOINT_URL_SQS',
      'REFERRALS_QUEUE_URL',
      'NOTIFICATIONS_QUEUE_URL',
    ],
  },
  {
    name: 'reports',
    file: 'infra/ops/reports-cli.ts',
    environment: ['DYNAMODB_PORT', 'AWS_ENDPOINT_URL_DYNAMODB', 'METRICS_TABLE'],
  },
  {
    name: 'evaluation',
    file: 'infra/ops/evaluation-cli.ts',
    environment: [
      'DYNAMODB_PORT',
      'AWS_ENDPOINT_URL_DYNAMODB',
      'REFERRALS_TABLE',
      'PSEUDONYM_KEY',
      'DATA_DIR',
    ],
  },
  { name: 'bench', file: 'bench/run.ts', environment: [] },
  { name: 'openapi', file: 'infra/scripts/write-openapi.ts', environment: [] },
];

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
      cwd: root,
      // Should a script ignore --help and start a stack, it gets free ports rather than colliding with one running;
      // SIGKILL, as start.ts would answer SIGTERM by stopping cleanly with exit 0.
      env: {
        ...process.env,
        ...anyFreePorts,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: exitWithinMs,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const stackTraceLine = /^\s+at /m;
const helpRuns = new Map<string, Run>();
const badFlagRuns = new Map<string, Run>();
let openApiBefore: { content: string; mtimeMs: number };

beforeAll(async () => {
  openApiBefore = { content: readFileSync(openApiFile, 'utf8'), mtimeMs: statSync(openApiFile).mtimeMs };
  await Promise.all(
    scripts.flatMap(({ name, file }) => [
      run(file, ['--help']).then((result) => helpRuns.set(name, result)),
      run(file, ['--no-such-flag']).then((result) => badFlagRuns.set(name, result)),
    ]),
  );
}, 60_000);

describe.each(scripts)('npm run $name', ({ name, environment }) => {
  it('answers --help with the usage on stdout and exit 0', () => {
    const result = helpRuns.get(name);
    expect(result?.signal, 'still running: it did the work instead of answering --help').toBeNull();
    expect(result?.code, result?.stderr).toBe(0);
    expect(result?.stdout).toMatch(/^Usage: /);
    expect(result?.stdout).toContain('Environment:');
    expect(result?.stdout).toMatch(/Examples?:/);
    for (const variable of environment) expect(result?.stdout).toContain(variable);
    expect(result?.stderr).toBe('');
  });

  it('answers an unknown flag with the usage on stderr and exit 2, no stack trace', () => {
    const result = badFlagRuns.get(name);
    expect(result?.signal).toBeNull();
    expect(result?.code, result?.stderr).toBe(2);
    expect(result?.stderr).toMatch(/^Unknown option '--no-such-flag'\n/);
    expect(result?.stderr).toContain('Usage: ');
    expect(result?.stderr).not.toMatch(stackTraceLine);
    expect(result?.stdout).toBe('');
  });
});

it('npm run openapi -- --help leaves docs/openapi.json alone', () => {
  expect(statSync(openApiFile).mtimeMs).toBe(openApiBefore.mtimeMs);
  expect(readFileSync(openApiFile, 'utf8')).toBe(openApiBefore.content);
});

it('npm start and npm run demo -- --help start nothing', () => {
  expect(helpRuns.get('start')?.stdout).not.toContain('starting local stack');
  expect(helpRuns.get('demo')?.stdout).not.toContain('starting one in memory');
});

describe('defineCommand', () => {
  const command = defineCommand({
    synopsis: ['example --colour NAME'],
    summary: 'An example.',
    options: {
      colour: { type: 'string', required: true, choices: ['red', 'green'], description: 'which colour' },
      tag: { type: 'string', multiple: true, choices: ['a', 'b'], description: 'tags' },
      loud: { type: 'boolean', short: 'l', default: false, description: 'shout' },
    },
    environment: { COLOUR_DIR: 'where colours live' },
    examples: ['example --colour red'],
  });

  it('parses declared options, with defaults', () => {
    expect(command.check(['--colour', 'red', '--tag', 'a', '--tag', 'b'])).toEqual({
      kind: 'values',
      values: { colour: 'red', tag: ['a', 'b'], loud: false },
    });
    expect(command.check(['--colour=green', '-l'])).toEqual({
      kind: 'values',
      values: { colour: 'green', loud: true },
    });
  });

  it('treats -h like --help, even before a missing required option', () => {
    expect(command.check(['-h'])).toEqual({ kind: 'help' });
  });

  it.each([
    [['--colour', 'blue'], '--colour "blue": must be one of red, green'],
    [['--colour', 'red', '--tag', 'c'], '--tag "c": must be one of a, b'],
    [[], '--colour is required'],
    [['--colour'], "Option '--colour <value>' argument missing"],
    [['--colour', 'red', 'stray'], "Unexpected argument 'stray'"],
    [['--nope'], "Unknown option '--nope'"],
  ])('refuses %j: %s', (args, message) => {
    const outcome = command.check(args);
    expect(outcome.kind).toBe('error');
    expect(outcome.kind === 'error' && outcome.message).toContain(message);
  });

  it('lists every option, the environment and an example in the usage', () => {
    expect(command.usage).toContain('--colour VALUE');
    expect(command.usage).toContain('one of: red, green');
    expect(command.usage).toContain('-l, --loud');
    expect(command.usage).toContain('-h, --help');
    expect(command.usage).toContain('COLOUR_DIR');
    expect(command.usage).toContain('Example:\n  example --colour red');
  });
});
