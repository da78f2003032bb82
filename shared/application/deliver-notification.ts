import { buildCancellationPayload, buildDeliveryPayload, deliveryEventTypes } from '../domain/delivery.ts';
import type { PlannedDelivery, Referral } from '../domain/referral.ts';
import type { AuditLog, Clock, Directory, MetricCounters, ReferralStore, WebhookSender } from './ports.ts';
import { noticeId, type NoticeMessage } from './referral-lifecycle.ts';
import { UnroutableMessageError } from './route-referral.ts';

/**
 * Delivering one notice about one referral to one recipient: the referral itself (`assigned`), an update to it, or
 * its cancellation. A notice already recorded is not sent again; each carries a stable webhook-id (noticeId), so a
 * receiver can also drop the rare repeat (a crash between the POST and the record). A recipient that does not
 * answer 2xx makes this throw, and SQS retries it, then dead-letters it.
 *
 * Cancellation races are closed here: a referral cancelled while its delivery was in flight is followed at once by
 * the cancellation notice, so a recipient never keeps a referral the referrer withdrew.
 */

export interface DeliverNotificationDeps {
  referrals: ReferralStore;
  directory: Directory;
  audit: AuditLog;
  counters: MetricCounters;
  webhooks: WebhookSender;
  clock: Clock;
}

/** The plain routing message (no kind) means `assigned`, the first delivery. */
export type DeliveryRequest = Omit<NoticeMessage, 'kind'> & { kind?: NoticeMessage['kind'] };

export type DeliveryOutcome =
  'delivered' | 'already-delivered' | 'skipped-cancelled' | 'updated' | 'cancellation-sent' | 'not-needed';

export class RecipientRejectedError extends Error {
  override readonly name = 'RecipientRejectedError';
}

export async function deliverNotification(
  deps: DeliverNotificationDeps,
  request: DeliveryRequest,
): Promise<DeliveryOutcome> {
  const notice: NoticeMessage = { ...request, kind: request.kind ?? 'assigned' };
  const referral = await deps.referrals.get(notice.referralId);
  if (!referral) throw new UnroutableMessageError(`referral ${notice.referralId} does not exist`);
  const planned = referral.routing?.deliveries.find((d) => d.deliveryId === notice.deliveryId);
  if (!referral.routing || !planned)
    throw new UnroutableMessageError(`delivery ${notice.deliveryId} is not planned`);

  switch (notice.kind) {
    case 'assigned':
      return deliverAssignment(deps, referral, planned);
    case 'updated':
      return deliverUpdate(deps, referral, planned);
    case 'cancelled':
      return (await sendCancellationIfHeld(deps, referral, planned)) ? 'cancellation-sent' : 'not-needed';
  }
}

async function deliverAssignment(
  deps: DeliverNotificationDeps,
  referral: Referral,
  planned: PlannedDelivery,
): Promise<DeliveryOutcome> {
  if (referral.status === 'cancelled') {
    // Never sent, nothing to withdraw; unless an earlier attempt did send it, in which case say stop.
    await sendCancellationIfHeld(deps, referral, planned);
    return 'skipped-cancelled';
  }
  if (referral.deliveryStatus?.[planned.deliveryId]?.status === 'delivered') return 'already-delivered';

  const status = await post(deps, referral, planned, 'assigned');
  const deliveredAt = deps.clock.now().toISOString();
  await deps.referrals.markDelivered(referral.referralId, planned.deliveryId, {
    status: 'delivered',
    deliveredAt,
    responseStatus: status,
  });
  await deps.audit.append({
    referralId: referral.referralId,
    eventKey: `delivered.${planned.deliveryId}`,
    action: 'referral.delivered',
    actor: 'system:notifier',
    at: deliveredAt,
    detail: { recipient: planned.recipient, content: planned.content, responseStatus: status },
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

  // Cancelled while the webhook was in flight? The canceller saw no delivery yet, so the notice is ours to send.
  const now = await deps.referrals.get(referral.referralId);
  if (now?.status === 'cancelled') await sendCancellationIfHeld(deps, now, planned);
  return 'delivered';
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

/** Tells a recipient that holds a cancelled referral to stop; true if a notice went out now. */
async function sendCancellationIfHeld(
  deps: DeliverNotificationDeps,
  referral: Referral,
  planned: PlannedDelivery,
): Promise<boolean> {
  const state = referral.deliveryStatus?.[planned.deliveryId];
  if (referral.status !== 'cancelled' || state?.status !== 'delivered' || state.cancellationNoticeAt)
    return false;
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
  const channel = await deps.directory.channelOf(planned.recipient.kind, planned.recipient.id);
  if (!channel)
    throw new UnroutableMessageError(`${planned.recipient.kind} ${planned.recipient.id} has no channel`);
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
  const status = await deps.webhooks.send(channel, id, deliveryEventTypes[kind], data);
  if (status < 200 || status > 299) {
    throw new RecipientRejectedError(
      `${planned.recipient.kind} ${planned.recipient.id} answered HTTP ${status}`,
    );
  }
  return status;
}
