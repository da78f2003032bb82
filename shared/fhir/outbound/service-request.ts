import {
  needCategorySystem,
  snomedDisplay,
  snomedSystem,
  socialPrescribingCodes,
  useCaseCode,
  useCaseSystem,
} from '#fhir/codes.ts';
import type { Referral } from '#referral/domain/referral.ts';
import { fhirSystems } from '#fhir/systems.ts';

/**
 * A referral as a FHIR R4 ServiceRequest, for GET /ServiceRequest/{id}: its BaRS status, what was asked for, and
 * where it went (the link-worker team and partners as performers; unmet needs as a note). Only the referring
 * practice reads it, so the patient's NHS number is included as the subject.
 */
export function serviceRequestResource(referral: Referral): Record<string, unknown> {
  const routing = referral.routing;
  const performers = [
    ...(routing?.team
      ? [{ display: `${routing.team.name} (link-worker team)`, identifier: { value: routing.team.id } }]
      : []),
    ...(routing?.matches ?? []).map((m) => ({
      display: `${m.partnerName}: ${m.serviceName} (${m.category})`,
      identifier: { system: 'https://social-prescribing.example.org/Id/partner', value: m.partnerId },
    })),
  ];
  const notes = [
    { text: `Routing status: ${referral.status}` },
    ...(routing?.unmetNeeds ?? []).map((u) => ({ text: `Unmet need: ${u.reason}` })),
  ];
  return {
    resourceType: 'ServiceRequest',
    id: referral.referralId,
    meta: { versionId: String(referral.version ?? 1), lastUpdated: referral.updatedAt },
    status: fhirStatusOf(referral),
    intent: 'plan',
    category: [
      { coding: [{ system: fhirSystems.serviceRequestCategory, code: 'referral' }] },
      { coding: [{ system: useCaseSystem, code: useCaseCode }] },
    ],
    code: {
      coding: [
        {
          system: snomedSystem,
          code: socialPrescribingCodes.referral,
          display: snomedDisplay[socialPrescribingCodes.referral],
        },
      ],
    },
    subject: { identifier: { system: fhirSystems.nhsNumber, value: referral.patient.nhsNumber } },
    authoredOn: referral.receivedAt,
    requester: { identifier: { system: fhirSystems.odsOrganisation, value: referral.practiceOds } },
    reasonCode: referral.needs.map((need) => ({ coding: [{ system: needCategorySystem, code: need }] })),
    ...(referral.respondBy ? { occurrencePeriod: { end: referral.respondBy } } : {}),
    ...(performers.length > 0 ? { performer: performers } : {}),
    note: notes,
  };
}

/**
 * The FHIR ServiceRequest status of a referral: cancelled by the referrer as its reason says (`revoked`,
 * `entered-in-error`), declined by the link-worker team `revoked` (it will not be acted on), closed `completed`,
 * anything else still `active`.
 */
function fhirStatusOf(referral: Referral): 'active' | 'revoked' | 'entered-in-error' | 'completed' {
  if (referral.status === 'cancelled') return referral.cancellation?.reason ?? 'revoked';
  if (referral.status === 'declined') return 'revoked';
  if (referral.status === 'closed') return 'completed';
  return 'active';
}
