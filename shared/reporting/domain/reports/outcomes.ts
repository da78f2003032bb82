import { outcomeMeasures } from '#reporting/domain/figures.ts';
import {
  count,
  label,
  orderOf,
  sortRows,
  sumBy,
  type ReportDefinition,
} from '#reporting/domain/reports/table.ts';

/** ONS4 bands low to high; the other measures' values are scores (numbers), ordered numerically. */
const bandOrder = ['very-low', 'low', 'medium', 'high', 'very-high'];
const changeOrder = ['improved', 'same', 'worse'];
const distributions = ['baseline', 'follow-up', 'change'] as const;

/**
 * Outcome measures: per measure, the distribution of baseline sets by band (or score), of follow-up sets by band, and
 * the follow-ups' change against their baseline (improved, same, worse). One row per measure, distribution and value.
 */
export const outcomes: ReportDefinition<'outcomes'> = {
  name: 'outcomes',
  summary:
    'Outcome measures (ONS4, UCLA-3, the direct loneliness question, SWEMWBS): the baseline and follow-up ' +
    'distributions by band or score, and the change at follow-up (improved, same, worse).',
  families: ['outcomes'],
  columns: [
    label('measure', `The measure: ${outcomeMeasures.join(', ')}`),
    label('distribution', 'baseline, follow-up (by value) or change (follow-ups against their baseline)'),
    label(
      'value',
      'For baseline and follow-up the ONS4 band or the score; for change improved, same or worse against the ' +
        "set's baseline (improved is better on the measure's own scale: for anxiety and loneliness, lower)",
    ),
    count('sets', 'Measure sets taken on a day in the range with this value'),
  ],
  build: ({ outcomes: cells }) => {
    const baselineAndFollowUp = sumBy(cells, (cell) => ({
      measure: cell.dimensions.measure,
      distribution: cell.dimensions.timepoint,
      value: cell.dimensions.band,
    }));
    const change = sumBy(
      cells.filter((cell) => cell.dimensions.timepoint === 'follow-up' && cell.dimensions.change !== '-'),
      (cell) => ({ measure: cell.dimensions.measure, distribution: 'change', value: cell.dimensions.change }),
    );
    return sortRows(
      [...baselineAndFollowUp, ...change].map(({ labels, count: n }) => ({ ...labels, sets: n })),
      [
        ['measure', orderOf(outcomeMeasures)],
        ['distribution', orderOf(distributions)],
        ['value', orderOf([...bandOrder, ...changeOrder])],
      ],
    );
  },
};
