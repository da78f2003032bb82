import type { ServiceCandidate } from '#directory/domain/coverage.ts';
import type { InterventionCategory } from '#referral/domain/categories.ts';
import type {
  CandidateVerdictRecord,
  NeedDecision,
  ServiceMatch,
  UnmetNeed,
  UnmetReason,
} from '#referral/domain/referral.ts';
import { areaText, coverageText } from '#matching/domain/area.ts';
import {
  assessCandidate,
  isCapacityRule,
  type Assessment,
  type CandidateContext,
  type RuledOutRule,
} from '#matching/domain/candidate-rules.ts';
import { rank, whyAbove, type Ranked } from '#matching/domain/ranking.ts';

/**
 * The decision for one need: every candidate assessed, the fitting ones ranked, the best one chosen, each with its
 * rule and its sentence; or, with none fitting, the need recorded unmet with the reason that comes closest to why.
 */

export interface NeedInput {
  category: InterventionCategory;
  /** What the coverage index answered for the area (in any order, perhaps with a service listed twice). */
  candidates: readonly ServiceCandidate[];
  context: CandidateContext;
  /** Partners already chosen for the referral's earlier needs. */
  chosenPartners: ReadonlySet<string>;
}

export interface NeedOutcome {
  decision: NeedDecision;
  match?: ServiceMatch;
  unmet?: UnmetNeed;
}

const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** One entry per service (the index lists a service once per area key it covers): the latest version wins. */
function distinct(candidates: readonly ServiceCandidate[]): ServiceCandidate[] {
  const byId = new Map<string, ServiceCandidate>();
  for (const candidate of candidates) {
    const seen = byId.get(candidate.service.id);
    if (!seen || candidate.service.version > seen.service.version) byId.set(candidate.service.id, candidate);
  }
  return [...byId.values()];
}

/** How far a ruled-out candidate got: the later the rule, the closer it came to fitting. */
function stageOf(rule: RuledOutRule): number {
  if (rule === 'no-consent') return 3;
  if (isCapacityRule(rule)) return 2;
  if (rule === 'below-minimum-age' || rule === 'above-maximum-age') return 1;
  return 0; // retired: not provision any more
}

/**
 * Why no candidate fits, by the one that came closest: a service that fits but for consent makes it `no-consent`;
 * else one that admits the patient but has no capacity makes it `all-full-or-paused`; else one that covers the area
 * but not the patient makes it `none-eligible`; none at all (or only retired ones) is `no-service`.
 */
export function unmetReasonOf(ruledOut: ReadonlyArray<{ rule: RuledOutRule }>): UnmetReason {
  const furthest = Math.max(-1, ...ruledOut.map((r) => stageOf(r.rule)));
  if (furthest === 3) return 'no-consent';
  if (furthest === 2) return 'all-full-or-paused';
  if (furthest === 1) return 'none-eligible';
  return 'no-service';
}

const ruleWords: Record<RuledOutRule, string> = {
  'service-retired': 'retired',
  'partner-retired': 'retired with its partner',
  'below-minimum-age': 'for older people',
  'above-maximum-age': 'for younger people',
  paused: 'paused',
  full: 'full',
  'weekly-limit-reached': 'at its weekly limit',
  'no-consent': 'needs details the patient has not consented to share',
};

const noneVerb: Record<Exclude<UnmetReason, 'no-service'>, string> = {
  'all-full-or-paused': 'is taking referrals now',
  'none-eligible': 'admits the patient',
  'no-consent': 'can take the referral with what the patient has consented to share',
};

function unmetSentence(
  code: UnmetReason,
  category: InterventionCategory,
  context: CandidateContext,
  ruledOut: ReadonlyArray<{ rule: RuledOutRule }>,
): string {
  const where = areaText(context.area);
  if (code === 'no-service') return `no service in the directory offers ${category} in ${where}`;
  const counts = new Map<RuledOutRule, number>();
  for (const { rule } of ruledOut) counts.set(rule, (counts.get(rule) ?? 0) + 1);
  const list = [...counts.entries()].map(([rule, n]) => `${n} ${ruleWords[rule]}`).join(', ');
  return `${ruledOut.length} service(s) offer ${category} in ${where}, but none ${noneVerb[code]} (${list})`;
}

function chosenSentence(best: Ranked, fitting: number, context: CandidateContext): string {
  const { service, partner } = best.fit.candidate;
  const parts = [
    `${service.name} covers ${coverageText(best.fit.coveredBy, context.area)}, admits the patient and is taking referrals`,
    ...(fitting > 1 ? [`ranked first of ${fitting} services that fit`] : []),
    best.fit.content === 'identifiable'
      ? `the patient consented to share their details with ${partner.name}`
      : `signposting only: the patient has not consented to share their details with ${partner.name}`,
    ...(best.fit.note ? [best.fit.note] : []),
  ];
  return parts.join('; ');
}

function verdictOf(
  assessment: Assessment,
  verdict: CandidateVerdictRecord['verdict'],
  rule: CandidateVerdictRecord['rule'],
  reason: string,
): CandidateVerdictRecord {
  const { service, partner } = assessment.candidate;
  const record: CandidateVerdictRecord = {
    serviceId: service.id,
    serviceName: service.name,
    partnerId: partner.id,
    partnerName: partner.name,
    coveredBy: assessment.coveredBy,
    verdict,
    rule,
    reason,
  };
  if (assessment.fits) record.content = assessment.content;
  return record;
}

export function decideNeed(input: NeedInput): NeedOutcome {
  const { category, context, chosenPartners } = input;
  const fits: Ranked[] = [];
  const ruledOut: Array<Extract<Assessment, { fits: false }>> = [];
  for (const candidate of distinct(input.candidates)) {
    const assessment = assessCandidate(candidate, context);
    if (assessment === undefined) continue;
    if (assessment.fits)
      fits.push({ fit: assessment, partnerChosen: chosenPartners.has(candidate.partner.id) });
    else ruledOut.push(assessment);
  }
  ruledOut.sort((a, b) => byCodePoint(a.candidate.service.id, b.candidate.service.id));
  const ruledOutVerdicts = ruledOut.map((a) => verdictOf(a, 'ruled-out', a.rule, a.reason));

  const ranked = rank(fits);
  const [best, ...others] = ranked;
  if (best) {
    const reason = chosenSentence(best, ranked.length, context);
    const { service, partner } = best.fit.candidate;
    const candidates = [
      verdictOf(best.fit, 'chosen', 'chosen', reason),
      ...others.map((other) =>
        verdictOf(
          other.fit,
          'eligible',
          'ranked-lower',
          `${other.fit.candidate.service.name} fits too, but ${service.name} ranks above it: ${whyAbove(best, other)}` +
            (other.fit.note ? `; ${other.fit.note}` : ''),
        ),
      ),
      ...ruledOutVerdicts,
    ];
    return {
      decision: { category, outcome: 'matched', candidates },
      match: {
        category,
        serviceId: service.id,
        serviceName: service.name,
        partnerId: partner.id,
        partnerName: partner.name,
        reason,
        coveredBy: best.fit.coveredBy,
        content: best.fit.content,
      },
    };
  }

  const code = unmetReasonOf(ruledOut);
  const reason = unmetSentence(code, category, context, ruledOut);
  const { area } = context;
  return {
    decision: { category, outcome: 'unmet', candidates: ruledOutVerdicts, unmet: { code, reason } },
    unmet: {
      category,
      area: area.district,
      reason,
      code,
      ...(area.lsoa ? { lsoa: area.lsoa } : {}),
      imd: area.imd,
    },
  };
}
