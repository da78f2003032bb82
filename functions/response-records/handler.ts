import { systemClock } from '#kernel/clock.ts';
import { recomputeResponseRecords } from '#reporting/application/recompute-response-records.ts';
import { documentClient } from '#platform/clients.ts';
import { tableName } from '#platform/config.ts';
import { metrics } from '#platform/observability.ts';
import { scheduledHandler } from '#platform/handlers.ts';
import { responseRecordDeps } from './deps.ts';

/**
 * The response-record job, daily (shared/system/functions.ts `schedule`): every active partner's response record
 * recomputed from its answers of the last 90 days and written to the directory, so matching ranks by it
 * (shared/reporting/application/recompute-response-records.ts).
 */

const deps = responseRecordDeps({
  documentClient,
  tables: { metrics: tableName('metrics'), directory: tableName('directory') },
  clock: systemClock,
});

export const handler = scheduledHandler(async () => {
  // Counts only in the log: the steps' figures are per partner, readable in the directory itself.
  const { steps: _steps, ...summary } = await recomputeResponseRecords(deps);
  metrics.addMetric('ResponseRecordsUpdated', 'Count', summary.updated);
  metrics.addMetric('ResponseRecordsConflicted', 'Count', summary.conflicted);
  return summary;
});
