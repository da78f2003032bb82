import { beforeEach, describe, expect, it } from 'vitest';
import {
  deliverNotification,
  type DeliverNotificationDeps,
} from '#delivery/application/deliver-notification.ts';
import { emailNotice } from '#delivery/domain/email-notice.ts';
import { RecipientChannel, type DirectorySnapshot } from '#directory/domain/directory.ts';
import { lifecycleNoticeKinds } from '#referral/domain/lifecycle.ts';
import { routeReferral } from '#matching/application/route-referral.ts';
import { queueMessages } from '#messages/queue.ts';
import { NoticeKind } from '#messages/notice-message.ts';
import {
  FakeClock,
  FakeEmailSender,
  FakeWebhookSender,
  InMemoryAuditLog,
  InMemoryDirectory,
  InMemoryMetricCounters,
  InMemoryRecipientSecrets,
  InMemoryReferralStore,
  RecordingQueue,
  localChannels,
  testRetries,
} from './fakes.ts';
import { plainMatchingInputs } from './fakes-matching.ts';
import { referralIds, sampleDirectory, sampleReferral } from './fixtures.ts';

// Channels other than a webhook: an email that carries no patient data at all, and the worklist (nothing pushed);
// and notices of kinds the notifier does not special-case, as small events on any channel.

const inboxUrl = 'https://referrals.example.test/inbox';
const leedsId = referralIds['leeds-arts-and-mental-health'];
const teamDelivery = `${leedsId}.team.lw-woodhouse`;
const artsDelivery = `${leedsId}.partner.arts-for-all`;
const mindDelivery = `${leedsId}.partner.mind-matters`;

/** Everything that identifies the Leeds sample patient, in the forms it could appear in. */
const patientIdentifiers = [
  '9995260182',
  '999 526 0182',
  'Alex',
  'Testpatient',
  '1961-04-12',
  'LS6 1AA',
  'LS6',
  '0113 496 0001',
  '01134960001',
  'Low mood',
];

let referrals: InMemoryReferralStore;
let webhooks: FakeWebhookSender;
let emails: FakeEmailSender;
let audit: InMemoryAuditLog;
let counters: InMemoryMetricCounters;
let clock: FakeClock;
let deps: DeliverNotificationDeps;

/** The sample directory with arts-for-all on email and mind-matters on the worklist only. */
function directoryWithChannels(): DirectorySnapshot {
  const snapshot = sampleDirectory();
  const channelOf: Record<string, RecipientChannel> = {
    'arts-for-all': { kind: 'email', address: 'referrals@arts-for-all.example.test' },
    'mind-matters': { kind: 'worklist' },
  };
  return {
    ...snapshot,
    partners: snapshot.partners.map((p) => (channelOf[p.id] ? { ...p, channel: channelOf[p.id] } : p)),
  } as DirectorySnapshot;
}

beforeEach(async () => {
  referrals = new InMemoryReferralStore();
  webhooks = new FakeWebhookSender(202);
  emails = new FakeEmailSender();
  audit = new InMemoryAuditLog();
  counters = new InMemoryMetricCounters();
  clock = new FakeClock('2025-03-04T09:20:00.000Z');
  const directory = new InMemoryDirectory(directoryWithChannels());
  deps = {
    referrals,
    directory,
    secrets: new InMemoryRecipientSecrets(sampleDirectory()),
    audit,
    counters,
    webhooks,
    clock,
    channels: localChannels,
    ...testRetries,
    email: { sender: emails, inboxUrl },
  };
  referrals.seed(sampleReferral('leeds-arts-and-mental-health'));
  await routeReferral(
    {
      referrals,
      directory,
      audit: new InMemoryAuditLog(),
      counters,
      deliveryQueue: new RecordingQueue(queueMessages.notifications),
      clock,
      ...plainMatchingInputs(counters),
    },
    leedsId,
  );
  clock.advance(60_000);
});

describe('the email notice (shared/delivery/domain/email-notice.ts)', () => {
  it.each([...new Set([...lifecycleNoticeKinds, ...NoticeKind.options, 'a-kind-from-the-future'])])(
    '%s: plain words and the sign-in link, nothing else',
    (kind) => {
      const email = emailNotice(kind, inboxUrl);
      expect(email.text).toContain(inboxUrl);
      expect(email.html).toContain(`href="${inboxUrl}"`);
      expect(email.subject.length).toBeGreaterThan(5);
      // No placeholder left, no id: the words depend on the kind alone.
      expect(`${email.subject}${email.text}${email.html}`).not.toMatch(
        /\{\{|undefined|[0-9a-f]{8}-[0-9a-f]{4}/,
      );
    },
  );

  it('a new referral says so', () => {
    expect(emailNotice('assigned', inboxUrl)).toMatchObject({
      subject: 'You have a new referral',
      text: expect.stringMatching(/^You have a new referral\.\n\nSign in to your inbox to see it: https:/),
    });
  });

  it('escapes the link in the HTML part', () => {
    expect(emailNotice('assigned', 'https://x.example/?a=1&b="2"').html).toContain(
      'href="https://x.example/?a=1&amp;b=&quot;2&quot;"',
    );
  });
});

describe('the email channel', () => {
  it('sends the nudge to the directory address: no patient data, no referral details; delivered by email', async () => {
    await expect(deliverNotification(deps, { referralId: leedsId, deliveryId: artsDelivery })).resolves.toBe(
      'delivered',
    );
    expect(webhooks.calls).toEqual([]);
    expect(emails.sent).toHaveLength(1);
    const [email] = emails.sent;
    expect(email).toEqual({
      to: 'referrals@arts-for-all.example.test',
      ...emailNotice('assigned', inboxUrl),
    });
    const everything = JSON.stringify(email);
    for (const identifier of patientIdentifiers) expect(everything).not.toContain(identifier);
    // Nor what the referral is about: its id, needs, practice (the address itself is the partner's own).
    const content = `${email?.subject} ${email?.text} ${email?.html}`;
    for (const detail of [leedsId, 'arts', 'mental-health', 'A81001', 'Leeds'])
      expect(content).not.toContain(detail);

    expect(referrals.items.get(leedsId)?.deliveryStatus?.[artsDelivery]).toEqual({
      status: 'delivered',
      attemptedAt: '2025-03-04T09:21:00.000Z',
      attempts: 1,
      deliveredAt: '2025-03-04T09:21:00.000Z',
      channel: 'email',
    });
    expect(audit.entries).toMatchObject([
      { eventKey: `delivered.${artsDelivery}`, detail: { channel: 'email', content: 'identifiable' } },
    ]);
    expect(
      counters.value('deliveries.delivered', { recipient: 'partner', content: 'identifiable' }, '2025-03-04'),
    ).toBe(1);
  });

  it('an email SES will not take now is retried after the backoff', async () => {
    emails.outcome = { ok: false, failure: 'mail-deferred', reason: 'TooManyRequestsException' };
    await expect(
      deliverNotification(deps, { referralId: leedsId, deliveryId: artsDelivery }),
    ).rejects.toMatchObject({ name: 'DeliveryRetryError', delaySeconds: 5 });
    expect(referrals.items.get(leedsId)?.deliveryStatus?.[artsDelivery]).toMatchObject({
      status: 'retrying',
      lastFailure: 'email not accepted yet',
    });
  });

  it('SES unreachable is retried too', async () => {
    emails.onSend = () => {
      throw Object.assign(new Error('connect ECONNREFUSED'), { name: 'TypeError' });
    };
    await expect(
      deliverNotification(deps, { referralId: leedsId, deliveryId: artsDelivery }),
    ).rejects.toMatchObject({ name: 'DeliveryRetryError' });
    expect(referrals.items.get(leedsId)?.deliveryStatus?.[artsDelivery]?.lastFailure).toBe('unreachable');
  });

  it('an email SES refuses for good is a permanent failure: failed, audited, counted', async () => {
    emails.outcome = { ok: false, failure: 'mail-rejected', reason: 'MessageRejected' };
    await expect(deliverNotification(deps, { referralId: leedsId, deliveryId: artsDelivery })).resolves.toBe(
      'failed',
    );
    expect(referrals.items.get(leedsId)?.deliveryStatus?.[artsDelivery]).toMatchObject({
      status: 'failed',
      lastFailure: 'email refused',
    });
    expect(
      counters.value('deliveries.failed', { recipient: 'partner', reason: 'email refused' }, '2025-03-04'),
    ).toBe(1);
  });

  it('without the email settings an email recipient cannot be served: retried by the queue, then dead-lettered', async () => {
    const { email: _email, ...unconfigured } = deps;
    await expect(
      deliverNotification(unconfigured, { referralId: leedsId, deliveryId: artsDelivery }),
    ).rejects.toMatchObject({ name: 'UnroutableMessageError' });
    expect(referrals.items.get(leedsId)?.deliveryStatus?.[artsDelivery]).toMatchObject({
      status: 'retrying',
      lastFailure: 'email channel not configured',
    });
    expect(emails.sent).toEqual([]);
  });

  it('an update and a cancellation are emailed in plain words too', async () => {
    await deliverNotification(deps, { referralId: leedsId, deliveryId: artsDelivery });
    const stored = referrals.items.get(leedsId);
    if (!stored) throw new Error('not stored');
    referrals.seed({ ...stored, version: 2 });
    await expect(
      deliverNotification(deps, {
        referralId: leedsId,
        deliveryId: artsDelivery,
        kind: 'updated',
        version: 2,
      }),
    ).resolves.toBe('updated');
    referrals.seed({
      ...(referrals.items.get(leedsId) ?? stored),
      status: 'cancelled',
      cancellation: { reason: 'revoked', at: '2025-03-04T09:30:00.000Z' },
    });
    await expect(
      deliverNotification(deps, { referralId: leedsId, deliveryId: artsDelivery, kind: 'cancelled' }),
    ).resolves.toBe('cancellation-sent');
    expect(emails.sent.map((e) => e.subject)).toEqual([
      'You have a new referral',
      'News about a referral',
      'A referral has been cancelled',
    ]);
    for (const identifier of patientIdentifiers)
      expect(JSON.stringify(emails.sent)).not.toContain(identifier);
  });
});

describe('the worklist channel', () => {
  it('pushes nothing: the delivery is recorded as delivered to the worklist, audited and counted', async () => {
    await expect(deliverNotification(deps, { referralId: leedsId, deliveryId: mindDelivery })).resolves.toBe(
      'delivered',
    );
    expect(webhooks.calls).toEqual([]);
    expect(emails.sent).toEqual([]);
    expect(referrals.items.get(leedsId)?.deliveryStatus?.[mindDelivery]).toEqual({
      status: 'delivered',
      attemptedAt: '2025-03-04T09:21:00.000Z',
      attempts: 1,
      deliveredAt: '2025-03-04T09:21:00.000Z',
      channel: 'worklist',
    });
    expect(audit.entries).toMatchObject([
      {
        eventKey: `delivered.${mindDelivery}`,
        action: 'referral.delivered',
        detail: { channel: 'worklist' },
      },
    ]);
  });

  it('an update notice is recorded without a push (the worklist shows the latest version)', async () => {
    await deliverNotification(deps, { referralId: leedsId, deliveryId: mindDelivery });
    const stored = referrals.items.get(leedsId);
    if (!stored) throw new Error('not stored');
    referrals.seed({ ...stored, version: 2 });
    await expect(
      deliverNotification(deps, {
        referralId: leedsId,
        deliveryId: mindDelivery,
        kind: 'updated',
        version: 2,
      }),
    ).resolves.toBe('updated');
    expect(referrals.items.get(leedsId)?.deliveryStatus?.[mindDelivery]?.updateNoticeVersion).toBe(2);
    expect(webhooks.calls).toEqual([]);
  });
});

describe('notices of other kinds (the offers lifecycle and after)', () => {
  // Whatever kinds the queue message allows beyond the referral's own three, and the message back to the practice,
  // which goes to the practice by its own path (test/unit/deliver-practice-response.test.ts).
  const otherKinds = NoticeKind.options.filter(
    (k) => !['assigned', 'updated', 'cancelled', 'practice-response'].includes(k),
  );

  it.skipIf(otherKinds.length === 0).each(otherKinds)(
    '%s: a small signed event referral.<kind> with ids and time, no patient data, a stable webhook-id',
    async (kind) => {
      await deliverNotification(deps, { referralId: leedsId, deliveryId: teamDelivery });
      const message = { referralId: leedsId, deliveryId: teamDelivery, kind, offerId: `${leedsId}.offer.1` };
      await expect(deliverNotification(deps, message)).resolves.toBe('notice-sent');
      const call = webhooks.calls.at(-1);
      expect(call?.eventType).toBe(`referral.${kind}`);
      expect(call?.messageId).toBe(`${teamDelivery}.${kind}.${leedsId}.offer.1`);
      expect(call?.data).toEqual({
        referralId: leedsId,
        deliveryId: teamDelivery,
        recipient: { kind: 'team', id: 'lw-woodhouse', name: 'Woodhouse link workers' },
        kind,
        offerId: `${leedsId}.offer.1`,
        at: '2025-03-04T09:21:00.000Z',
      });
      for (const identifier of patientIdentifiers) expect(JSON.stringify(call)).not.toContain(identifier);
      expect(audit.entries.at(-1)).toMatchObject({
        eventKey: `notice.${teamDelivery}.${kind}.${leedsId}.offer.1`,
        action: 'referral.notice-sent',
        detail: { kind, channel: 'webhook' },
      });

      // Again (a crash before the record): the same webhook-id, which the receiver drops; one audit entry.
      await deliverNotification(deps, message);
      expect(webhooks.calls.at(-1)?.messageId).toBe(call?.messageId);
      expect(audit.entries.filter((e) => e.action === 'referral.notice-sent')).toHaveLength(1);
    },
  );

  it.skipIf(otherKinds.length === 0)(
    'by email it is the kind in plain words; on the worklist, nothing is pushed',
    async () => {
      const [kind = 'reminder'] = otherKinds;
      await expect(
        deliverNotification(deps, { referralId: leedsId, deliveryId: artsDelivery, kind, offerId: 'o-1' }),
      ).resolves.toBe('notice-sent');
      expect(emails.sent.at(-1)).toEqual({
        to: 'referrals@arts-for-all.example.test',
        ...emailNotice(kind, inboxUrl),
      });
      await expect(
        deliverNotification(deps, { referralId: leedsId, deliveryId: mindDelivery, kind, offerId: 'o-2' }),
      ).resolves.toBe('notice-sent');
      expect(webhooks.calls).toEqual([]);
      expect(audit.entries.at(-1)).toMatchObject({ detail: { channel: 'worklist' } });
    },
  );

  it.skipIf(otherKinds.length === 0)(
    'is not sent about a cancelled referral, nor to a recipient that refused it for good',
    async () => {
      const [kind = 'reminder'] = otherKinds;
      const stored = referrals.items.get(leedsId);
      if (!stored?.deliveryStatus) throw new Error('not stored');
      stored.deliveryStatus[teamDelivery] = { status: 'failed', lastFailure: 'HTTP 410' };
      await expect(
        deliverNotification(deps, { referralId: leedsId, deliveryId: teamDelivery, kind, offerId: 'o-1' }),
      ).resolves.toBe('not-needed');
      referrals.seed({ ...stored, status: 'cancelled' });
      await expect(
        deliverNotification(deps, { referralId: leedsId, deliveryId: artsDelivery, kind, offerId: 'o-1' }),
      ).resolves.toBe('not-needed');
      expect(webhooks.calls).toEqual([]);
      expect(emails.sent).toEqual([]);
    },
  );
});

describe('channels in the directory', () => {
  it.each([
    [{ kind: 'webhook', url: 'https://hooks.example.test/x' }, true],
    [{ kind: 'email', address: 'referrals@charity.example' }, true],
    [{ kind: 'worklist' }, true],
    [{ kind: 'email', address: 'not an address' }, false],
    [{ kind: 'email' }, false],
    [{ kind: 'worklist', url: 'https://x.example' }, false],
    [{ kind: 'fax', number: '0113' }, false],
  ])('%o parses: %s', (channel, ok) => {
    expect(RecipientChannel.safeParse(channel).success).toBe(ok);
  });
});
