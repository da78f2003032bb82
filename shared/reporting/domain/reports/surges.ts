import { interventionCategories } from '#referral/domain/categories.ts';
import { count, label, orderOf, sortRows, type ReportDefinition } from '#reporting/domain/reports/table.ts';

/** A count as a number when it is one (the surges family keeps them as strings in its dimensions). */
const numberOr = (value: string): number | string => (/^\d+(\.\d+)?$/.test(value) ? Number(value) : value);

/** Surges the daily job found (a category in an area well above its baseline): one row each. */
export const surges: ReportDefinition<'surges'> = {
  name: 'surges',
  summary:
    'Surges found by the daily surge job: a category in an area with more needs referred than its rolling baseline allows.',
  families: ['surges'],
  columns: [
    label('day', 'The UTC day the surge was found in (YYYY-MM-DD)'),
    label('category', 'The intervention category'),
    label('area', 'The postcode district'),
    count('observed', 'Needs referred that day'),
    count('expected', 'Needs expected from the baseline (same weekday over the previous weeks)'),
    {
      name: 'threshold',
      kind: 'derived',
      // Worked out from `expected`: shown, it would tell a suppressed expected count within a narrow range.
      from: ['expected'],
      description: 'The count the day had to reach to be a surge (never below 5)',
    },
  ],
  build: ({ surges: cells }) =>
    sortRows(
      cells.map((cell) => ({
        day: cell.day,
        category: cell.dimensions.category,
        area: cell.dimensions.area,
        observed: numberOr(cell.dimensions.observed),
        expected: numberOr(cell.dimensions.expected),
        threshold: numberOr(cell.dimensions.threshold),
      })),
      ['day', ['category', orderOf(interventionCategories)], 'area'],
    ),
};
