import { systemClock } from '#kernel/clock.ts';
import { detectSurges } from '#reporting/application/detect-surges.ts';
import { documentClient } from '#platform/clients.ts';
import { tableName } from '#platform/config.ts';
import { logger, metrics } from '#platform/observability.ts';
import { scheduledHandler } from '#platform/handlers.ts';
import { surgeDeps } from './deps.ts';

/**
 * The surge job, daily (shared/system/functions.ts `schedule`): yesterday's needs per intervention category x area
 * against the same weekday over the 8 weeks before, each surge recorded once as a `surges` row
 * (shared/reporting/application/detect-surges.ts, docs/surges.md).
 *
 * `SurgesFound` is emitted twice over: once with the function's own dimensions only (the total, which the surge
 * alarm watches; 0 on a quiet day, so the alarm sees data every day), and once per category with a surge, with
 * `category` added. Areas are never a dimension: there are thousands of postcode districts, and each dimension set
 * is a metric of its own; the log line and the surges report name the area. Every surge found for the day is
 * counted, recorded by this run or an earlier one: the metric says what the day holds, and a run that failed after
 * recording (its error alarms on its own) and is run again still pages.
 */

const deps = surgeDeps({ documentClient, tables: { metrics: tableName('metrics') }, clock: systemClock });

export const handler = scheduledHandler(async () => {
  const { surges, byCategory, baseline: _baseline, ...summary } = await detectSurges(deps);
  for (const surge of surges) logger.warn('surge found', { day: summary.day, ...surge });
  metrics.addMetric('SurgesFound', 'Count', surges.length);
  for (const [category, count] of Object.entries(byCategory)) {
    const single = metrics.singleMetric();
    single.addDimension('category', category);
    single.addMetric('SurgesFound', 'Count', count);
  }
  return { ...summary, found: surges.length };
});
