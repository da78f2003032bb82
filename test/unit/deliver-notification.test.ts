import { beforeEach, describe, expect, it } from 'vitest';
import {
  deliverNotification,
  type DeliverNotificationDeps,
} from '#delivery/application/deliver-notification.ts';
import { DeliveryRetryError, UnroutableMessageError } from '#kernel/errors.ts';
import { routeReferral } from '#matching/application/route-referral.ts';
import type { DeliveryPayload } from '#delivery/domain/minimisation.ts';
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
import { queueMessages } from '#messages/queue.ts';
import { referralIds, sampleDirectory, sampleReferral, webhookBase, type SampleName } from './fixtures.ts';
import { plainMatchingInputs } from './fakes-matching.ts';

let referrals: InMemoryReferralStore;
let directory: InMemoryDirectory;
let audit: InMemoryAuditLog;
let counters: InMemoryMetricCounters;
let webhooks: FakeWebhookSender;
let clock: FakeClock;
let deps: DeliverNotificationDeps;

const leedsId = referralIds['leeds-arts-and-mental-health'];
const teamDelivery = `${leedsId}.team.lw-woodhouse`;
const artsDelivery = `${leedsId}.partner.arts-for-all`;

/** Stores and routes a sample referral through the real use case, as the router would. */
async function routed(name: SampleName): Promise<void> {
  referrals.seed(sampleReferral(name));
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
    referralIds[name],
  );
}

beforeEach(async () => {
  referrals = new InMemoryReferralStore();
  directory = new InMemoryDirectory(sampleDirectory());
  audit = new InMemoryAuditLog();
  counters = new InMemoryMetricCounters();
  webhooks = new FakeWebhookSender(202);
  clock = new FakeClock('2025-03-04T09:20:00.000Z');
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
  };
  await routed('leeds-arts-and-mental-health');
  clock.advance(60_000); // deliveries happen at 09:21
});

describe('deliverNotification', () => {
  it('delivers to the team by signed webhook and marks the delivery delivered', async () => {
    const outcome = await deliverNotification(deps, { referralId: leedsId, deliveryId: teamDelivery });
    expect(outcome).toBe('delivered');

    expect(webhooks.calls).toHaveLength(1);
    const [call] = webhooks.calls;
    expect(call?.channel).toEqual({
      kind: 'webhook',
      url: `${webhookBase}/hooks/team/lw-woodhouse`,
      secret: 'whsec_hrlpdYRgiqLoqF1Wrvr1sv2Ev2WMdlIj',
    });
    expect(call?.messageId).toBe(teamDelivery);
    expect(call?.eventType).toBe('referral.assigned');
    const payload = call?.data as DeliveryPayload;
    expect(payload).toMatchObject({
      referralId: leedsId,
      deliveryId: teamDelivery,
      content: 'identifiable',
      area: 'LS6',
      needs: ['arts', 'mental-health'],
      patient: { nhsNumber: '9995260182' },
    });

    expect(referrals.items.get(leedsId)?.deliveryStatus?.[teamDelivery]).toEqual({
      status: 'delivered',
      attemptedAt: '2025-03-04T09:21:00.000Z',
      attempts: 1,
      deliveredAt: '2025-03-04T09:21:00.000Z',
      channel: 'webhook',
      responseStatus: 202,
    });
    expect(audit.entries).toEqual([
      {
        referralId: leedsId,
        eventKey: `delivered.${teamDelivery}`,
        action: 'referral.delivered',
        actor: 'system:notifier',
        at: '2025-03-04T09:21:00.000Z',
        detail: {
          recipient: { kind: 'team', id: 'lw-woodhouse', name: 'Woodhouse link workers' },
          content: 'identifiable',
          channel: 'webhook',
          responseStatus: 202,
        },
      },
    ]);
    expect(
      counters.value('deliveries.delivered', { recipient: 'team', content: 'identifiable' }, '2025-03-04'),
    ).toBe(1);
  });

  it('a partner delivery goes to the partner channel and carries no NHS number', async () => {
    await deliverNotification(deps, { referralId: leedsId, deliveryId: artsDelivery });
    const [call] = webhooks.calls;
    expect(call?.channel.url).toBe(`${webhookBase}/hooks/partner/arts-for-all`);
    expect(JSON.stringify(call?.data)).not.toContain('9995260182');
    expect((call?.data as DeliveryPayload).patient?.name).toEqual({ given: 'Alex', family: 'Testpatient' });
  });

  it('a delivery already delivered is not sent again', async () => {
    await deliverNotification(deps, { referralId: leedsId, deliveryId: teamDelivery });
    clock.advance(1_000);
    const outcome = await deliverNotification(deps, { referralId: leedsId, deliveryId: teamDelivery });
    expect(outcome).toBe('already-delivered');
    expect(webhooks.calls).toHaveLength(1);
    expect(referrals.items.get(leedsId)?.deliveryStatus?.[teamDelivery]?.deliveredAt).toBe(
      '2025-03-04T09:21:00.000Z',
    );
    expect(
      counters.value('deliveries.delivered', { recipient: 'team', content: 'identifiable' }, '2025-03-04'),
    ).toBe(1);
  });

  it.each([500, 502, 503, 408, 429, 302, 199])(
    'a recipient answering HTTP %i -> DeliveryRetryError with the backoff delay, the delivery is retrying with the reason',
    async (status) => {
      webhooks.status = status;
      const error = await deliverNotification(deps, {
        referralId: leedsId,
        deliveryId: teamDelivery,
        attempt: 3,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DeliveryRetryError);
      // Attempt 3: the ceiling is min(80, 10 x 2^2) = 40 s, and the fixed jitter (0.5) takes half of it.
      expect(error).toMatchObject({ delaySeconds: 20 });
      expect((error as Error).message).toBe(`team lw-woodhouse: HTTP ${status}; retry in 20 s (backoff)`);
      expect(referrals.items.get(leedsId)?.deliveryStatus?.[teamDelivery]).toEqual({
        status: 'retrying',
        attemptedAt: '2025-03-04T09:21:00.000Z',
        attempts: 1,
        lastFailure: `HTTP ${status}`,
      });
      expect(referrals.calls.markDelivered).toBe(0);
      expect(audit.entries).toEqual([]);
      expect(
        counters.value('deliveries.delivered', { recipient: 'team', content: 'identifiable' }, '2025-03-04'),
      ).toBe(0);
    },
  );

  it.each([
    ['7', 7],
    ['Tue, 04 Mar 2025 09:21:45 GMT', 45],
    ['999999', 6 * 3600],
  ])('a 429 or 503 with Retry-After %s is retried after %i s', async (retryAfter, delay) => {
    webhooks.status = 429;
    webhooks.retryAfter = retryAfter;
    const error = await deliverNotification(deps, { referralId: leedsId, deliveryId: teamDelivery }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ name: 'DeliveryRetryError', delaySeconds: delay });
    expect((error as Error).message).toContain('(retry-after)');
  });

  it.each([400, 401, 403, 404, 410, 422])(
    'a recipient answering HTTP %i refuses it for good: failed with the reason, audited, counted, not retried',
    async (status) => {
      webhooks.status = status;
      await expect(
        deliverNotification(deps, { referralId: leedsId, deliveryId: teamDelivery }),
      ).resolves.toBe('failed');
      expect(referrals.items.get(leedsId)?.deliveryStatus?.[teamDelivery]).toEqual({
        status: 'failed',
        attemptedAt: '2025-03-04T09:21:00.000Z',
        attempts: 1,
        lastFailure: `HTTP ${status}`,
        failedAt: '2025-03-04T09:21:00.000Z',
      });
      expect(audit.entries).toEqual([
        {
          referralId: leedsId,
          eventKey: `delivery-failed.${teamDelivery}`,
          action: 'referral.delivery-failed',
          actor: 'system:notifier',
          at: '2025-03-04T09:21:00.000Z',
          detail: {
            recipient: { kind: 'team', id: 'lw-woodhouse', name: 'Woodhouse link workers' },
            content: 'identifiable',
            reason: `HTTP ${status}`,
          },
        },
      ]);
      expect(
        counters.value('deliveries.failed', { recipient: 'team', reason: `HTTP ${status}` }, '2025-03-04'),
      ).toBe(1);

      // The same message again (a duplicate, or a redrive): not sent again, the record and count unchanged.
      webhooks.status = 202;
      await expect(
        deliverNotification(deps, { referralId: leedsId, deliveryId: teamDelivery }),
      ).resolves.toBe('already-failed');
      expect(webhooks.calls).toHaveLength(1);
      expect(audit.entries).toHaveLength(1);
      expect(
        counters.value('deliveries.failed', { recipient: 'team', reason: `HTTP ${status}` }, '2025-03-04'),
      ).toBe(1);
    },
  );

  it('after a rejection, the retry delivers', async () => {
    webhooks.status = 503;
    await expect(
      deliverNotification(deps, { referralId: leedsId, deliveryId: teamDelivery }),
    ).rejects.toThrow();
    webhooks.status = 200;
    clock.advance(5_000);
    await expect(deliverNotification(deps, { referralId: leedsId, deliveryId: teamDelivery })).resolves.toBe(
      'delivered',
    );
    expect(webhooks.calls).toHaveLength(2);
    // The failure is history once delivered; the attempts stay.
    expect(referrals.items.get(leedsId)?.deliveryStatus?.[teamDelivery]).toEqual({
      status: 'delivered',
      attemptedAt: '2025-03-04T09:21:05.000Z',
      attempts: 2,
      deliveredAt: '2025-03-04T09:21:05.000Z',
      channel: 'webhook',
      responseStatus: 200,
    });
  });

  it('tells onAttempt of each push by its channel and outcome (the dashboard counts them)', async () => {
    const attempts: string[] = [];
    const observed = {
      ...deps,
      onAttempt: (channel: string, outcome: string) => attempts.push(`${channel} ${outcome}`),
    };
    webhooks.status = 503;
    await expect(
      deliverNotification(observed, { referralId: leedsId, deliveryId: teamDelivery }),
    ).rejects.toThrow();
    webhooks.status = 200;
    clock.advance(5_000);
    await deliverNotification(observed, { referralId: leedsId, deliveryId: teamDelivery });
    // A repeat once delivered pushes nothing, so tells nothing.
    await deliverNotification(observed, { referralId: leedsId, deliveryId: teamDelivery });
    expect(attempts).toEqual(['webhook failed', 'webhook delivered']);
  });

  it.each([
    [Object.assign(new Error('fetch failed'), { name: 'TypeError' }), 'unreachable'],
    [new DOMException('The operation was aborted due to timeout', 'TimeoutError'), 'timeout'],
  ])('a POST that fails (%s) leaves the delivery retrying: %s', async (failure, reason) => {
    webhooks.onSend = () => {
      throw failure;
    };
    await expect(
      deliverNotification(deps, { referralId: leedsId, deliveryId: teamDelivery }),
    ).rejects.toMatchObject({
      name: 'DeliveryRetryError',
      delaySeconds: 5,
      message: expect.stringContaining(reason),
    });
    expect(referrals.items.get(leedsId)?.deliveryStatus?.[teamDelivery]).toMatchObject({
      status: 'retrying',
      lastFailure: reason,
    });
  });

  it('records `sending` before the POST, in the one write that also reads the referral', async () => {
    let atPost: unknown;
    webhooks.onSend = () => {
      atPost = referrals.items.get(leedsId)?.deliveryStatus?.[teamDelivery];
    };
    const before = { ...referrals.calls };
    await deliverNotification(deps, { referralId: leedsId, deliveryId: teamDelivery });
    expect(atPost).toEqual({ status: 'sending', attemptedAt: '2025-03-04T09:21:00.000Z', attempts: 1 });
    // Sending mark and delivered mark both return the referral: no read of the referrals table at all.
    expect(referrals.calls).toEqual({ ...before, markSending: 1, markDelivered: 1 });
  });

  it('a crash after the POST leaves `sending`; the retry re-sends with the same webhook-id, then records it', async () => {
    // The process dies as the POST goes out: nothing after it runs.
    webhooks.onSend = () => {
      throw new Error('process killed');
    };
    const crashed = deliverNotification(deps, { referralId: leedsId, deliveryId: teamDelivery });
    await expect(crashed).rejects.toThrow('unreachable');
    // A kill -9 would not have recorded the failure either: put the state back as the crash leaves it.
    const state = referrals.items.get(leedsId)?.deliveryStatus?.[teamDelivery];
    if (!state) throw new Error('no delivery state');
    Object.assign(state, { status: 'sending' });
    delete state.lastFailure;

    webhooks.onSend = undefined;
    clock.advance(73_000); // the message comes back after the visibility timeout
    await expect(deliverNotification(deps, { referralId: leedsId, deliveryId: teamDelivery })).resolves.toBe(
      'delivered',
    );
    expect(webhooks.calls.map((c) => c.messageId)).toEqual([teamDelivery, teamDelivery]);
    expect(referrals.items.get(leedsId)?.deliveryStatus?.[teamDelivery]).toMatchObject({
      status: 'delivered',
      attempts: 2,
    });
    expect(audit.entries).toHaveLength(1);
    expect(
      counters.value('deliveries.delivered', { recipient: 'team', content: 'identifiable' }, '2025-03-04'),
    ).toBe(1);
  });

  it('a second receipt while the first is POSTing is held back until the claim lapses, and never POSTs', async () => {
    let second: Promise<unknown> | undefined;
    webhooks.onSend = () => {
      // The same message handed out again while the first receipt's POST is in flight, 3 s after its claim.
      clock.advance(3_000);
      second = deliverNotification(deps, { referralId: leedsId, deliveryId: teamDelivery }).catch(
        (error: unknown) => error,
      );
    };
    await expect(deliverNotification(deps, { referralId: leedsId, deliveryId: teamDelivery })).resolves.toBe(
      'delivered',
    );
    const refused = await second;
    expect(refused).toBeInstanceOf(DeliveryRetryError);
    // The claim holds for the notifier's timeout (12 s) from the first attempt: 9 s of it were left.
    expect((refused as DeliveryRetryError).delaySeconds).toBe(9);
    expect(webhooks.calls.map((c) => c.messageId)).toEqual([teamDelivery]);
    expect(audit.entries).toHaveLength(1);
  });

  it('refused by a claim that is released before the read (the other attempt failed): retried in 1 s, not unroutable', async () => {
    await referrals.markSending(
      leedsId,
      teamDelivery,
      '2025-03-04T09:21:00.000Z',
      '2025-03-04T09:20:48.000Z',
    );
    // The mark is refused while the other attempt holds the claim; that attempt records its failure at once.
    referrals.markSending = async () => {
      await referrals.markAttemptFailed(leedsId, teamDelivery, 'HTTP 503');
      return undefined;
    };
    const refused = await deliverNotification(deps, { referralId: leedsId, deliveryId: teamDelivery }).catch(
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(DeliveryRetryError);
    expect((refused as DeliveryRetryError).delaySeconds).toBe(1);
    expect(webhooks.calls).toEqual([]);
  });

  it('a crash between the delivered mark and the audit entry: the retry writes the audit entry and count, no POST', async () => {
    await referrals.markSending(
      leedsId,
      teamDelivery,
      '2025-03-04T09:21:00.000Z',
      '2025-03-04T09:21:00.000Z',
    );
    await referrals.markDelivered(leedsId, teamDelivery, {
      status: 'delivered',
      deliveredAt: '2025-03-04T09:21:00.000Z',
      responseStatus: 202,
    });
    clock.advance(73_000);
    const outcome = await deliverNotification(deps, { referralId: leedsId, deliveryId: teamDelivery });
    expect(outcome).toBe('already-delivered');
    expect(webhooks.calls).toEqual([]);
    expect(audit.entries).toMatchObject([
      {
        eventKey: `delivered.${teamDelivery}`,
        at: '2025-03-04T09:21:00.000Z',
        detail: { responseStatus: 202 },
      },
    ]);
    expect(
      counters.value('deliveries.delivered', { recipient: 'team', content: 'identifiable' }, '2025-03-04'),
    ).toBe(1);
  });

  it('cancelled after a crash left the delivery `sending`: the retry tells the recipient to stop', async () => {
    const stored = referrals.items.get(leedsId);
    if (!stored?.deliveryStatus) throw new Error('not stored');
    stored.deliveryStatus[teamDelivery] = {
      status: 'sending',
      attemptedAt: '2025-03-04T09:21:00.000Z',
      attempts: 1,
    };
    referrals.seed({
      ...stored,
      status: 'cancelled',
      cancellation: { reason: 'revoked', at: '2025-03-04T09:21:30.000Z' },
    });
    const outcome = await deliverNotification(deps, { referralId: leedsId, deliveryId: teamDelivery });
    expect(outcome).toBe('skipped-cancelled');
    // It may have arrived before the crash, so it is withdrawn; the referral itself is not sent again.
    expect(webhooks.calls.map((c) => [c.messageId, c.eventType])).toEqual([
      [`${teamDelivery}.cancelled`, 'referral.cancelled'],
    ]);
  });

  it('a cancellation that raced the POST is seen in what the delivered mark returns, and followed by a stop notice', async () => {
    webhooks.onSend = (call) => {
      if (call.eventType !== 'referral.assigned') return;
      const stored = referrals.items.get(leedsId);
      if (!stored) throw new Error('not stored');
      Object.assign(stored, {
        status: 'cancelled',
        cancellation: { reason: 'revoked', at: '2025-03-04T09:21:00.000Z' },
      });
    };
    const readsBefore = referrals.calls.get;
    await expect(deliverNotification(deps, { referralId: leedsId, deliveryId: teamDelivery })).resolves.toBe(
      'delivered',
    );
    expect(webhooks.calls.map((c) => c.eventType)).toEqual(['referral.assigned', 'referral.cancelled']);
    expect(referrals.calls.get).toBe(readsBefore);
  });

  it('a cancelled referral is skipped without a webhook', async () => {
    const stored = referrals.items.get(leedsId);
    if (!stored) throw new Error('not stored');
    referrals.seed({ ...stored, status: 'cancelled' });
    const outcome = await deliverNotification(deps, { referralId: leedsId, deliveryId: teamDelivery });
    expect(outcome).toBe('skipped-cancelled');
    expect(webhooks.calls).toEqual([]);
    expect(audit.entries).toEqual([]);
  });

  it('a signposting delivery (no consent) sends no patient details', async () => {
    await routed('hastings-befriending-no-consent');
    const id = referralIds['hastings-befriending-no-consent'];
    const deliveryId = `${id}.partner.coastal-friends`;
    await deliverNotification(deps, { referralId: id, deliveryId });
    const payload = webhooks.calls[0]?.data as DeliveryPayload;
    expect(payload.content).toBe('signposting');
    expect('patient' in payload).toBe(false);
    expect(JSON.stringify(payload)).not.toContain('9990166137');
    expect(
      counters.value('deliveries.delivered', { recipient: 'partner', content: 'signposting' }, '2025-03-04'),
    ).toBe(1);
  });

  it('throws UnroutableMessageError for a missing referral or an unplanned delivery', async () => {
    await expect(
      deliverNotification(deps, {
        referralId: '99999999-9999-4999-8999-999999999999',
        deliveryId: teamDelivery,
      }),
    ).rejects.toBeInstanceOf(UnroutableMessageError);
    await expect(
      deliverNotification(deps, { referralId: leedsId, deliveryId: `${leedsId}.partner.green-gym` }),
    ).rejects.toBeInstanceOf(UnroutableMessageError);
    expect(webhooks.calls).toEqual([]);
  });

  it('throws UnroutableMessageError when the recipient has no channel', async () => {
    const snapshot = sampleDirectory();
    snapshot.teams = [];
    await expect(
      deliverNotification(
        { ...deps, directory: new InMemoryDirectory(snapshot) },
        { referralId: leedsId, deliveryId: teamDelivery },
      ),
    ).rejects.toThrow('team lw-woodhouse has no channel');
    expect(webhooks.calls).toEqual([]);
    expect(referrals.items.get(leedsId)?.deliveryStatus?.[teamDelivery]).toMatchObject({
      status: 'retrying',
      lastFailure: 'no webhook channel or signing secret',
    });
  });

  it('sends nothing unsigned: a recipient with no secret in the secret store is retried, never posted to', async () => {
    const secrets = new InMemoryRecipientSecrets(sampleDirectory());
    secrets.secrets.delete('team/lw-woodhouse');
    await expect(
      deliverNotification({ ...deps, secrets }, { referralId: leedsId, deliveryId: teamDelivery }),
    ).rejects.toThrow('team lw-woodhouse has no signing secret');
    expect(webhooks.calls).toEqual([]);
    expect(referrals.items.get(leedsId)?.deliveryStatus?.[teamDelivery]).toMatchObject({
      status: 'retrying',
      lastFailure: 'no webhook channel or signing secret',
    });
  });

  it('never posts to a channel the channel policy refuses: retried, then dead-lettered, with no URL or patient data in the reason', async () => {
    const snapshot = sampleDirectory();
    snapshot.teams = snapshot.teams.map((team) =>
      team.id === 'lw-woodhouse'
        ? { ...team, channel: { kind: 'webhook' as const, url: 'http://169.254.169.254/latest/meta-data' } }
        : team,
    );
    await expect(
      deliverNotification(
        { ...deps, directory: new InMemoryDirectory(snapshot) },
        { referralId: leedsId, deliveryId: teamDelivery },
      ),
    ).rejects.toBeInstanceOf(UnroutableMessageError);
    // The sample directory's loopback http receivers are refused in AWS.
    await expect(
      deliverNotification(
        { ...deps, channels: 'https-only' },
        { referralId: leedsId, deliveryId: teamDelivery },
      ),
    ).rejects.toThrow(/team lw-woodhouse's webhook channel must be an https URL/);
    expect(webhooks.calls).toEqual([]);
    expect(referrals.items.get(leedsId)?.deliveryStatus?.[teamDelivery]).toMatchObject({
      status: 'retrying',
      lastFailure: 'webhook channel refused by the channel policy',
    });
  });
});
