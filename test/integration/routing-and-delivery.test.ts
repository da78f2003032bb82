import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalAws } from '../../infra/local/local-aws.ts';
import { readDirectory, sampleDirectoryFile } from '../../infra/local/seed.ts';
import type { WebhookReceiver } from '../../infra/local/webhook-receiver.ts';
import {
  apiEvent,
  auditOf,
  contextFor,
  counter,
  receiveAll,
  sampleReferral,
  sqsEvent,
  storedReferral,
  type ApiHandler,
  type SqsHandler,
  startHandlerRig,
  type HandlerRig,
} from '../support/local.ts';

// Router and notifier handlers against real local DynamoDB and SQS, and a real HTTP webhook receiver.

let aws: LocalAws;
let receiver: WebhookReceiver;
let intake: ApiHandler;
let router: SqsHandler;
let notifier: SqsHandler;

let rig: HandlerRig;

beforeAll(async () => {
  rig = await startHandlerRig();
  ({ aws, receiver, intake, router, notifier } = rig);
});
afterAll(() => rig?.stop());

/** Counts the DynamoDB requests the handlers' shared client sends, by command, until stop(). */
async function countDynamoDbRequests(): Promise<{ stop(): Record<string, number> }> {
  // The same module instance the handlers use (the rig imported them after setting the environment).
  const { dynamoDb } = await import('#platform/clients.ts');
  const counts: Record<string, number> = {};
  const name = `count-${Math.random()}`;
  dynamoDb.middlewareStack.add(
    (next, context) => (args) => {
      const command = context.commandName ?? '?';
      counts[command] = (counts[command] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name },
  );
  return {
    stop() {
      dynamoDb.middlewareStack.remove(name);
      return counts;
    },
  };
}

async function submit(name: string): Promise<string> {
  const response = await intake(apiEvent('POST', '/referrals', sampleReferral(name)), contextFor('intake'));
  expect(response.statusCode).toBe(202);
  return (JSON.parse(response.body) as { referralId: string }).referralId;
}

describe('router', () => {
  it('assigns the team, matches partners, records unmet needs, audits, counts and queues one delivery per recipient', async () => {
    const referralId = await submit('blackpool-benefits-and-activity');
    const messages = await receiveAll(aws, aws.queues.referrals.url);
    const result = await router(sqsEvent('referrals', messages), contextFor('router'));
    expect(result.batchItemFailures).toEqual([]);

    const referral = await storedReferral(aws, referralId);
    expect(referral?.status).toBe('routed');
    expect(referral?.routing?.team?.id).toBe('lw-blackpool');
    expect(referral?.routing?.matches.map((m) => [m.category, m.partnerId])).toEqual([
      ['physical-activity', 'blackpool-moves'],
    ]);
    expect(referral?.routing?.unmetNeeds).toMatchObject([
      { category: 'benefits-advice', area: 'FY1', code: 'no-service' },
    ]);
    expect(referral?.routing?.unmetNeeds[0]?.reason).toMatch(
      /^no service in the directory offers benefits-advice in FY1\b/,
    );
    // The one match is offered to its partner (an offer item beside the referral), audited once.
    expect((await auditOf(aws, referralId)).map((a) => a.action).sort()).toEqual([
      'offer.made',
      'referral.received',
      'referral.routed',
    ]);

    const day = referral?.receivedAt.slice(0, 10) ?? '';
    const unmetKey = { name: 'referrals.unmet', dimensions: { category: 'benefits-advice', area: 'FY1' } };
    expect(await counter(aws, unmetKey, day)).toBe(1);

    const deliveries = await receiveAll(aws, aws.queues.notifications.url);
    expect(
      deliveries.map((m) => (JSON.parse(m.Body ?? '{}') as { deliveryId: string }).deliveryId).sort(),
    ).toEqual([`${referralId}.partner.blackpool-moves`, `${referralId}.team.lw-blackpool`]);

    // The same message again (SQS redelivers at least once): the decision stands and nothing is counted twice.
    const again = await router(sqsEvent('referrals', messages), contextFor('router'));
    expect(again.batchItemFailures).toEqual([]);
    expect((await storedReferral(aws, referralId))?.routing).toEqual(referral?.routing);
    expect(await counter(aws, unmetKey, day)).toBe(1);
  });

  it('fails only the bad record in a batch; the good one is routed', async () => {
    const referralId = await submit('leeds-arts-and-mental-health');
    await aws.sqs.send(
      new SendMessageCommand({ QueueUrl: aws.queues.referrals.url, MessageBody: 'not json' }),
    );
    await aws.sqs.send(
      new SendMessageCommand({
        QueueUrl: aws.queues.referrals.url,
        MessageBody: JSON.stringify({ referralId: '00000000-0000-4000-8000-000000000000' }),
      }),
    );
    const messages = await receiveAll(aws, aws.queues.referrals.url);
    expect(messages).toHaveLength(3);
    const result = await router(sqsEvent('referrals', messages), contextFor('router'));

    const good = messages.find((m) => m.Body?.includes(referralId));
    const failed = result.batchItemFailures.map((f) => f.itemIdentifier).sort();
    expect(failed).toEqual(
      messages
        .filter((m) => m !== good)
        .map((m) => m.MessageId)
        .sort(),
    );
    expect((await storedReferral(aws, referralId))?.status).toBe('routed');
    await receiveAll(aws, aws.queues.notifications.url);
  });
});

describe('notifier', () => {
  it('POSTs a correctly signed webhook per recipient, records it, and never sends one delivery twice', async () => {
    const referralId = await submit('hastings-befriending-no-consent');
    await router(
      sqsEvent('referrals', await receiveAll(aws, aws.queues.referrals.url)),
      contextFor('router'),
    );
    const deliveries = await receiveAll(aws, aws.queues.notifications.url);
    expect(deliveries).toHaveLength(2);

    const requests = await countDynamoDbRequests();
    const result = await notifier(sqsEvent('notifications', deliveries), contextFor('notifier'));
    expect(result.batchItemFailures).toEqual([]);
    // Per delivery: mark sending (the claim, returning the referral), channel, mark delivered (returns it too),
    // the audit link's put, count; and for both, one read of the directory's version (directory-cache.ts: the
    // channels are read once, here the first time) and one Query of the chain, whose appends go one after the
    // other on the head the first one read. Before the claim replaced the idempotency record it was 7 a delivery.
    expect(requests.stop()).toEqual({
      PutItemCommand: 2,
      UpdateItemCommand: 6,
      GetItemCommand: 3,
      QueryCommand: 1,
    });
    // Redelivery of the same messages: no second POST.
    await notifier(sqsEvent('notifications', deliveries), contextFor('notifier'));

    const got = receiver.received.filter((r) => r.raw.body.includes(referralId));
    expect(got.map((r) => r.recipient).sort()).toEqual([
      'partner Coastal Friends',
      'team Hastings link workers',
    ]);
    const directory = readDirectory(sampleDirectoryFile, receiver.url);
    for (const delivery of got) {
      // The receiver's path is /hooks/<kind>/<id>: the secret store's name for the recipient is <kind>/<id>.
      const secret = directory.secrets?.[delivery.path.split('/').slice(-2).join('/')];
      expect(() => new Webhook(secret ?? '').verify(delivery.raw.body, delivery.raw.headers)).not.toThrow();
    }
    // No consent for partners: the partner gets signposting only, nothing identifiable.
    const partnerBody = got.find((r) => r.recipient.startsWith('partner'))?.raw.body ?? '';
    expect(partnerBody).not.toContain('9990166137');
    expect(partnerBody).not.toContain('Example');
    const referral = await storedReferral(aws, referralId);
    expect(Object.values(referral?.deliveryStatus ?? {}).map((d) => d.status)).toEqual([
      'delivered',
      'delivered',
    ]);
    expect((await auditOf(aws, referralId)).filter((a) => a.action === 'referral.delivered')).toHaveLength(2);
  });

  it('fails the record when the recipient cannot be reached, so SQS retries it', async () => {
    const referralId = await submit('leeds-arts-and-mental-health');
    await router(
      sqsEvent('referrals', await receiveAll(aws, aws.queues.referrals.url)),
      contextFor('router'),
    );
    const deliveries = await receiveAll(aws, aws.queues.notifications.url);
    await aws.seedDirectory('http://127.0.0.1:9'); // nothing listens on port 9
    try {
      const result = await notifier(
        sqsEvent('notifications', deliveries.slice(0, 1)),
        contextFor('notifier'),
      );
      expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([deliveries[0]?.MessageId]);
      // The failed attempt is recorded with its reason (the status view says "retrying"); the rest are untouched.
      const referral = await storedReferral(aws, referralId);
      const failedId = (JSON.parse(deliveries[0]?.Body ?? '{}') as { deliveryId: string }).deliveryId;
      const states = referral?.deliveryStatus ?? {};
      expect(states[failedId]).toMatchObject({ status: 'retrying', attempts: 1, lastFailure: 'unreachable' });
      expect(
        Object.entries(states)
          .filter(([deliveryId]) => deliveryId !== failedId)
          .every(([, d]) => d.status === 'pending'),
      ).toBe(true);
    } finally {
      await aws.seedDirectory(receiver.url);
    }
  });
});
