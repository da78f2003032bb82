import { systemClock } from '#kernel/clock.ts';
import { runOfferDeadlines } from '#referral/application/offer-deadlines.ts';
import { documentClient, sqs } from '#platform/clients.ts';
import { queueUrl, tableName } from '#platform/config.ts';
import { metrics } from '#platform/observability.ts';
import { scheduledHandler } from '#platform/handlers.ts';
import { deadlineDeps } from './deps.ts';

/**
 * The deadline job, every few minutes (shared/system/functions.ts `schedule`): offers past their deadline are
 * reminded once, then expired and offered to the next match (shared/referral/application/offer-deadlines.ts).
 */

const deps = deadlineDeps({
  documentClient,
  sqs,
  tables: {
    referrals: tableName('referrals'),
    audit: tableName('audit'),
    metrics: tableName('metrics'),
    directory: tableName('directory'),
  },
  notificationsQueueUrl: queueUrl('notifications'),
  clock: systemClock,
});

/** Offers one run takes at most: each is a few requests, so 200 fit well inside the timeout; the rest wait 5 min. */
const perRun = 200;

export const handler = scheduledHandler(async () => {
  // Counts only in the log: the steps name offers, which a person can look up in the audit trail instead.
  const { steps: _steps, ...summary } = await runOfferDeadlines(deps, { limit: perRun });
  metrics.addMetric('OffersReminded', 'Count', summary.reminded);
  metrics.addMetric('OffersExpired', 'Count', summary.expired);
  return summary;
});
