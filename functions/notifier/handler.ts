import { makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoAuditLog } from '#adapters/dynamodb/audit-log.ts';
import { DynamoDirectory } from '#adapters/dynamodb/directory-store.ts';
import { cachedDirectory, DirectoryCache } from '#adapters/dynamodb/directory-cache.ts';
import { DynamoMetricCounters } from '#adapters/dynamodb/metric-counters.ts';
import { DynamoReferralStore } from '#adapters/dynamodb/referral-store.ts';
import { SesEmailSender } from '#adapters/email/ses-email-sender.ts';
import { SqsMessageVisibility } from '#adapters/sqs/message-visibility.ts';
import { webhookTimeoutSeconds } from '#system/limits.ts';
import { SignedWebhookSender } from '#adapters/webhook/signed-webhook-sender.ts';
import { deliverNotification } from '#delivery/application/deliver-notification.ts';
import { systemClock } from '#kernel/clock.ts';
import { DeliveryRetryError } from '#kernel/errors.ts';
import { noticeId, type NoticeMessage } from '#messages/notice-message.ts';
import { queueMessages } from '#messages/queue.ts';
import { documentClient, sqs } from '#platform/clients.ts';
import { channelPolicy, optionalSetting, queueUrl, retryBackoff, tableName } from '#platform/config.ts';
import { sesv2 } from '#platform/email-client.ts';
import { sqsHandler } from '#platform/handlers.ts';
import { idempotencyFor } from '#platform/idempotency.ts';
import { countBy, logger, metrics } from '#platform/observability.ts';
import { recipientSecretsFrom } from '#platform/secrets.ts';

/**
 * Consumes the `notifications` queue: one notice per (referral, recipient) by the recipient's channel. A failure
 * worth retrying holds the message back for the retry policy's delay (its visibility), then fails the record.
 */

// Both or neither: an email links to the inbox page and comes from the one address the role may send as.
const emailFrom = optionalSetting('EMAIL_FROM');
const inboxUrl = optionalSetting('INBOX_URL');
// The inbox page is served by the API (`<ApiUrl>inbox`), so our `$process-message` is beside it: the source the
// messages back to the practice name (where its system answers us). Without INBOX_URL they are dead-lettered.
// Parsed without throwing: a malformed setting must not stop every other delivery at load.
const sourceEndpoint = inboxUrl
  ? URL.parse('$process-message', inboxUrl.replace(/\/+$/, ''))?.href
  : undefined;

const deps = {
  referrals: new DynamoReferralStore(documentClient, tableName('referrals')),
  // Recipients' channels through a cache that one version read per invocation keeps true (directory-cache.ts).
  directory: cachedDirectory(
    new DirectoryCache(documentClient, tableName('directory')),
    new DynamoDirectory(documentClient, tableName('directory')),
  ),
  secrets: recipientSecretsFrom(),
  audit: new DynamoAuditLog(documentClient, tableName('audit')),
  counters: new DynamoMetricCounters(documentClient, tableName('metrics')),
  webhooks: new SignedWebhookSender(webhookTimeoutSeconds * 1000),
  clock: systemClock,
  channels: channelPolicy(),
  backoff: retryBackoff(),
  random: Math.random,
  email: emailFrom && inboxUrl ? { sender: new SesEmailSender(sesv2, emailFrom), inboxUrl } : undefined,
  practiceMessages: sourceEndpoint ? { sourceEndpoint } : undefined,
  // The dashboard's deliveries by channel and outcome (infra/constructs/dashboard.ts).
  onAttempt: (channel: string, outcome: string) => countBy('DeliveryAttempts', { channel, outcome }),
};
const redelivery = new SqsMessageVisibility(sqs, queueUrl('notifications'));

// The other notices keyed by notice: two concurrent receipts of one message cannot both POST the webhook. A
// referral's own delivery (`assigned`, most of the traffic) needs no such record: its `sending` mark is a claim
// that a second receipt is refused (ReferralStore.markSending), which saves two DynamoDB writes per delivery.
const idempotency = idempotencyFor({ keyPath: 'noticeId', expiresAfterSeconds: 24 * 3600 });
const deliverOnce = makeIdempotent(
  (message: NoticeMessage & { noticeId: string; attempt: number }) => deliverNotification(deps, message),
  idempotency,
);
const deliver = (message: NoticeMessage & { noticeId: string; attempt: number }) =>
  (message.kind ?? 'assigned') === 'assigned' ? deliverNotification(deps, message) : deliverOnce(message);

export const handler = sqsHandler(queueMessages.notifications, async (message, context, record) => {
  idempotency.config.registerLambdaContext(context);
  const ids = { referralId: message.referralId, deliveryId: message.deliveryId, kind: message.kind };
  let outcome;
  try {
    outcome = await deliver({
      ...message,
      noticeId: noticeId(message),
      attempt: Number(record.attributes.ApproximateReceiveCount) || 1,
    });
  } catch (error) {
    if (error instanceof DeliveryRetryError) {
      // If the change fails (the receipt expired), the queue's own visibility timeout applies instead.
      await redelivery.holdBack(record.receiptHandle, error.delaySeconds).catch((cause: unknown) => {
        logger.warn('Could not hold the notice back; the visibility timeout applies', {
          ...ids,
          error: (cause as Error).name,
        });
      });
      logger.info('Delivery to be retried', {
        ...ids,
        reason: error.message,
        delaySeconds: error.delaySeconds,
      });
      metrics.addMetric('DeliveriesRetried', 'Count', 1);
    }
    throw error;
  }
  logger.info('Delivery processed', { ...ids, outcome });
  if (outcome === 'delivered') metrics.addMetric('DeliveriesSucceeded', 'Count', 1);
  // The alarm's metric (infra/constructs/monitoring.ts): a recipient refused a notice for good.
  if (outcome === 'failed') metrics.addMetric('DeliveriesFailedPermanently', 'Count', 1);
  // A message back to the GP that could not go at all (the practice has no endpoint or secret): hazard H7.
  if (outcome === 'not-sent') metrics.addMetric('PracticeMessagesNotSent', 'Count', 1);
});
