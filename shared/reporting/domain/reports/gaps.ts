import { interventionCategories } from '#referral/domain/categories.ts';
import { unmetReasons } from '#referral/domain/unmet-reasons.ts';
import {
  count,
  label,
  orderOf,
  sortRows,
  sumBy,
  type ReportDefinition,
} from '#reporting/domain/reports/table.ts';

/** Unmet needs by area, category and reason: where provision is missing. */
export const gaps: ReportDefinition<'needs'> = {
  name: 'gaps',
  summary: 'Unmet needs (nothing fitted) by area, intervention category and reason: the gaps in provision.',
  families: ['needs'],
  columns: [
    label('area', 'The postcode district the need was matched in'),
    label('localAuthority', 'Its local authority (ONS code), or unknown'),
    label('category', 'The intervention category'),
    label('reason', `Why nothing fitted: ${[...unmetReasons, 'no-link-worker-team'].join(', ')}`),
    count('unmetNeeds', 'Unmet needs of referrals received in the range'),
  ],
  build: ({ needs }) =>
    sortRows(
      sumBy(
        needs.filter((cell) => cell.dimensions.outcome === 'unmet'),
        (cell) => ({
          area: cell.dimensions.area,
          localAuthority: cell.dimensions.localAuthority,
          category: cell.dimensions.category,
          reason: cell.dimensions.reason,
        }),
      ).map(({ labels, count: n }) => ({ ...labels, unmetNeeds: n })),
      [
        'area',
        'localAuthority',
        ['category', orderOf(interventionCategories)],
        ['reason', orderOf(unmetReasons)],
      ],
    ),
};
