import type { Eligibility } from '#directory/domain/directory.ts';
import type { ServiceCandidate } from '#directory/domain/coverage.ts';
import type {
  AreaClassification,
  CandidateRule,
  ConsentGrant,
  ContentLevel,
  CoverageLevel,
} from '#referral/domain/referral.ts';
import { hasConsentFor } from '#referral/domain/sharing.ts';
import { coveredBy } from '#matching/domain/area.ts';

/**
 * The rules one candidate service meets or breaks for one patient, in the order they are checked: still in the
 * directory, the patient's age (at the referral), capacity (paused, full, weekly limit), and last consent. The first
 * rule broken rules the candidate out, and is the one recorded. Consent comes last because it only rules out a
 * service that would otherwise fit: without the patient's consent for its partner, a service is still matched and
 * its partner gets signposting only, unless the service does not take signposting.
 */

export type RuledOutRule = Exclude<CandidateRule, 'chosen' | 'ranked-lower'>;

/** What the rules know about the patient and the moment. */
export interface CandidateContext {
  area: AreaClassification;
  /** Every LSOA code of the patient's postcode (coverageLsoasOf); the classification's alone when absent. */
  lsoas?: readonly string[];
  /** Whole years on the day the referral was received; undefined without a birth date. */
  age: number | undefined;
  consent: ConsentGrant[];
  /** Referrals already matched this ISO week, by service id (only services with a weekly limit are looked up). */
  weeklyMatches: Readonly<Record<string, number>>;
}

export type Assessment =
  | {
      fits: true;
      candidate: ServiceCandidate;
      coveredBy: CoverageLevel;
      content: ContentLevel;
      /** What a person should know about the fit (e.g. an age range that could not be checked). */
      note?: string;
    }
  | {
      fits: false;
      candidate: ServiceCandidate;
      coveredBy: CoverageLevel;
      rule: RuledOutRule;
      reason: string;
    };
export type Fit = Extract<Assessment, { fits: true }>;

/** "aged 11 to 25", "aged 18 and over", "aged up to 25". */
export function ageRangeText(eligibility: Eligibility): string | undefined {
  const { minimumAge: min, maximumAge: max } = eligibility;
  if (min !== undefined && max !== undefined) return `aged ${min} to ${max}`;
  if (min !== undefined) return `aged ${min} and over`;
  if (max !== undefined) return `aged up to ${max}`;
  return undefined;
}

interface RuleCheck {
  rule: RuledOutRule;
  /** The sentence people see when the rule rules the candidate out; undefined when it is met. */
  breach(candidate: ServiceCandidate, context: CandidateContext): string | undefined;
}

/**
 * The rules in the order they are checked. Sentences never state the patient's age or anything else about the
 * patient beyond which side of a published rule they fall.
 */
export const candidateChecks: readonly RuleCheck[] = [
  {
    rule: 'service-retired',
    breach: ({ service }) =>
      service.status === 'retired' ? `${service.name} is retired from the directory` : undefined,
  },
  {
    rule: 'partner-retired',
    breach: ({ service, partner }) =>
      partner.status === 'retired'
        ? `${service.name}'s partner ${partner.name} is retired from the directory`
        : undefined,
  },
  {
    rule: 'below-minimum-age',
    breach: ({ service }, { age }) => {
      const min = service.eligibility.minimumAge;
      return age !== undefined && min !== undefined && age < min
        ? `${service.name} is for people ${ageRangeText(service.eligibility)}; the patient is younger`
        : undefined;
    },
  },
  {
    rule: 'above-maximum-age',
    breach: ({ service }, { age }) => {
      const max = service.eligibility.maximumAge;
      return age !== undefined && max !== undefined && age > max
        ? `${service.name} is for people ${ageRangeText(service.eligibility)}; the patient is older`
        : undefined;
    },
  },
  {
    rule: 'paused',
    breach: ({ service }) =>
      service.capacity.state === 'paused' ? `${service.name} has paused new referrals` : undefined,
  },
  {
    rule: 'full',
    breach: ({ service }) =>
      service.capacity.state === 'full' ? `${service.name} is full and taking no new referrals` : undefined,
  },
  {
    rule: 'weekly-limit-reached',
    breach: ({ service }, { weeklyMatches }) => {
      const limit = service.capacity.weeklyLimit;
      const matched = weeklyMatches[service.id] ?? 0;
      return limit !== undefined && matched >= limit
        ? `${service.name} takes ${limit} referral(s) a week and has been matched ${matched} this week`
        : undefined;
    },
  },
  {
    rule: 'no-consent',
    breach: ({ service, partner }, { consent }) =>
      !service.acceptsSignposting && !hasConsentFor(consent, partner.id)
        ? `${service.name} needs the patient's details, and the patient has not consented to share them with ${partner.name}`
        : undefined,
  },
];

/** Whether a rule is about capacity (then more capacity would meet the need). */
export const isCapacityRule = (rule: RuledOutRule): boolean =>
  rule === 'paused' || rule === 'full' || rule === 'weekly-limit-reached';

/**
 * The candidate against every rule; undefined if its coverage does not reach the area at all (an index entry that
 * no longer matches the service: not a candidate).
 */
export function assessCandidate(
  candidate: ServiceCandidate,
  context: CandidateContext,
): Assessment | undefined {
  const level = coveredBy(candidate.service, context.area, context.lsoas);
  if (level === undefined) return undefined;
  for (const check of candidateChecks) {
    const reason = check.breach(candidate, context);
    if (reason !== undefined) return { fits: false, candidate, coveredBy: level, rule: check.rule, reason };
  }
  const content: ContentLevel = hasConsentFor(context.consent, candidate.partner.id)
    ? 'identifiable'
    : 'signposting';
  const fit: Fit = { fits: true, candidate, coveredBy: level, content };
  const range = context.age === undefined ? ageRangeText(candidate.service.eligibility) : undefined;
  if (range !== undefined)
    fit.note = `its age range (${range}) was not checked: the referral has no birth date`;
  return fit;
}
