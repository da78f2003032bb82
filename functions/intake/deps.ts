import { DynamoAuditLog } from '../../shared/adapters/dynamodb/audit-log.ts';
import { DynamoDirectory } from '../../shared/adapters/dynamodb/directory-store.ts';
import { DynamoMetricCounters } from '../../shared/adapters/dynamodb/metric-counters.ts';
import { DynamoReferralStore } from '../../shared/adapters/dynamodb/referral-store.ts';
import { SqsQueue } from '../../shared/adapters/sqs/sqs-queue.ts';
import { systemClock } from '../../shared/application/ports.ts';
import { documentClient, sqs } from '../../shared/platform/clients.ts';
import { queueUrl, tableName } from '../../shared/platform/config.ts';

/** The intake function's adapters, created once per execution environment and shared by both routes. */
export const intakeDeps = {
  referrals: new DynamoReferralStore(documentClient, tableName('referrals')),
  directory: new DynamoDirectory(documentClient, tableName('directory')),
  audit: new DynamoAuditLog(documentClient, tableName('audit')),
  counters: new DynamoMetricCounters(documentClient, tableName('metrics')),
  routingQueue: new SqsQueue(sqs, queueUrl('referrals')),
  deliveryQueue: new SqsQueue(sqs, queueUrl('notifications')),
  clock: systemClock,
};
