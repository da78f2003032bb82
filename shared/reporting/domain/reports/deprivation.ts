import type { FigureCell } from '#reporting/domain/figures.ts';
import {
  count,
  label,
  orderOf,
  sortRows,
  type ReportDefinition,
  type ReportRow,
} from '#reporting/domain/reports/table.ts';

const deciles = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'] as const;

/** `<edition>:<decile>` split; a value without its edition (never written) reads as edition unknown. */
function editionAndDecile(imd: string): { edition: string; decile: string } {
  const at = imd.lastIndexOf(':');
  return at < 0
    ? { edition: 'unknown', decile: imd }
    : { edition: imd.slice(0, at), decile: imd.slice(at + 1) };
}

/**
 * Take-up and declines by IMD decile, with its edition (never two editions in one count): referred (routed), taken
 * up (received by the link worker), declined, from the funnel; unmet needs from the needs. Each counts what happened
 * on days in the range, so a referral referred at the end of one range may be taken up in the next: these are flows,
 * not a cohort followed through. Every decile 1-10 of each edition seen is a row, zeros included, so a chart by decile
 * has every bar; `unknown` (no LSOA or no IMD for it) only when seen.
 */
export const deprivation: ReportDefinition<'funnel' | 'needs'> = {
  name: 'deprivation',
  summary:
    "Referred, taken up (received by the link worker), declined and unmet needs by IMD decile of the patient's " +
    'LSOA, with its IMD edition (1 is the most deprived tenth).',
  families: ['funnel', 'needs'],
  columns: [
    label('imd', 'Edition and decile, <edition>:<decile> (e.g. 2019:1), or <edition>:unknown'),
    label('edition', 'The IMD edition (e.g. 2019)'),
    label('decile', 'The decile, 1 (most deprived) to 10, or unknown'),
    count('referred', 'Referrals routed on a day in the range'),
    count('takenUp', 'Referrals received (accepted) by the link-worker team on a day in the range'),
    count('declined', 'Referrals declined (by the team or the patient) on a day in the range'),
    count('unmetNeeds', 'Needs nothing fitted, of referrals received in the range'),
  ],
  build: ({ funnel, needs }) => {
    const rows = new Map<
      string,
      ReportRow & { referred: number; takenUp: number; declined: number; unmetNeeds: number }
    >();
    const rowOf = (imd: string) => {
      const existing = rows.get(imd);
      if (existing) return existing;
      const row = { imd, ...editionAndDecile(imd), referred: 0, takenUp: 0, declined: 0, unmetNeeds: 0 };
      rows.set(imd, row);
      return row;
    };
    const add = (cell: FigureCell<'funnel'>, column: 'referred' | 'takenUp' | 'declined') => {
      rowOf(cell.dimensions.imd)[column] += cell.count;
    };
    for (const cell of funnel) {
      if (cell.dimensions.stage === 'referred') add(cell, 'referred');
      else if (cell.dimensions.stage === 'received') add(cell, 'takenUp');
      else if (cell.dimensions.stage === 'declined') add(cell, 'declined');
    }
    for (const cell of needs)
      if (cell.dimensions.outcome === 'unmet') rowOf(cell.dimensions.imd).unmetNeeds += cell.count;
    for (const edition of new Set([...rows.values()].map((row) => row.edition)))
      if (edition !== 'unknown') for (const decile of deciles) rowOf(`${edition}:${decile}`);
    return sortRows([...rows.values()], ['edition', ['decile', orderOf()]]);
  },
};
