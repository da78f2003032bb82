import {
  count,
  label,
  sortRows,
  sumBy,
  type ReportDefinition,
  type ReportRow,
} from '#reporting/domain/reports/table.ts';

/** The funnel's stages that move a team's caseload: taken on, then the steps and the ways out. */
const columnsByStage = {
  received: 'takenOn',
  contacted: 'contacted',
  started: 'started',
  closed: 'closed',
  declined: 'declined',
  cancelled: 'cancelled',
} as const;
type CaseloadStage = keyof typeof columnsByStage;
const isCaseloadStage = (stage: string): stage is CaseloadStage => Object.hasOwn(columnsByStage, stage);

/**
 * Each link-worker team's case work in the range, from the funnel's figures by team: referrals taken on (the team
 * accepted them), patients contacted, interventions started, and the ways out (closed, declined, cancelled). A flow,
 * not a head count: how many a team holds today is its worklist, which is patient data and no report's business; a
 * decline may come before or after taking on, so the columns are shown side by side rather than netted.
 */
export const caseloads: ReportDefinition<'funnel'> = {
  name: 'caseloads',
  summary:
    "Each link-worker team's referrals taken on, contacted, started, closed, declined and cancelled on days in the range.",
  families: ['funnel'],
  columns: [
    label('team', 'The link-worker team (its directory id); unknown for referrals no team was assigned'),
    count('takenOn', 'Referrals the team accepted (received by the link worker)'),
    count('contacted', 'Referrals whose patient the team first reached'),
    count('started', 'Referrals whose intervention started'),
    count('closed', 'Referrals the team closed'),
    count('declined', 'Referrals declined (by the team, or the patient, with a coded reason)'),
    count('cancelled', 'Referrals the practice cancelled'),
  ],
  build: ({ funnel }) => {
    const rows = new Map<string, ReportRow>();
    const sums = sumBy(
      funnel.filter((cell) => isCaseloadStage(cell.dimensions.stage)),
      (cell) => ({ team: cell.dimensions.team, stage: cell.dimensions.stage }),
    );
    for (const { labels, count: n } of sums) {
      const row = rows.get(labels.team) ?? {
        team: labels.team,
        ...Object.fromEntries(Object.values(columnsByStage).map((column) => [column, 0])),
      };
      if (isCaseloadStage(labels.stage)) row[columnsByStage[labels.stage]] = n;
      rows.set(labels.team, row);
    }
    return sortRows([...rows.values()], ['team']);
  },
};
