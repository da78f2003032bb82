import { makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { z } from 'zod';
import { DynamoAuditLog } from '../../shared/adapters/dynamodb/audit-log.ts';
import { DynamoDirectory } from '../../shared/adapters/dynamodb/directory-store.ts';
import { DynamoMetricCounters } from '../../shared/adapters/dynamodb/metric-counters.ts';
import { DynamoReferralStore } from '../../shared/adapters/dynamodb/referral-store.ts';
import { webhookTimeoutSeconds } from '../../infra/topology.ts';
import { SignedWebhookSender } from '../../shared/adapters/webhook/signed-webhook-sender.ts';
import { deliverNotification } from '../../shared/application/deliver-notification.ts';
import { systemClock } from '../../shared/application/ports.ts';
import { noticeId } from '../../shared/application/referral-lifecycle.ts';
import { documentClient } from '../../shared/platform/clients.ts';
import { tableName } from '../../shared/platform/config.ts';
import { sqsHandler } from '../../shared/platform/handlers.ts';
import { idempotencyFor } from '../../shared/platform/idempotency.ts';
import { logger, metrics } from '../../shared/platform/observability.ts';

/** Consumes the `notifications` queue: one signed webhook per (referral, recipient). */

const deps = {
  referrals: new DynamoReferralStore(documentClient, tableName('referrals')),
  directory: new DynamoDirectory(documentClient, tableName('directory')),
  audit: new DynamoAuditLog(documentClient, tableName('audit')),
  counters: new DynamoMetricCounters(documentClient, tableName('metrics')),
  webhooks: new SignedWebhookSender(webhookTimeoutSeconds * 1000),
  clock: systemClock,
};

export const DeliveryMessage = z.object({
  referralId: z.uuid(),
  deliveryId: z.string().min(1).max(200),
  kind: z.enum(['assigned', 'updated', 'cancelled']).default('assigned'),
  version: z.number().int().positive().optional(),
});

// Keyed by notice: two concurrent receipts of one message cannot both POST the webhook.
const idempotency = idempotencyFor({ keyPath: 'noticeId', expiresAfterSeconds: 24 * 3600 });
const deliverOnce = makeIdempotent(
  (message: z.infer<typeof DeliveryMessage> & { noticeId: string }) => deliverNotification(deps, message),
  idempotency,
);

export const handler = sqsHandler(DeliveryMessage, async (message, context) => {
  idempotency.config.registerLambdaContext(context);
  const outcome = await deliverOnce({ ...message, noticeId: noticeId(message) });
  logger.info('Delivery processed', {
    referralId: message.referralId,
    deliveryId: message.deliveryId,
    outcome,
  });
  if (outcome === 'delivered') metrics.addMetric('DeliveriesSucceeded', 'Count', 1);
});
