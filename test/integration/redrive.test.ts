import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../infra/local/local-stack.ts';
import { redrive } from '../../infra/ops/redrive.ts';
import { eventually, receiveAll, sampleReferral, storedReferral } from '../support/local.ts';

// Nothing lost: deliveries to recipients that stay down end in the notifications DLQ; once they are back, a
// redrive delivers each exactly once. The local stack's pollers and real local SQS do the retrying.

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({ visibilityTimeoutSeconds: 1 });
});
afterAll(() => stack.stop());

describe('dead letters replayed', () => {
  it('delivers, exactly once, what dead-lettered while the recipients were down', async () => {
    const { aws, receiver } = stack;
    await aws.seedDirectory('http://127.0.0.1:9'); // every recipient unreachable
    const token = await stack.issuer.mint({ role: 'gp-system', ods: ['A81001'] });
    const response = await fetch(`${stack.apiUrl}/referrals`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify(sampleReferral()),
    });
    const { referralId } = (await response.json()) as { referralId: string };

    // Three recipients, each retried maxReceiveCount times, then dead-lettered.
    await eventually(
      async () => {
        const { Attributes } = await aws.sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: aws.queues.notifications.deadLetterUrl,
            AttributeNames: ['ApproximateNumberOfMessages'],
          }),
        );
        return Number(Attributes?.ApproximateNumberOfMessages) === 3 ? true : undefined;
      },
      'three deliveries to reach the notifications DLQ',
      30_000,
    );
    expect(receiver.received.filter((r) => r.raw.body.includes(referralId))).toHaveLength(0);

    // The command's dry run counts them and moves none (the local stack: the receive-and-send path).
    const { url, deadLetterUrl } = aws.queues.notifications;
    const dryRun = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'infra/ops/redrive-cli.ts', '--source', url, '--dlq', deadLetterUrl, '--dry-run'],
      { env: { ...process.env, AWS_ENDPOINT_URL_SQS: new URL(url).origin } },
    );
    expect(dryRun.stdout).toContain('Dry run: 3 message(s) would move');
    const { Attributes } = await aws.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: deadLetterUrl,
        AttributeNames: ['ApproximateNumberOfMessages'],
      }),
    );
    expect(Number(Attributes?.ApproximateNumberOfMessages)).toBe(3); // still there, all visible

    await aws.seedDirectory(receiver.url); // the recipients are back
    const { moved } = await redrive(
      aws.sqs,
      aws.queues.notifications.url,
      aws.queues.notifications.deadLetterUrl,
    );
    expect(moved).toBe(3);

    const referral = await eventually(async () => {
      const current = await storedReferral(aws, referralId);
      const states = Object.values(current?.deliveryStatus ?? {});
      return states.length === 3 && states.every((s) => s.status === 'delivered') ? current : undefined;
    }, 'the replayed deliveries to be delivered');
    expect(referral.status).toBe('routed');
    const got = receiver.received.filter((r) => r.raw.body.includes(referralId));
    expect(got.map((r) => r.webhookId).sort()).toEqual(Object.keys(referral.deliveryStatus ?? {}).sort());
    expect(await receiveAll(aws, aws.queues.notifications.deadLetterUrl, 0)).toHaveLength(0);
  });
});
