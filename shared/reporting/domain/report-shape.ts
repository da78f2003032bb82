/**
 * What every report answers (issue 10, item 3), as JSON or CSV: a table. `columns` names the columns in order and
 * each row has a value for each; a count below the suppression threshold in a commissioner's report is the string
 * `<5` (never the number), so no patient can be singled out. The reports API (functions/reports), the operations CLI
 * and the observatory page all read this one shape.
 */
import * as z from 'zod';

export const reportNames = [
  /** Needs referred per day by intervention category. */
  'volumes',
  /** Surges found by the daily job. */
  'surges',
  /** Referrals reaching each stage; declines and closures by reason. */
  'funnel',
  /** Referred, taken up (received by the link worker), declined and unmet needs by IMD decile (with edition). */
  'deprivation',
  /** Unmet needs by area, category and reason. */
  'gaps',
  /** Each partner's offers answered, accepted, declined, expired, and response times. */
  'partners',
  /** Outcome measures at baseline and follow-up, and the change. */
  'outcomes',
  /** Each link-worker team's referrals taken on, contacted, started and ended. */
  'caseloads',
] as const;
export type ReportName = (typeof reportNames)[number];

/** Counts from 1 to this, minus one, are suppressed in commissioners' output (shown as `<5`); 0 is shown as 0. */
export const suppressionThreshold = 5;
export const suppressedValue = `<${suppressionThreshold}`;

/** The longest date range one report may cover. */
export const maxReportDays = 366;

export const ReportFormat = z.enum(['json', 'csv']);
export type ReportFormat = z.infer<typeof ReportFormat>;

export type ReportValue = string | number;

export interface Report {
  report: ReportName;
  /** The range covered, `YYYY-MM-DD`, both included. */
  from: string;
  to: string;
  /** The area filter applied (a postcode district, a local authority code or a PCN code), if any. */
  area?: string;
  /** The threshold applied to this output, or null when the caller sees exact counts (ops). */
  suppressedBelow: number | null;
  columns: string[];
  rows: Array<Record<string, ReportValue>>;
}
