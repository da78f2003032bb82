import * as z from 'zod';
import packageJson from '../../package.json' with { type: 'json' };
import { maxRequestBodyBytes } from '#system/limits.ts';
import { routes, type OperationId, type Route } from '#system/routes.ts';
import {
  Acknowledgement,
  Bundle,
  CapabilityStatement,
  CreatedPartner,
  CreatedTeam,
  EditedPartner,
  EditedService,
  EditedTeam,
  LinkWorkerTeamRecord,
  NewPartner,
  NewService,
  NewTeam,
  OpenApiDocument,
  OperationOutcome,
  PartnerRecord,
  ReferralRequestBody,
  ReferralStatusView,
  RotatedSecret,
  ServiceRecord,
  ServiceRequest,
  VersionedAction,
  CaseActionVersion,
  CaseChooseService,
  CaseRemovePartner,
  CaseClose,
  CaseContact,
  CaseDecline,
  PartnerOfferViewSchema,
  PartnerWorklist,
  TeamReferralViewSchema,
  TeamWorklist,
  MeasureSetRequestBody,
  Outcomes,
  RecordedMeasureSet,
} from '#http/api-schemas.ts';
import { ReportTable, reportOperations } from '#http/openapi-reports.ts';

/**
 * The OpenAPI 3.1 document, generated: the routes (and who may call them) from the topology, bodies and answers
 * from the zod schemas through zod's own JSON Schema conversion. `npm run openapi` writes it to docs/openapi.json
 * and `GET /openapi.json` serves it; a unit test fails when the two differ.
 *
 * Each operation is described under the operation id its route names (shared/system/routes.ts), which is also its
 * OpenAPI `operationId`: a route added to the topology without a description here is a type error.
 */

type JsonObject = Record<string, unknown>;

const json = 'application/json';
const fhirJson = 'application/fhir+json';
const bearerScheme = 'bearerAuth';

/** Schemas converted as input (what a client sends: before transforms and defaults). */
const requestSchemas = [
  ReferralRequestBody,
  Bundle,
  NewTeam,
  NewPartner,
  NewService,
  EditedTeam,
  EditedPartner,
  EditedService,
  VersionedAction,
  CaseActionVersion,
  CaseDecline,
  CaseContact,
  CaseClose,
  CaseChooseService,
  CaseRemovePartner,
  MeasureSetRequestBody,
];
/** Schemas converted as output (what the handlers send). `Bundle` is both; it is all loose, so it reads the same. */
const responseSchemas = [
  Acknowledgement,
  ReferralStatusView,
  OperationOutcome,
  ServiceRequest,
  CapabilityStatement,
  OpenApiDocument,
  LinkWorkerTeamRecord,
  PartnerRecord,
  ServiceRecord,
  CreatedTeam,
  CreatedPartner,
  RotatedSecret,
  TeamWorklist,
  TeamReferralViewSchema,
  PartnerWorklist,
  PartnerOfferViewSchema,
  RecordedMeasureSet,
  Outcomes,
  ReportTable,
];

const schemaRef = (schema: z.ZodType): JsonObject => ({ $ref: `#/components/schemas/${idOf(schema)}` });

function idOf(schema: z.ZodType): string {
  const id = z.globalRegistry.get(schema)?.id;
  if (!id) throw new Error('A schema used in the OpenAPI document needs .meta({ id })');
  return id;
}

const uuidSchema = { type: 'string', format: 'uuid' };

/** A FHIR resource described by its type only: the FHIR specification (R4) is its schema. */
const fhirResourceSchema = (resourceType: string): JsonObject => ({
  type: 'object',
  description: `A FHIR R4 ${resourceType} (https://hl7.org/fhir/R4/${resourceType.toLowerCase()}.html)`,
  required: ['resourceType'],
  properties: { resourceType: { const: resourceType } },
});

const outcome = (description: string, headers?: JsonObject): JsonObject => ({
  description,
  ...(headers ? { headers } : {}),
  content: { [fhirJson]: { schema: schemaRef(OperationOutcome) } },
});

const retryAfter = {
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer', minimum: 0 } },
};

const tooLarge = outcome(
  `Body over ${maxRequestBodyBytes / 1024} KB (\`REC_PAYLOAD_TOO_LARGE\`, \`too-long\`)`,
);

/** What the API's own description of an operation adds to what the topology says. */
export interface OperationSpec {
  tags: string[];
  summary: string;
  description: string;
  /** Descriptions (and schemas, default a string) of the path's `{name}` parameters. */
  pathParameters?: Record<string, { description: string; schema?: JsonObject }>;
  /** Header and query parameters. */
  parameters?: JsonObject[];
  requestBody?: JsonObject;
  /** Route-specific answers; the common ones (401, 403, 429, 500) are added unless given here. */
  responses: Record<string, JsonObject>;
}

// ---- The directory's admin operations, alike for each kind of record (docs/api.md, Directory admin) -----------

type DirectoryKind = 'team' | 'partner' | 'service';
const directoryKinds: Record<
  DirectoryKind,
  { noun: string; record: z.ZodType; created: z.ZodType; create: z.ZodType; edit: z.ZodType }
> = {
  team: {
    noun: 'link-worker team',
    record: LinkWorkerTeamRecord,
    created: CreatedTeam,
    create: NewTeam,
    edit: EditedTeam,
  },
  partner: {
    noun: 'VCSE partner',
    record: PartnerRecord,
    created: CreatedPartner,
    create: NewPartner,
    edit: EditedPartner,
  },
  service: {
    noun: 'service',
    record: ServiceRecord,
    created: ServiceRecord,
    create: NewService,
    edit: EditedService,
  },
};

const directoryIdParameter = (kind: DirectoryKind): OperationSpec['pathParameters'] => ({
  id: {
    description: `The ${directoryKinds[kind].noun}'s id`,
    schema: { type: 'string', maxLength: 64, pattern: '^[a-z0-9]+(-[a-z0-9]+)*$' },
  },
});
const jsonRequest = (schema: z.ZodType, description: string): JsonObject => ({
  required: true,
  description,
  content: { [json]: { schema: schemaRef(schema) } },
});
const jsonAnswer = (schema: z.ZodType, description: string, headers?: JsonObject): JsonObject => ({
  description,
  ...(headers ? { headers } : {}),
  content: { [json]: { schema: schemaRef(schema) } },
});
const badDirectoryBody = outcome(
  'Malformed JSON, a missing field (`required`), a wrong type (`invalid`), a broken rule (`value`) or an unknown ' +
    'field (`structure`), each named; or a malformed id (`REC_BAD_REQUEST`)',
);
const noSuchRecord = (kind: DirectoryKind) =>
  outcome(`There is no ${directoryKinds[kind].noun} with this id (\`REC_NOT_FOUND\`)`);
const staleVersion = outcome(
  'The record is at another version than the one given: nothing was changed; read it again and make the change on ' +
    'the version stored, which the diagnostics name (`REC_CONFLICT`, `conflict`)',
);

const unknownReference = {
  team:
    "The PCN is not in the directory (expression `pcn`), or a listed practice is not, or not in the team's PCN " +
    '(`REC_UNPROCESSABLE_ENTITY`)',
  service: 'The partner is not in the directory, or is retired (`REC_UNPROCESSABLE_ENTITY`)',
};

function directoryCreate(kind: DirectoryKind): OperationSpec {
  const { noun, created, create } = directoryKinds[kind];
  const recipient = kind !== 'service';
  return {
    tags: ['Directory'],
    summary: `Create a ${noun}`,
    description:
      `Adds a ${noun} to the directory, active at version 1.` +
      (recipient
        ? ' The answer carries its new webhook signing secret, shown this once and never again: keep it and give ' +
          'it to the recipient (a lost one is replaced with rotate-secret).'
        : ' Its partner must be in the directory and active; it is matched from then on in the areas it covers.') +
      ' Sending the same create again after a crash finishes it; otherwise an existing id is 409.',
    requestBody: jsonRequest(create, `The new ${noun}`),
    responses: {
      '201': jsonAnswer(created, `Created${recipient ? ', with its signing secret' : ''}`, {
        Location: { description: `The ${noun}'s URL`, schema: { type: 'string' } },
      }),
      '400': badDirectoryBody,
      '409':
        kind === 'team'
          ? outcome('The id exists (`conflict`), or the PCN already has an active team (`REC_CONFLICT`)')
          : outcome('The id exists, with the version stored named (`REC_CONFLICT`, `conflict`)'),
      '413': tooLarge,
      '415': outcome('`Content-Type` other than `application/json` (`REC_BAD_REQUEST`, `not-supported`)'),
      ...(kind === 'partner' ? {} : { '422': outcome(unknownReference[kind]) }),
    },
  };
}

function directoryRead(kind: DirectoryKind): OperationSpec {
  const { noun, record } = directoryKinds[kind];
  return {
    tags: ['Directory'],
    summary: `Read a ${noun}`,
    description: `The ${noun} as stored, retired ones included, with its version (the version an edit names).`,
    pathParameters: directoryIdParameter(kind),
    responses: {
      '200': jsonAnswer(record, `The ${noun}`),
      '400': badDirectoryBody,
      '404': noSuchRecord(kind),
    },
  };
}

function directoryUpdate(kind: DirectoryKind): OperationSpec {
  const { noun, record, edit } = directoryKinds[kind];
  return {
    tags: ['Directory'],
    summary: `Replace a ${noun}`,
    description:
      `The whole ${noun}, as read, with its changes; \`version\` is the version it was read at. Stored as version ` +
      '+ 1 if that is still the version stored, else 409 and nothing changes. The same PUT sent again is answered ' +
      'as stored. A PUT may retire the record; a retired one is never made active again.',
    pathParameters: directoryIdParameter(kind),
    requestBody: jsonRequest(edit, `The ${noun}, edited`),
    responses: {
      '200': jsonAnswer(record, `The ${noun} as stored`),
      '400': badDirectoryBody,
      '404': noSuchRecord(kind),
      '409': outcome(
        'The record is at another version than the one given (nothing was changed; the diagnostics name the ' +
          `version stored), or it is retired and the PUT would make it active${kind === 'team' ? ", or the team's PCN has another active team" : ''} (\`REC_CONFLICT\`)`,
      ),
      '413': tooLarge,
      '415': outcome('`Content-Type` other than `application/json` (`REC_BAD_REQUEST`, `not-supported`)'),
      ...(kind === 'partner' ? {} : { '422': outcome(unknownReference[kind]) }),
    },
  };
}

function directoryAction(kind: DirectoryKind, action: 'retire' | 'pause' | 'resume'): OperationSpec {
  const { noun, record } = directoryKinds[kind];
  const what = {
    retire: `Retires the ${noun}: it takes no new referrals${kind === 'partner' ? ' (nor do its services)' : ''} and keeps its history; retiring is final.`,
    pause:
      'Pauses the service: matching rules it out (saying it has paused new referrals) until it is resumed.',
    resume: 'Opens the service again (capacity `open`), from paused or full.',
  }[action];
  return {
    tags: ['Directory'],
    summary: `${action.charAt(0).toUpperCase()}${action.slice(1)} a ${noun}`,
    description: `${what} Version-guarded: the body names the version read. Already so at that version: nothing changes.`,
    pathParameters: directoryIdParameter(kind),
    requestBody: jsonRequest(VersionedAction, 'The version the change is made on'),
    responses: {
      '200': jsonAnswer(record, `The ${noun} as stored`),
      '400': badDirectoryBody,
      '404': noSuchRecord(kind),
      '409':
        action === 'retire'
          ? staleVersion
          : outcome('A stale version, or the service is retired (`REC_CONFLICT`)'),
      '415': outcome('`Content-Type` other than `application/json` (`REC_BAD_REQUEST`, `not-supported`)'),
    },
  };
}

function directoryRotate(kind: 'team' | 'partner'): OperationSpec {
  const { noun } = directoryKinds[kind];
  return {
    tags: ['Directory'],
    summary: `Rotate a ${noun}'s signing secret`,
    description:
      `Makes a new webhook signing secret for the ${noun}, stores it and answers it this once. Deliveries use it ` +
      'within 5 minutes (the secret store is cached that long); until then the old one may still sign. No body.',
    pathParameters: directoryIdParameter(kind),
    responses: {
      '200': jsonAnswer(RotatedSecret, 'The new signing secret'),
      '400': badDirectoryBody,
      '404': noSuchRecord(kind),
    },
  };
}

// ---- Case work: a link worker's team referrals and a partner's offers (docs/api.md, Worklists and actions) ---

type CaseHolder = 'team' | 'partner';
const caseHolders: Record<
  CaseHolder,
  {
    noun: string;
    who: string;
    list: z.ZodType;
    view: z.ZodType;
    id: { description: string; schema?: JsonObject };
    states: string;
  }
> = {
  team: {
    noun: 'referral',
    who: "the link worker's team",
    list: TeamWorklist,
    view: TeamReferralViewSchema,
    id: { description: 'The referral id', schema: uuidSchema },
    states: 'received, routed, accepted, contacted, in-progress, escalated, declined, closed, cancelled',
  },
  partner: {
    noun: 'offer',
    who: "the partner's",
    list: PartnerWorklist,
    view: PartnerOfferViewSchema,
    id: {
      description: 'The offer id: `<referral id>.offer.<need>.<service id>`',
      schema: { type: 'string', maxLength: 200 },
    },
    states: 'offered, accepted, contacted, in-progress, declined, expired, withdrawn, closed',
  },
};
const notYours = (holder: CaseHolder) =>
  outcome(
    `No such ${caseHolders[holder].noun}, or not ${caseHolders[holder].who} (\`REC_NOT_FOUND\`: another organisation's is not found, never forbidden)`,
  );

function caseList(holder: CaseHolder): OperationSpec {
  const { noun, list, states } = caseHolders[holder];
  return {
    tags: ['Case work'],
    summary: holder === 'team' ? "List the team's referrals" : "List the partner's offers",
    description:
      `The ${noun}s of the token's organisation, from the worklist index (one Query, never a scan): newest first ` +
      'within a status; without `status`, grouped by status. Page with `cursor`.',
    parameters: [
      {
        name: 'status',
        in: 'query',
        required: false,
        description: `One of: ${states}`,
        schema: { type: 'string' },
      },
      {
        name: 'limit',
        in: 'query',
        required: false,
        description: 'Entries per page, 1 to 100 (default 20)',
        schema: { type: 'integer', minimum: 1, maximum: 100 },
      },
      {
        name: 'cursor',
        in: 'query',
        required: false,
        description: 'The `cursor` of the previous page, as given',
        schema: { type: 'string', maxLength: 1000 },
      },
    ],
    responses: {
      '200': jsonAnswer(list, 'One page'),
      '400': outcome(
        'An unknown status, a limit out of range or a cursor not from this worklist (`REC_BAD_REQUEST`)',
      ),
    },
  };
}

function caseRead(holder: CaseHolder): OperationSpec {
  const { noun, view, id } = caseHolders[holder];
  return {
    tags: ['Case work'],
    summary: holder === 'team' ? 'Show a team referral (direct care)' : 'Show an offer (minimised)',
    description:
      holder === 'team'
        ? "The referral at the team's content level (identifiable), its case work, its offers and returned needs."
        : "The offer and the referral at this partner's content level (identifiable with consent, else signposting).",
    pathParameters: { id },
    responses: {
      '200': jsonAnswer(view, `The ${noun}`),
      '400': outcome('A malformed id (`REC_BAD_REQUEST`)'),
      '404': notYours(holder),
    },
  };
}

const actionBodies: Record<string, { schema: z.ZodType; what: string }> = {
  accept: { schema: CaseActionVersion, what: 'Accepts it' },
  decline: { schema: CaseDecline, what: 'Declines it with a coded reason' },
  contact: { schema: CaseContact, what: 'Records a contact with the patient, attempted or made' },
  start: { schema: CaseActionVersion, what: 'Records that the intervention started' },
  close: { schema: CaseClose, what: 'Closes it with a closure reason and code' },
};

function caseAction(holder: CaseHolder, action: keyof typeof actionBodies): OperationSpec {
  const { noun, view, id } = caseHolders[holder];
  const body = actionBodies[action];
  if (!body) throw new Error(`no case action ${action}`);
  const followUp =
    holder === 'partner' && action === 'decline'
      ? ' The need is then offered to the next fitting service of the routing decision, or returned to the link ' +
        'worker with the reason when none is left.'
      : '';
  return {
    tags: ['Case work'],
    summary: `${action.charAt(0).toUpperCase()}${action.slice(1)} (${noun})`,
    description:
      `${body.what}: one lifecycle transition, written only if the ${noun} is still at the \`version\` given. ` +
      `The same action again finds it done and answers the same.${followUp}`,
    pathParameters: { id },
    ...(action === 'contact'
      ? {
          parameters: [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              description:
                'An attempted contact moves no state: with a key, the same attempt sent again records nothing more.',
              schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]{1,255}$' },
            },
          ],
        }
      : {}),
    requestBody: jsonRequest(body.schema, 'The version read, and what the action records'),
    responses: {
      '200': jsonAnswer(view, `The ${noun} as it now is`),
      '400': outcome('A missing or malformed field, each named (`REC_BAD_REQUEST`)'),
      '404': notYours(holder),
      '409': outcome(
        `The action is not allowed in the ${noun}'s state, or the version is stale: the diagnostics name the state ` +
          'and the version stored (`REC_CONFLICT`)',
      ),
      '415': outcome('`Content-Type` other than `application/json` (`REC_BAD_REQUEST`, `not-supported`)'),
    },
  };
}

function partnerChange(change: 're-route' | 'add-partner' | 'remove-partner'): OperationSpec {
  const what = {
    're-route':
      'Offers a need to a service the link worker chooses from the directory, and withdraws the offers still open ' +
      'for that need.',
    'add-partner': 'Offers a need to one more service the link worker chooses from the directory.',
    'remove-partner': 'Withdraws one offer: its partner is told to stop.',
  }[change];
  return {
    tags: ['Case work'],
    summary: `${change.charAt(0).toUpperCase()}${change.slice(1)} (link worker)`,
    description:
      `${what} The referral's \`${change}\` event, written only if the referral is still at the \`version\` given; ` +
      "a new partner's delivery is sent by the notifier. The same change again finds it made.",
    pathParameters: { id: caseHolders.team.id },
    requestBody: jsonRequest(
      change === 'remove-partner' ? CaseRemovePartner : CaseChooseService,
      change === 'remove-partner'
        ? 'The version read and the offer'
        : 'The version read, the need and the service',
    ),
    responses: {
      '200': jsonAnswer(TeamReferralViewSchema, 'The referral as it now is'),
      '400': outcome('A missing or malformed field, each named (`REC_BAD_REQUEST`)'),
      '404': notYours('team'),
      '409': outcome(
        'A stale version or a state that does not allow it (naming both), or the service was offered the need ' +
          'before and that offer ended (`REC_CONFLICT`)',
      ),
      '415': outcome('`Content-Type` other than `application/json` (`REC_BAD_REQUEST`, `not-supported`)'),
      ...(change === 'remove-partner'
        ? {}
        : {
            '422': outcome(
              "The need is not the referral's, or the service is not an active one offering it, or it takes no " +
                'signposting and the patient did not consent to its partner (`REC_UNPROCESSABLE_ENTITY`)',
            ),
          }),
    },
  };
}

export const operations: Record<OperationId, OperationSpec> = {
  submitReferral: {
    tags: ['Referrals'],
    summary: 'Submit a referral (plain JSON)',
    description:
      'Validates the referral, records it durably, queues it for routing and acknowledges. The practice must be ' +
      'one the token acts for.',
    parameters: [
      {
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description:
          'A retry with the same key (per practice) within 24 hours gets the first answer again and creates ' +
          'nothing; the same key with a different body gets 409.',
        schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]{1,255}$' },
      },
    ],
    requestBody: {
      required: true,
      description: `The referral, at most ${maxRequestBodyBytes / 1024} KB`,
      content: { [json]: { schema: schemaRef(ReferralRequestBody) } },
    },
    responses: {
      '202': {
        description: 'Accepted: stored and queued for routing',
        headers: {
          Location: { description: 'The referral: `/referrals/{referralId}`', schema: { type: 'string' } },
        },
        content: { [json]: { schema: schemaRef(Acknowledgement) } },
      },
      '400': outcome(
        'Malformed JSON, a missing field (`required`), a wrong type (`invalid`), a broken rule (`value`), an ' +
          'unknown field (`structure`) or a bad Idempotency-Key (`REC_BAD_REQUEST`)',
      ),
      '403': outcome(
        'The token may not refer for this practice, or its role may not call this (`REC_FORBIDDEN`)',
      ),
      '409': outcome(
        'Idempotency-Key reused with a different body (`conflict`), or its first request is still in progress ' +
          '(`duplicate`) (`REC_CONFLICT`)',
      ),
      '413': tooLarge,
      '422': outcome('The practice is not in the directory (`REC_UNPROCESSABLE_ENTITY`)'),
      '503': outcome(
        'A dependency failed; nothing was accepted. Retry, with the same Idempotency-Key (`REC_SERVICE_UNAVAILABLE`)',
        retryAfter,
      ),
    },
  },
  processMessage: {
    tags: ['BaRS'],
    summary: 'Process a BaRS message (FHIR)',
    description:
      'BaRS-shaped FHIR R4 messaging: a new referral, an update or a cancellation as a message Bundle. ' +
      'Acknowledged synchronously with the processed Bundle. See docs/api.md (POST /$process-message).',
    parameters: [
      { $ref: '#/components/parameters/XRequestId' },
      { $ref: '#/components/parameters/XCorrelationId' },
    ],
    requestBody: {
      required: true,
      description: `A BaRS message Bundle, at most ${maxRequestBodyBytes / 1024} KB`,
      content: { [fhirJson]: { schema: schemaRef(Bundle) } },
    },
    responses: {
      '200': {
        description: 'Processed: the message Bundle with the ids this service assigned',
        headers: {
          'X-Request-ID': { $ref: '#/components/headers/XRequestId' },
          'X-Correlation-ID': { $ref: '#/components/headers/XCorrelationId' },
        },
        content: { [fhirJson]: { schema: schemaRef(Bundle) } },
      },
      '400': outcome(
        'Not a valid message Bundle, or X-Request-ID / X-Correlation-ID missing or not UUIDs (`REC_BAD_REQUEST`: ' +
          '`invalid`, `required`, `value`, `invariant` or `not-supported`)',
      ),
      '403': outcome(
        'The token may not refer for the sending practice, or its role may not call this (`REC_FORBIDDEN`)',
      ),
      '409': outcome(
        "A replayed X-Request-ID (`duplicate`), or a change the referral's state forbids such as cancelling one " +
          'no longer active (`conflict`) (`REC_CONFLICT`)',
      ),
      '413': tooLarge,
      '422': outcome(
        'A well-formed message this service cannot act on, e.g. an unsupported event or a practice not in the ' +
          'directory (`REC_UNPROCESSABLE_ENTITY`)',
      ),
    },
  },
  getReferralStatus: {
    tags: ['Referrals'],
    summary: "Show a referral's progress",
    description:
      'Status, link-worker team, matched partners, deliveries and unmet needs. No patient identifiers.',
    pathParameters: { id: { description: 'The referral id', schema: uuidSchema } },
    responses: {
      '200': {
        description: "The referral's status view",
        content: { [json]: { schema: schemaRef(ReferralStatusView) } },
      },
      '400': outcome('The id is not a UUID (`REC_BAD_REQUEST`)'),
      '404': outcome('No such referral, or not one the token may see (`REC_NOT_FOUND`)'),
    },
  },
  readServiceRequest: {
    tags: ['BaRS'],
    summary: 'Read a ServiceRequest (FHIR)',
    description: 'The referral as a FHIR ServiceRequest (FHIR read interaction).',
    pathParameters: { id: { description: 'The ServiceRequest id this service assigned' } },
    responses: {
      '200': {
        description: 'The ServiceRequest',
        content: { [fhirJson]: { schema: schemaRef(ServiceRequest) } },
      },
      '404': outcome('No such ServiceRequest, or not one the token may see (`REC_NOT_FOUND`)'),
    },
  },
  listTeamReferrals: caseList('team'),
  getTeamReferral: caseRead('team'),
  acceptTeamReferral: caseAction('team', 'accept'),
  declineTeamReferral: caseAction('team', 'decline'),
  recordTeamContact: caseAction('team', 'contact'),
  startTeamIntervention: caseAction('team', 'start'),
  closeTeamReferral: caseAction('team', 'close'),
  rerouteTeamReferral: partnerChange('re-route'),
  addTeamReferralPartner: partnerChange('add-partner'),
  removeTeamReferralPartner: partnerChange('remove-partner'),
  listPartnerOffers: caseList('partner'),
  getPartnerOffer: caseRead('partner'),
  acceptPartnerOffer: caseAction('partner', 'accept'),
  declinePartnerOffer: caseAction('partner', 'decline'),
  recordPartnerContact: caseAction('partner', 'contact'),
  startPartnerIntervention: caseAction('partner', 'start'),
  closePartnerOffer: caseAction('partner', 'close'),
  capabilities: {
    tags: ['Metadata'],
    summary: 'FHIR CapabilityStatement',
    description: 'What this FHIR server offers: the ServiceRequest read and the $process-message operation.',
    responses: {
      '200': {
        description: 'The CapabilityStatement',
        content: { [fhirJson]: { schema: schemaRef(CapabilityStatement) } },
      },
    },
  },
  openApi: {
    tags: ['Metadata'],
    summary: 'This OpenAPI document',
    description: 'The API described in OpenAPI 3.1, generated from the route table and the schemas.',
    responses: {
      '200': {
        description: 'The OpenAPI document',
        content: { [json]: { schema: schemaRef(OpenApiDocument) } },
      },
    },
  },
  searchMessageDefinitions: {
    tags: ['Metadata'],
    summary: 'The MessageDefinitions of what we receive (BaRS)',
    description:
      'A searchset Bundle of the FHIR MessageDefinitions this receiver accepts at POST /$process-message (a referral ' +
      'or its update; a cancellation), each based on its BaRS definition and carrying our use-case code in ' +
      '`useContext`. A BaRS sender reads them before sending. `context` filters by use case; one that matches none ' +
      'gives an empty searchset.',
    parameters: [
      {
        name: 'context',
        in: 'query',
        required: false,
        description:
          'The use case, a FHIR token: `system|code` or `code`, e.g. ' +
          '`https://social-prescribing.example.org/CodeSystem/bars-use-case|social-prescribing`. Repeat to require each.',
        schema: { type: 'string', maxLength: 1024 },
      },
    ],
    responses: {
      '200': {
        description: 'A FHIR R4 Bundle of type searchset whose entries are MessageDefinitions',
        content: { [fhirJson]: { schema: fhirResourceSchema('Bundle') } },
      },
    },
  },
  readMessageDefinition: {
    tags: ['Metadata'],
    summary: 'One MessageDefinition (BaRS)',
    description: 'A MessageDefinition of what we receive, by its id (FHIR read interaction).',
    pathParameters: {
      id: {
        description:
          '`social-prescribing-servicerequest-request-referral` or `social-prescribing-servicerequest-request-cancelled`',
      },
    },
    responses: {
      '200': {
        description: 'The MessageDefinition',
        content: { [fhirJson]: { schema: fhirResourceSchema('MessageDefinition') } },
      },
      '404': outcome('No MessageDefinition with that id (`REC_NOT_FOUND`)'),
    },
  },
  inboxPage: {
    tags: ['Pages'],
    summary: 'The inbox page',
    description:
      'A small page for partners and link workers: sign in with a token, see the worklist, open a referral, act on ' +
      'it. Static HTML; its script calls this API with the token (docs/inbox.md).',
    responses: {
      '200': { description: 'The page', content: { 'text/html': { schema: { type: 'string' } } } },
    },
  },
  inboxAsset: {
    tags: ['Pages'],
    summary: "The inbox page's script and style",
    description: 'inbox.js or inbox.css; any other name is 404.',
    responses: {
      '200': {
        description: 'The file',
        content: {
          'text/javascript': { schema: { type: 'string' } },
          'text/css': { schema: { type: 'string' } },
        },
      },
      '404': { description: 'No such file', content: { 'text/plain': { schema: { type: 'string' } } } },
    },
  },
  observatoryPage: {
    tags: ['Pages'],
    summary: 'The observatory page',
    description:
      'Charts of the reports for commissioners and ops: volumes by category, the funnel, take-up and unmet need by ' +
      'IMD decile, gaps by area, partner response times; filters for days and area. Static HTML; its script calls ' +
      "the reports API with the viewer's token (docs/observatory.md).",
    responses: {
      '200': { description: 'The page', content: { 'text/html': { schema: { type: 'string' } } } },
    },
  },
  observatoryAsset: {
    tags: ['Pages'],
    summary: "The observatory page's scripts and style",
    description: 'observatory.js, charts.js or observatory.css; any other name is 404.',
    responses: {
      '200': {
        description: 'The file',
        content: {
          'text/javascript': { schema: { type: 'string' } },
          'text/css': { schema: { type: 'string' } },
        },
      },
      '404': { description: 'No such file', content: { 'text/plain': { schema: { type: 'string' } } } },
    },
  },
  createTeam: directoryCreate('team'),
  getTeam: directoryRead('team'),
  updateTeam: directoryUpdate('team'),
  retireTeam: directoryAction('team', 'retire'),
  rotateTeamSecret: directoryRotate('team'),
  createPartner: directoryCreate('partner'),
  getPartner: directoryRead('partner'),
  updatePartner: directoryUpdate('partner'),
  retirePartner: directoryAction('partner', 'retire'),
  rotatePartnerSecret: directoryRotate('partner'),
  createService: directoryCreate('service'),
  getService: directoryRead('service'),
  updateService: directoryUpdate('service'),
  retireService: directoryAction('service', 'retire'),
  pauseService: directoryAction('service', 'pause'),
  resumeService: directoryAction('service', 'resume'),
  recordOutcomes: {
    tags: ['Outcomes'],
    summary: 'Record outcome measures',
    description:
      "One measure set for a referral routed to the caller's team: at `baseline` (one per referral) or at a " +
      '`follow-up` (after the baseline), with the day taken and any of ONS4, UCLA-3, the direct loneliness ' +
      'question and SWEMWBS raw answers. Recorded with who recorded it (token subject and team) and audited. A ' +
      'retry with the same `id` or Idempotency-Key and the same answers records nothing new and is answered 200 ' +
      'with the set. See docs/api.md (Outcome measures).',
    pathParameters: { id: { description: 'The referral id', schema: uuidSchema } },
    parameters: [
      {
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description:
          'Names the set (per referral and link worker) when the body has no `id`: a retry with it records ' +
          'nothing new; the same key with other answers gets 409.',
        schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]{1,255}$' },
      },
    ],
    requestBody: jsonRequest(MeasureSetRequestBody, 'The measure set'),
    responses: {
      '200': jsonAnswer(RecordedMeasureSet, 'A retry: the set was already recorded with these answers'),
      '201': jsonAnswer(RecordedMeasureSet, 'Recorded'),
      '400': outcome(
        'Malformed JSON, a missing field (`required`), a wrong type (`invalid`), an answer off its scale or a day ' +
          'in the future, before the referral or (for a follow-up) before the baseline (`value`), an unknown field ' +
          '(`structure`), no instrument at all, or a malformed id or Idempotency-Key (`REC_BAD_REQUEST`)',
      ),
      '404': outcome("No such referral, or not one routed to the caller's team (`REC_NOT_FOUND`)"),
      '409': outcome(
        'A second baseline, a follow-up before any baseline, a set id (or Idempotency-Key) reused with other ' +
          'answers, or a cancelled referral; nothing was written (`REC_CONFLICT`, `conflict`)',
      ),
      '413': tooLarge,
      '415': outcome('`Content-Type` other than `application/json` (`REC_BAD_REQUEST`, `not-supported`)'),
    },
  },
  getOutcomes: {
    tags: ['Outcomes'],
    summary: "Show a referral's outcome measures and the change from baseline",
    description:
      "Every measure set recorded for a referral routed to the caller's team, scored (ONS4 bands, UCLA-3 total, " +
      'SWEMWBS raw total; its metric score only where a licensed conversion is configured), and the latest ' +
      'follow-up against the baseline per item and per total or band.',
    pathParameters: { id: { description: 'The referral id', schema: uuidSchema } },
    responses: {
      '200': jsonAnswer(Outcomes, 'The measure sets and the change from baseline'),
      '400': outcome('The id is not a UUID (`REC_BAD_REQUEST`)'),
      '404': outcome("No such referral, or not one routed to the caller's team (`REC_NOT_FOUND`)"),
    },
  },
  ...reportOperations,
  getEvaluationExtract: {
    tags: ['Evaluation'],
    summary: 'The evaluation extract (pseudonymised rows, CSV)',
    description:
      'One row per referral received in the range (whole ISO weeks, a Monday to a Sunday, UTC, both included, at ' +
      'most 13 weeks here; `npm run evaluation` makes longer ones), keyed by a pseudonym (HMAC-SHA-256 of the NHS ' +
      'number with a secret key): codes, bands and ISO weeks only, no names, birth dates, postcodes, NHS numbers, ' +
      'practices or free text. Refused (422) when any combination of IMD decile, age band, sex and PCN holds fewer ' +
      'than k people, naming those combinations. The check holds for one extract: give evaluators extracts of ' +
      'weeks that do not overlap. Columns and rules: docs/evaluation.md.',
    parameters: [
      {
        name: 'from',
        in: 'query',
        required: true,
        description: 'The first day received, YYYY-MM-DD (UTC): a Monday, so the range is whole ISO weeks',
        schema: { type: 'string', format: 'date' },
      },
      {
        name: 'to',
        in: 'query',
        required: true,
        description: 'The last day received, YYYY-MM-DD (UTC): a Sunday, not before `from`',
        schema: { type: 'string', format: 'date' },
      },
      {
        name: 'k',
        in: 'query',
        required: false,
        description:
          'The least number of people in every combination of the quasi-identifiers: 5 by default, and never lower',
        schema: { type: 'integer', minimum: 5, maximum: 100 },
      },
    ],
    responses: {
      '200': {
        description: 'The extract: a header row of column names, then one row per referral (RFC 4180, CRLF)',
        content: { 'text/csv': { schema: { type: 'string' } } },
      },
      '400': outcome(
        'A missing or malformed date or k, `from` not a Monday or `to` not a Sunday, `from` after `to`, k below 5, ' +
          'or a range too long (`REC_BAD_REQUEST`)',
      ),
      '422': outcome(
        'Refused by the k check: the combinations holding fewer than k people, by their values and counts, never ' +
          'who is in them (`REC_UNPROCESSABLE_ENTITY`); or an extract too large to answer',
      ),
    },
  },
};

/** Answers any route may give, as components: the gateway's (401, 403, 429) and a fault of ours (500). */
const commonResponses: Record<string, JsonObject> = {
  Unauthorized: outcome('No bearer token, or not a valid one (`REC_UNAUTHORIZED`)'),
  Forbidden: outcome("The token's role may not call this route (`REC_FORBIDDEN`)"),
  TooManyRequests: outcome('Too many requests from this client (`SEND_TOO_MANY_REQUESTS`)', retryAfter),
  ServerError: outcome('Internal error; nothing was accepted (`REC_SERVER_ERROR`)'),
};

function responsesFor(route: Route, spec: OperationSpec): JsonObject {
  const common: Record<string, string> = {
    ...(route.access === 'public' ? {} : { '401': 'Unauthorized', '403': 'Forbidden' }),
    '429': 'TooManyRequests',
    '500': 'ServerError',
  };
  const responses: Record<string, JsonObject> = { ...spec.responses };
  for (const [status, name] of Object.entries(common)) {
    responses[status] ??= { $ref: `#/components/responses/${name}` };
  }
  return Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));
}

function accessText(route: Route): string {
  return route.access === 'public'
    ? 'Public: no token needed.'
    : `Roles: ${route.access.map((role) => `\`${role}\``).join(', ')} (bearer JWT).`;
}

function operationFor(route: Route): JsonObject {
  const spec = operations[route.operationId];
  const pathParameters = [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name = '']) => ({
    name,
    in: 'path',
    required: true,
    description: spec.pathParameters?.[name]?.description ?? name,
    schema: spec.pathParameters?.[name]?.schema ?? { type: 'string' },
  }));
  const parameters = [...pathParameters, ...(spec.parameters ?? [])];
  return {
    tags: spec.tags,
    summary: spec.summary,
    description: `${spec.description}\n\n${accessText(route)}`,
    operationId: route.operationId,
    // One requirement per role: any one of them will do (OpenAPI 3.1 lets a bearer scheme list role names).
    security: route.access === 'public' ? [] : route.access.map((role) => ({ [bearerScheme]: [role] })),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(spec.requestBody ? { requestBody: spec.requestBody } : {}),
    responses: responsesFor(route, spec),
  };
}

/**
 * Converts schemas with zod's own JSON Schema conversion (draft 2020-12, the dialect of OpenAPI 3.1) into
 * components. A schema with an id nested in another becomes its own component too.
 */
function componentSchemas(schemas: z.ZodType[], io: 'input' | 'output'): Record<string, JsonObject> {
  const registry = z.registry<{ id: string }>();
  for (const schema of schemas) registry.add(schema, { id: idOf(schema) });
  const prefix = '#/components/schemas/';
  const { schemas: converted } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io,
    uri: (id) => `${prefix}${id}`,
  }) as { schemas: Record<string, JsonObject> };

  const result: Record<string, JsonObject> = {};
  for (const [id, schema] of Object.entries(converted)) {
    if (id === '__shared') {
      for (const [sharedId, shared] of Object.entries((schema.$defs ?? {}) as Record<string, JsonObject>)) {
        result[sharedId] = shared;
      }
    } else {
      const { $schema: _dialect, $id: _id, ...rest } = schema;
      result[id] = rest;
    }
  }
  // Shared definitions are addressed as `<uri of __shared>#/$defs/<id>`: point them at their component instead.
  return rewriteRefs(result, `${prefix}__shared#/$defs/`, prefix) as Record<string, JsonObject>;
}

function rewriteRefs(value: unknown, from: string, to: string): unknown {
  if (Array.isArray(value)) return value.map((item) => rewriteRefs(item, from, to));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key,
      key === '$ref' && typeof item === 'string' && item.startsWith(from)
        ? to + item.slice(from.length)
        : rewriteRefs(item, from, to),
    ]),
  );
}

export function openApiDocument(): JsonObject {
  const paths: Record<string, JsonObject> = {};
  for (const route of routes) {
    paths[route.path] = { ...paths[route.path], [route.method.toLowerCase()]: operationFor(route) };
  }
  const schemas = {
    ...componentSchemas(requestSchemas, 'input'),
    ...componentSchemas(responseSchemas, 'output'),
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Social prescribing referrals API',
      version: packageJson.version,
      description:
        `${packageJson.description}. GP systems submit referrals as plain JSON (\`POST /referrals\`) or as BaRS ` +
        'FHIR messages (`POST /$process-message`). Every error is a FHIR OperationOutcome ' +
        '(`application/fhir+json`) carrying a BaRS error code. Generated from the route table and the schemas; ' +
        'docs/api.md explains the rules.',
    },
    servers: [
      {
        url: '{baseUrl}',
        description:
          'The API Gateway stage URL in AWS (stack output `ApiUrl`); http://127.0.0.1:3000 locally',
        variables: { baseUrl: { default: 'http://127.0.0.1:3000' } },
      },
    ],
    tags: [
      { name: 'Referrals', description: 'Plain JSON referrals' },
      { name: 'BaRS', description: 'BaRS-shaped FHIR R4 messaging' },
      { name: 'Metadata', description: 'What this API offers' },
      { name: 'Directory', description: "Teams, partners and services: the directory's admin API" },
      {
        name: 'Outcomes',
        description: 'Outcome measures a link worker records, and the change from baseline',
      },
      {
        name: 'Evaluation',
        description: 'The pseudonymised, record-level evaluation extract for evaluators, ops only',
      },
      {
        name: 'Reports',
        description:
          "The observatory's figures for ops and commissioners (small counts suppressed), JSON or CSV",
      },
    ],
    paths,
    components: {
      schemas: Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b))),
      responses: commonResponses,
      parameters: {
        XRequestId: {
          name: 'X-Request-ID',
          in: 'header',
          required: true,
          description: 'This request (a UUID); a retry reuses it, an update gets a new one. Mirrored back.',
          schema: uuidSchema,
        },
        XCorrelationId: {
          name: 'X-Correlation-ID',
          in: 'header',
          required: true,
          description:
            'The conversation (a UUID): an update or a cancellation keeps the first one. Mirrored back.',
          schema: uuidSchema,
        },
      },
      headers: {
        XRequestId: { description: 'The request id, mirrored back', schema: uuidSchema },
        XCorrelationId: { description: 'The correlation id, mirrored back', schema: uuidSchema },
      },
      securitySchemes: {
        [bearerScheme]: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            "A JWT from the configured issuer (signature checked against the issuer's JWKS, issuer, audience and " +
            'expiry). It carries one role and the organisation it is bound to; each operation lists the roles it ' +
            'accepts.',
        },
      },
    },
  };
}

/** The document as docs/openapi.json holds it: 2-space indented, with a trailing newline. */
export function openApiJson(document: JsonObject = openApiDocument()): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
