import { makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoAuditLog } from '#adapters/dynamodb/audit-log.ts';
import { DynamoDirectory } from '#adapters/dynamodb/directory-store.ts';
import { DynamoMetricCounters } from '#adapters/dynamodb/metric-counters.ts';
import { DynamoReferralStore } from '#adapters/dynamodb/referral-store.ts';
import { webhookTimeoutSeconds } from '#system/limits.ts';
import { SignedWebhookSender } from '#adapters/webhook/signed-webhook-sender.ts';
import { deliverNotification } from '#delivery/application/deliver-notification.ts';
import { systemClock } from '#kernel/clock.ts';
import { noticeId, type NoticeMessage } from '#messages/notice-message.ts';
import { queueMessages } from '#messages/queue.ts';
import { documentClient } from '#platform/clients.ts';
import { channelPolicy, tableName } from '#platform/config.ts';
import { sqsHandler } from '#platform/handlers.ts';
import { idempotencyFor } from '#platform/idempotency.ts';
import { logger, metrics } from '#platform/observability.ts';
import { recipientSecretsFrom } from '#platform/secrets.ts';

/** Consumes the `notifications` queue: one signed webhook per (referral, recipient). */

const deps = {
  referrals: new DynamoReferralStore(documentClient, tableName('referrals')),
  directory: new DynamoDirectory(documentClient, tableName('directory')),
  secrets: recipientSecretsFrom(),
  audit: new DynamoAuditLog(documentClient, tableName('audit')),
  counters: new DynamoMetricCounters(documentClient, tableName('metrics')),
  webhooks: new SignedWebhookSender(webhookTimeoutSeconds * 1000),
  clock: systemClock,
  channels: channelPolicy(),
};

// Keyed by notice: two concurrent receipts of one message cannot both POST the webhook.
const idempotency = idempotencyFor({ keyPath: 'noticeId', expiresAfterSeconds: 24 * 3600 });
const deliverOnce = makeIdempotent(
  (message: NoticeMessage & { noticeId: string }) => deliverNotification(deps, message),
  idempotency,
);

export const handler = sqsHandler(queueMessages.notifications, async (message, context) => {
  idempotency.config.registerLambdaContext(context);
  const outcome = await deliverOnce({ ...message, noticeId: noticeId(message) });
  logger.info('Delivery processed', {
    referralId: message.referralId,
    deliveryId: message.deliveryId,
    outcome,
  });
  if (outcome === 'delivered') metrics.addMetric('DeliveriesSucceeded', 'Count', 1);
});
