import { DynamoAuditLog } from '#adapters/dynamodb/audit-log.ts';
import { DynamoDirectory } from '#adapters/dynamodb/directory-store.ts';
import { DynamoFigures } from '#adapters/dynamodb/figures.ts';
import { DynamoMetricCounters } from '#adapters/dynamodb/metric-counters.ts';
import { DynamoReferralStore } from '#adapters/dynamodb/referral-store.ts';
import { DynamoOfferStore } from '#adapters/dynamodb/offer-store.ts';
import { SqsQueue } from '#adapters/sqs/sqs-queue.ts';
import { systemClock } from '#kernel/clock.ts';
import { queueMessages } from '#messages/queue.ts';
import { documentClient, sqs } from '#platform/clients.ts';
import { queueUrl, tableName } from '#platform/config.ts';
import { requestAudited } from '#platform/request-origin.ts';

/** The intake function's adapters, created once per execution environment and shared by both routes. */
export const intakeDeps = {
  referrals: new DynamoReferralStore(documentClient, tableName('referrals')),
  directory: new DynamoDirectory(documentClient, tableName('directory')),
  // Each entry of a request names its caller and the request's ids (X-Request-ID, X-Correlation-ID).
  audit: requestAudited(new DynamoAuditLog(documentClient, tableName('audit'))),
  counters: new DynamoMetricCounters(documentClient, tableName('metrics')),
  // A cancellation is the funnel's `cancelled`.
  figures: new DynamoFigures(documentClient, tableName('metrics')),
  routingQueue: new SqsQueue(sqs, queueUrl('referrals'), queueMessages.referrals),
  deliveryQueue: new SqsQueue(sqs, queueUrl('notifications'), queueMessages.notifications),
  clock: systemClock,
  // A practice's update or cancellation reaches the referral's offers to partners.
  offers: new DynamoOfferStore(documentClient, tableName('referrals')),
};
