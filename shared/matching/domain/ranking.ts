import type { ResponseRecord } from '#directory/domain/directory.ts';
import type { CoverageLevel } from '#referral/domain/referral.ts';
import type { Fit } from '#matching/domain/candidate-rules.ts';

/**
 * Ranking the services that fit one need, best first:
 * 1. the narrowest coverage that reaches the patient (the LSOA, then the postcode district, then the local
 *    authority): a service set up for that neighbourhood before one for the whole town;
 * 2. a partner already chosen for another of the patient's needs, so the patient hears from fewer organisations;
 * 3. the partner's response record: a higher acceptance rate, then a shorter median time to answer; a partner with
 *    no record yet comes after those with one;
 * 4. the service id, so that equal fits are always ordered the same way.
 * A total order that reads nothing but its inputs: the same candidates always rank the same, in any input order.
 */

export interface Ranked {
  fit: Fit;
  /** Whether the partner is already chosen for another need of this referral. */
  partnerChosen: boolean;
}

const levelOrder: Record<CoverageLevel, number> = { lsoa: 0, district: 1, 'local-authority': 2 };

/** Accepted out of answered, as a fraction kept exact ([accepted, answered]); undefined before any answer. */
function acceptance(record: ResponseRecord | undefined): [number, number] | undefined {
  return record && record.answered > 0 ? [record.accepted, record.answered] : undefined;
}

const percent = ([accepted, answered]: [number, number]): string =>
  `${Math.round((accepted * 100) / answered)}%`;

/** Known before unknown; among known, the smaller first. */
function smallerKnownFirst(a: number | undefined, b: number | undefined): number {
  if (a === undefined || b === undefined) return Number(a === undefined) - Number(b === undefined);
  return a - b;
}

const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

interface Criterion {
  compare(a: Ranked, b: Ranked): number;
  /** Why `a` ranks above `b` by this criterion, as a sentence's end. */
  explain(a: Ranked, b: Ranked): string;
}

const recordOf = (r: Ranked) => r.fit.candidate.partner.responseRecord;

export const rankingCriteria: readonly Criterion[] = [
  {
    compare: (a, b) => levelOrder[a.fit.coveredBy] - levelOrder[b.fit.coveredBy],
    explain: (a, b) => `it covers ${levelWords[a.fit.coveredBy]}, this covers ${levelWords[b.fit.coveredBy]}`,
  },
  {
    compare: (a, b) => Number(b.partnerChosen) - Number(a.partnerChosen),
    explain: (a) =>
      `its partner ${a.fit.candidate.partner.name} is already chosen for another need, so the patient hears from fewer organisations`,
  },
  {
    compare: (a, b) => {
      const ra = recordOf(a);
      const rb = recordOf(b);
      const knownA = ra !== undefined && ra.answered > 0;
      const knownB = rb !== undefined && rb.answered > 0;
      if (!knownA || !knownB) return Number(knownB) - Number(knownA);
      // Cross-multiplied, so equal rates (9/10, 18/20) compare equal exactly.
      return rb.accepted * ra.answered - ra.accepted * rb.answered;
    },
    explain: (a, b) => {
      const [ra, rb] = [acceptance(recordOf(a)), acceptance(recordOf(b))];
      return rb === undefined
        ? `its partner has accepted ${ra ? percent(ra) : '?'} of referrals; this one's has no record yet`
        : `its partner accepts more referrals (${ra ? percent(ra) : '?'} against ${percent(rb)})`;
    },
  },
  {
    compare: (a, b) => smallerKnownFirst(recordOf(a)?.medianResponseHours, recordOf(b)?.medianResponseHours),
    explain: (a, b) => {
      const [ha, hb] = [recordOf(a)?.medianResponseHours, recordOf(b)?.medianResponseHours];
      return hb === undefined
        ? `its partner answers in a median ${ha ?? '?'} hours; this one's has no record yet`
        : `its partner answers sooner (median ${ha ?? '?'} hours against ${hb})`;
    },
  },
  {
    compare: (a, b) => byCodePoint(a.fit.candidate.service.id, b.fit.candidate.service.id),
    explain: () => 'they fit equally, and the lower service id goes first',
  },
];

const levelWords: Record<CoverageLevel, string> = {
  lsoa: "the patient's LSOA",
  district: 'the postcode district',
  'local-authority': 'the whole local authority',
};

export function compareRanked(a: Ranked, b: Ranked): number {
  for (const criterion of rankingCriteria) {
    const order = criterion.compare(a, b);
    if (order !== 0) return order;
  }
  return 0;
}

/** Best first. */
export function rank(fits: readonly Ranked[]): Ranked[] {
  return [...fits].sort(compareRanked);
}

/** Why `above` ranks above `below`: the first criterion that tells them apart. */
export function whyAbove(above: Ranked, below: Ranked): string {
  const criterion = rankingCriteria.find((c) => c.compare(above, below) !== 0);
  return criterion ? criterion.explain(above, below) : 'they fit equally';
}
