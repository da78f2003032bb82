import {
  buildCancellationPayload,
  buildDeliveryPayload,
  buildNoticeEvent,
  deliveryEventTypes,
  noticeEventType,
} from '#delivery/domain/minimisation.ts';
import type { PlannedDelivery, Referral } from '#referral/domain/referral.ts';
import type { AuditLog } from '#audit/ports.ts';
import type { Clock } from '#kernel/clock.ts';
import type { Directory, RecipientSecrets } from '#directory/ports.ts';
import type { ChannelKind, ChannelPolicy } from '#directory/domain/directory.ts';
import { channelProblem } from '#directory/domain/channel-policy.ts';
import type { MetricCounters } from '#reporting/ports.ts';
import type { ReferralStore } from '#referral/ports.ts';
import type { EmailSender, WebhookSender } from '#delivery/ports.ts';
import { emailNotice } from '#delivery/domain/email-notice.ts';
import {
  retryDecision,
  type AttemptFailure,
  type Backoff,
  type RetryDecision,
} from '#delivery/domain/retry-policy.ts';
import { noticeId, type NoticeMessage } from '#messages/notice-message.ts';
import { DeliveryRetryError, UnroutableMessageError } from '#kernel/errors.ts';
import { notifierTimeoutSeconds } from '#system/limits.ts';
import {
  deliverPracticeResponse,
  type AttemptObserver,
  type DeliverPracticeResponseDeps,
} from '#delivery/application/deliver-practice-response.ts';

/**
 * Delivering one notice about one referral to one recipient: the referral itself (`assigned`), an update to it, its
 * cancellation, or any other kind (the offers' lifecycle: a small `referral.<kind>` event); and the message back to
 * the referring practice (`practice-response`: #delivery/application/deliver-practice-response.ts). A notice already
 * recorded is not sent again; each carries a stable webhook-id (noticeId), so a receiver can also drop the rare
 * repeat (a crash between the POST and the record).
 *
 * By the recipient's channel in the directory: a signed webhook; an email that carries no patient data at all (the
 * notice's kind in plain words and a link to sign in to the inbox page); or nothing (`worklist`: the referral is in
 * the recipient's worklist, which is its delivery).
 *
 * A recipient that does not answer 2xx is judged by the retry policy (#delivery/domain/retry-policy.ts): a refusal
 * for good (a 4xx other than 408/429) is recorded on the delivery as `failed`, audited and counted, and reported
 * as handled, so it is not retried round to the DLQ; anything else throws DeliveryRetryError with the delay (a
 * jittered exponential backoff, or the recipient's Retry-After), which the handler applies to the queue message's
 * visibility before SQS hands it out again, and after maxReceiveCount SQS dead-letters it.
 *
 * The referral itself is recorded twice around its POST: `sending` just before (so a crash after the POST shows as
 * "sent, confirming", not as never attempted), then `delivered` (or `retrying`, with the reason). Both writes return
 * the referral as written (ALL_NEW): the sending mark replaces the read that used to come first, the delivered mark
 * the read that looked for a cancellation racing the POST. The sending mark is also the delivery's claim: a second
 * receipt of the message while the first is POSTing is refused and held back, so no idempotency record is needed.
 * A delivery is 4 DynamoDB requests (mark sending, mark delivered, the audit link, the count) and, per invocation,
 * one read of the directory's version (the channel is cached) and one of the audit chain's head; it was 9.
 *
 * Cancellation races are closed here: a referral cancelled while its delivery was in flight is followed at once by
 * the cancellation notice, so a recipient never keeps a referral the referrer withdrew.
 */

export interface DeliverNotificationDeps {
  referrals: ReferralStore;
  directory: Directory;
  secrets: RecipientSecrets;
  audit: AuditLog;
  counters: MetricCounters;
  webhooks: WebhookSender;
  clock: Clock;
  /** Where webhooks may go (a deployment setting): a channel it refuses is never posted to. */
  channels: ChannelPolicy;
  /** The notifications queue's backoff (shared/system/queues.ts, RETRY_BACKOFF). */
  backoff: Backoff;
  /** In [0, 1): the jitter (Math.random in the function; fixed in tests). */
  random: () => number;
  /**
   * The email channel: the sender and the inbox page its emails link to. Undefined when the deployment has not
   * configured it (no EMAIL_FROM / INBOX_URL): an email recipient's notice is then retried and dead-lettered.
   */
  email?: { sender: EmailSender; inboxUrl: string } | undefined;
  /** The messages back to the practice: our `$process-message` URL (deliver-practice-response.ts). */
  practiceMessages?: DeliverPracticeResponseDeps['practiceMessages'];
  /**
   * Told of each push to a team or partner: by which channel, and whether it got through (the notifier counts them
   * as the EMF metric `DeliveryAttempts` by channel and outcome, for the dashboard). Optional: tests leave it out.
   */
  onAttempt?: AttemptObserver;
}

/**
 * The plain routing message (no kind) means `assigned`, the first delivery. `attempt` is how many times the queue
 * has handed this message out (its ApproximateReceiveCount; 1 the first time): the backoff grows with it.
 */
export type DeliveryRequest = Omit<NoticeMessage, 'kind'> & {
  kind?: NoticeMessage['kind'];
  attempt?: number;
};

export type DeliveryOutcome =
  | 'delivered'
  | 'already-delivered'
  | 'skipped-cancelled'
  | 'updated'
  | 'cancellation-sent'
  | 'not-needed'
  /** The recipient refused it for good (e.g. HTTP 410): recorded, audited, counted; not retried. */
  | 'failed'
  | 'already-failed'
  /** Any other kind of notice (a reminder, a withdrawn or expired offer...): sent as a small event. */
  | 'notice-sent'
  /** A message back to the practice that cannot go (no endpoint or secret): recorded with the reason, not retried. */
  | 'not-sent';

export async function deliverNotification(
  deps: DeliverNotificationDeps,
  request: DeliveryRequest,
): Promise<DeliveryOutcome> {
  const { attempt = 1, ...message } = request;
  const notice: NoticeMessage = { ...message, kind: message.kind ?? 'assigned' };
  const tries: Attempt = { number: attempt };
  if (notice.kind === 'assigned') return deliverAssignment(deps, notice, tries);
  // The message back to the GP: to the practice, which is no planned delivery of the routing.
  if (notice.kind === 'practice-response') return deliverPracticeResponse(deps, notice, attempt);
  const { referral, planned } = plannedIn(await deps.referrals.get(notice.referralId), notice);
  if (notice.kind === 'updated') return deliverUpdate(deps, referral, planned, tries);
  if (notice.kind === 'cancelled') {
    const sent = await sendCancellationIfHeld(deps, referral, planned, tries);
    return sent === true ? 'cancellation-sent' : sent === false ? 'not-needed' : sent;
  }
  return deliverOtherNotice(deps, referral, planned, notice, tries);
}

/**
 * A notice of a kind not special-cased here (the offers' lifecycle: a reminder, a withdrawn or expired offer, and
 * whatever comes next): a small event (`referral.<kind>`, ids and time, no patient data) by the recipient's channel,
 * with the notice's own stable webhook-id. Not sent about a cancelled referral (its cancellation notice says stop),
 * nor to a recipient that refused the referral for good. Its audit entry is keyed by the notice, so a repeat after
 * a crash writes nothing new (the receiver drops the repeated webhook-id).
 */
async function deliverOtherNotice(
  deps: DeliverNotificationDeps,
  referral: Referral,
  planned: PlannedDelivery,
  notice: NoticeMessage,
  attempt: Attempt,
): Promise<DeliveryOutcome> {
  if (referral.status === 'cancelled') return 'not-needed';
  if (referral.deliveryStatus?.[planned.deliveryId]?.status === 'failed') return 'not-needed';
  const pushed = await pushNotice(deps, referral, planned, notice, attempt);
  if (pushed.failed) return 'failed';
  await deps.audit.append({
    referralId: referral.referralId,
    eventKey: `notice.${pushed.id}`,
    action: 'referral.notice-sent',
    actor: 'system:notifier',
    at: deps.clock.now().toISOString(),
    detail: { recipient: planned.recipient, kind: notice.kind, channel: pushed.channel },
  });
  return 'notice-sent';
}

/** Which attempt this is (the message's receive count), for the backoff. */
interface Attempt {
  number: number;
}

function plannedIn(
  referral: Referral | undefined,
  notice: NoticeMessage,
): { referral: Referral; planned: PlannedDelivery } {
  if (!referral) throw new UnroutableMessageError(`referral ${notice.referralId} does not exist`);
  const planned = referral.routing?.deliveries.find((d) => d.deliveryId === notice.deliveryId);
  if (!referral.routing || !planned)
    throw new UnroutableMessageError(`delivery ${notice.deliveryId} is not planned`);
  return { referral, planned };
}

async function deliverAssignment(
  deps: DeliverNotificationDeps,
  notice: NoticeMessage,
  attempt: Attempt,
): Promise<DeliveryOutcome> {
  const now = deps.clock.now();
  const attemptedAt = now.toISOString();
  const claimsLapseBefore = new Date(now.getTime() - notifierTimeoutSeconds * 1000).toISOString();
  const sending = await deps.referrals.markSending(
    notice.referralId,
    notice.deliveryId,
    attemptedAt,
    claimsLapseBefore,
  );
  if (!sending) {
    // Refused: not planned, already delivered or failed, cancelled, or claimed by an attempt in flight. Only now is
    // a read needed, to say which.
    const { referral, planned } = plannedIn(await deps.referrals.get(notice.referralId), notice);
    if (referral.status === 'cancelled') {
      // Never sent, nothing to withdraw; unless an earlier attempt may have sent it, in which case say stop.
      await sendCancellationIfHeld(deps, referral, planned, attempt);
      return 'skipped-cancelled';
    }
    const state = referral.deliveryStatus?.[planned.deliveryId];
    if (state?.status === 'delivered') {
      // A crash may have come between the delivered mark and the audit entry or count: both are written once
      // per delivery whatever happens, so writing them again here costs a repeat nothing and loses nothing.
      await auditAndCount(deps, referral, planned, state.deliveredAt ?? attemptedAt, {
        channel: state.channel ?? 'webhook',
        responseStatus: state.responseStatus,
      });
      return 'already-delivered';
    }
    if (state?.status === 'sending') {
      // Another receipt of the message is POSTing it now (SQS delivers at least once): try again once that
      // attempt has recorded its outcome, or once its claim has lapsed if it crashed.
      const lapsesAt = Date.parse(state.attemptedAt ?? attemptedAt) + notifierTimeoutSeconds * 1000;
      throw new DeliveryRetryError(
        `delivery ${planned.deliveryId} is being sent by another attempt`,
        Math.max(1, Math.ceil((lapsesAt - now.getTime()) / 1000)),
      );
    }
    if (state?.status === 'pending' || state?.status === 'retrying') {
      // The claim that refused this attempt was released between the mark and the read (the other attempt
      // recorded a failure): the delivery is free again, so try again shortly rather than call it unroutable.
      throw new DeliveryRetryError(`delivery ${planned.deliveryId} was being sent by another attempt`, 1);
    }
    if (state?.status === 'failed') {
      // Likewise for a refusal for good: its audit entry and count are keyed by delivery.
      await auditAndCountFailure(
        deps,
        referral,
        planned,
        state.failedAt ?? attemptedAt,
        state.lastFailure ?? '',
      );
      return 'already-failed';
    }
    throw new UnroutableMessageError(`delivery ${notice.deliveryId} has no delivery state to record`);
  }
  const { referral, planned } = plannedIn(sending, notice);

  let pushed: Pushed;
  try {
    pushed = await push(deps, referral, planned, notice);
  } catch (error) {
    // No channel, no secret, a refused channel: retried by the queue's own visibility timeout, then
    // dead-lettered. If this write fails too, the retry's sending mark and its outcome replace it.
    await deps.referrals
      .markAttemptFailed(referral.referralId, planned.deliveryId, unroutableReason(error))
      .catch(() => false);
    throw error;
  }
  if (!pushed.ok) {
    const decision = decide(deps, pushed.failure, attempt);
    if (decision.action === 'give-up') {
      const failedAt = deps.clock.now().toISOString();
      await deps.referrals.markFailed(referral.referralId, planned.deliveryId, {
        reason: decision.reason,
        failedAt,
      });
      await auditAndCountFailure(deps, referral, planned, failedAt, decision.reason);
      return 'failed';
    }
    await deps.referrals
      .markAttemptFailed(referral.referralId, planned.deliveryId, decision.reason)
      .catch(() => false);
    throw retryLater(planned, decision);
  }
  const deliveredAt = deps.clock.now().toISOString();
  const recorded = await deps.referrals.markDelivered(referral.referralId, planned.deliveryId, {
    status: 'delivered',
    deliveredAt,
    channel: pushed.channel,
    ...(pushed.status === undefined ? {} : { responseStatus: pushed.status }),
  });
  await auditAndCount(deps, referral, planned, deliveredAt, {
    channel: pushed.channel,
    responseStatus: pushed.status,
  });

  // Cancelled while the webhook was in flight? The canceller saw no delivery yet, so the notice is ours to send.
  // The delivered mark returned the referral as it stands, so this needs no read.
  if (recorded?.status === 'cancelled') await sendCancellationIfHeld(deps, recorded, planned, attempt);
  return 'delivered';
}

function decide(deps: DeliverNotificationDeps, failure: AttemptFailure, attempt: Attempt): RetryDecision {
  return retryDecision({
    failure,
    attempt: attempt.number,
    backoff: deps.backoff,
    now: deps.clock.now(),
    random: deps.random(),
  });
}

function retryLater(
  planned: PlannedDelivery,
  decision: Extract<RetryDecision, { action: 'retry' }>,
): DeliveryRetryError {
  const { kind, id } = planned.recipient;
  return new DeliveryRetryError(
    `${kind} ${id}: ${decision.reason}; retry in ${decision.delaySeconds} s (${decision.delaySource})`,
    decision.delaySeconds,
  );
}

/** A refusal for good: audited and counted once per delivery (the count feeds the ops alarm's EMF twin). */
async function auditAndCountFailure(
  deps: DeliverNotificationDeps,
  referral: Referral,
  planned: PlannedDelivery,
  failedAt: string,
  reason: string,
): Promise<void> {
  await deps.audit.append({
    referralId: referral.referralId,
    eventKey: `delivery-failed.${planned.deliveryId}`,
    action: 'referral.delivery-failed',
    actor: 'system:notifier',
    at: failedAt,
    detail: { recipient: planned.recipient, content: planned.content, reason },
  });
  await deps.counters.countOnce(
    [{ name: 'deliveries.failed', dimensions: { recipient: planned.recipient.kind, reason } }],
    failedAt.slice(0, 10),
    planned.deliveryId,
  );
}

/** The delivery's audit entry and count: keyed by delivery, so a repeat writes nothing new. */
async function auditAndCount(
  deps: DeliverNotificationDeps,
  referral: Referral,
  planned: PlannedDelivery,
  deliveredAt: string,
  how: { channel: 'webhook' | 'email' | 'worklist'; responseStatus: number | undefined },
): Promise<void> {
  const { channel, responseStatus } = how;
  await deps.audit.append({
    referralId: referral.referralId,
    eventKey: `delivered.${planned.deliveryId}`,
    action: 'referral.delivered',
    actor: 'system:notifier',
    at: deliveredAt,
    detail: {
      recipient: planned.recipient,
      content: planned.content,
      channel,
      ...(responseStatus === undefined ? {} : { responseStatus }),
    },
  });
  await deps.counters.countOnce(
    [
      {
        name: 'deliveries.delivered',
        dimensions: { recipient: planned.recipient.kind, content: planned.content },
      },
    ],
    deliveredAt.slice(0, 10),
    planned.deliveryId,
  );
}

async function deliverUpdate(
  deps: DeliverNotificationDeps,
  referral: Referral,
  planned: PlannedDelivery,
  attempt: Attempt,
): Promise<DeliveryOutcome> {
  const state = referral.deliveryStatus?.[planned.deliveryId];
  if (referral.status === 'cancelled' || state?.status !== 'delivered') return 'not-needed';
  if ((state.updateNoticeVersion ?? 0) >= referral.version) return 'not-needed';
  // Always the latest version: an older update notice still queued carries news already superseded.
  const { failed } = await pushNotice(
    deps,
    referral,
    planned,
    noticeOf(referral, planned, 'updated'),
    attempt,
  );
  if (failed) return 'failed';
  await deps.referrals.recordNotice(referral.referralId, planned.deliveryId, {
    updateNoticeVersion: referral.version,
  });
  await deps.audit.append({
    referralId: referral.referralId,
    eventKey: `updated.v${referral.version}.${planned.deliveryId}`,
    action: 'referral.update-notified',
    actor: 'system:notifier',
    at: deps.clock.now().toISOString(),
    detail: { recipient: planned.recipient, version: referral.version },
  });
  return 'updated';
}

/**
 * Tells a recipient that holds, or may hold, a cancelled referral to stop; true if a notice went out now. "May
 * hold": any attempt was made (`attemptedAt`), since a POST whose answer was lost may have arrived. A stop notice
 * carries no patient details, so one to a recipient that never got the referral costs nothing but a dropped id.
 */
async function sendCancellationIfHeld(
  deps: DeliverNotificationDeps,
  referral: Referral,
  planned: PlannedDelivery,
  attempt: Attempt,
): Promise<boolean | 'failed'> {
  const state = referral.deliveryStatus?.[planned.deliveryId];
  const mayHold = state?.status === 'delivered' || state?.attemptedAt !== undefined;
  if (referral.status !== 'cancelled' || !mayHold || state?.cancellationNoticeAt) return false;
  const { failed } = await pushNotice(
    deps,
    referral,
    planned,
    noticeOf(referral, planned, 'cancelled'),
    attempt,
  );
  if (failed) return 'failed';
  const at = deps.clock.now().toISOString();
  await deps.referrals.recordNotice(referral.referralId, planned.deliveryId, { cancellationNoticeAt: at });
  await deps.audit.append({
    referralId: referral.referralId,
    eventKey: `cancellation-notified.${planned.deliveryId}`,
    action: 'referral.cancellation-notified',
    actor: 'system:notifier',
    at,
    detail: { recipient: planned.recipient },
  });
  return true;
}

/** The notice message for a referral's own update or cancellation notice (the latest version's). */
function noticeOf(
  referral: Referral,
  planned: PlannedDelivery,
  kind: 'updated' | 'cancelled',
): NoticeMessage {
  return { referralId: referral.referralId, deliveryId: planned.deliveryId, kind, version: referral.version };
}

/**
 * A notice about a delivery the recipient already has (an update, a stop, an offer's news): pushed. `failed` when
 * the recipient refused it for good (audited and counted once per notice, not retried); a failure worth retrying
 * throws DeliveryRetryError.
 */
async function pushNotice(
  deps: DeliverNotificationDeps,
  referral: Referral,
  planned: PlannedDelivery,
  notice: NoticeMessage,
  attempt: Attempt,
): Promise<{ failed: boolean; id: string; channel?: ChannelKind }> {
  const id = outgoingId(referral, notice);
  const pushed = await push(deps, referral, planned, notice);
  if (pushed.ok) return { failed: false, id, channel: pushed.channel };
  const decision = decide(deps, pushed.failure, attempt);
  if (decision.action === 'retry') throw retryLater(planned, decision);
  const at = deps.clock.now().toISOString();
  await deps.audit.append({
    referralId: referral.referralId,
    eventKey: `notice-failed.${id}`,
    action: 'referral.notice-failed',
    actor: 'system:notifier',
    at,
    detail: { recipient: planned.recipient, kind: notice.kind, reason: decision.reason },
  });
  await deps.counters.countOnce(
    [
      {
        name: 'deliveries.failed',
        dimensions: { recipient: planned.recipient.kind, reason: decision.reason },
      },
    ],
    at.slice(0, 10),
    id,
  );
  return { failed: true, id };
}

/**
 * The webhook-id of a notice: stable per notice (noticeId), an update's naming the referral's latest version (an
 * older update notice still queued carries news already superseded, so it says the latest).
 */
function outgoingId(referral: Referral, notice: NoticeMessage): string {
  return noticeId(notice.kind === 'updated' ? { ...notice, version: referral.version } : notice);
}

/** What a notice carries over a webhook: its event type and payload, minimised for the recipient. */
function outgoingEvent(
  referral: Referral,
  planned: PlannedDelivery,
  notice: NoticeMessage,
  at: string,
): { eventType: string; data: unknown } {
  const kind = notice.kind;
  if (kind === 'assigned' || kind === 'updated')
    return {
      eventType: deliveryEventTypes[kind],
      data: buildDeliveryPayload(referral, planned, referral.routing?.area ?? ''),
    };
  if (kind === 'cancelled')
    return { eventType: deliveryEventTypes.cancelled, data: buildCancellationPayload(referral, planned) };
  return {
    eventType: noticeEventType(kind),
    data: buildNoticeEvent(referral, planned, { kind, offerId: offerIdOf(notice) }, at),
  };
}

/**
 * The offer a notice is about, when its message names one. Read defensively: the offers' notices carry `offerId`
 * (the worklists' producer owns the message's schema), the referral's own notices do not.
 */
function offerIdOf(notice: NoticeMessage): string | undefined {
  const offerId = (notice as { offerId?: unknown }).offerId;
  return typeof offerId === 'string' ? offerId : undefined;
}

/**
 * How a push went: delivered (by which channel, with the HTTP status for a webhook), or how it failed. A worklist
 * recipient is pushed nothing: the referral is in its worklist already, which is its delivery.
 */
type Pushed =
  | { ok: true; channel: 'webhook'; status: number }
  | { ok: true; channel: 'email' | 'worklist'; status?: undefined }
  | { ok: false; channel: 'webhook' | 'email'; failure: AttemptFailure };

/**
 * Sends one notice by the recipient's channel. Throws (UnroutableMessageError) only when it cannot be sent at all
 * (no channel, no secret for a webhook, a channel the policy refuses, email not configured); a recipient's answer,
 * a timeout or a network failure is returned for the retry policy to judge.
 */
async function push(
  deps: DeliverNotificationDeps,
  referral: Referral,
  planned: PlannedDelivery,
  notice: NoticeMessage,
): Promise<Pushed> {
  const pushed = await pushByChannel(deps, referral, planned, notice);
  deps.onAttempt?.(pushed.channel, pushed.ok ? 'delivered' : 'failed');
  return pushed;
}

async function pushByChannel(
  deps: DeliverNotificationDeps,
  referral: Referral,
  planned: PlannedDelivery,
  notice: NoticeMessage,
): Promise<Pushed> {
  const kind = notice.kind;
  const { kind: recipientKind, id: recipientId } = planned.recipient;
  // The channel and the signing secret are independent reads (the secret is usually cached): in parallel, though
  // only a webhook needs the secret.
  const [channel, secret] = await Promise.all([
    deps.directory.channelOf(recipientKind, recipientId),
    deps.secrets.secretOf(recipientKind, recipientId),
  ]);
  if (!channel) throw new UnroutableMessageError(`${recipientKind} ${recipientId} has no channel`);
  if (channel.kind === 'worklist') return { ok: true, channel: 'worklist' };
  if (channel.kind === 'email') return pushEmail(deps, channel.address, kind);

  if (!secret) throw new UnroutableMessageError(`${recipientKind} ${recipientId} has no signing secret`);
  // Checked again here, not only where channels are accepted: a record written before the rule, or by another path,
  // never gets patient data sent to an internal or cleartext address.
  const refused = channelProblem(channel.url, deps.channels);
  if (refused) throw new ChannelRefusedError(`${recipientKind} ${recipientId}'s webhook channel ${refused}`);
  const { eventType, data } = outgoingEvent(referral, planned, notice, deps.clock.now().toISOString());
  let response;
  try {
    response = await deps.webhooks.send(
      { ...channel, secret },
      outgoingId(referral, notice),
      eventType,
      data,
    );
  } catch (error) {
    return { ok: false, channel: 'webhook', failure: networkFailure(error) };
  }
  if (response.status < 200 || response.status > 299) {
    return {
      ok: false,
      channel: 'webhook',
      failure: {
        kind: 'http',
        status: response.status,
        ...(response.retryAfter === undefined ? {} : { retryAfter: response.retryAfter }),
      },
    };
  }
  return { ok: true, channel: 'webhook', status: response.status };
}

/** The email nudge: the kind in plain words and the inbox link, nothing of the referral (email-notice.ts). */
async function pushEmail(deps: DeliverNotificationDeps, address: string, kind: string): Promise<Pushed> {
  if (!deps.email)
    throw new EmailNotConfiguredError('the email channel is not configured (EMAIL_FROM, INBOX_URL)');
  let outcome;
  try {
    outcome = await deps.email.sender.send({ to: address, ...emailNotice(kind, deps.email.inboxUrl) });
  } catch (error) {
    return { ok: false, channel: 'email', failure: networkFailure(error) };
  }
  if (outcome.ok) return { ok: true, channel: 'email' };
  return { ok: false, channel: 'email', failure: { kind: outcome.failure } };
}

/** No EMAIL_FROM / INBOX_URL in this deployment: an email recipient cannot be served; retried, then dead-lettered. */
class EmailNotConfiguredError extends UnroutableMessageError {}

/** A channel the deployment's channel policy refuses: never posted to; retried, then dead-lettered, like no channel. */
class ChannelRefusedError extends UnroutableMessageError {}

/** A POST that threw: past its timeout, or the network failed (no message text from the network is kept). */
function networkFailure(error: unknown): AttemptFailure {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
    return { kind: 'timeout' };
  return { kind: 'unreachable' };
}

/** What the status view says when a notice could not be sent at all. */
function unroutableReason(error: unknown): string {
  if (error instanceof ChannelRefusedError) return 'webhook channel refused by the channel policy';
  if (error instanceof EmailNotConfiguredError) return 'email channel not configured';
  if (error instanceof UnroutableMessageError) return 'no webhook channel or signing secret';
  return 'unreachable';
}
