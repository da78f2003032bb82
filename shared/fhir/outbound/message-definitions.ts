import packageJson from '../../../package.json' with { type: 'json' };
import { useCaseCode, useCaseSystem } from '#fhir/codes.ts';
import { fhirSystems } from '#fhir/systems.ts';

/**
 * The FHIR R4 MessageDefinitions served at `GET /MessageDefinition` (and `GET /MessageDefinition/{id}`): the messages
 * this receiver accepts at `POST /$process-message`, as a BaRS sender reads them before sending (after `GET
 * /metadata`). Each is based on BaRS's own definition (`base`), and carries our use-case code in `useContext`
 * (BaRS has no social-prescribing use case: ours is `useCaseSystem|useCaseCode`), which is how a sender asks for
 * the definitions of a use case (`?context=<system>|<code>`).
 *
 * Exactly what shared/fhir/inbound accepts: `servicerequest-request` with reason `new` or `update` and ServiceRequest
 * status `active` (a referral or its update), or reason `update` with status `revoked` / `entered-in-error` (a
 * cancellation). Booking events, `servicerequest-response` and reason `delete` are refused (422), so no definition
 * names them. The focus lists say which resources we read and how many.
 */

/** When the definitions last changed; fixed so the answer is the same on every call and deployment. */
export const messageDefinitionsDate = '2026-12-02';

const definitionBase = 'https://social-prescribing.example.org/MessageDefinition';
const usageContextTypes = 'http://terminology.hl7.org/CodeSystem/usage-context-type';

/** Our use case, as a UsageContext (BaRS puts its use-case categories in a `workflow` context). */
export const useCaseContext = {
  code: { system: usageContextTypes, code: 'workflow' },
  valueCodeableConcept: {
    coding: [{ system: useCaseSystem, code: useCaseCode, display: 'Social prescribing referral' }],
  },
};

interface Focus {
  code: string;
  profile?: string;
  min: number;
  max: string;
}

const ukCore = (name: string) => `https://fhir.hl7.org.uk/StructureDefinition/UKCore-${name}`;

const envelope: Focus[] = [
  { code: 'Bundle', profile: fhirSystems.bundleProfile, min: 1, max: '1' },
  {
    code: 'MessageHeader',
    profile: 'https://fhir.nhs.uk/StructureDefinition/BARSMessageHeader-servicerequest-request',
    min: 1,
    max: '1',
  },
  {
    code: 'ServiceRequest',
    profile: 'https://fhir.nhs.uk/StructureDefinition/BARSServiceRequest-request-referral',
    min: 1,
    max: '1',
  },
  // The sender practice (MessageHeader.sender, with its ODS code); more Organizations (partners) may follow.
  { code: 'Organization', profile: ukCore('Organization'), min: 1, max: '*' },
];

/** Who asked and the journey: read only to check they resolve, so a sender may include them or not. */
const requester: Focus[] = [
  { code: 'Practitioner', profile: ukCore('Practitioner'), min: 0, max: '*' },
  { code: 'PractitionerRole', profile: ukCore('PractitionerRole'), min: 0, max: '*' },
  { code: 'Encounter', profile: ukCore('Encounter'), min: 0, max: '1' },
];

/** The referral (new or update): what referral-request.ts reads. */
const referralFocus: Focus[] = [
  ...envelope,
  { code: 'Patient', profile: ukCore('Patient'), min: 1, max: '1' },
  ...requester,
  { code: 'Condition', profile: ukCore('Condition'), min: 0, max: '*' },
  { code: 'Flag', profile: 'http://hl7.org/fhir/StructureDefinition/Flag', min: 0, max: '*' },
  { code: 'Consent', profile: ukCore('Consent'), min: 0, max: '*' },
];

interface Definition {
  id: string;
  name: string;
  title: string;
  description: string;
  base: string;
  focus: Focus[];
}

const definitions: Definition[] = [
  {
    id: 'social-prescribing-servicerequest-request-referral',
    name: 'SocialPrescribingServiceRequestRequestReferral',
    title: 'Social prescribing referral (ServiceRequest request: new or update)',
    description:
      'A social-prescribing referral from a GP practice, or its update: MessageHeader.eventCoding ' +
      'servicerequest-request, reason new (a new referral) or update (a newer version of one, same ' +
      'X-Correlation-ID, new X-Request-ID), ServiceRequest.status active with category referral and our use-case ' +
      'code. The patient (NHS number with a shareable verification status), needs (reasonCode, Condition), ' +
      "flags (SG, RA), consent per VCSE partner and the patient's choice about sharing back are read; every message " +
      'is answered synchronously with the processed Bundle, and later by servicerequest-response messages to ' +
      'MessageHeader.source.endpoint.',
    base: 'https://fhir.nhs.uk/MessageDefinition/bars-message-servicerequest-request-referral',
    focus: referralFocus,
  },
  {
    id: 'social-prescribing-servicerequest-request-cancelled',
    name: 'SocialPrescribingServiceRequestRequestCancelled',
    title: 'Social prescribing referral cancelled (ServiceRequest request: update, revoked)',
    description:
      'The referrer withdraws a referral: MessageHeader.eventCoding servicerequest-request, reason update, ' +
      'ServiceRequest.id the id this service assigned and status revoked (or entered-in-error). Only an open ' +
      'referral can be cancelled; everyone who had it is told to stop.',
    base: 'https://fhir.nhs.uk/MessageDefinition/bars-message-servicerequest-request-cancelled',
    // BaRS's cancellation carries the Patient; we identify the referral by its id and do not read it.
    focus: [...envelope, { code: 'Patient', profile: ukCore('Patient'), min: 0, max: '1' }, ...requester],
  },
];

function messageDefinition(definition: Definition) {
  return {
    resourceType: 'MessageDefinition',
    id: definition.id,
    url: `${definitionBase}/${definition.id}`,
    version: packageJson.version,
    name: definition.name,
    title: definition.title,
    status: 'active',
    experimental: false,
    date: messageDefinitionsDate,
    publisher: 'Social prescribing referral service',
    description: definition.description,
    useContext: [useCaseContext],
    base: definition.base,
    eventCoding: { system: fhirSystems.messageEvents, code: 'servicerequest-request' },
    category: 'notification',
    focus: definition.focus,
    // Every message is answered: synchronously (the processed Bundle or an OperationOutcome), then asynchronously.
    responseRequired: 'always',
  };
}

export type MessageDefinition = ReturnType<typeof messageDefinition>;

export const messageDefinitions: readonly MessageDefinition[] = definitions.map(messageDefinition);

/** Their canonical URLs, which the CapabilityStatement names (messaging.supportedMessage). */
export const messageDefinitionUrls: readonly string[] = messageDefinitions.map((d) => d.url);

export function messageDefinitionById(id: string): MessageDefinition | undefined {
  return messageDefinitions.find((definition) => definition.id === id);
}

/**
 * Does a definition match BaRS's `context` search parameter (a token: `system|code`, `code`, or `|code` for a code
 * with no system)? FHIR token rules: `system|` matches any code in that system.
 */
export function matchesContext(definition: MessageDefinition, context: string): boolean {
  const bar = context.indexOf('|');
  const system = bar === -1 ? undefined : context.slice(0, bar);
  const code = bar === -1 ? context : context.slice(bar + 1);
  return definition.useContext.some(({ valueCodeableConcept }) =>
    valueCodeableConcept.coding.some(
      (coding) =>
        (system === undefined || (system === '' ? false : coding.system === system)) &&
        (code === '' || coding.code === code),
    ),
  );
}

/**
 * The searchset Bundle `GET /MessageDefinition` answers with: every definition, or those whose use case matches every
 * `context` given (an unknown one matches none: an empty searchset, as any FHIR search).
 */
export function messageDefinitionSearchset(contexts: readonly string[] = []): Record<string, unknown> {
  const matching = messageDefinitions.filter((definition) =>
    contexts.every((context) => matchesContext(definition, context)),
  );
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: matching.length,
    entry: matching.map((resource) => ({ fullUrl: resource.url, resource, search: { mode: 'match' } })),
  };
}
