import { declineReasons, type DeclineReason } from '#referral/domain/lifecycle.ts';
import { responseBands, type ResponseBand } from '#reporting/domain/response-record.ts';
import {
  count,
  label,
  sortRows,
  totalOf,
  type ColumnSpec,
  type ReportDefinition,
  type ReportRow,
} from '#reporting/domain/reports/table.ts';

/** One column per coded decline reason: a fixed set, so every row (and the CSV) has the same columns. */
const declinedColumn: Record<DeclineReason, string> = {
  'no-capacity': 'declinedNoCapacity',
  'not-eligible': 'declinedNotEligible',
  'patient-unreachable': 'declinedPatientUnreachable',
  'declined-by-patient': 'declinedByPatient',
  other: 'declinedOther',
};

/**
 * The band holding the median answer (the lower median: the ceil(n/2)-th answer in order), as medianFromBands
 * (#reporting/domain/response-record.ts) finds it, but named as the band, so the open band reads `over-336h` rather
 * than 336. Undefined with no answer.
 */
export function medianBand(bands: Partial<Record<ResponseBand, number>>): ResponseBand | undefined {
  const answers = responseBands.reduce((sum, band) => sum + (bands[band] ?? 0), 0);
  if (answers === 0) return undefined;
  const middle = Math.ceil(answers / 2);
  let seen = 0;
  for (const band of responseBands) {
    seen += bands[band] ?? 0;
    if (seen >= middle) return band;
  }
  return undefined;
}

const columns: ColumnSpec[] = [
  label('partner', "The partner's directory id"),
  totalOf(
    'answered',
    ['accepted', 'declined'],
    'Offers answered (accepted or declined) on a day in the range',
  ),
  count('accepted', 'Offers accepted'),
  totalOf(
    'declined',
    declineReasons.map((reason) => declinedColumn[reason]),
    'Offers declined, any reason',
  ),
  ...declineReasons.map((reason) => count(declinedColumn[reason], `Offers declined: ${reason}`)),
  count('expired', 'Offers left unanswered until they expired (not in answered)'),
  {
    name: 'acceptanceRate',
    kind: 'derived',
    from: ['accepted', 'answered'],
    description: 'Accepted as a percentage of answered (one decimal); - with none answered',
  },
  {
    name: 'medianResponseBand',
    kind: 'derived',
    from: ['answered'],
    description: `The response-time band of the median answer (${responseBands.join(', ')}); - with none answered`,
  },
];

/** Each partner's answers to its offers: acceptance, declines by reason, expiries and response times. */
export const partners: ReportDefinition<'responses'> = {
  name: 'partners',
  summary:
    "Each partner's answers to the offers made to it: accepted, declined by coded reason, left to expire, the " +
    'acceptance rate and the median response-time band.',
  families: ['responses'],
  columns,
  build: ({ responses }) => {
    const byPartner = new Map<
      string,
      {
        accepted: number;
        expired: number;
        declined: Partial<Record<string, number>>;
        bands: Partial<Record<ResponseBand, number>>;
      }
    >();
    for (const cell of responses) {
      const { partner, outcome, reason, band } = cell.dimensions;
      const figures = byPartner.get(partner) ?? { accepted: 0, expired: 0, declined: {}, bands: {} };
      byPartner.set(partner, figures);
      if (outcome === 'accepted') figures.accepted += cell.count;
      else if (outcome === 'expired') figures.expired += cell.count;
      else if (outcome === 'declined')
        figures.declined[reason] = (figures.declined[reason] ?? 0) + cell.count;
      else continue;
      if (outcome !== 'expired' && (responseBands as readonly string[]).includes(band))
        figures.bands[band as ResponseBand] = (figures.bands[band as ResponseBand] ?? 0) + cell.count;
    }
    const rows: ReportRow[] = [...byPartner.entries()].map(([partner, figures]) => {
      const declined = Object.values(figures.declined).reduce<number>((sum, n) => sum + (n ?? 0), 0);
      const answered = figures.accepted + declined;
      return {
        partner,
        answered,
        accepted: figures.accepted,
        declined,
        ...Object.fromEntries(
          declineReasons.map((reason) => [declinedColumn[reason], figures.declined[reason] ?? 0]),
        ),
        expired: figures.expired,
        acceptanceRate: answered === 0 ? '-' : Math.round((figures.accepted / answered) * 1000) / 10,
        medianResponseBand: medianBand(figures.bands) ?? '-',
      };
    });
    return sortRows(rows, ['partner']);
  },
};
