import * as z from 'zod';
import { ReferralStatusViewSchema } from '#referral/application/referral-status-view.ts';
import { AcknowledgementSchema } from '#referral/application/submit-referral.ts';
import { ReferralRequest } from '#referral/domain/referral.ts';
import { LinkWorkerTeam, Partner, Service } from '#directory/domain/directory.ts';
import {
  CloseAction,
  ChooseServiceAction,
  ContactAction,
  DeclineAction,
  RemovePartnerAction,
  VersionedCaseAction,
} from '#referral/domain/case-work.ts';
import { caseActions } from '#referral/application/case-work.ts';
import {
  CreatedPartnerAnswer,
  CreatedTeamAnswer,
  EditedPartnerRequest,
  EditedServiceRequest,
  EditedTeamRequest,
  NewPartnerRequest,
  NewServiceRequest,
  NewTeamRequest,
  RotatedSecretAnswer,
  VersionedActionRequest,
} from '#directory/application/admin-requests.ts';
import { barsErrorCodes, issueTypes } from '#kernel/errors.ts';
import { MeasureSetRequest } from '#outcomes/domain/measure-set.ts';
import { OutcomesView, RecordedMeasureSetView } from '#outcomes/domain/outcome-views.ts';
import { barsErrorCodeSystem } from '#http/operation-outcome.ts';

/**
 * Zod schemas for what the API sends and receives, each with an `id` so the OpenAPI document (openapi.ts) names
 * it as a component. `Acknowledgement` and `ReferralStatusView` are the application's own schemas (their
 * types are z.infer of them); `OperationOutcome` mirrors the type in operation-outcome.ts exactly, and
 * test/unit/openapi.test.ts checks the types are equal.
 *
 * FHIR resources other than OperationOutcome are described permissively (`z.looseObject`): the FHIR and BaRS
 * specifications define them, and the intake validates a message's content itself.
 */

// ---- Requests ---------------------------------------------------------------------------------------------------

/** The plain JSON referral (`POST /referrals`): the domain schema, named for the API. */
export const ReferralRequestBody = ReferralRequest.meta({
  id: 'ReferralRequest',
  description:
    'A referral in plain JSON. Unknown top-level fields are refused; `patient.nhsNumber` is 10 digits (spaces ' +
    'allowed) with a valid Modulus 11 check digit. See docs/api.md for every rule.',
});

const Resource = z.looseObject({ resourceType: z.string().describe('The FHIR resource type') });

/**
 * A FHIR R4 message Bundle. Every object in it is loose, so the schema reads the same as a request (input) and as
 * a response (output).
 */
export const Bundle = z
  .looseObject({
    resourceType: z.literal('Bundle'),
    id: z.string().optional(),
    meta: z.looseObject({ profile: z.array(z.string()).optional() }).optional(),
    type: z.literal('message'),
    timestamp: z.string().optional(),
    entry: z
      .array(z.looseObject({ fullUrl: z.string().optional(), resource: Resource }))
      .min(1)
      .describe('The first entry is the MessageHeader; its focus is the ServiceRequest'),
  })
  .meta({
    id: 'Bundle',
    description:
      'A BaRS message Bundle (FHIR R4 `Bundle` of type `message`, profile ' +
      'https://fhir.nhs.uk/StructureDefinition/BARSBundleMessage): a MessageHeader first (eventCoding ' +
      '`servicerequest-request`, reason `new` or `update`), then the ServiceRequest, Patient and the other ' +
      'resources it references. Described permissively here; docs/api.md (POST /$process-message) gives the ' +
      'elements read and the rules applied.',
  });

// ---- Responses --------------------------------------------------------------------------------------------------

export const Acknowledgement = AcknowledgementSchema.meta({
  id: 'Acknowledgement',
  description: 'The referral is stored and queued for routing.',
});

export const ReferralStatusView = ReferralStatusViewSchema.meta({
  id: 'ReferralStatusView',
  description:
    'Where a referral went and how far it got. It carries no patient identifiers: it answers "was it routed ' +
    'and delivered?", not "who is the patient?".',
});

export const OperationOutcome = z
  .object({
    resourceType: z.literal('OperationOutcome'),
    issue: z
      .array(
        z.object({
          severity: z.literal('error'),
          code: z.enum(issueTypes).describe('FHIR issue type (http://hl7.org/fhir/issue-type)'),
          details: z.object({
            coding: z.array(
              z.object({
                system: z.string().describe(`The BaRS error code system, ${barsErrorCodeSystem}`),
                code: z.enum(barsErrorCodes),
                display: z.string(),
              }),
            ),
          }),
          diagnostics: z.string().describe('The field and the rule it broke, in words'),
          expression: z
            .array(z.string())
            .optional()
            .describe('Path of the offending field, e.g. `patient.nhsNumber`'),
        }),
      )
      .min(1),
  })
  .meta({
    id: 'OperationOutcome',
    description:
      'Every error, on every route: a FHIR OperationOutcome whose `issue[].details.coding[].code` is a BaRS ' +
      'error code.',
  });

export const ServiceRequest = z
  .looseObject({
    resourceType: z.literal('ServiceRequest'),
    id: z.string(),
    status: z.string().optional().describe('`active`, `revoked` or `entered-in-error`'),
    intent: z.string().optional().describe('`plan`'),
  })
  .meta({
    id: 'ServiceRequest',
    description: 'A FHIR R4 ServiceRequest: a referral as BaRS describes it. Described permissively here.',
  });

export const CapabilityStatement = z
  .looseObject({
    resourceType: z.literal('CapabilityStatement'),
    status: z.literal('active'),
    date: z.string(),
    kind: z.literal('instance'),
    fhirVersion: z.literal('4.0.1'),
    format: z.array(z.string()),
    rest: z.array(z.looseObject({ mode: z.enum(['server', 'client']) })),
    messaging: z.array(z.looseObject({})).optional(),
  })
  .meta({
    id: 'CapabilityStatement',
    description: 'What this FHIR server offers (FHIR R4 CapabilityStatement).',
  });

export const OpenApiDocument = z
  .looseObject({
    openapi: z.string(),
    info: z.looseObject({ title: z.string(), version: z.string() }),
    paths: z.looseObject({}),
  })
  .meta({ id: 'OpenApiDocument', description: 'This document (OpenAPI 3.1).' });

// ---- The directory's admin API ----------------------------------------------------------------------------------

const unknownFieldsRefused = 'Unknown or misspelt fields are refused (400, naming the field).';

export const NewTeam = NewTeamRequest.meta({
  id: 'NewTeam',
  description: `A new link-worker team, active at version 1. ${unknownFieldsRefused}`,
});
export const NewPartner = NewPartnerRequest.meta({
  id: 'NewPartner',
  description: `A new VCSE partner, active at version 1. ${unknownFieldsRefused}`,
});
export const NewService = NewServiceRequest.meta({
  id: 'NewService',
  description: `A new service of an active partner, active at version 1. ${unknownFieldsRefused}`,
});
const edited = (what: string) =>
  `The whole ${what} as read, with its changes; \`version\` is the version it was read at. ${unknownFieldsRefused}`;
export const EditedTeam = EditedTeamRequest.meta({ id: 'EditedTeam', description: edited('team') });
export const EditedPartner = EditedPartnerRequest.meta({
  id: 'EditedPartner',
  description: edited('partner'),
});
export const EditedService = EditedServiceRequest.meta({
  id: 'EditedService',
  description: edited('service'),
});
export const VersionedAction = VersionedActionRequest.meta({
  id: 'VersionedAction',
  description: 'Retire, pause or resume: the version of the record as last read.',
});

export const LinkWorkerTeamRecord = LinkWorkerTeam.meta({
  id: 'LinkWorkerTeam',
  description: "A PCN's link-worker team, as stored (its signing secret is never part of it).",
});
export const PartnerRecord = Partner.meta({
  id: 'Partner',
  description: 'A VCSE partner, as stored (its signing secret is never part of it).',
});
export const ServiceRecord = Service.meta({ id: 'Service', description: "A partner's service, as stored." });
export const CreatedTeam = CreatedTeamAnswer.meta({
  id: 'CreatedTeam',
  description: 'The new team, and its signing secret: shown this once.',
});
export const CreatedPartner = CreatedPartnerAnswer.meta({
  id: 'CreatedPartner',
  description: 'The new partner, and its signing secret: shown this once.',
});
export const RotatedSecret = RotatedSecretAnswer.meta({
  id: 'RotatedSecret',
  description:
    "A recipient's new signing secret, shown this once; the old one stops being used within 5 minutes.",
});

// ---- Case work (docs/api.md, Worklists and actions) ------------------------------------------------------------

export const CaseActionVersion = VersionedCaseAction.meta({
  id: 'CaseActionVersion',
  description: 'Accept or start: the `version` of the referral or offer as last read.',
});
export const CaseDecline = DeclineAction.meta({
  id: 'CaseDecline',
  description: 'Decline with a coded reason; `other` needs `text` (at most 500 characters).',
});
export const CaseContact = ContactAction.meta({
  id: 'CaseContact',
  description: 'A contact with the patient: `attempted` (not reached) or `made`, and how.',
});
export const CaseChooseService = ChooseServiceAction.meta({
  id: 'CaseChooseService',
  description:
    "Re-route or add a partner: the need (one of the referral's) and the directory service to offer it to.",
});
export const CaseRemovePartner = RemovePartnerAction.meta({
  id: 'CaseRemovePartner',
  description: 'Remove a partner: the offer to withdraw.',
});
export const CaseClose = CloseAction.meta({
  id: 'CaseClose',
  description:
    'Close with a closure reason and its SNOMED CT code (default 1362721000000106, social prescribing case closed).',
});

const caseState = z.string().describe('The lifecycle state (docs/architecture.md, Lifecycle)');
const allowedActions = z
  .array(z.enum(caseActions))
  .describe('What the caller may do now: the action routes it may POST to');

export const TeamWorklist = z
  .looseObject({
    items: z.array(
      z.looseObject({
        referralId: z.uuid(),
        status: caseState,
        version: z.number().int(),
        receivedAt: z.string(),
        needs: z.array(z.string()),
        patientName: z.looseObject({ given: z.string(), family: z.string() }),
        returnedNeeds: z.number().int(),
      }),
    ),
    cursor: z.string().optional().describe('Pass back as `cursor` for the next page; absent on the last'),
  })
  .meta({ id: 'TeamWorklist', description: "A page of the team's referrals, newest first within a status." });

export const TeamReferralViewSchema = z
  .looseObject({
    referralId: z.uuid(),
    status: caseState,
    version: z.number().int(),
    actions: allowedActions,
    details: z
      .looseObject({})
      .describe("The team's content (identifiable, direct care): as the team's webhook"),
    caseWork: z.looseObject({}),
    returnedNeeds: z.array(z.looseObject({ category: z.string(), offerId: z.string(), reason: z.string() })),
    offers: z.array(z.looseObject({ offerId: z.string(), partnerId: z.string(), state: caseState })),
  })
  .meta({ id: 'TeamReferralView', description: 'A referral as its link-worker team sees it (direct care).' });

export const PartnerWorklist = z
  .looseObject({
    items: z.array(
      z.looseObject({
        offerId: z.string(),
        referralId: z.uuid(),
        state: caseState,
        version: z.number().int(),
        category: z.string(),
        offeredAt: z.string(),
        deadline: z.string(),
      }),
    ),
    cursor: z.string().optional().describe('Pass back as `cursor` for the next page; absent on the last'),
  })
  .meta({
    id: 'PartnerWorklist',
    description: "A page of the partner's offers, newest first within a state.",
  });

export const PartnerOfferViewSchema = z
  .looseObject({
    offerId: z.string(),
    referralId: z.uuid(),
    state: caseState,
    version: z.number().int(),
    actions: allowedActions,
    deadline: z.string(),
    referral: z
      .looseObject({})
      .describe('The minimised view: identifiable with consent, else signposting only'),
    caseWork: z.looseObject({}),
  })
  .meta({ id: 'PartnerOfferView', description: 'An offer as its partner sees it (minimised).' });

// ---- Outcome measures (docs/api.md, Outcome measures) -----------------------------------------------------------

export const MeasureSetRequestBody = MeasureSetRequest.meta({
  id: 'MeasureSetRequest',
  description:
    'One set of outcome measures, at baseline or a follow-up: any of ONS4, UCLA-3, the direct loneliness question ' +
    `and SWEMWBS (raw answers), at least one. ${unknownFieldsRefused}`,
});
export const RecordedMeasureSet = RecordedMeasureSetView.meta({
  id: 'RecordedMeasureSet',
  description: 'The set as recorded, scored: ONS4 bands, UCLA-3 total, SWEMWBS raw total (and metric score).',
});
export const Outcomes = OutcomesView.meta({
  id: 'Outcomes',
  description: "A referral's measure sets, scored, and the change from baseline of the latest follow-up.",
});
