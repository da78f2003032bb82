import {
  closureReasonSystem,
  declineReasonSystem,
  interventionSnomedCodes,
  needCategorySystem,
  responseEventSystem,
  responseOutputSystem,
  snomedDisplay,
  snomedSystem,
  socialPrescribingCodes,
  teamIdentifierSystem,
  useCaseCode,
  useCaseSystem,
} from '#fhir/codes.ts';
import { fhirSystems } from '#fhir/systems.ts';
import { keyedUuid } from '#kernel/ids.ts';
import type { InterventionCategory } from '#referral/domain/categories.ts';
import { closureReasonDisplay, type ClosureReason } from '#referral/domain/closure-reasons.ts';
import type { DeclineReason, LifecycleNoticeKind } from '#referral/domain/lifecycle.ts';
import type { Referral } from '#referral/domain/referral.ts';
import { serviceName } from '#system/environment.ts';

/**
 * The BaRS `servicerequest-response` message back to the referring practice (issue 9.5): a message Bundle whose
 * MessageHeader answers the original request (`response.identifier`, code `ok`), focused on the referral's
 * ServiceRequest as this service holds it, with a Task saying what happened: its status, the national SNOMED CT code
 * where one exists (domain.md), the reason (decline, closure) and the interventions, as codes.
 *
 * What the practice may read (docs/api.md, "Messages back to the practice"):
 * - always: codes (status, SNOMED, our event, reason and need-category codes with their fixed displays), the
 *   referral's ids, the practice's ODS code, the team's id, and the patient's NHS number as the ServiceRequest's and
 *   Task's subject. The practice is the referrer and a direct-care party: the number is the one it sent, and it is
 *   what BaRS uses to file the response against the patient. No name, birth date, address or contact is ever sent;
 * - `full` sharing back only (the default): free text (the link worker's note, the words of an `other` reason) and
 *   the team's name;
 * - `codes-only` (the patient objected to full sharing back, `Referral.sharingBack`): none of that; no `text`,
 *   `note` or `display` other than a code's own display.
 *
 * Pure: the caller supplies the ids, endpoints and clock, so a retry builds the same message byte for byte.
 */

/** The lifecycle notices to the practice (lifecycle.ts, audience `practice`), each one message. */
export const practiceResponseKinds = [
  'accepted',
  'seen',
  'declined',
  'intervention-started',
  'closed',
] as const satisfies readonly LifecycleNoticeKind[];
export type PracticeResponseKind = (typeof practiceResponseKinds)[number];

/**
 * What happened, with its data. `note` is the link worker's free text for the practice (full sharing back only);
 * `interventions` are need categories the support addresses (SNOMED-coded where domain.md lists a code).
 */
export type PracticeResponseEvent =
  | { kind: 'accepted'; at: string; note?: string }
  | { kind: 'seen'; at: string; note?: string }
  | { kind: 'declined'; at: string; reason: DeclineReason; note?: string }
  | {
      kind: 'intervention-started';
      at: string;
      interventions: readonly InterventionCategory[];
      note?: string;
    }
  | {
      kind: 'closed';
      at: string;
      reason: ClosureReason;
      /**
       * The SNOMED CT code the link worker recorded for the outcome (the close action's `code`), sent as the Task's
       * `outcome` output when it is not the case-closed code itself, which the message always carries.
       */
      code?: string;
      interventions?: readonly InterventionCategory[];
      note?: string;
    };

export interface PracticeResponseInput {
  referral: Referral;
  event: PracticeResponseEvent;
  /** A UUID, the Bundle's and MessageHeader's id: stable per (referral, event), so a retry sends the same message. */
  messageId: string;
  /** Bundle.timestamp: when the message was first built (kept with the message so a retry does not change it). */
  timestamp: string;
  /** MessageHeader.source.endpoint: where the practice's system answers us (our `$process-message`). */
  sourceEndpoint: string;
  /** MessageHeader.destination.endpoint: the practice's endpoint (the BaRS sender's, or the directory's). */
  destinationEndpoint: string;
  /**
   * MessageHeader.reason: `new` for the first message back about this referral, `update` for every later one.
   * Default: `accepted` is the first; anything else follows it. A decline straight from `routed` is the first one,
   * which only the caller knows.
   */
  firstResponse?: boolean;
}

/** BaRS's MessageDefinition for a response to a referral: the shape this message follows. */
export const responseMessageDefinition =
  'https://fhir.nhs.uk/MessageDefinition/bars-message-servicerequest-response-referral';
const messageHeaderProfile =
  'https://fhir.nhs.uk/StructureDefinition/BARSMessageHeader-servicerequest-response';

/** Our event codes (responseEventSystem), with their displays. */
export const responseEventDisplay: Record<PracticeResponseKind, string> = {
  accepted: 'Referral received and accepted by the link-worker team',
  seen: 'Patient seen by a social prescribing link worker (first contact)',
  declined: 'Referral declined',
  'intervention-started': 'Social prescribing intervention started',
  closed: 'Social prescribing case closed',
};

export const declineReasonDisplay: Record<DeclineReason, string> = {
  'no-capacity': 'No capacity',
  'not-eligible': 'Not eligible',
  'patient-unreachable': 'Patient could not be contacted',
  'declined-by-patient': 'Declined by the patient',
  other: 'Other reason',
};

/**
 * The national code each event carries, where one fits (domain.md's list; none is invented):
 * - accepted: `Referral to social prescribing service` (the referral has been taken on by the service);
 * - seen: `Seen by social prescribing link worker`;
 * - declined: `Social prescribing declined` only when the patient declined; a team's decline (no capacity, not
 *   eligible, unreachable, other) is not the patient declining social prescribing, so it carries our codes only;
 * - intervention started: no national code for the event itself; the interventions carry theirs;
 * - closed: `Social prescribing case closed`.
 */
export function nationalCodeOf(event: PracticeResponseEvent): string | undefined {
  switch (event.kind) {
    case 'accepted':
      return socialPrescribingCodes.referral;
    case 'seen':
      return socialPrescribingCodes.seenByLinkWorker;
    case 'declined':
      return event.reason === 'declined-by-patient' ? socialPrescribingCodes.declined : undefined;
    case 'intervention-started':
      return undefined;
    case 'closed':
      return socialPrescribingCodes.caseClosed;
  }
}

/** R4 Task.status for each event. */
const taskStatus: Record<PracticeResponseKind, string> = {
  accepted: 'accepted',
  seen: 'in-progress',
  declined: 'rejected',
  'intervention-started': 'in-progress',
  closed: 'completed',
};

/** R4 ServiceRequest.status: open while the case is; a declined request ends unfulfilled (`revoked`). */
const serviceRequestStatus: Record<PracticeResponseKind, string> = {
  accepted: 'active',
  seen: 'active',
  declined: 'revoked',
  'intervention-started': 'active',
  closed: 'completed',
};

/** A SNOMED coding; the display only where domain.md gives it (a code the link worker chose is sent as it is). */
const snomed = (code: string) => {
  const display = snomedDisplay[code];
  return { system: snomedSystem, code, ...(display === undefined ? {} : { display }) };
};

function interventionConcept(category: InterventionCategory) {
  const code = interventionSnomedCodes[category];
  return {
    coding: [...(code === undefined ? [] : [snomed(code)]), { system: needCategorySystem, code: category }],
  };
}

/** Why: the decline's or closure's coded reason. */
function statusReasonOf(event: PracticeResponseEvent) {
  if (event.kind === 'declined')
    return {
      coding: [
        { system: declineReasonSystem, code: event.reason, display: declineReasonDisplay[event.reason] },
      ],
    };
  if (event.kind === 'closed')
    return {
      coding: [
        { system: closureReasonSystem, code: event.reason, display: closureReasonDisplay[event.reason] },
      ],
    };
  return undefined;
}

export function practiceResponseBundle(input: PracticeResponseInput): Record<string, unknown> {
  const { referral, event, messageId } = input;
  const full = referral.sharingBack !== 'codes-only';
  const serviceRequestUrl = `urn:uuid:${referral.referralId}`;
  // Derived from the message id, so the Task keeps its id across retries.
  const taskId = keyedUuid(['servicerequest-response', 'task'], messageId);
  const team = referral.routing?.team ?? null;
  const teamReference =
    team === null
      ? undefined
      : {
          identifier: { system: teamIdentifierSystem, value: team.id },
          ...(full ? { display: team.name } : {}),
        };
  const subject = { identifier: { system: fhirSystems.nhsNumber, value: referral.patient.nhsNumber } };
  const practice = { identifier: { system: fhirSystems.odsOrganisation, value: referral.practiceOds } };
  // The request this answers: the creating BaRS message's MessageHeader (else its X-Request-ID); a JSON referral
  // has no message, so the referral id the JSON route answered with stands for it.
  const answers =
    referral.source.channel === 'fhir'
      ? (referral.source.messageHeaderId ?? referral.source.requestId)
      : referral.referralId;
  const first = input.firstResponse ?? event.kind === 'accepted';
  const nationalCode = nationalCodeOf(event);
  const reason = statusReasonOf(event);
  const interventions =
    event.kind === 'intervention-started' || event.kind === 'closed' ? (event.interventions ?? []) : [];
  const note = full && event.note !== undefined && event.note.trim() !== '' ? event.note : undefined;
  const outcomeCode =
    event.kind === 'closed' && event.code !== undefined && event.code !== socialPrescribingCodes.caseClosed
      ? event.code
      : undefined;
  const outputs = [
    ...interventions.map((category) => ({
      type: { coding: [{ system: responseOutputSystem, code: 'intervention' }] },
      valueCodeableConcept: interventionConcept(category),
    })),
    ...(outcomeCode === undefined
      ? []
      : [
          {
            type: { coding: [{ system: responseOutputSystem, code: 'outcome' }] },
            valueCodeableConcept: { coding: [snomed(outcomeCode)] },
          },
        ]),
  ];

  const header = {
    resourceType: 'MessageHeader',
    id: messageId,
    meta: { profile: [messageHeaderProfile] },
    eventCoding: { system: fhirSystems.messageEvents, code: 'servicerequest-response' },
    destination: [{ endpoint: input.destinationEndpoint, receiver: practice }],
    ...(teamReference === undefined ? {} : { sender: teamReference }),
    source: {
      name: 'Social prescribing referral service',
      software: serviceName,
      endpoint: input.sourceEndpoint,
    },
    reason: { coding: [{ system: fhirSystems.messageReasons, code: first ? 'new' : 'update' }] },
    response: { identifier: answers, code: 'ok' },
    focus: [{ reference: serviceRequestUrl }],
    definition: responseMessageDefinition,
  };

  const serviceRequest = {
    resourceType: 'ServiceRequest',
    id: referral.referralId,
    meta: { lastUpdated: event.at },
    status: serviceRequestStatus[event.kind],
    intent: 'plan',
    category: [
      { coding: [{ system: fhirSystems.serviceRequestCategory, code: 'referral' }] },
      { coding: [{ system: useCaseSystem, code: useCaseCode }] },
    ],
    code: { coding: [snomed(socialPrescribingCodes.referral)] },
    subject,
    authoredOn: referral.receivedAt,
    requester: practice,
    ...(teamReference === undefined ? {} : { performer: [teamReference] }),
    reasonCode: referral.needs.map(interventionConcept),
  };

  const task = {
    resourceType: 'Task',
    id: taskId,
    status: taskStatus[event.kind],
    ...(reason === undefined ? {} : { statusReason: reason }),
    businessStatus: {
      coding: [
        ...(nationalCode === undefined ? [] : [snomed(nationalCode)]),
        { system: responseEventSystem, code: event.kind, display: responseEventDisplay[event.kind] },
      ],
    },
    intent: 'order',
    focus: { reference: serviceRequestUrl },
    for: subject,
    authoredOn: referral.receivedAt,
    lastModified: event.at,
    requester: practice,
    ...(teamReference === undefined ? {} : { owner: teamReference }),
    ...(note === undefined ? {} : { note: [{ text: note }] }),
    ...(outputs.length === 0 ? {} : { output: outputs }),
  };

  return {
    resourceType: 'Bundle',
    id: messageId,
    meta: { profile: [fhirSystems.bundleProfile] },
    type: 'message',
    timestamp: input.timestamp,
    entry: [
      { fullUrl: `urn:uuid:${messageId}`, resource: header },
      { fullUrl: serviceRequestUrl, resource: serviceRequest },
      { fullUrl: `urn:uuid:${taskId}`, resource: task },
    ],
  };
}
