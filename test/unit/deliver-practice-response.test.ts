import { beforeEach, describe, expect, it } from 'vitest';
import {
  deliverNotification,
  type DeliverNotificationDeps,
} from '#delivery/application/deliver-notification.ts';
import { practiceMessageId } from '#delivery/application/practice-response.ts';
import { DeliveryRetryError, UnroutableMessageError } from '#kernel/errors.ts';
import {
  practiceDeliveryId,
  type NoticeMessage,
  type PracticeResponseEvent,
} from '#messages/notice-message.ts';
import type { Referral } from '#referral/domain/referral.ts';
import {
  FakeClock,
  FakeWebhookSender,
  InMemoryAuditLog,
  InMemoryDirectory,
  InMemoryMetricCounters,
  InMemoryRecipientSecrets,
  InMemoryReferralStore,
  localChannels,
  testRetries,
} from './fakes.ts';
import { referralIds, sampleDirectory, sampleReferral, webhookBase } from './fixtures.ts';

// The notifier sends a `practice-response` notice as the signed BaRS message back to the referring practice: to the
// practice's endpoint with its own secret, retried like any delivery, recorded once, never sent again.

const id = referralIds['leeds-arts-and-mental-health'];
const by = 'lw-user-1';
const sourceEndpoint = 'http://127.0.0.1:3000/$process-message';

let referrals: InMemoryReferralStore;
let webhooks: FakeWebhookSender;
let audit: InMemoryAuditLog;
let counters: InMemoryMetricCounters;
let deps: DeliverNotificationDeps;

function seed(overrides: Partial<Referral> = {}): void {
  referrals.seed(
    sampleReferral('leeds-arts-and-mental-health', {
      status: 'accepted',
      acceptance: { at: '2025-03-05T09:00:00.000Z', by },
      ...overrides,
    }),
  );
}

const notice = (event: PracticeResponseEvent, attempt = 1) => ({
  referralId: id,
  deliveryId: practiceDeliveryId(id),
  kind: 'practice-response' as const,
  event,
  attempt,
});

beforeEach(() => {
  const snapshot = sampleDirectory();
  referrals = new InMemoryReferralStore();
  webhooks = new FakeWebhookSender(200);
  audit = new InMemoryAuditLog();
  counters = new InMemoryMetricCounters();
  deps = {
    referrals,
    directory: new InMemoryDirectory(snapshot),
    secrets: new InMemoryRecipientSecrets(snapshot),
    audit,
    counters,
    webhooks,
    clock: new FakeClock('2025-03-05T09:00:05.000Z'),
    channels: localChannels,
    ...testRetries,
    practiceMessages: { sourceEndpoint },
  };
});

describe('the message back to the practice', () => {
  it("goes signed with the practice's secret to its endpoint, is recorded and audited once, never sent again", async () => {
    seed();
    await expect(deliverNotification(deps, notice('accepted'))).resolves.toBe('delivered');
    expect(webhooks.calls).toHaveLength(1);
    const [call] = webhooks.calls;
    expect(call?.channel.url).toBe(`${webhookBase}/hooks/practice/A81001`);
    expect(call?.channel.secret).toBe(sampleDirectory().secrets?.['practice/A81001']);
    expect(call?.messageId).toBe(`practice.${id}.accepted`);
    expect(call?.eventType).toBe('servicerequest-response');
    expect(call?.data).toMatchObject({
      resourceType: 'Bundle',
      type: 'message',
      id: practiceMessageId(id, 'accepted'),
    });

    const stored = await referrals.get(id);
    expect(stored?.practiceMessages?.['accepted']).toEqual({
      status: 'delivered',
      at: '2025-03-05T09:00:05.000Z',
      messageId: practiceMessageId(id, 'accepted'),
      responseStatus: 200,
    });
    await expect(deliverNotification(deps, notice('accepted'))).resolves.toBe('already-delivered');
    expect(webhooks.calls).toHaveLength(1);
    const entries = audit.forReferral(id).filter((e) => e.action === 'referral.practice-message-sent');
    expect(entries).toHaveLength(1);
    expect(entries[0]?.detail).toMatchObject({
      event: 'accepted',
      practiceOds: 'A81001',
      sharingBack: 'full',
    });
    expect(JSON.stringify(entries)).not.toContain('9995260182');
    expect(
      counters.value('practice-messages.delivered', { event: 'accepted', sharingBack: 'full' }, '2025-03-05'),
    ).toBe(1);
  });

  it('a 5xx or a 429 is retried with the policy delay (Retry-After honoured), nothing recorded until it lands', async () => {
    seed();
    webhooks.status = 503;
    const error = await deliverNotification(deps, notice('accepted')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryRetryError);
    webhooks.status = 429;
    webhooks.retryAfter = '120';
    await expect(deliverNotification(deps, notice('accepted', 2))).rejects.toMatchObject({
      delaySeconds: 120,
    });
    expect((await referrals.get(id))?.practiceMessages).toBeUndefined();
    webhooks.status = 200;
    webhooks.retryAfter = undefined;
    await expect(deliverNotification(deps, notice('accepted', 3))).resolves.toBe('delivered');
    // One webhook-id on every attempt: the practice's receiver drops a repeat.
    expect(new Set(webhooks.calls.map((c) => c.messageId))).toEqual(new Set([`practice.${id}.accepted`]));
  });

  it('tells onAttempt of each push as the channel `practice` (the dashboard counts them)', async () => {
    seed();
    const attempts: string[] = [];
    const observed = {
      ...deps,
      onAttempt: (channel: string, outcome: string) => attempts.push(`${channel} ${outcome}`),
    };
    webhooks.status = 503;
    await expect(deliverNotification(observed, notice('accepted'))).rejects.toBeInstanceOf(
      DeliveryRetryError,
    );
    webhooks.status = 200;
    await deliverNotification(observed, notice('accepted', 2));
    await deliverNotification(observed, notice('accepted', 3)); // already delivered: no push
    expect(attempts).toEqual(['practice failed', 'practice delivered']);
  });

  it('a refusal for good (410) is recorded as failed, audited, counted and never retried', async () => {
    seed();
    webhooks.status = 410;
    await expect(deliverNotification(deps, notice('accepted'))).resolves.toBe('failed');
    expect((await referrals.get(id))?.practiceMessages?.['accepted']).toMatchObject({
      status: 'failed',
      reason: 'HTTP 410',
    });
    await expect(deliverNotification(deps, notice('accepted', 2))).resolves.toBe('already-failed');
    expect(webhooks.calls).toHaveLength(1);
    expect(audit.forReferral(id).map((e) => e.action)).toContain('referral.practice-message-failed');
    expect(
      counters.value('deliveries.failed', { recipient: 'practice', reason: 'HTTP 410' }, '2025-03-05'),
    ).toBe(1);
  });

  it('a practice with no endpoint: recorded as not sent with the reason, counted, not retried', async () => {
    seed({ practiceOds: 'C83002' });
    await expect(deliverNotification(deps, notice('accepted'))).resolves.toBe('not-sent');
    expect((await referrals.get(id))?.practiceMessages?.['accepted']).toMatchObject({
      status: 'not-sent',
      reason: 'practice C83002 has no endpoint in the directory',
    });
    await expect(deliverNotification(deps, notice('accepted', 2))).resolves.toBe('already-failed');
    expect(webhooks.calls).toEqual([]);
    expect(counters.value('practice-messages.not-sent', { event: 'accepted' }, '2025-03-05')).toBe(1);
  });

  it('a practice with no signing secret is not sent either', async () => {
    seed();
    deps.secrets = new InMemoryRecipientSecrets();
    await expect(deliverNotification(deps, notice('accepted'))).resolves.toBe('not-sent');
    expect((await referrals.get(id))?.practiceMessages?.['accepted']).toMatchObject({
      reason: 'practice A81001 has no signing secret',
    });
    expect(webhooks.calls).toEqual([]);
  });

  it('an event not recorded on the referral, or no source endpoint configured, is a fault: retried, then dead-lettered', async () => {
    seed();
    await expect(deliverNotification(deps, notice('closed'))).rejects.toBeInstanceOf(UnroutableMessageError);
    const { practiceMessages: _unset, ...unconfigured } = deps;
    await expect(deliverNotification(unconfigured, notice('accepted'))).rejects.toBeInstanceOf(
      UnroutableMessageError,
    );
    expect(webhooks.calls).toEqual([]);
  });

  it('the notice validates on the notifications queue with its event', async () => {
    const { queueMessages } = await import('#messages/queue.ts');
    const { attempt: _attempt, ...message } = notice('seen');
    expect(queueMessages.notifications.parse(message) satisfies NoticeMessage).toEqual(message);
    expect(queueMessages.notifications.safeParse({ ...message, event: 'escalated' }).success).toBe(false);
  });
});
