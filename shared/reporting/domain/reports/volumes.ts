import { interventionCategories } from '#referral/domain/categories.ts';
import {
  count,
  label,
  orderOf,
  sortRows,
  sumBy,
  type ReportDefinition,
} from '#reporting/domain/reports/table.ts';

/** Needs referred per day by intervention category: every need of every routed referral, matched or unmet. */
export const volumes: ReportDefinition<'needs'> = {
  name: 'volumes',
  summary:
    'Needs referred per day by intervention category (matched or unmet), on the day the referral was received.',
  families: ['needs'],
  columns: [
    label('day', 'The UTC day the referral was received (YYYY-MM-DD); days with none are left out'),
    label('category', 'The intervention category'),
    count('needs', 'Needs referred in the category that day'),
  ],
  build: ({ needs }) =>
    sortRows(
      sumBy(needs, (cell) => ({ day: cell.day, category: cell.dimensions.category })).map(
        ({ labels, count: n }) => ({ ...labels, needs: n }),
      ),
      ['day', ['category', orderOf(interventionCategories)]],
    ),
};
