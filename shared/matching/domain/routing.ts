import type { InterventionCategory } from '#referral/domain/categories.ts';
import type { LinkWorkerTeam, Practice } from '#directory/domain/directory.ts';
import type { ServiceCandidate } from '#directory/domain/coverage.ts';
import type {
  AreaClassification,
  NeedDecision,
  PlannedDelivery,
  Referral,
  RoutingDecision,
  ServiceMatch,
  UnmetNeed,
} from '#referral/domain/referral.ts';
import { hasConsentFor } from '#referral/domain/sharing.ts';
import { ageOn } from '#matching/domain/age.ts';
import { ageBandOf } from '#reporting/domain/figures.ts';
import { sexOf } from '#reporting/domain/referral-figures.ts';
import type { CandidateContext } from '#matching/domain/candidate-rules.ts';
import { decideNeed } from '#matching/domain/need-decision.ts';
import { assignTeam } from '#matching/domain/team.ts';

/**
 * Routing: who sees this patient, and who can help with each need here.
 * Pure and deterministic: the same referral, area, directory answers and weekly counts always give the same
 * decision, in whatever order the directory listed the candidates, so a redelivered message recomputes exactly what
 * was recorded the first time. Every choice carries its rule and its reason:
 * - area.ts places the patient (LSOA, district, local authority, IMD decile with its edition);
 * - candidate-rules.ts checks each service against the patient (age, capacity, consent);
 * - ranking.ts orders the services that fit; need-decision.ts chooses one per need or records why none fits;
 * - team.ts assigns the link-worker team, or records that none serves the practice.
 */

export type { ServiceCandidate };

export interface RoutingInput {
  referral: Referral;
  practice: Practice;
  /** The practice's PCN's link-worker team, if the PCN has one (it must also serve the practice and be active). */
  team: LinkWorkerTeam | undefined;
  /** Where the patient was placed (classifyArea). */
  area: AreaClassification;
  /** Every LSOA code of the patient's postcode (coverageLsoasOf): a service covering any covers by LSOA. */
  lsoas?: readonly string[];
  /** For each need, the services covering it in the referral's area (from the directory's coverage index). */
  candidates: Partial<Record<InterventionCategory, ServiceCandidate[]>>;
  /** Referrals already matched this ISO week, for the candidate services that have a weekly limit. */
  weeklyMatches?: Readonly<Record<string, number>>;
  decidedAt: string;
}

export const deliveryIdFor = (referralId: string, kind: 'team' | 'partner', recipientId: string): string =>
  `${referralId}.${kind}.${recipientId}`;

export function decideRouting(
  input: RoutingInput,
  /** Partners chosen for needs decided before (an extension keeps preferring them). */
  chosenBefore: Iterable<string> = [],
): RoutingDecision {
  const { referral, practice, area, candidates, decidedAt } = input;
  const context: CandidateContext = {
    area,
    ...(input.lsoas ? { lsoas: input.lsoas } : {}),
    // Age on the day the referral was received, so a repeat or a re-route later decides the same way.
    age: ageOn(referral.patient.birthDate, referral.receivedAt),
    consent: referral.consent,
    weeklyMatches: input.weeklyMatches ?? {},
  };

  const chosenPartners = new Set(chosenBefore);
  const matches: ServiceMatch[] = [];
  const unmetNeeds: UnmetNeed[] = [];
  const needs: NeedDecision[] = [];
  for (const category of referral.needs) {
    const outcome = decideNeed({ category, candidates: candidates[category] ?? [], context, chosenPartners });
    needs.push(outcome.decision);
    if (outcome.match) {
      matches.push(outcome.match);
      chosenPartners.add(outcome.match.partnerId);
    }
    if (outcome.unmet) unmetNeeds.push(outcome.unmet);
  }

  const { team, teamReason, noTeam } = assignTeam(input.team, practice);
  return {
    decidedAt,
    area: area.district,
    areaSource: area.source,
    team,
    teamReason,
    matches,
    unmetNeeds,
    deliveries: plannedDeliveries(referral, team, matches),
    classification: area,
    needs,
    ...(noTeam ? { noTeam } : {}),
    pcn: practice.pcn,
    patientBands: { ageBand: ageBandOf(context.age), sex: sexOf(referral.patient) },
  };
}

/** One delivery per recipient: the team (if one serves the practice), and each partner matched, once. */
function plannedDeliveries(
  referral: Referral,
  team: RoutingDecision['team'],
  matches: readonly ServiceMatch[],
): PlannedDelivery[] {
  const deliveries: PlannedDelivery[] = [];
  if (team) {
    deliveries.push({
      deliveryId: deliveryIdFor(referral.referralId, 'team', team.id),
      recipient: { kind: 'team', id: team.id, name: team.name },
      categories: [...referral.needs],
      // Direct care: the PCN's link worker sees the patient, so implied consent covers identifiable details.
      content: 'identifiable',
    });
  }
  const byPartner = new Map<string, ServiceMatch[]>();
  for (const match of matches)
    byPartner.set(match.partnerId, [...(byPartner.get(match.partnerId) ?? []), match]);
  for (const [partnerId, partnerMatches] of byPartner) {
    const first = partnerMatches[0];
    if (!first) continue;
    deliveries.push({
      deliveryId: deliveryIdFor(referral.referralId, 'partner', partnerId),
      recipient: { kind: 'partner', id: partnerId, name: first.partnerName },
      categories: partnerMatches.map((m) => m.category),
      content: hasConsentFor(referral.consent, partnerId) ? 'identifiable' : 'signposting',
    });
  }
  return deliveries;
}

/** Needs the decision has not yet answered (added by an update after routing): neither matched nor recorded unmet. */
export function uncoveredNeeds(referral: Referral): Referral['needs'] {
  const decision = referral.routing;
  if (!decision) return referral.needs;
  const answered = new Set([
    ...decision.matches.map((m) => m.category),
    ...decision.unmetNeeds.map((u) => u.category),
  ]);
  return referral.needs.filter((need) => !answered.has(need));
}

/**
 * Extends a recorded decision to needs added by an update: they are matched in the same area, and a partner not
 * yet involved gets a new delivery. What was decided before stands (recipients are never withdrawn by routing);
 * existing recipients hear of the change through the update notice.
 */
export function extendRouting(input: RoutingInput): RoutingDecision {
  const previous = input.referral.routing;
  if (!previous) return decideRouting(input);
  const added = decideRouting(
    { ...input, referral: { ...input.referral, needs: uncoveredNeeds(input.referral) } },
    previous.matches.map((m) => m.partnerId),
  );
  const recipients = new Set(previous.deliveries.map((d) => d.deliveryId));
  return {
    ...previous,
    matches: [...previous.matches, ...added.matches],
    unmetNeeds: [...previous.unmetNeeds, ...added.unmetNeeds],
    ...(added.needs ? { needs: [...(previous.needs ?? []), ...added.needs] } : {}),
    deliveries: [
      ...previous.deliveries,
      ...added.deliveries.filter((d) => d.recipient.kind === 'partner' && !recipients.has(d.deliveryId)),
    ],
  };
}
