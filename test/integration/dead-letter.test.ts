import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../infra/local/local-stack.ts';
import { queues } from '#system/queues.ts';
import { eventually, receiveAll, sampleReferral, storedReferral } from '../support/local.ts';

// The local stack's pollers with Lambda's event-source semantics, over real local SQS: a message that can never
// succeed is received maxReceiveCount times, then SQS moves it to the DLQ; good messages around it are unaffected.

let stack: LocalStack;

beforeAll(async () => {
  // A one-second visibility timeout, so each failed receive comes back quickly.
  stack = await startLocalStack({ visibilityTimeoutSeconds: 1 });
});
afterAll(() => stack.stop());

describe('dead-letter queue', () => {
  it(`moves a poison message to the DLQ after ${queues.referrals.maxReceiveCount} receives, and routes the good one beside it`, async () => {
    const { aws } = stack;
    const poison = await aws.sqs.send(
      new SendMessageCommand({
        QueueUrl: aws.queues.referrals.url,
        MessageBody: '{"referralId": "not-a-uuid"}',
      }),
    );
    const response = await fetch(`${stack.apiUrl}/referrals`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Authorization: `Bearer ${await stack.issuer.mint({ role: 'gp-system', ods: ['A81001'] })}`,
      },
      body: JSON.stringify(sampleReferral()),
    });
    const { referralId } = (await response.json()) as { referralId: string };

    await eventually(async () => {
      const referral = await storedReferral(aws, referralId);
      return referral?.status === 'routed' ? referral : undefined;
    }, 'the good referral to be routed');

    const dead = await eventually(async () => {
      const messages = await receiveAll(aws, aws.queues.referrals.deadLetterUrl, 0);
      return messages.length > 0 ? messages : undefined;
    }, 'the poison message to reach the DLQ');
    expect(dead.map((m) => m.MessageId)).toEqual([poison.MessageId]);
    // Received maxReceiveCount times from the source queue before the move, and once more here from the DLQ.
    expect(Number(dead[0]?.Attributes?.ApproximateReceiveCount)).toBeGreaterThan(
      queues.referrals.maxReceiveCount,
    );

    const { Attributes } = await aws.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: aws.queues.referrals.url, AttributeNames: ['All'] }),
    );
    expect(Number(Attributes?.ApproximateNumberOfMessages ?? 0)).toBe(0);
  });
});
