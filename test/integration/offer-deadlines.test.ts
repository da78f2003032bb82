import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../infra/local/local-stack.ts';
import { offerIdFor } from '#referral/domain/offer.ts';
import { reminderGraceHours } from '#referral/domain/deadlines.ts';
import type { Offer } from '#referral/domain/offer.ts';
import { auditOf, eventually, sampleReferral } from '../support/local.ts';

// A partner that never answers, on the whole local stack (router, notifier and receiver running as in `npm start`),
// with the deadline job run by its operator command as if days had passed (`npm run deadlines -- --at ...`): past
// the deadline the partner gets one reminder; past the reminder's deadline the offer expires, the team and the
// partner are told, and the need goes to the next match, who is sent it; a need with no other service goes back to
// the link worker. Run again, nothing happens twice.

const root = fileURLToPath(new URL('../../', import.meta.url));
const hour = 3_600_000;

let stack: LocalStack;
let referralId = '';
let gpToken = '';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npm run deadlines -- ...` as an operator runs it, against this stack's servers. */
function deadlines(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'infra/ops/deadlines-cli.ts', ...args], {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        AWS_ENDPOINT_URL_DYNAMODB: stack.aws.dynamoDbEndpoint,
        AWS_ENDPOINT_URL_SQS: stack.aws.sqsEndpoint,
        NOTIFICATIONS_QUEUE_URL: stack.aws.queues.notifications.url,
        REFERRALS_TABLE: stack.aws.tables.referrals,
        AUDIT_TABLE: stack.aws.tables.audit,
        METRICS_TABLE: stack.aws.tables.metrics,
        DIRECTORY_TABLE: stack.aws.tables.directory,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function offersOf(id: string): Promise<Offer[]> {
  const { Items = [] } = await stack.aws.documentClient.send(
    new QueryCommand({
      TableName: stack.aws.tables.referrals,
      KeyConditionExpression: 'referralId = :id AND begins_with(sk, :offer)',
      ExpressionAttributeValues: { ':id': id, ':offer': 'offer#' },
      ConsistentRead: true,
    }),
  );
  return Items as Offer[];
}

/** Webhooks the receiver accepted for this referral, as `<type> <path>`. */
function received(): string[] {
  return stack.receiver.received
    .filter((r) => JSON.stringify(r.payload).includes(referralId))
    .map((r) => `${(r.payload as { type?: string }).type} ${r.path}`);
}

const iso = (ms: number) => new Date(ms).toISOString();

/** What the receiver has accepted for this referral once nothing more has arrived for 2 s (at most 20 s). */
async function settled(): Promise<string[]> {
  let last = received();
  for (let waited = 0; waited < 20_000; waited += 2000) {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const now = received();
    if (now.length === last.length) return now;
    last = now;
  }
  return last;
}

beforeAll(async () => {
  stack = await startLocalStack({ port: 0, throttle: { ratePerSecond: 10_000, burst: 10_000 } });
  gpToken = await stack.issuer.mint({ role: 'gp-system', ods: ['A81001'], subject: 'it-deadlines-gp' });
  // Food (the pantry chosen, food parcels next) and arts (one studio only), from a Leeds practice.
  const answer = await fetch(`${stack.apiUrl}/referrals`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${gpToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ ...sampleReferral('leeds-arts-and-mental-health'), needs: ['food', 'arts'] }),
  });
  expect(answer.status).toBe(202);
  referralId = ((await answer.json()) as { referralId: string }).referralId;
  await eventually(
    async () => ((await offersOf(referralId)).length === 2 ? true : undefined),
    'two offers made at routing',
    30_000,
  );
  await eventually(
    async () => (received().filter((r) => r.startsWith('referral.assigned')).length === 3 ? true : undefined),
    'the team and both partners told',
    30_000,
  );
}, 120_000);

afterAll(() => stack?.stop());

describe('a partner silent past its deadline', () => {
  const pantry = () => offerIdFor(referralId, 'food', 'svc-pantry-woodhouse');
  const parcels = () => offerIdFor(referralId, 'food', 'svc-food-parcels');
  const studio = () => offerIdFor(referralId, 'arts', 'svc-arts-studio');
  let deadline = 0;

  it('before the deadline, the job finds nothing to do', async () => {
    const offers = await offersOf(referralId);
    deadline = Math.max(...offers.map((o) => Date.parse(o.deadline)));
    // Now (no --at), as an operator runs it by hand.
    const now = await deadlines('--dry-run');
    expect(now.stderr).toBe('');
    expect(now.code).toBe(0);
    expect(now.stdout).toContain('Done: 0 due');
    const run = await deadlines('--at', iso(deadline - hour));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Done: 0 due');
  });

  it('is reminded once past it, and the reminder reaches the partner', async () => {
    const dry = await deadlines('--at', iso(deadline + hour), '--dry-run');
    expect(dry.stdout).toContain('would-remind');
    expect((await offersOf(referralId)).every((o) => o.nudgedAt === undefined)).toBe(true);

    const run = await deadlines('--at', iso(deadline + hour));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('2 reminded');
    await eventually(
      async () =>
        received().filter((r) => r.startsWith('referral.reminder')).length === 2 ? true : undefined,
      'two reminders delivered',
      30_000,
    );
    expect(received()).toEqual(
      expect.arrayContaining([
        'referral.reminder /hooks/partner/woodhouse-pantry',
        'referral.reminder /hooks/partner/arts-for-all',
      ]),
    );
    // Again an hour later: nothing is due (the reminder moved the deadline on).
    expect((await deadlines('--at', iso(deadline + 2 * hour))).stdout).toContain('Done: 0 due');
  });

  it('then expires: the team told, the partner told to stop, the need offered to the next match', async () => {
    const run = await deadlines('--at', iso(deadline + (reminderGraceHours + 2) * hour));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('2 expired (1 offered to the next match, 1 returned to the link worker)');

    const offers = Object.fromEntries((await offersOf(referralId)).map((o) => [o.offerId, o]));
    expect(offers[pantry()]?.state).toBe('expired');
    expect(offers[studio()]?.state).toBe('expired');
    expect(offers[parcels()]).toMatchObject({
      state: 'offered',
      follows: pantry(),
      partnerId: 'advice-leeds',
    });

    await eventually(
      async () =>
        received().includes('referral.assigned /hooks/partner/advice-leeds') &&
        received().filter((r) => r.startsWith('referral.offer-expired')).length === 2
          ? true
          : undefined,
      () => `the next partner and the team told; received: ${received().join(', ')}`,
      30_000,
    );
    expect(received()).toEqual(
      expect.arrayContaining([
        'referral.withdrawn /hooks/partner/woodhouse-pantry',
        'referral.withdrawn /hooks/partner/arts-for-all',
        'referral.offer-expired /hooks/team/lw-woodhouse',
      ]),
    );
    const audit = (await auditOf(stack.aws, referralId)).map((e) => e.action);
    expect(audit.filter((a) => a === 'offer.nudged')).toHaveLength(2);
    expect(audit.filter((a) => a === 'offer.expired')).toHaveLength(2);

    // Run again: nothing more is expired, offered or sent. (First let the expiry's last notices land: the team's
    // need-returned notice, say, may still be on its way.)
    const before = await settled();
    const again = await deadlines('--at', iso(deadline + (reminderGraceHours + 3) * hour));
    expect(again.stdout).toContain('Done: 0 due');
    expect(await settled()).toEqual(before);
  });
});
