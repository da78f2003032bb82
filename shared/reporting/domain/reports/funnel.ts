import { funnelStages } from '#reporting/domain/figures.ts';
import {
  count,
  label,
  orderOf,
  sortRows,
  sumBy,
  type ReportDefinition,
} from '#reporting/domain/reports/table.ts';

/** The stages every referral passes, shown even when none reached them, so the funnel has every step. */
const path = ['referred', 'received', 'contacted', 'started', 'closed'] as const;

/** Referrals reaching each stage of the funnel in the range; declines and closures by reason. */
export const funnel: ReportDefinition<'funnel'> = {
  name: 'funnel',
  summary:
    'Referrals reaching each stage (referred, received by the link worker, contacted, started, closed) on days in ' +
    'the range, and declines and closures by coded reason.',
  families: ['funnel'],
  columns: [
    label('stage', `The stage: ${funnelStages.join(', ')}`),
    label('reason', 'For declined and closed, the coded reason; else -'),
    count('referrals', 'Referrals reaching the stage (with that reason) on a day in the range'),
  ],
  build: ({ funnel: cells }) => {
    const rows = sumBy(cells, (cell) => ({
      stage: cell.dimensions.stage,
      reason: cell.dimensions.reason,
    })).map(({ labels, count: n }) => ({ ...labels, referrals: n }));
    const seen = new Set(rows.map((row) => row.stage));
    for (const stage of path) if (!seen.has(stage)) rows.push({ stage, reason: '-', referrals: 0 });
    return sortRows(rows, [['stage', orderOf(funnelStages)], 'reason']);
  },
};
