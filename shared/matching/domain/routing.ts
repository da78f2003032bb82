import type { InterventionCategory } from '#referral/domain/categories.ts';
import type { LinkWorkerTeam, Practice } from '#directory/domain/directory.ts';
import type { ServiceCandidate } from '#directory/domain/coverage.ts';
import { postcodeDistrict } from '#referral/domain/postcode.ts';
import {
  hasConsentFor,
  type PlannedDelivery,
  type Referral,
  type RoutingDecision,
  type ServiceMatch,
  type UnmetNeed,
} from '#referral/domain/referral.ts';

/**
 * Routing: who sees this patient, and who can help with each need here.
 * Pure and deterministic: the same referral and directory always give the same decision, so a redelivered
 * message recomputes exactly what was recorded the first time. Every choice carries its reason.
 */

export type { ServiceCandidate };

export interface RoutingInput {
  referral: Referral;
  practice: Practice;
  /** The practice's PCN's link-worker team, if the PCN has one. */
  team: LinkWorkerTeam | undefined;
  /** For each need, the services covering it in the referral's area (from the directory's coverage index). */
  candidates: Partial<Record<InterventionCategory, ServiceCandidate[]>>;
  decidedAt: string;
}

/** The area a referral is matched in: the patient's postcode district, else the practice's. */
export function referralArea(
  referral: Referral,
  practice: Practice,
): Pick<RoutingDecision, 'area' | 'areaSource'> {
  if (referral.patient.postcode) {
    return { area: postcodeDistrict(referral.patient.postcode), areaSource: 'patient-postcode' };
  }
  return { area: practice.area, areaSource: 'practice' };
}

export const deliveryIdFor = (referralId: string, kind: 'team' | 'partner', recipientId: string): string =>
  `${referralId}.${kind}.${recipientId}`;

export function decideRouting(input: RoutingInput): RoutingDecision {
  const { referral, practice, team, candidates, decidedAt } = input;
  const { area, areaSource } = referralArea(referral, practice);

  const matches: ServiceMatch[] = [];
  const unmetNeeds: UnmetNeed[] = [];
  for (const category of referral.needs) {
    const covering = (candidates[category] ?? []).filter((c) => c.service.coverage.districts.includes(area));
    const open = covering.filter((c) => c.service.capacity.state === 'open');
    if (covering.length === 0) {
      unmetNeeds.push({
        category,
        area,
        reason: `no service in the directory offers ${category} in ${area}`,
      });
      continue;
    }
    if (open.length === 0) {
      unmetNeeds.push({
        category,
        area,
        reason: `${covering.length} service(s) offer ${category} in ${area} but none is accepting referrals`,
      });
      continue;
    }
    // Prefer a partner already chosen for another need, so the patient hears from fewer organisations;
    // then the lowest service id, so the choice is stable.
    const chosenPartners = new Set(matches.map((m) => m.partnerId));
    const [best] = [...open].sort(
      (a, b) =>
        Number(chosenPartners.has(b.partner.id)) - Number(chosenPartners.has(a.partner.id)) ||
        a.service.id.localeCompare(b.service.id),
    );
    if (!best) continue;
    const alternatives = open.length - 1;
    matches.push({
      category,
      serviceId: best.service.id,
      serviceName: best.service.name,
      partnerId: best.partner.id,
      partnerName: best.partner.name,
      reason:
        `${best.service.name} offers ${category} in ${area} and is accepting referrals` +
        (alternatives > 0 ? ` (${alternatives} other open service(s) there)` : ''),
    });
  }

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

  return {
    decidedAt,
    area,
    areaSource,
    team: team ? { id: team.id, name: team.name } : null,
    teamReason: team
      ? `${team.name} is the link-worker team of PCN ${practice.pcn}, which ${practice.name} (${practice.ods}) belongs to`
      : `PCN ${practice.pcn} of ${practice.name} (${practice.ods}) has no link-worker team in the directory`,
    matches,
    unmetNeeds,
    deliveries,
  };
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
  const added = decideRouting({
    ...input,
    referral: { ...input.referral, needs: uncoveredNeeds(input.referral) },
  });
  const recipients = new Set(previous.deliveries.map((d) => d.deliveryId));
  return {
    ...previous,
    matches: [...previous.matches, ...added.matches],
    unmetNeeds: [...previous.unmetNeeds, ...added.unmetNeeds],
    deliveries: [
      ...previous.deliveries,
      ...added.deliveries.filter((d) => d.recipient.kind === 'partner' && !recipients.has(d.deliveryId)),
    ],
  };
}
