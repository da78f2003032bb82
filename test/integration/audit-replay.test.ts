import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DeleteMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiEvent,
  auditOf,
  contextFor,
  receiveAll,
  sampleReferral,
  sqsEvent,
  startHandlerRig,
  type HandlerRig,
} from '../support/local.ts';

// `npm run audit -- replay` finishing a referral whose message was lost (taken off its queue and gone before its
// consumer saw it): run as npm runs it, against the real local DynamoDB and SQS, with the real router and notifier
// handlers doing the work the re-sent messages ask for. A dry run names the step and sends nothing; the replay
// sends only the missing message; a replay after that finds nothing left to do.

const root = fileURLToPath(new URL('../../', import.meta.url));
let rig: HandlerRig;

beforeAll(async () => {
  rig = await startHandlerRig();
});
afterAll(() => rig?.stop());

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The command as npm runs it; `byName`: no queue URLs given, so it finds the queues by name as on the local stack. */
function audit(args: string[], byName = true): Promise<Run> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_ENDPOINT_URL_DYNAMODB: rig.aws.dynamoDbEndpoint,
    AWS_ENDPOINT_URL_SQS: rig.aws.sqsEndpoint,
    AUDIT_TABLE: rig.aws.tables.audit,
    REFERRALS_QUEUE_URL: rig.aws.queues.referrals.url,
    NOTIFICATIONS_QUEUE_URL: rig.aws.queues.notifications.url,
  };
  if (byName) {
    delete env.REFERRALS_QUEUE_URL;
    delete env.NOTIFICATIONS_QUEUE_URL;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'infra/ops/audit-cli.ts', ...args], {
      cwd: root,
      env,
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

/** What is on a queue now, taken off it for good (as Lambda deletes what its handler processed). */
async function take(url: string, waitSeconds = 1): Promise<Message[]> {
  const messages = await receiveAll(rig.aws, url, waitSeconds);
  for (const message of messages)
    await rig.aws.sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: message.ReceiptHandle }));
  return messages;
}
const bodyOf = (message: Message) => JSON.parse(message.Body ?? '{}') as Record<string, unknown>;

async function submit(): Promise<string> {
  const response = await rig.intake(
    apiEvent('POST', '/referrals', sampleReferral('blackpool-benefits-and-activity')),
    contextFor('intake'),
  );
  expect(response.statusCode).toBe(202);
  return (JSON.parse(response.body) as { referralId: string }).referralId;
}

async function route(messages: Message[]): Promise<void> {
  const result = await rig.router(sqsEvent('referrals', messages), contextFor('router'));
  expect(result.batchItemFailures).toEqual([]);
}
async function deliver(messages: Message[]): Promise<void> {
  const result = await rig.notifier(sqsEvent('notifications', messages), contextFor('notifier'));
  expect(result.batchItemFailures).toEqual([]);
}
const actions = async (referralId: string) => (await auditOf(rig.aws, referralId)).map((a) => a.eventKey);
const webhooksFor = (referralId: string) =>
  rig.receiver.received.filter((r) => r.webhookId.startsWith(referralId)).map((r) => r.webhookId);

describe('npm run audit -- replay re-sends what a lost message left undone', () => {
  it('a routing message lost after intake: dry run names it, replay routes and delivers, then nothing is left', async () => {
    const referralId = await submit();
    const lost = await take(rig.aws.queues.referrals.url);
    expect(lost.map(bodyOf)).toEqual([{ referralId }]);
    expect(await actions(referralId)).not.toContain('routed');

    const dry = await audit(['replay', '--referral', referralId, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`Audit trail of referral ${referralId}: 1 links`);
    expect(dry.stdout).toContain('Dry run: 1 step(s) never completed; would re-send (nothing sent):');
    expect(dry.stdout).toMatch(/ {2}1\. route: received \S+ but never routed/);
    expect(await take(rig.aws.queues.referrals.url)).toEqual([]);

    const sent = await audit(['replay', '--referral', referralId]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toContain(`  sent 1/1: referrals ${referralId}`);
    const resent = await take(rig.aws.queues.referrals.url);
    expect(resent.map(bodyOf)).toEqual([{ referralId }]);

    // The real router and notifier finish the flow from the re-sent message.
    await route(resent);
    const deliveries = await take(rig.aws.queues.notifications.url);
    const deliveryIds = [`${referralId}.partner.blackpool-moves`, `${referralId}.team.lw-blackpool`];
    expect(deliveries.map((m) => bodyOf(m).deliveryId).sort()).toEqual(deliveryIds);
    await deliver(deliveries);
    expect(webhooksFor(referralId).sort()).toEqual(deliveryIds);
    expect(await actions(referralId)).toEqual(
      expect.arrayContaining(['routed', ...deliveryIds.map((id) => `delivered.${id}`)]),
    );

    // Nothing left: no routing, no delivery planned, nothing sent.
    const again = await audit(['replay', '--referral', referralId, '--json']);
    expect(again.code, again.stderr).toBe(0);
    const report = JSON.parse(again.stdout) as { plan: { steps: unknown[]; notes: string[] }; sent: number };
    expect(report.plan.steps).toEqual([]);
    expect(report.plan.notes[0]).toMatch(
      /each of its 2 deliveries was delivered or failed: nothing to re-send/,
    );
    expect(report.sent).toBe(0);
    expect(await take(rig.aws.queues.referrals.url, 0)).toEqual([]);
    expect(await take(rig.aws.queues.notifications.url, 0)).toEqual([]);
  }, 120_000);

  it('one delivery message lost after routing: replay re-sends that notice only, and it lands', async () => {
    const referralId = await submit();
    await route(await take(rig.aws.queues.referrals.url));
    const deliveries = await take(rig.aws.queues.notifications.url);
    const team = `${referralId}.team.lw-blackpool`;
    const partner = `${referralId}.partner.blackpool-moves`;
    // The partner's message is delivered; the team's is lost.
    await deliver(deliveries.filter((m) => bodyOf(m).deliveryId === partner));
    expect(webhooksFor(referralId)).toEqual([partner]);

    // Given the queue URLs, as in AWS (the stack outputs).
    const sent = await audit(['replay', '--referral', referralId], false);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toMatch(
      new RegExp(`1\\. deliver: ${team.replaceAll('.', '\\.')} \\(identifiable\\)`),
    );
    expect(sent.stdout).not.toContain(`deliver: ${partner}`);
    expect(await take(rig.aws.queues.referrals.url, 0)).toEqual([]);
    const resent = await take(rig.aws.queues.notifications.url);
    expect(resent.map(bodyOf)).toEqual([{ referralId, deliveryId: team, kind: 'assigned' }]);

    await deliver(resent);
    expect(webhooksFor(referralId).sort()).toEqual([partner, team]);
    expect(await actions(referralId)).toContain(`delivered.${team}`);
  }, 120_000);
});
