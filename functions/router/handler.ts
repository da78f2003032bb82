import { DynamoAuditLog } from '#adapters/dynamodb/audit-log.ts';
import { DynamoDirectory } from '#adapters/dynamodb/directory-store.ts';
import { DynamoGeography } from '#adapters/dynamodb/geography-store.ts';
import { DynamoServiceLoad } from '#adapters/dynamodb/service-load.ts';
import { DynamoMetricCounters } from '#adapters/dynamodb/metric-counters.ts';
import { DynamoFigures } from '#adapters/dynamodb/figures.ts';
import { DynamoReferralStore } from '#adapters/dynamodb/referral-store.ts';
import { DynamoOfferStore } from '#adapters/dynamodb/offer-store.ts';
import { DynamoDirectoryEditor } from '#adapters/dynamodb/directory-editor.ts';
import { SqsQueue } from '#adapters/sqs/sqs-queue.ts';
import { systemClock } from '#kernel/clock.ts';
import { routeReferral } from '#matching/application/route-referral.ts';
import { queueMessages } from '#messages/queue.ts';
import type { RoutingMessage } from '#messages/routing-message.ts';
import { documentClient, sqs } from '#platform/clients.ts';
import { queueUrl, tableName } from '#platform/config.ts';
import { sqsHandler } from '#platform/handlers.ts';
import { countBy, logger, metrics } from '#platform/observability.ts';
import { imdEdition } from '#system/matching.ts';
import { serviceTerms } from '#adapters/dynamodb/service-terms.ts';
import { cachedDirectory, cachedServiceTerms, DirectoryCache } from '#adapters/dynamodb/directory-cache.ts';

/** Consumes the `referrals` queue: one routing decision per referral, one delivery message per recipient. */

// The directory read through a cache that one version read per invocation keeps true (directory-cache.ts).
const directoryCache = new DirectoryCache(documentClient, tableName('directory'));

const deps = {
  referrals: new DynamoReferralStore(documentClient, tableName('referrals')),
  directory: cachedDirectory(directoryCache, new DynamoDirectory(documentClient, tableName('directory'))),
  audit: new DynamoAuditLog(documentClient, tableName('audit')),
  counters: new DynamoMetricCounters(documentClient, tableName('metrics')),
  figures: new DynamoFigures(documentClient, tableName('metrics')),
  deliveryQueue: new SqsQueue(sqs, queueUrl('notifications'), queueMessages.notifications),
  clock: systemClock,
  geography: new DynamoGeography(documentClient, tableName('geography')),
  serviceLoad: new DynamoServiceLoad(documentClient, tableName('metrics')),
  imdEdition,
  offers: {
    store: new DynamoOfferStore(documentClient, tableName('referrals')),
    services: cachedServiceTerms(
      directoryCache,
      serviceTerms(new DynamoDirectoryEditor(documentClient, tableName('directory'))),
    ),
  },
};

// No idempotency record: routing is safe to repeat as it is (route-referral.ts). A redelivered message finds the
// referral routed and carries on with the stored decision, and two attempts at once are kept apart by the route's
// version-conditional write; a record would cost two more writes on every referral to save work on the rare repeat.
async function route({ referralId }: RoutingMessage) {
  const result = await routeReferral(deps, referralId);
  if (result.outcome === 'skipped') return result;
  const { routing } = result.referral;
  return {
    outcome: result.outcome,
    deliveriesQueued: result.deliveriesQueued,
    matched: routing?.matches.length ?? 0,
    unmet: routing?.unmetNeeds.map((u) => u.category) ?? [],
    // Codes and categories only: no patient identifier (the LSOA and decile stay in the stored decision).
    unmetReasons: routing?.unmetNeeds.map((u) => `${u.category}:${u.code}`) ?? [],
    noTeam: routing?.noTeam !== undefined,
  };
}

export const handler = sqsHandler(queueMessages.referrals, async (message) => {
  const result = await route(message);
  logger.info('Referral routed', { referralId: message.referralId, ...result });
  metrics.addMetric('ReferralsRouted', 'Count', 1);
  if ('unmet' in result && result.unmet.length > 0) {
    metrics.addMetric('UnmetNeeds', 'Count', result.unmet.length);
    // By category for the dashboard (a fixed list of about a dozen, no patient data): where provision is missing.
    for (const category of result.unmet) countBy('UnmetNeedsByCategory', { category });
  }
  if ('noTeam' in result && result.noTeam) metrics.addMetric('NoLinkWorkerTeam', 'Count', 1);
});
