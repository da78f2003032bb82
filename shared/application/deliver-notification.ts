import { buildDeliveryPayload, deliveryEventType } from '../domain/delivery.ts';
import type { AuditLog, Clock, Directory, MetricCounters, ReferralStore, WebhookSender } from './ports.ts';
import { UnroutableMessageError } from './route-referral.ts';

/**
 * Delivering one referral to one recipient. A delivery already marked delivered is not sent again; the webhook
 * carries the delivery id as its webhook-id, so a receiver can also drop the rare repeat (a crash between the POST
 * and the record). A recipient that does not answer 2xx makes this throw, and SQS retries it, then dead-letters it.
 */

export interface DeliverNotificationDeps {
  referrals: ReferralStore;
  directory: Directory;
  audit: AuditLog;
  counters: MetricCounters;
  webhooks: WebhookSender;
  clock: Clock;
}

export interface DeliveryRequest {
  referralId: string;
  deliveryId: string;
}

export type DeliveryOutcome = 'delivered' | 'already-delivered' | 'skipped-cancelled';

export class RecipientRejectedError extends Error {
  override readonly name = 'RecipientRejectedError';
}

export async function deliverNotification(
  deps: DeliverNotificationDeps,
  { referralId, deliveryId }: DeliveryRequest,
): Promise<DeliveryOutcome> {
  const referral = await deps.referrals.get(referralId);
  if (!referral) throw new UnroutableMessageError(`referral ${referralId} does not exist`);
  if (referral.status === 'cancelled') return 'skipped-cancelled';
  const planned = referral.routing?.deliveries.find((d) => d.deliveryId === deliveryId);
  if (!referral.routing || !planned)
    throw new UnroutableMessageError(`delivery ${deliveryId} is not planned`);
  if (referral.deliveryStatus?.[deliveryId]?.status === 'delivered') return 'already-delivered';

  const channel = await deps.directory.channelOf(planned.recipient.kind, planned.recipient.id);
  if (!channel)
    throw new UnroutableMessageError(`${planned.recipient.kind} ${planned.recipient.id} has no channel`);

  const payload = buildDeliveryPayload(referral, planned, referral.routing.area);
  const status = await deps.webhooks.send(channel, deliveryId, deliveryEventType, payload);
  if (status < 200 || status > 299) {
    throw new RecipientRejectedError(
      `${planned.recipient.kind} ${planned.recipient.id} answered HTTP ${status}`,
    );
  }

  const deliveredAt = deps.clock.now().toISOString();
  await deps.referrals.markDelivered(referralId, deliveryId, {
    status: 'delivered',
    deliveredAt,
    responseStatus: status,
  });
  await deps.audit.append({
    referralId,
    eventKey: `delivered.${deliveryId}`,
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
    deliveryId,
  );
  return 'delivered';
}
