import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAuditLog, seqKey } from '#adapters/dynamodb/audit-log.ts';
import { verifyChain, type AuditEntry } from '#audit/domain/chain.ts';
import { createTables } from '../../infra/local/provision.ts';
import { startLocalDynamoDb, type LocalServer } from '../../infra/local/servers.ts';
import type { TableName } from '#system/names.ts';

// The audit trail on a real local DynamoDB (dynalite): chains written by the adapter, then changed behind its back
// the way someone with table access could (a field edited, an item deleted, two items' places swapped), and the
// operator's `npm run audit -- verify` run as npm runs it must exit 1 naming the broken link; a clean trail exits 0.
// Then duplicates, races and a crash after the write of one step leave one link and a chain that verifies.

const root = fileURLToPath(new URL('../../', import.meta.url));
let server: LocalServer;
let dynamoDb: DynamoDBClient;
let client: DynamoDBDocumentClient;
let tables: Record<TableName, string>;
let log: DynamoAuditLog;

beforeAll(async () => {
  server = await startLocalDynamoDb({ port: 0 });
  dynamoDb = new DynamoDBClient({
    endpoint: server.endpoint,
    region: 'eu-west-2',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  client = DynamoDBDocumentClient.from(dynamoDb, { marshallOptions: { removeUndefinedValues: true } });
  tables = await createTables(dynamoDb);
  log = new DynamoAuditLog(client, tables.audit);
});

afterAll(async () => {
  dynamoDb?.destroy();
  await server?.stop();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function audit(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'infra/ops/audit-cli.ts', ...args], {
      cwd: root,
      env: { ...process.env, AWS_ENDPOINT_URL_DYNAMODB: server.endpoint, AUDIT_TABLE: tables.audit },
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
}

const step = (referralId: string, i: number, overrides: Partial<AuditEntry> = {}): AuditEntry => ({
  referralId,
  eventKey: `step.${i}`,
  action: i === 1 ? 'referral.received' : 'referral.accepted',
  actor: 'link-worker:lw-woodhouse-1',
  at: `2025-03-04T09:${String(10 + i).padStart(2, '0')}:00.000Z`,
  detail: { i },
  who: { principal: 'lw-woodhouse-1', organisation: 'lw-woodhouse', role: 'link-worker' },
  requestId: randomUUID(),
  ...overrides,
});

async function trailOf(length: number): Promise<string> {
  const referralId = randomUUID();
  for (let i = 1; i <= length; i++) await log.append(step(referralId, i));
  return referralId;
}

const key = (referralId: string, seq: number) => ({ referralId, seq: seqKey(seq) });
async function itemAt(referralId: string, seq: number): Promise<Record<string, unknown>> {
  const { Item } = await client.send(
    new GetCommand({ TableName: tables.audit, Key: key(referralId, seq), ConsistentRead: true }),
  );
  if (!Item) throw new Error(`no link ${seq}`);
  return Item;
}

describe('npm run audit -- verify finds a trail changed behind its back', () => {
  const ids = { clean: '', tampered: '', deleted: '', reordered: '' };
  const runs = new Map<string, Run>();

  beforeAll(async () => {
    for (const name of Object.keys(ids) as Array<keyof typeof ids>) ids[name] = await trailOf(5);
    // A field edited in place (what an UpdateItem would do): link 3's detail.
    const third = await itemAt(ids.tampered, 3);
    await client.send(new PutCommand({ TableName: tables.audit, Item: { ...third, detail: { i: 99 } } }));
    // A link deleted: link 2.
    await client.send(new DeleteCommand({ TableName: tables.audit, Key: key(ids.deleted, 2) }));
    // Two links swapped: link 2's item now at seq 3 and link 3's at seq 2.
    const [second, thirdOfPair] = [await itemAt(ids.reordered, 2), await itemAt(ids.reordered, 3)];
    await client.send(new PutCommand({ TableName: tables.audit, Item: { ...thirdOfPair, seq: seqKey(2) } }));
    await client.send(new PutCommand({ TableName: tables.audit, Item: { ...second, seq: seqKey(3) } }));

    const started = Object.entries(ids).map(async ([name, id]) =>
      runs.set(name, await audit('verify', '--referral', id)),
    );
    await Promise.all([...started, audit('verify').then((run) => runs.set('all', run))]);
  }, 120_000);

  it('a clean trail verifies: exit 0, its length and head', () => {
    const run = runs.get('clean');
    expect(run?.code, run?.stderr).toBe(0);
    expect(run?.stdout).toMatch(
      new RegExp(`^verified referral ${ids.clean}: 5 links, head [0-9a-f]{64}\\n$`),
    );
  });

  it.each([
    ['tampered', 3, /link 3 does not match its hash/],
    ['deleted', 2, /missing\): link 2 is missing/],
    ['reordered', 2, /reordered\): the link at seq 2 is link 3, moved/],
  ] as const)('%s: exit 1 naming the referral, the link and why', (name, seq, why) => {
    const run = runs.get(name);
    expect(run?.code, run?.stderr).toBe(1);
    expect(run?.stdout).toContain(`BROKEN referral ${ids[name]} at seq ${seq}`);
    expect(run?.stdout).toMatch(why);
  });

  it('every chain at once: the three broken ones named, the clean one not, exit 1', () => {
    const run = runs.get('all');
    expect(run?.code, run?.stderr).toBe(1);
    for (const name of ['tampered', 'deleted', 'reordered'] as const)
      expect(run?.stdout).toContain(`BROKEN referral ${ids[name]}`);
    expect(run?.stdout).not.toContain(ids.clean);
    expect(run?.stdout).toMatch(/3 of \d+ audit chains broken/);
    // Not a terminal: progress as plain lines on stderr.
    expect(run?.stderr).toMatch(/^scanned \d+ links: \d+ chains, 3 broken$/m);
  });

  it('replay prints the verified timeline in order; --json the links and verdict', async () => {
    const [text, json, broken, verdict] = await Promise.all([
      audit('replay', '--referral', ids.clean),
      audit('replay', '--referral', ids.clean, '--json'),
      audit('replay', '--referral', ids.tampered),
      audit('verify', '--referral', ids.reordered, '--json'),
    ]);
    expect(verdict.code).toBe(1);
    expect(JSON.parse(verdict.stdout)).toMatchObject({
      ok: false,
      referralId: ids.reordered,
      seq: 2,
      reason: 'reordered',
    });
    expect(text.code, text.stderr).toBe(0);
    const lines = text.stdout.split('\n');
    expect(lines[0]).toBe(`Audit trail of referral ${ids.clean}: 5 links`);
    expect(lines[1]).toMatch(
      /^\s+1 {2}2025-03-04T09:11:00.000Z {2}referral.received\s+by lw-woodhouse-1 \(link-worker, lw-woodhouse\) {2}request /,
    );
    expect(text.stdout).toMatch(/Chain verified: head [0-9a-f]{64}/);
    const parsed = JSON.parse(json.stdout) as { verdict: { ok: boolean }; links: Array<{ seq: number }> };
    expect(parsed.verdict.ok).toBe(true);
    expect(parsed.links.map((link) => link.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain('!! chain broken here (tampered)');
  }, 60_000);
});

describe('duplicates, races and crashes of a step leave one link and a chain that verifies', () => {
  it('the same steps appended many times, concurrently, by separate writers: each once, no fork', async () => {
    const referralId = randomUUID();
    // Separate clients stand for separate Lambda instances racing each other.
    const writers = Array.from(
      { length: 4 },
      () => new DynamoAuditLog(DynamoDBDocumentClient.from(dynamoDb), tables.audit),
    );
    const steps = [1, 2, 3].map((i) => step(referralId, i));
    await Promise.all(
      writers.flatMap((writer, w) =>
        [...steps, ...steps].map((entry) => writer.append({ ...entry, actor: `attempt-${w}` })),
      ),
    );
    const chain = await log.chainOf(referralId);
    expect(chain.map((link) => link.seq)).toEqual([1, 2, 3]);
    expect(chain.map((link) => link.eventKey).sort()).toEqual(['step.1', 'step.2', 'step.3']);
    expect(verifyChain(referralId, chain).ok).toBe(true);
    const run = await audit('verify', '--referral', referralId);
    expect(run.code, run.stderr).toBe(0);
  }, 60_000);

  it('a crash after the link was written (the answer lost): the retry adds nothing', async () => {
    const referralId = randomUUID();
    await log.append(step(referralId, 1));
    // The put lands, then the invocation dies before it hears so: the caller sees an error and retries the step.
    const crashing = DynamoDBDocumentClient.from(dynamoDb);
    crashing.middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args);
        if ((args.input as { Item?: unknown }).Item !== undefined) throw new Error('crashed after the write');
        return result;
      },
      { step: 'initialize', name: 'crashAfterPut' },
    );
    const entry = step(referralId, 2);
    await expect(new DynamoAuditLog(crashing, tables.audit).append(entry)).rejects.toThrow(
      'crashed after the write',
    );
    await log.append(entry);
    await log.append(entry);
    const chain = await log.chainOf(referralId);
    expect(chain.map((link) => link.eventKey)).toEqual(['step.1', 'step.2']);
    expect(verifyChain(referralId, chain).ok).toBe(true);
  });
});
