import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoAuditLog } from '#adapters/dynamodb/audit-log.ts';
import { DynamoDirectoryEditor } from '#adapters/dynamodb/directory-editor.ts';
import { DynamoFigures } from '#adapters/dynamodb/figures.ts';
import { DynamoMetricCounters } from '#adapters/dynamodb/metric-counters.ts';
import { DynamoOfferDeadlines } from '#adapters/dynamodb/offer-deadlines.ts';
import { DynamoPartnerResponses } from '#adapters/dynamodb/partner-responses.ts';
import { DynamoOfferStore, DynamoWorklists } from '#adapters/dynamodb/offer-store.ts';
import { DynamoReferralStore } from '#adapters/dynamodb/referral-store.ts';
import { serviceTerms } from '#adapters/dynamodb/service-terms.ts';
import { SqsQueue } from '#adapters/sqs/sqs-queue.ts';
import type { Clock } from '#kernel/clock.ts';
import { queueMessages } from '#messages/queue.ts';
import type { OfferDeadlineDeps } from '#referral/application/offer-deadlines.ts';

/** Where the deadline job works: the Lambda's own clients and names, or an operator's (npm run deadlines). */
export interface DeadlineWiring {
  documentClient: DynamoDBDocumentClient;
  sqs: SQSClient;
  tables: { referrals: string; audit: string; metrics: string; directory: string };
  notificationsQueueUrl: string;
  clock: Clock;
}

/** The deadline job's adapters, wired one way for the scheduled function and the operator command alike. */
export function deadlineDeps(wiring: DeadlineWiring): OfferDeadlineDeps {
  const { documentClient, tables } = wiring;
  const directory = new DynamoDirectoryEditor(documentClient, tables.directory);
  return {
    referrals: new DynamoReferralStore(documentClient, tables.referrals),
    offers: new DynamoOfferStore(documentClient, tables.referrals),
    worklists: new DynamoWorklists(documentClient, tables.referrals),
    deadlines: new DynamoOfferDeadlines(documentClient, tables.referrals),
    services: serviceTerms(directory),
    directory,
    audit: new DynamoAuditLog(documentClient, tables.audit),
    counters: new DynamoMetricCounters(documentClient, tables.metrics),
    figures: new DynamoFigures(documentClient, tables.metrics),
    responses: new DynamoPartnerResponses(documentClient, tables.metrics),
    notices: new SqsQueue(wiring.sqs, wiring.notificationsQueueUrl, queueMessages.notifications),
    clock: wiring.clock,
  };
}
