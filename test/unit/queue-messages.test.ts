import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { SqsQueue } from '#adapters/sqs/sqs-queue.ts';
import { deliverNotification } from '#delivery/application/deliver-notification.ts';
import { requestFingerprint } from '#kernel/ids.ts';
import { routeReferral, type RouteReferralDeps } from '#matching/application/route-referral.ts';
import { NoticeMessage, noticeId } from '#messages/notice-message.ts';
import { InvalidMessageError, queueMessages, type Queue } from '#messages/queue.ts';
import { RoutingMessage, routingKey } from '#messages/routing-message.ts';
import { amendReferral, cancelReferral } from '#referral/application/amend-or-cancel-referral.ts';
import { submitReferral } from '#referral/application/submit-referral.ts';
import {
  FakeClock,
  FakeWebhookSender,
  InMemoryAuditLog,
  InMemoryDirectory,
  InMemoryRecipientSecrets,
  InMemoryMetricCounters,
  localChannels,
  testRetries,
  InMemoryReferralStore,
  RecordingQueue,
} from './fakes.ts';
import { referralIds, sampleDirectory, sampleRequest } from './fixtures.ts';
import { plainMatchingInputs } from './fakes-matching.ts';

// Issue 7: one schema per queue message, shared by its producers (through a typed Queue<T>) and its consumer.

const referralId = referralIds['leeds-arts-and-mental-health'];
const teamDelivery = `${referralId}.team.lw-woodhouse`;

const sqsMock = mockClient(SQSClient);
const client = new SQSClient({ region: 'eu-west-2' });
const urls = { referrals: 'https://sqs.test/referrals', notifications: 'https://sqs.test/notifications' };

beforeEach(() => {
  sqsMock.reset();
  sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
});

afterAll(() => {
  sqsMock.restore();
});

/** What SQS would hand the consumer: every body sent to `url` so far, as JSON text, oldest first. */
function wireBodies(url: string): unknown[] {
  return sqsMock
    .commandCalls(SendMessageBatchCommand)
    .filter((call) => call.args[0].input.QueueUrl === url)
    .flatMap((call) => call.args[0].input.Entries ?? [])
    .map((entry) => JSON.parse(entry.MessageBody ?? 'null') as unknown);
}

describe('queue messages: producer to consumer', () => {
  it('every message the use cases send over SQS parses with its consumer schema, unchanged', async () => {
    const clock = new FakeClock('2025-03-04T09:15:00.000Z');
    const referrals = new InMemoryReferralStore();
    const directory = new InMemoryDirectory(sampleDirectory());
    const audit = new InMemoryAuditLog();
    const counters = new InMemoryMetricCounters();
    const webhooks = new FakeWebhookSender();
    const routingQueue = new SqsQueue(client, urls.referrals, queueMessages.referrals);
    const deliveryQueue = new SqsQueue(client, urls.notifications, queueMessages.notifications);
    const secrets = new InMemoryRecipientSecrets(sampleDirectory());
    const matching = plainMatchingInputs(counters);
    const deps = {
      referrals,
      directory,
      secrets,
      audit,
      counters,
      webhooks,
      routingQueue,
      deliveryQueue,
      clock,
      channels: localChannels,
      ...testRetries,
      ...matching,
    };
    // The consumers parse as sqsHandler does: the record's JSON body against the queue's schema.
    const consume = {
      referrals: () => wireBodies(urls.referrals).map((body) => queueMessages.referrals.parse(body)),
      notifications: () =>
        wireBodies(urls.notifications).map((body) => queueMessages.notifications.parse(body)),
    };

    const request = sampleRequest('leeds-arts-and-mental-health');
    await submitReferral(deps, {
      referralId,
      request,
      fingerprint: requestFingerprint('/referrals', request),
    });
    expect(consume.referrals()).toEqual([{ referralId }]);

    for (const message of consume.referrals()) await routeReferral(deps, message.referralId);
    const assigned = consume.notifications();
    expect(assigned).toEqual(wireBodies(urls.notifications));
    expect(assigned.map((m) => m.kind)).toEqual(['assigned', 'assigned', 'assigned']);
    for (const notice of assigned) await deliverNotification(deps, notice);
    expect(webhooks.calls.map((c) => c.messageId)).toEqual(assigned.map(noticeId));

    // An update adding a need queues its notices to the holders and a versioned routing message.
    clock.advance(60_000);
    await amendReferral(deps, {
      referralId,
      request: { ...request, needs: [...request.needs, 'nature'] },
      messageAt: clock.now().toISOString(),
      actor: `practice:${request.practiceOds}`,
    });
    const rerouting = consume.referrals().slice(1);
    expect(rerouting).toEqual([{ referralId, version: 2 }]);
    expect(rerouting.map(routingKey)).toEqual([`${referralId}.v2`]);
    clock.advance(60_000);
    await cancelReferral(deps, {
      referralId,
      practiceOds: request.practiceOds,
      reason: 'revoked',
      messageAt: clock.now().toISOString(),
      actor: `practice:${request.practiceOds}`,
    });

    const notices = consume.notifications();
    expect(notices).toEqual(wireBodies(urls.notifications));
    expect(notices.map((m) => m.kind)).toEqual([
      ...['assigned', 'assigned', 'assigned'],
      ...['updated', 'updated', 'updated'],
      ...['cancelled', 'cancelled', 'cancelled'],
    ]);
    expect(notices.filter((m) => m.kind === 'updated').every((m) => m.version === 2)).toBe(true);
  });

  it('a delivery message queued before notices had kinds still parses, as the assignment', () => {
    const legacy = JSON.parse(`{"referralId":"${referralId}","deliveryId":"${teamDelivery}"}`) as unknown;
    const notice = NoticeMessage.parse(legacy);
    expect(notice).toEqual({ referralId, deliveryId: teamDelivery, kind: 'assigned' });
    expect(noticeId(notice)).toBe(teamDelivery);
  });

  it('the schemas are strict: an unknown or renamed field is refused, not dropped', () => {
    expect(RoutingMessage.safeParse({ referralId, version: 2 }).success).toBe(true);
    expect(RoutingMessage.safeParse({ referralId, deliveryId: teamDelivery }).success).toBe(false);
    expect(RoutingMessage.safeParse({ referral: referralId }).success).toBe(false);
    expect(NoticeMessage.safeParse({ referralId, delivery: teamDelivery, kind: 'assigned' }).success).toBe(
      false,
    );
    expect(NoticeMessage.safeParse({ referralId, deliveryId: teamDelivery, kind: 'sent' }).success).toBe(
      false,
    );
  });

  it('the in-memory queue refuses what its schema refuses, as SqsQueue does', async () => {
    const queue = new RecordingQueue(queueMessages.referrals);
    const stray = JSON.parse(
      `{"referralId":"${referralId}","deliveryId":"${teamDelivery}"}`,
    ) as RoutingMessage;
    await expect(queue.send([{ id: referralId, body: stray }])).rejects.toBeInstanceOf(InvalidMessageError);
    expect(queue.sends).toEqual([]);
  });

  it('sending the wrong shape does not compile (tsc checks every @ts-expect-error below)', () => {
    const notices: Queue<NoticeMessage> = new RecordingQueue(queueMessages.notifications);
    const routing: Queue<RoutingMessage> = new RecordingQueue(queueMessages.referrals);
    const wrongShapes = async () => {
      // @ts-expect-error a routing message is not a notice (no deliveryId)
      await notices.send([{ id: referralId, body: { referralId } }]);
      // @ts-expect-error a renamed field
      await routing.send([{ id: referralId, body: { referral: referralId } }]);
      const deliveryId = teamDelivery;
      // @ts-expect-error a kind no consumer knows
      await notices.send([{ id: deliveryId, body: { referralId, deliveryId, kind: 'sent' } }]);
      // @ts-expect-error a version is a number
      await routing.send([{ id: referralId, body: { referralId, version: '2' } }]);
      // A notice has every field a routing message has, yet Queue<T> is invariant:
      // @ts-expect-error the routing queue wired where the notifications queue belongs
      const _wiring: RouteReferralDeps['deliveryQueue'] = routing;
    };
    expect(wrongShapes).toBeTypeOf('function');
  });
});
