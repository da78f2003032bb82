import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../infra/local/local-stack.ts';
import { readDirectory, sampleDirectoryFile } from '../../infra/local/seed.ts';
import { queues } from '#system/queues.ts';
import { auditOf, counter, eventually, sampleReferral, storedReferral } from '../support/local.ts';

// The retry policy on the local stack: real fauxqs, the notifier in its worker, the poller with Lambda's
// event-source semantics, and the local receiver scripted to fail. The queue's visibility timeout stays as in AWS
// (73 s), and the backoff is shortened to 1-2 s: a retry seconds later can only be the notifier's own
// ChangeMessageVisibility, not the visibility timeout running out.

let stack: LocalStack;
const backoff = { baseSeconds: 1, capSeconds: 2 };

beforeAll(async () => {
  stack = await startLocalStack({ retryBackoff: backoff });
});
afterAll(() => stack.stop());

async function submit(name: string): Promise<string> {
  const response = await fetch(`${stack.apiUrl}/referrals`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Authorization: `Bearer ${await stack.issuer.mint({ role: 'gp-system', ods: ['A81001', 'B82001', 'C83001'] })}`,
    },
    body: JSON.stringify(sampleReferral(name)),
  });
  expect(response.status).toBe(202);
  return ((await response.json()) as { referralId: string }).referralId;
}

const attemptsFor = (deliveryId: string) => stack.receiver.attempts.filter((a) => a.webhookId === deliveryId);

async function queueIsEmpty(): Promise<boolean> {
  for (const url of [stack.aws.queues.notifications.url, stack.aws.queues.notifications.deadLetterUrl]) {
    const { Attributes } = await stack.aws.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    if (
      Number(Attributes?.ApproximateNumberOfMessages) +
        Number(Attributes?.ApproximateNumberOfMessagesNotVisible) >
      0
    )
      return false;
  }
  return true;
}

describe('webhook retries on the local stack', () => {
  it('500 then 200: retried after the backoff (not the 73 s visibility), same webhook-id, one delivery recorded', async () => {
    expect(queues.notifications.visibilityTimeoutSeconds).toBeGreaterThan(60);
    stack.receiver.answerNext('/hooks/team/lw-woodhouse', [{ status: 500 }]);
    const referralId = await submit('leeds-arts-and-mental-health');
    const deliveryId = `${referralId}.team.lw-woodhouse`;

    const referral = await eventually(async () => {
      const current = await storedReferral(stack.aws, referralId);
      return current?.deliveryStatus?.[deliveryId]?.status === 'delivered' ? current : undefined;
    }, 'the team delivery to be delivered on the retry');
    const attempts = attemptsFor(deliveryId);
    expect(attempts.map((a) => a.status)).toEqual([500, 204]);
    const gap = (attempts[1]?.at ?? 0) - (attempts[0]?.at ?? 0);
    expect(gap).toBeGreaterThanOrEqual(900); // at least the 1 s the backoff asks
    expect(gap).toBeLessThan(20_000); // far sooner than the queue's visibility timeout
    expect(referral.deliveryStatus?.[deliveryId]).toMatchObject({
      status: 'delivered',
      attempts: 2,
      channel: 'webhook',
      responseStatus: 204,
    });
    expect(referral.deliveryStatus?.[deliveryId]?.lastFailure).toBeUndefined();

    // A receiver verifying with the standardwebhooks library itself: the retry is signed like the first.
    const [delivered] = stack.receiver.received.filter((r) => r.webhookId === deliveryId);
    const directory = readDirectory(sampleDirectoryFile, stack.webhookUrl);
    const secret = directory.secrets?.['team/lw-woodhouse'] ?? '';
    const verified = new Webhook(secret).verify(delivered?.raw.body ?? '', delivered?.raw.headers ?? {}) as {
      type: string;
      data: { referralId: string; deliveryId: string };
    };
    expect(verified).toMatchObject({ type: 'referral.assigned', data: { referralId, deliveryId } });
    expect(() =>
      new Webhook(`whsec_${Buffer.from('not the secret at all!!').toString('base64')}`).verify(
        delivered?.raw.body ?? '',
        delivered?.raw.headers ?? {},
      ),
    ).toThrow();

    const audit = await auditOf(stack.aws, referralId);
    expect(audit.filter((a) => a.eventKey === `delivered.${deliveryId}`)).toHaveLength(1);
    const day = referral.receivedAt.slice(0, 10);
    expect(
      await counter(
        stack.aws,
        { name: 'deliveries.delivered', dimensions: { recipient: 'team', content: 'identifiable' } },
        day,
      ),
    ).toBeGreaterThanOrEqual(1);
  });

  it('410: recorded as failed for good, audited and counted, never retried and never dead-lettered', async () => {
    stack.receiver.answerNext('/hooks/team/lw-hastings', [{ status: 410 }, { status: 410 }]);
    const referralId = await submit('hastings-befriending-no-consent');
    const deliveryId = `${referralId}.team.lw-hastings`;

    const referral = await eventually(async () => {
      const current = await storedReferral(stack.aws, referralId);
      return current?.deliveryStatus?.[deliveryId]?.status === 'failed' ? current : undefined;
    }, 'the team delivery to be recorded as failed');
    expect(referral.deliveryStatus?.[deliveryId]).toMatchObject({
      status: 'failed',
      attempts: 1,
      lastFailure: 'HTTP 410',
    });
    // The other recipient is delivered as usual (its notice runs beside the team's, so it may still be on its way
    // when the team's failure is recorded: waited for, not read at that moment).
    await eventually(async () => {
      const current = await storedReferral(stack.aws, referralId);
      return current?.deliveryStatus?.[`${referralId}.partner.coastal-friends`]?.status === 'delivered'
        ? true
        : undefined;
    }, 'the partner delivery to be delivered');
    // Reported handled, so deleted from the queue: nothing waits for a retry, nothing reaches the DLQ.
    await eventually(
      async () => ((await queueIsEmpty()) ? true : undefined),
      'the queue and its DLQ to be empty',
    );
    await new Promise((resolve) => setTimeout(resolve, 3_000)); // longer than any backoff here
    expect(attemptsFor(deliveryId).map((a) => a.status)).toEqual([410]);

    const failed = (await auditOf(stack.aws, referralId)).filter(
      (a) => a.action === 'referral.delivery-failed',
    );
    expect(failed).toMatchObject([
      {
        eventKey: `delivery-failed.${deliveryId}`,
        detail: { reason: 'HTTP 410', recipient: { id: 'lw-hastings' } },
      },
    ]);
    expect(
      await counter(
        stack.aws,
        { name: 'deliveries.failed', dimensions: { recipient: 'team', reason: 'HTTP 410' } },
        referral.receivedAt.slice(0, 10),
      ),
    ).toBe(1);

    const status = await fetch(`${stack.apiUrl}/referrals/${referralId}`, {
      headers: {
        Authorization: `Bearer ${await stack.issuer.mint({ role: 'gp-system', ods: ['C83001'] })}`,
      },
    });
    const view = (await status.json()) as {
      deliveries: Array<{ deliveryId: string; status: string; statusText: string }>;
    };
    expect(view.deliveries.find((d) => d.deliveryId === deliveryId)).toMatchObject({
      status: 'failed',
      statusText: 'refused by the recipient, not retried',
    });
  });

  it('429 with Retry-After: the next attempt waits as long as the recipient asked, not the shorter backoff', async () => {
    stack.receiver.answerNext('/hooks/team/lw-blackpool', [{ status: 429, headers: { 'Retry-After': '4' } }]);
    const referralId = await submit('blackpool-benefits-and-activity');
    const deliveryId = `${referralId}.team.lw-blackpool`;

    await eventually(async () => {
      const current = await storedReferral(stack.aws, referralId);
      return current?.deliveryStatus?.[deliveryId]?.status === 'delivered' ? current : undefined;
    }, 'the team delivery to be delivered after the Retry-After');
    const attempts = attemptsFor(deliveryId);
    expect(attempts.map((a) => a.status)).toEqual([429, 204]);
    const gap = (attempts[1]?.at ?? 0) - (attempts[0]?.at ?? 0);
    expect(gap).toBeGreaterThanOrEqual(3_900); // the 4 s asked, more than the 2 s backoff cap
    expect(gap).toBeLessThan(20_000);
  });
});
