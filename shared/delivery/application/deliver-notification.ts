import {
  buildCancellationPayload,
  buildDeliveryPayload,
  deliveryEventTypes,
} from '#delivery/domain/minimisation.ts';
import type { PlannedDelivery, Referral } from '#referral/domain/referral.ts';
import type { AuditLog } from '#audit/ports.ts';
import type { Clock } from '#kernel/clock.ts';
import type { Directory, RecipientSecrets } from '#directory/ports.ts';
import { channelProblem, type ChannelPolicy } from '#directory/domain/directory.ts';
import type { MetricCounters } from '#reporting/ports.ts';
import type { ReferralStore } from '#referral/ports.ts';
import type { WebhookSender } from '#delivery/ports.ts';
import { noticeId, type NoticeMessage } from '#messages/notice-message.ts';
import { RecipientRejectedError, UnroutableMessageError } from '#kernel/errors.ts';

/**
 * Delivering one notice about one referral to one recipient: the referral itself (`assigned`), an update to it, or
 * its cancellation. A notice already recorded is not sent again; each carries a stable webhook-id (noticeId), so a
 * receiver can also drop the rare repeat (a crash between the POST and the record). A recipient that does not
 * answer 2xx makes this throw, and SQS retries it, then dead-letters it.
 *
 * The referral itself is recorded twice around its POST: `sending` just before (so a crash after the POST shows as
 * "sent, confirming", not as never attempted), then `delivered` (or `retrying`, with the reason). Both writes return
 * the referral as written (ALL_NEW): the sending mark replaces the read that used to come first, the delivered mark
 * the read that looked for a cancellation racing the POST. A delivery is 5 DynamoDB requests here (mark sending,
 * channel, mark delivered, audit, count; before: read, channel, mark delivered, audit, count, read = 6), plus the
 * notifier's two idempotency writes: 7 in all, was 8.
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
}

/** The plain routing message (no kind) means `assigned`, the first delivery. */
export type DeliveryRequest = Omit<NoticeMessage, 'kind'> & { kind?: NoticeMessage['kind'] };

export type DeliveryOutcome =
  'delivered' | 'already-delivered' | 'skipped-cancelled' | 'updated' | 'cancellation-sent' | 'not-needed';

export async function deliverNotification(
  deps: DeliverNotificationDeps,
  request: DeliveryRequest,
): Promise<DeliveryOutcome> {
  const notice: NoticeMessage = { ...request, kind: request.kind ?? 'assigned' };
  if (notice.kind === 'assigned') return deliverAssignment(deps, notice);
  const { referral, planned } = plannedIn(await deps.referrals.get(notice.referralId), notice);
  if (notice.kind === 'updated') return deliverUpdate(deps, referral, planned);
  return (await sendCancellationIfHeld(deps, referral, planned)) ? 'cancellation-sent' : 'not-needed';
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
): Promise<DeliveryOutcome> {
  const attemptedAt = deps.clock.now().toISOString();
  const sending = await deps.referrals.markSending(notice.referralId, notice.deliveryId, attemptedAt);
  if (!sending) {
    // Refused: not planned, already delivered, or cancelled. Only now is a read needed, to say which.
    const { referral, planned } = plannedIn(await deps.referrals.get(notice.referralId), notice);
    if (referral.status === 'cancelled') {
      // Never sent, nothing to withdraw; unless an earlier attempt may have sent it, in which case say stop.
      await sendCancellationIfHeld(deps, referral, planned);
      return 'skipped-cancelled';
    }
    const state = referral.deliveryStatus?.[planned.deliveryId];
    if (state?.status === 'delivered') {
      // A crash may have come between the delivered mark and the audit entry or count: both are written once
      // per delivery whatever happens, so writing them again here costs a repeat nothing and loses nothing.
      await auditAndCount(
        deps,
        referral,
        planned,
        state.deliveredAt ?? attemptedAt,
        state.responseStatus ?? 0,
      );
      return 'already-delivered';
    }
    throw new UnroutableMessageError(`delivery ${notice.deliveryId} has no delivery state to record`);
  }
  const { referral, planned } = plannedIn(sending, notice);

  let status: number;
  try {
    status = await post(deps, referral, planned, 'assigned');
  } catch (error) {
    // The status view says why it is being retried. If this write fails too, the retry's sending mark and its
    // outcome replace it; the error that matters is the first one.
    await deps.referrals
      .markAttemptFailed(referral.referralId, planned.deliveryId, failureReason(error))
      .catch(() => false);
    throw error;
  }
  const deliveredAt = deps.clock.now().toISOString();
  const recorded = await deps.referrals.markDelivered(referral.referralId, planned.deliveryId, {
    status: 'delivered',
    deliveredAt,
    responseStatus: status,
  });
  await auditAndCount(deps, referral, planned, deliveredAt, status);

  // Cancelled while the webhook was in flight? The canceller saw no delivery yet, so the notice is ours to send.
  // The delivered mark returned the referral as it stands, so this needs no read.
  if (recorded?.status === 'cancelled') await sendCancellationIfHeld(deps, recorded, planned);
  return 'delivered';
}

/** The delivery's audit entry and count: keyed by delivery, so a repeat writes nothing new. */
async function auditAndCount(
  deps: DeliverNotificationDeps,
  referral: Referral,
  planned: PlannedDelivery,
  deliveredAt: string,
  responseStatus: number,
): Promise<void> {
  await deps.audit.append({
    referralId: referral.referralId,
    eventKey: `delivered.${planned.deliveryId}`,
    action: 'referral.delivered',
    actor: 'system:notifier',
    at: deliveredAt,
    detail: { recipient: planned.recipient, content: planned.content, responseStatus },
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
): Promise<DeliveryOutcome> {
  const state = referral.deliveryStatus?.[planned.deliveryId];
  if (referral.status === 'cancelled' || state?.status !== 'delivered') return 'not-needed';
  if ((state.updateNoticeVersion ?? 0) >= referral.version) return 'not-needed';
  // Always the latest version: an older update notice still queued carries news already superseded.
  await post(deps, referral, planned, 'updated');
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
): Promise<boolean> {
  const state = referral.deliveryStatus?.[planned.deliveryId];
  const mayHold = state?.status === 'delivered' || state?.attemptedAt !== undefined;
  if (referral.status !== 'cancelled' || !mayHold || state?.cancellationNoticeAt) return false;
  await post(deps, referral, planned, 'cancelled');
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

async function post(
  deps: DeliverNotificationDeps,
  referral: Referral,
  planned: PlannedDelivery,
  kind: NoticeMessage['kind'],
): Promise<number> {
  const { kind: recipientKind, id: recipientId } = planned.recipient;
  // The channel and the signing secret are independent reads (the secret is usually cached): in parallel.
  const [channel, secret] = await Promise.all([
    deps.directory.channelOf(recipientKind, recipientId),
    deps.secrets.secretOf(recipientKind, recipientId),
  ]);
  if (!channel) throw new UnroutableMessageError(`${recipientKind} ${recipientId} has no channel`);
  if (!secret) throw new UnroutableMessageError(`${recipientKind} ${recipientId} has no signing secret`);
  // Checked again here, not only where channels are accepted: a record written before the rule, or by another path,
  // never gets patient data sent to an internal or cleartext address.
  const refused = channelProblem(channel.url, deps.channels);
  if (refused) throw new ChannelRefusedError(`${recipientKind} ${recipientId}'s webhook channel ${refused}`);
  const data =
    kind === 'cancelled'
      ? buildCancellationPayload(referral, planned)
      : buildDeliveryPayload(referral, planned, referral.routing?.area ?? '');
  const id = noticeId({
    referralId: referral.referralId,
    deliveryId: planned.deliveryId,
    kind,
    version: referral.version,
  });
  const status = await deps.webhooks.send({ ...channel, secret }, id, deliveryEventTypes[kind], data);
  if (status < 200 || status > 299) {
    throw new RecipientRejectedError(
      `${planned.recipient.kind} ${planned.recipient.id} answered HTTP ${status}`,
      status,
    );
  }
  return status;
}

/** A channel the deployment's channel policy refuses: never posted to; retried, then dead-lettered, like no channel. */
class ChannelRefusedError extends UnroutableMessageError {}

/** What the status view says about a failed attempt: no message text from the network, just the kind of failure. */
function failureReason(error: unknown): string {
  if (error instanceof RecipientRejectedError) return `HTTP ${error.status ?? '?'}`;
  if (error instanceof ChannelRefusedError) return 'webhook channel refused by the channel policy';
  if (error instanceof UnroutableMessageError) return 'no webhook channel or signing secret';
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
    return 'timeout';
  return 'unreachable';
}
