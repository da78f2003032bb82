import type { z } from 'zod';
import { interventionCategories, type InterventionCategory } from '#referral/domain/categories.ts';
import {
  needCategorySystem,
  referralRequestCodes,
  snomedNeedCategories,
  snomedSystem,
  useCaseCode,
  useCaseSystem,
} from '#fhir/codes.ts';
import { UnprocessableError, ValidationError, type FieldProblem } from '#kernel/errors.ts';
import { uuidPattern } from '#kernel/ids.ts';
import {
  anyVcsePartner,
  referralRules,
  ReferralRequest,
  type NhsNumberVerification,
} from '#referral/domain/referral.ts';
import { parseWith } from '#kernel/validation.ts';
import {
  Condition,
  Consent,
  consentRecipientSystem,
  Encounter,
  fhirSystems,
  Flag,
  MessageBundle,
  MessageHeader,
  Organization,
  partnerIdentifierSystem,
  Patient,
  Practitioner,
  PractitionerRole,
  ServiceRequest,
  type BundleEntry,
  type CodeableConcept,
  type ContactPoint,
  type Reference,
} from '#fhir/inbound/bundle.ts';
import {
  barsEvents,
  entryKeys,
  eventSystems,
  isSystem,
  isVerificationExtension,
  reasonSystems,
  referenceKeys,
  verificationFromCoding,
} from '#fhir/inbound/normalise.ts';

/**
 * Reading a BaRS-shaped FHIR R4 message Bundle (`POST /$process-message`) for a social-prescribing referral and
 * mapping it to the one internal model, `ReferralRequest`, that the plain JSON route also produces.
 *
 * One set of rules: the Bundle is checked for FHIR shape (bundle.ts), then a `ReferralRequest` candidate is built
 * from it while recording, for each internal field path, the FHIR element it came from. The candidate is validated
 * by the same `ReferralRequest` schema as the JSON route (via `parseWith`), and each `FieldProblem` is translated to
 * that FHIR expression (or the nearest recorded parent). A few rules only make sense for a BaRS message (deadline in
 * the future, shareable NHS-number verification, sane birth date) and are added on the same recorded paths.
 *
 * Errors: `ValidationError` (400 REC_BAD_REQUEST) whose `field`s are FHIRPath-style expressions such as
 * `Bundle.entry[2].resource.identifier[0].value`; `UnsupportedMessageError` (422 REC_UNPROCESSABLE_ENTITY) for a
 * well-formed BaRS message this receiver does not handle. Nothing else is thrown, whatever the input.
 */

export interface MessageInfo {
  /** Bundle.id, as sent. */
  bundleId: string;
  /** MessageHeader.id, or, when the sender gave none (common in BaRS examples), the uuid of its entry's fullUrl. */
  messageHeaderId: string;
  /** Bundle.timestamp, as sent (a FHIR instant with time zone). */
  timestamp: string;
  /** MessageHeader.source.endpoint: where BaRS responses go back to. */
  sourceEndpoint?: string;
  /** ODS code of the sender Organization (MessageHeader.sender); equals request.practiceOds for new and update. */
  senderOds: string;
}

export type BarsIntent =
  | { kind: 'new'; request: ReferralRequest; message: MessageInfo }
  | { kind: 'update'; serviceRequestId: string; request: ReferralRequest; message: MessageInfo }
  | {
      kind: 'cancel';
      serviceRequestId: string;
      status: 'revoked' | 'entered-in-error';
      message: MessageInfo;
    };

/**
 * A well-formed BaRS message this receiver does not process (another event, `delete`, another use case): 422.
 * It is an `UnprocessableError`, so shared/http/responses.ts already answers it with 422 REC_UNPROCESSABLE_ENTITY
 * and `expression` = `this.expression` (also available as `field`).
 */
export class UnsupportedMessageError extends UnprocessableError {
  constructor(
    readonly expression: string,
    message: string,
  ) {
    super(expression, message);
    Object.defineProperty(this, 'name', { value: 'UnsupportedMessageError' });
  }
}

// ---- Helpers ------------------------------------------------------------------------------------------------------

const entryBase = (index: number): string => `Bundle.entry[${index}].resource`;

/** `identifier.0.value` under `Bundle.entry[3].resource` -> `Bundle.entry[3].resource.identifier[0].value`. */
function fhirExpression(base: string, dotted: string): string {
  if (dotted === '') return base;
  return dotted
    .split('.')
    .reduce((path, segment) => (/^\d+$/.test(segment) ? `${path}[${segment}]` : `${path}.${segment}`), base);
}

/** Shape check with parseWith; problems are recorded with FHIR expressions under `base`. */
function check<S extends z.ZodType>(
  schema: S,
  input: unknown,
  base: string,
  problems: FieldProblem[],
): z.infer<S> | undefined {
  try {
    return parseWith(schema, input);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    for (const p of error.problems) problems.push({ ...p, field: fhirExpression(base, p.field) });
    return undefined;
  }
}

function fail(problems: FieldProblem[]): never {
  throw new ValidationError(problems);
}

/** Short, safe rendering of a sender's value inside a rule. */
function quote(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
}

function lookup<T>(table: Readonly<Record<string, T>>, key: string | undefined): T | undefined {
  return key !== undefined && Object.hasOwn(table, key) ? table[key] : undefined;
}

interface Codings {
  coding: { system?: string | undefined; code?: string | undefined; display?: string | undefined };
  expression: string;
}

/** Every coding of some CodeableConcepts, with its expression. */
function codingsOf(
  concepts: ReadonlyArray<CodeableConcept> | undefined,
  base: string,
  indexed: boolean,
): Codings[] {
  const out: Codings[] = [];
  (concepts ?? []).forEach((concept, i) => {
    const conceptBase = indexed ? `${base}[${i}]` : base;
    (concept.coding ?? []).forEach((coding, c) =>
      out.push({ coding, expression: `${conceptBase}.coding[${c}]` }),
    );
  });
  return out;
}

// ---- The Bundle and its references ----------------------------------------------------------------------------------

class BundleIndex {
  private readonly byKey = new Map<string, number>();

  constructor(
    readonly entries: BundleEntry[],
    problems: FieldProblem[],
  ) {
    const fullUrls = new Map<string, number>();
    entries.forEach((entry, index) => {
      const fullUrl = entry.fullUrl.trim();
      const seen = fullUrls.get(fullUrl);
      if (seen !== undefined) {
        problems.push({
          field: `Bundle.entry[${index}].fullUrl`,
          rule: `duplicates Bundle.entry[${seen}].fullUrl: each entry needs its own fullUrl`,
          kind: 'invalid',
        });
        return;
      }
      fullUrls.set(fullUrl, index);
      for (const key of entryKeys(fullUrl, entry.resource.resourceType, entry.resource['id'])) {
        if (!this.byKey.has(key)) this.byKey.set(key, index);
      }
    });
  }

  typeOf(index: number): string {
    return this.entries[index]?.resource.resourceType ?? '';
  }

  resource(index: number): Record<string, unknown> {
    return this.entries[index]?.resource ?? {};
  }

  find(reference: string): number | undefined {
    for (const key of referenceKeys(reference)) {
      const index = this.byKey.get(key);
      if (index !== undefined) return index;
    }
    return undefined;
  }

  indexesOf(resourceType: string): number[] {
    return this.entries.flatMap((entry, index) =>
      entry.resource.resourceType === resourceType ? [index] : [],
    );
  }

  /**
   * Resolves a Reference element at `expression` to an entry of one of `types`. A required reference whose target
   * type is absent from the Bundle altogether is a missing entry (`required`); one that points nowhere, or at the
   * wrong type, is `invalid`. An optional reference given only as an identifier resolves to nothing, quietly.
   */
  resolve(
    reference: Reference | undefined,
    expression: string,
    types: readonly string[],
    problems: FieldProblem[],
    required: boolean,
  ): number | undefined {
    const wanted = types.join(' or ');
    if (reference === undefined) {
      if (required)
        problems.push({ field: expression, rule: `must refer to the ${wanted}`, kind: 'required' });
      return undefined;
    }
    if (reference.reference === undefined) {
      if (required) {
        problems.push({
          field: `${expression}.reference`,
          rule: `must refer to the ${wanted} entry by its fullUrl`,
          kind: 'required',
        });
      }
      return undefined;
    }
    const index = this.find(reference.reference);
    if (index === undefined) {
      if (required && !types.some((type) => this.indexesOf(type).length > 0)) {
        problems.push({
          field: 'Bundle.entry',
          rule: `must include the ${wanted} entry that ${expression} refers to`,
          kind: 'required',
        });
      } else {
        problems.push({
          field: `${expression}.reference`,
          rule: `${quote(reference.reference)} does not resolve to any entry in this Bundle (by fullUrl or resourceType/id)`,
          kind: 'invalid',
        });
      }
      return undefined;
    }
    if (!types.includes(this.typeOf(index))) {
      problems.push({
        field: `${expression}.reference`,
        rule: `must refer to a ${wanted}, but refers to a ${this.typeOf(index)} (Bundle.entry[${index}])`,
        kind: 'invalid',
      });
      return undefined;
    }
    return index;
  }
}

// ---- Candidate building -------------------------------------------------------------------------------------------

/** Internal field path (as FieldProblem.field) -> FHIR expression it came from. */
type FieldMap = Map<string, string>;

function translate(field: string, fields: FieldMap): string {
  let current = field;
  for (;;) {
    const found = fields.get(current);
    if (found !== undefined) return found;
    if (current === '') return 'Bundle';
    const dot = current.lastIndexOf('.');
    current = dot === -1 ? '' : current.slice(0, dot);
  }
}

interface Telecom {
  system: 'phone' | 'email';
  value: string | undefined;
  rank: number;
  order: number;
  expression: string;
}

function best(telecoms: Telecom[]): Telecom | undefined {
  return [...telecoms].sort((a, b) => a.rank - b.rank || a.order - b.order)[0];
}

function telecomsOf(points: ReadonlyArray<ContactPoint> | undefined, base: string): Telecom[] {
  const out: Telecom[] = [];
  (points ?? []).forEach((point, order) => {
    if (point.system === 'phone' || point.system === 'email') {
      out.push({
        system: point.system,
        value: point.value,
        rank: point.rank ?? Number.POSITIVE_INFINITY,
        order,
        expression: `${base}[${order}]`,
      });
    }
  });
  return out;
}

interface PatientReading {
  candidate: Record<string, unknown>;
  verification?: { status: NhsNumberVerification; expression: string };
}

function readPatient(
  patient: Patient,
  base: string,
  fields: FieldMap,
  problems: FieldProblem[],
): PatientReading {
  const candidate: Record<string, unknown> = {};
  let verification: PatientReading['verification'];
  fields.set('patient', base);

  // NHS number and its verification status (an extension on the identifier, as UK Core has it).
  const identifiers = patient.identifier ?? [];
  const idIndex = identifiers.findIndex((identifier) => isSystem(identifier.system, fhirSystems.nhsNumber));
  const identifier = identifiers[idIndex];
  if (identifier === undefined) {
    fields.set('patient.nhsNumber', `${base}.identifier`);
  } else {
    const idBase = `${base}.identifier[${idIndex}]`;
    fields.set('patient.nhsNumber', `${idBase}.value`);
    if (identifier.value !== undefined) candidate['nhsNumber'] = identifier.value;
    (identifier.extension ?? []).forEach((extension, e) => {
      if (verification !== undefined || !isVerificationExtension(extension.url)) return;
      const extBase = `${idBase}.extension[${e}]`;
      const codings = codingsOf(
        extension.valueCodeableConcept ? [extension.valueCodeableConcept] : [],
        `${extBase}.valueCodeableConcept`,
        false,
      );
      let known = false;
      for (const { coding, expression } of codings) {
        const reading = verificationFromCoding(coding.system, coding.code);
        if (reading.kind === 'status') {
          verification = { status: reading.status, expression: extBase };
          return;
        }
        if (reading.kind === 'unknown-code') {
          known = true;
          problems.push({
            field: `${expression}.code`,
            rule: 'is not an NHS number verification status (UK Core code such as number-present-and-verified, or England code 01-08)',
            kind: 'value',
          });
        }
      }
      if (!known) {
        problems.push({
          field: `${extBase}.valueCodeableConcept`,
          rule: `must hold a coding from ${fhirSystems.nhsNumberVerification} or ${fhirSystems.nhsNumberVerificationEngland}`,
          kind: 'required',
        });
      }
    });
    if (verification !== undefined) {
      candidate['nhsNumberVerification'] = verification.status;
      fields.set('patient.nhsNumberVerification', verification.expression);
    }
  }

  // Name: the official one, else the first.
  const names = patient.name ?? [];
  const nameIndex = Math.max(
    0,
    names.findIndex((name) => name.use === 'official'),
  );
  const name = names[nameIndex];
  if (name === undefined) {
    fields.set('patient.name', `${base}.name`);
  } else {
    const nameBase = `${base}.name[${nameIndex}]`;
    fields.set('patient.name', nameBase);
    fields.set('patient.name.given', name.given?.length ? `${nameBase}.given[0]` : `${nameBase}.given`);
    fields.set('patient.name.family', `${nameBase}.family`);
    candidate['name'] = {
      ...(name.given?.[0] === undefined ? {} : { given: name.given[0] }),
      ...(name.family === undefined ? {} : { family: name.family }),
    };
  }

  fields.set('patient.birthDate', `${base}.birthDate`);
  if (patient.birthDate !== undefined) candidate['birthDate'] = patient.birthDate;

  // Contact: Patient.telecom; else, as BaRS examples do, the telecom of a contact whose relationship is ONESELF.
  let telecomBase = `${base}.telecom`;
  let telecoms = telecomsOf(patient.telecom, telecomBase);
  if (telecoms.length === 0) {
    (patient.contact ?? []).forEach((contact, c) => {
      if (telecoms.length > 0) return;
      const self = codingsOf(contact.relationship, '', true).some(({ coding }) => coding.code === 'ONESELF');
      if (!self) return;
      telecomBase = `${base}.contact[${c}].telecom`;
      telecoms = telecomsOf(contact.telecom, telecomBase);
    });
  }
  fields.set('patient.contact', telecomBase);
  const preferred = best(telecoms);
  if (preferred !== undefined) {
    const phone = best(telecoms.filter((t) => t.system === 'phone'));
    const email = best(telecoms.filter((t) => t.system === 'email'));
    fields.set('patient.contact.preferred', preferred.expression);
    if (phone) fields.set('patient.contact.phone', `${phone.expression}.value`);
    if (email) fields.set('patient.contact.email', `${email.expression}.value`);
    candidate['contact'] = {
      ...(phone?.value === undefined ? {} : { phone: phone.value }),
      ...(email?.value === undefined ? {} : { email: email.value }),
      preferred: preferred.system,
    };
  }

  // Postcode: the home address, else the first.
  const addresses = patient.address ?? [];
  const addressIndex = Math.max(
    0,
    addresses.findIndex((address) => address.use === 'home'),
  );
  fields.set(
    'patient.postcode',
    addresses.length ? `${base}.address[${addressIndex}].postalCode` : `${base}.address`,
  );
  const postcode = addresses[addressIndex]?.postalCode;
  if (postcode !== undefined) candidate['postcode'] = postcode;

  return verification === undefined ? { candidate } : { candidate, verification };
}

/** Need categories from SNOMED or our need-category codes; an unknown code in either system is refused. */
function readNeeds(
  codings: Codings[],
  needs: InterventionCategory[],
  fields: FieldMap,
  problems: FieldProblem[],
) {
  for (const { coding, expression } of codings) {
    let need: InterventionCategory | undefined;
    if (isSystem(coding.system, snomedSystem)) {
      need = lookup(snomedNeedCategories, coding.code);
      if (need === undefined) {
        problems.push({
          field: `${expression}.code`,
          rule: `is not a SNOMED CT code this service maps to a need (known: ${Object.keys(snomedNeedCategories).join(', ')})`,
          kind: coding.code === undefined ? 'required' : 'value',
        });
      }
    } else if (isSystem(coding.system, needCategorySystem)) {
      need = interventionCategories.find((category) => category === coding.code);
      if (need === undefined) {
        problems.push({
          field: `${expression}.code`,
          rule: `must be one of: ${interventionCategories.join(', ')}`,
          kind: coding.code === undefined ? 'required' : 'value',
        });
      }
    }
    if (need !== undefined && !needs.includes(need)) {
      fields.set(`needs.${needs.length}`, `${expression}.code`);
      needs.push(need);
    }
  }
}

interface FlagReading {
  safeguarding: boolean;
  reasonableAdjustments: string[];
}

/** Does anything a person would read on this Flag speak of safeguarding? */
function mentionsSafeguarding(flag: Flag): boolean {
  const words = [flag.code, ...(flag.category ?? [])].flatMap((concept) => [
    concept?.text,
    ...(concept?.coding ?? []).flatMap((coding) => [coding.code, coding.display]),
  ]);
  return words.some((word) => word !== undefined && word.toLowerCase().includes('safeguard'));
}

/**
 * A Flag is never dropped unread: a safeguarding concern lost in transit is the hazard. Each active Flag must carry a
 * BaRS flag category (flag-categories-bars, any spelling of the system, code in any case): SG and RA are read;
 * another BaRS category (RS rejected services, ...) is not ours to act on and is tolerated, unless its words speak
 * of safeguarding. A Flag with no BaRS category, or one whose category says safeguarding but is not SG, is refused.
 */
function readFlag(flag: Flag, base: string, out: FlagReading, fields: FieldMap, problems: FieldProblem[]) {
  if (flag.status === 'inactive' || flag.status === 'entered-in-error') return;
  const categories = codingsOf(flag.category, `${base}.category`, true).filter(({ coding }) =>
    isSystem(coding.system, fhirSystems.flagCategories),
  );
  if (categories.length === 0) {
    problems.push({
      field: `${base}.category`,
      rule: `an active Flag must have a category coding from ${fhirSystems.flagCategories} (SG safeguarding, RA reasonable adjustment): a flag this receiver cannot read is refused, never dropped`,
      kind: 'required',
    });
    return;
  }
  for (const { coding, expression } of categories) {
    const category = coding.code?.trim().toUpperCase();
    if (category === undefined || category === '') {
      problems.push({
        field: `${expression}.code`,
        rule: 'is required: SG (safeguarding) or RA (reasonable adjustment)',
        kind: 'required',
      });
      continue;
    }
    if (category !== 'SG' && category !== 'RA' && mentionsSafeguarding(flag)) {
      problems.push({
        field: `${expression}.code`,
        rule: 'this Flag speaks of safeguarding but its category is not SG: code a safeguarding concern as SG so it cannot be missed',
        kind: 'value',
      });
      continue;
    }
    if (category === 'SG') out.safeguarding = true;
    if (category === 'RA') {
      const text = flag.code?.text?.trim();
      const displayIndex = (flag.code?.coding ?? []).findIndex((c) => (c.display ?? '').trim() !== '');
      const description = text || flag.code?.coding?.[displayIndex]?.display;
      if (description === undefined) {
        problems.push({
          field: `${base}.code.text`,
          rule: 'a reasonable-adjustment Flag must say what the adjustment is (code.text or a coding display)',
          kind: 'required',
        });
        continue;
      }
      fields.set(
        `flags.reasonableAdjustments.${out.reasonableAdjustments.length}`,
        text ? `${base}.code.text` : `${base}.code.coding[${displayIndex}].display`,
      );
      out.reasonableAdjustments.push(description);
    }
  }
}

function readConsent(
  consent: Consent,
  base: string,
  index: BundleIndex,
  now: Date,
  grants: Array<{ recipient?: string; granted: boolean }>,
  fields: FieldMap,
  problems: FieldProblem[],
) {
  if (consent.status === undefined) {
    problems.push({
      field: `${base}.status`,
      rule: 'is required (active to grant or refuse)',
      kind: 'required',
    });
    return;
  }
  const provision = consent.provision;
  if (consent.status !== 'active' || provision === undefined) return;
  const end = provision.period?.end === undefined ? Number.NaN : Date.parse(provision.period.end);
  if (!Number.isNaN(end) && end <= now.getTime()) return; // lapsed

  let granted: boolean;
  if (provision.type === 'permit' || provision.type === 'deny') {
    granted = provision.type === 'permit';
  } else {
    problems.push({
      field: `${base}.provision.type`,
      rule: provision.type === undefined ? 'is required: permit or deny' : 'must be one of: permit, deny',
      kind: provision.type === undefined ? 'required' : 'value',
    });
    return;
  }

  const add = (recipient: string | undefined, recipientExpression: string) => {
    const at = grants.length;
    fields.set(`consent.${at}`, base);
    fields.set(`consent.${at}.recipient`, recipientExpression);
    fields.set(`consent.${at}.granted`, `${base}.provision.type`);
    grants.push({ ...(recipient === undefined ? {} : { recipient }), granted });
  };

  let named = 0;
  (provision.actor ?? []).forEach((actor, a) => {
    named++;
    const actorBase = `${base}.provision.actor[${a}].reference`;
    const identifier = actor.reference.identifier;
    if (identifier !== undefined && isSystem(identifier.system, partnerIdentifierSystem)) {
      add(identifier.value, `${actorBase}.identifier.value`);
      return;
    }
    if (actor.reference.reference !== undefined) {
      const target = index.resolve(actor.reference, actorBase, ['Organization'], problems, false);
      if (target === undefined) return;
      const organization = Organization.safeParse(index.resource(target));
      const identifiers = organization.success ? (organization.data.identifier ?? []) : [];
      const i = identifiers.findIndex((id) => isSystem(id.system, partnerIdentifierSystem));
      if (i !== -1) {
        add(identifiers[i]?.value, `${entryBase(target)}.identifier[${i}].value`);
        return;
      }
    }
    problems.push({
      field: actorBase,
      rule: `must name a VCSE partner: an identifier with system ${partnerIdentifierSystem} (the directory partner id), or a reference to an Organization entry carrying one`,
      kind: 'value',
    });
  });
  for (const { coding, expression } of codingsOf(provision.code, `${base}.provision.code`, true)) {
    if (!isSystem(coding.system, consentRecipientSystem)) continue;
    named++;
    if (coding.code === anyVcsePartner) add(anyVcsePartner, `${expression}.code`);
    else problems.push({ field: `${expression}.code`, rule: `must be ${anyVcsePartner}`, kind: 'value' });
  }
  if (named === 0) {
    problems.push({
      field: `${base}.provision.actor`,
      rule: `must name the partner(s) this consent is for, or provision.code must hold ${consentRecipientSystem}|${anyVcsePartner}`,
      kind: 'required',
    });
  }
}

// ---- The parser ---------------------------------------------------------------------------------------------------

/** How far ahead of our clock a sender's Bundle.timestamp may be (clocks drift; a year ahead is an error). */
export const maxClockSkewMs = 5 * 60 * 1000;

export function parseBarsMessage(input: unknown, now: Date): BarsIntent {
  const problems: FieldProblem[] = [];

  // 1. Envelope.
  const bundle = check(MessageBundle, input, 'Bundle', problems);
  if (bundle === undefined) fail(problems);
  const index = new BundleIndex(bundle.entry, problems);
  // A timestamp from the future would become the referral's lastMessageAt and lock every later update out (409).
  if (Date.parse(bundle.timestamp) > now.getTime() + maxClockSkewMs) {
    problems.push({
      field: 'Bundle.timestamp',
      rule: `must not be more than ${maxClockSkewMs / 60_000} minutes ahead of this service's clock (${now.toISOString()})`,
      kind: 'value',
    });
  }
  if (problems.length) fail(problems);

  // 2. MessageHeader: event and reason decide whether we process the message at all.
  const first = bundle.entry[0];
  if (first?.resource.resourceType !== 'MessageHeader') {
    fail([
      {
        field: 'Bundle.entry[0].resource.resourceType',
        rule: 'must be MessageHeader: a message Bundle starts with its MessageHeader',
        kind: 'invalid',
      },
    ]);
  }
  const headerBase = entryBase(0);
  const header = check(MessageHeader, first.resource, headerBase, problems);
  if (header === undefined) fail(problems);

  const event = header.eventCoding;
  if (!isSystem(event.system, ...eventSystems)) {
    fail([
      {
        field: `${headerBase}.eventCoding.system`,
        rule: event.system === undefined ? 'is required' : `must be ${fhirSystems.messageEvents}`,
        kind: event.system === undefined ? 'required' : 'value',
      },
    ]);
  }
  if (event.code !== 'servicerequest-request') {
    if (event.code !== undefined && barsEvents.includes(event.code)) {
      throw new UnsupportedMessageError(
        `${headerBase}.eventCoding.code`,
        `BaRS event ${event.code} is not supported: this receiver accepts servicerequest-request (referrals) only`,
      );
    }
    fail([
      {
        field: `${headerBase}.eventCoding.code`,
        rule: event.code === undefined ? 'is required' : `must be one of: ${barsEvents.join(', ')}`,
        kind: event.code === undefined ? 'required' : 'value',
      },
    ]);
  }

  const reasonCoding = codingsOf(header.reason ? [header.reason] : [], `${headerBase}.reason`, false).find(
    ({ coding }) => isSystem(coding.system, ...reasonSystems),
  );
  if (reasonCoding === undefined) {
    fail([
      {
        field: header.reason === undefined ? `${headerBase}.reason` : `${headerBase}.reason.coding`,
        rule: `must hold a coding from ${fhirSystems.messageReasons}: new or update`,
        kind: 'required',
      },
    ]);
  }
  const reason = reasonCoding.coding.code;
  if (reason === 'delete') {
    throw new UnsupportedMessageError(
      `${reasonCoding.expression}.code`,
      'MessageHeader.reason delete is not supported: cancel a referral with reason update and ServiceRequest.status revoked',
    );
  }
  if (reason !== 'new' && reason !== 'update') {
    fail([
      {
        field: `${reasonCoding.expression}.code`,
        rule: reason === undefined ? 'is required: new or update' : 'must be one of: new, update',
        kind: reason === undefined ? 'required' : 'value',
      },
    ]);
  }

  // 3. The focus ServiceRequest, and whether it is ours (category).
  const focus = header.focus ?? [];
  let srIndex: number | undefined;
  if (focus.length === 0) {
    problems.push({
      field: `${headerBase}.focus`,
      rule: 'must refer to the ServiceRequest',
      kind: 'required',
    });
  } else {
    const preferred = focus.findIndex(
      (f) => f.reference !== undefined && index.typeOf(index.find(f.reference) ?? -1) === 'ServiceRequest',
    );
    const f = Math.max(0, preferred);
    srIndex = index.resolve(focus[f], `${headerBase}.focus[${f}]`, ['ServiceRequest'], problems, true);
  }
  if (srIndex === undefined) fail(problems);
  const srBase = entryBase(srIndex);
  const sr = check(ServiceRequest, index.resource(srIndex), srBase, problems);
  if (sr === undefined) fail(problems);

  if (!sr.category?.length) {
    fail([
      {
        field: `${srBase}.category`,
        rule: `is required: referral (${fhirSystems.serviceRequestCategory}) and ${useCaseSystem}|${useCaseCode}`,
        kind: 'required',
      },
    ]);
  }
  const categories = codingsOf(sr.category, `${srBase}.category`, true);
  const isReferral = categories.some(
    ({ coding }) => isSystem(coding.system, fhirSystems.serviceRequestCategory) && coding.code === 'referral',
  );
  const isOurs = categories.some(
    ({ coding }) => isSystem(coding.system, useCaseSystem) && coding.code === useCaseCode,
  );
  if (!isReferral || !isOurs) {
    const given = categories.map(
      ({ coding }) => `${coding.system ?? '(no system)'}|${coding.code ?? '(no code)'}`,
    );
    throw new UnsupportedMessageError(
      `${srBase}.category`,
      `ServiceRequest.category must include referral (${fhirSystems.serviceRequestCategory}) and the social-prescribing use case (${useCaseSystem}|${useCaseCode}); this receiver handles no other; given: ${given.join(', ') || 'none'}`,
    );
  }

  // 4. ServiceRequest rules (BaRS), lifecycle, and the sender.
  if (sr.intent !== 'plan') {
    problems.push({
      field: `${srBase}.intent`,
      rule: sr.intent === undefined ? 'is required: plan' : 'must be plan',
      kind: sr.intent === undefined ? 'required' : 'value',
    });
  }
  const referralCodes = [...referralRequestCodes].join(', ');
  if (sr.code === undefined) {
    problems.push({
      field: `${srBase}.code`,
      rule: `is required: SNOMED CT, one of ${referralCodes}`,
      kind: 'required',
    });
  } else {
    const snomed = codingsOf([sr.code], `${srBase}.code`, false).filter(({ coding }) =>
      isSystem(coding.system, snomedSystem),
    );
    if (snomed.length === 0) {
      problems.push({
        field: `${srBase}.code.coding`,
        rule: `must include a SNOMED CT coding for a social-prescribing referral: one of ${referralCodes}`,
        kind: 'required',
      });
    }
    for (const { coding, expression } of snomed) {
      if (coding.code === undefined || !referralRequestCodes.has(coding.code)) {
        problems.push({
          field: `${expression}.code`,
          rule: `must be a SNOMED CT code for a social-prescribing referral: one of ${referralCodes}`,
          kind: coding.code === undefined ? 'required' : 'value',
        });
      }
    }
  }

  let kind: BarsIntent['kind'] | undefined;
  const status = sr.status;
  if (reason === 'new') {
    if (status === 'active') kind = 'new';
    else {
      problems.push({
        field: `${srBase}.status`,
        rule: status === undefined ? 'is required: active' : 'must be active for a new referral (reason new)',
        kind: status === undefined ? 'required' : 'value',
      });
    }
  } else if (status === 'active') kind = 'update';
  else if (status === 'revoked' || status === 'entered-in-error') kind = 'cancel';
  else {
    problems.push({
      field: `${srBase}.status`,
      rule: `${status === undefined ? 'is required' : 'is not valid'} for reason update: active (update), revoked or entered-in-error (cancel)`,
      kind: status === undefined ? 'required' : 'value',
    });
  }
  if (kind === 'update' || kind === 'cancel') {
    if (sr.id === undefined || !uuidPattern.test(sr.id)) {
      problems.push({
        field: `${srBase}.id`,
        rule: `${sr.id === undefined ? 'is required' : 'is not valid'} for an update or cancellation: it must be the id (a UUID) this service assigned`,
        kind: sr.id === undefined ? 'required' : 'value',
      });
    }
  }

  if (kind === undefined) fail(problems);

  const fields: FieldMap = new Map([['', 'Bundle']]);
  const candidate: Record<string, unknown> = {};
  const skipped: string[] = []; // internal paths whose FHIR source is already reported: not reported twice
  const orgIndex = index.resolve(header.sender, `${headerBase}.sender`, ['Organization'], problems, true);
  const organization =
    orgIndex === undefined
      ? undefined
      : check(Organization, index.resource(orgIndex), entryBase(orgIndex), problems);
  if (orgIndex === undefined || organization === undefined) skipped.push('practiceOds');
  else {
    const orgBase = entryBase(orgIndex);
    const identifiers = organization.identifier ?? [];
    const i = identifiers.findIndex((id) => isSystem(id.system, fhirSystems.odsOrganisation));
    fields.set('practiceOds', i === -1 ? `${orgBase}.identifier` : `${orgBase}.identifier[${i}].value`);
    const ods = identifiers[i]?.value;
    if (ods !== undefined) candidate['practiceOds'] = ods;
  }

  const message = (senderOds: string): MessageInfo => ({
    bundleId: bundle.id,
    messageHeaderId: header.id ?? first.fullUrl.trim().replace(/^urn:uuid:/i, ''),
    timestamp: bundle.timestamp,
    ...(header.source?.endpoint === undefined ? {} : { sourceEndpoint: header.source.endpoint }),
    senderOds,
  });

  if (kind === 'cancel') {
    const pick = ReferralRequest.pick({ practiceOds: true });
    const { practiceOds } = validate(pick, candidate, fields, skipped, [], problems);
    return {
      kind,
      serviceRequestId: sr.id ?? '',
      status: status === 'revoked' ? 'revoked' : 'entered-in-error',
      message: message(practiceOds),
    };
  }

  // 5. The referral itself: build the ReferralRequest candidate, recording where each field came from.
  const extra: Array<{ field: string; applies: () => string | undefined }> = [];

  const patientIndex = index.resolve(sr.subject, `${srBase}.subject`, ['Patient'], problems, true);
  if (patientIndex === undefined) skipped.push('patient');
  else {
    const base = entryBase(patientIndex);
    const patient = check(Patient, index.resource(patientIndex), base, problems);
    if (patient === undefined) skipped.push('patient');
    else {
      const reading = readPatient(patient, base, fields, problems);
      candidate['patient'] = reading.candidate;
    }
  }
  // Who asked, and the encounter (journey): not mapped, but they must resolve and be of the right shape.
  const requesterSchemas = { Practitioner, PractitionerRole, Organization } as const;
  const requester = index.resolve(
    sr.requester,
    `${srBase}.requester`,
    Object.keys(requesterSchemas),
    problems,
    false,
  );
  if (requester !== undefined) {
    const schema = requesterSchemas[index.typeOf(requester) as keyof typeof requesterSchemas];
    check(schema, index.resource(requester), entryBase(requester), problems);
  }
  const encounter = index.resolve(sr.encounter, `${srBase}.encounter`, ['Encounter'], problems, false);
  if (encounter !== undefined) check(Encounter, index.resource(encounter), entryBase(encounter), problems);

  // Needs: ServiceRequest.reasonCode, then every Condition entry's code.
  const needs: InterventionCategory[] = [];
  const beforeNeeds = problems.length;
  fields.set('needs', `${srBase}.reasonCode`);
  readNeeds(codingsOf(sr.reasonCode, `${srBase}.reasonCode`, true), needs, fields, problems);
  for (const i of index.indexesOf('Condition')) {
    const condition = check(Condition, index.resource(i), entryBase(i), problems);
    if (condition === undefined) skipped.push('needs');
    else if (condition.code)
      readNeeds(codingsOf([condition.code], `${entryBase(i)}.code`, false), needs, fields, problems);
  }
  candidate['needs'] = needs;
  if (problems.length > beforeNeeds) skipped.push('needs'); // a refused code is the problem, not "no need"

  // Flags: SG safeguarding, RA reasonable adjustments.
  const flags: FlagReading = { safeguarding: false, reasonableAdjustments: [] };
  const flagIndexes = index.indexesOf('Flag');
  fields.set('flags', flagIndexes.length ? entryBase(flagIndexes[0] ?? 0) : 'Bundle.entry');
  for (const i of flagIndexes) {
    const flag = check(Flag, index.resource(i), entryBase(i), problems);
    if (flag === undefined) skipped.push('flags');
    else readFlag(flag, entryBase(i), flags, fields, problems);
  }
  candidate['flags'] = flags;

  // Consent to share with VCSE partners.
  const grants: Array<{ recipient?: string; granted: boolean }> = [];
  const consentIndexes = index.indexesOf('Consent');
  fields.set('consent', consentIndexes.length ? entryBase(consentIndexes[0] ?? 0) : 'Bundle.entry');
  for (const i of consentIndexes) {
    const consent = check(Consent, index.resource(i), entryBase(i), problems);
    if (consent === undefined) skipped.push('consent');
    else readConsent(consent, entryBase(i), index, now, grants, fields, problems);
  }
  candidate['consent'] = grants;

  // Deadline and free text.
  const deadline = sr.occurrencePeriod?.end;
  fields.set('respondBy', `${srBase}.occurrencePeriod.end`);
  if (deadline !== undefined) candidate['respondBy'] = deadline;
  // The clock- and policy-dependent rules both intake forms share (birth date, deadline, NHS number verification).
  for (const { field, check } of referralRules) extra.push({ field, applies: () => check(candidate, now) });
  const notes = (sr.note ?? []).flatMap((note) => (note.text?.trim() ? [note.text.trim()] : []));
  fields.set('reasonForReferral', sr.note?.length === 1 ? `${srBase}.note[0].text` : `${srBase}.note`);
  if (notes.length) candidate['reasonForReferral'] = notes.join('\n\n');

  const request = validate(ReferralRequest, candidate, fields, skipped, extra, problems);
  const info = message(request.practiceOds);
  return kind === 'new'
    ? { kind, request, message: info }
    : { kind, serviceRequestId: sr.id ?? '', request, message: info };
}

/**
 * Validates the candidate with the internal schema, translates its problems to FHIR expressions, adds the
 * BaRS-only rules (only where the schema found nothing wrong with that field), and throws if anything is wrong.
 */
function validate<S extends z.ZodType>(
  schema: S,
  candidate: Record<string, unknown>,
  fields: FieldMap,
  skipped: readonly string[],
  extra: ReadonlyArray<{ field: string; applies: () => string | undefined }>,
  earlier: readonly FieldProblem[] = [],
): z.infer<S> {
  let data: z.infer<S> | undefined;
  let internal: FieldProblem[] = [];
  try {
    data = parseWith(schema, candidate);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    internal = error.problems.filter(
      (p) => !skipped.some((prefix) => p.field === prefix || p.field.startsWith(`${prefix}.`)),
    );
  }
  const reported = new Set(internal.map((p) => p.field));
  for (const rule of extra) {
    if (reported.has(rule.field)) continue;
    const broken = rule.applies();
    if (broken !== undefined) internal.push({ field: rule.field, rule: broken, kind: 'value' });
  }
  const problems = [...earlier, ...internal.map((p) => ({ ...p, field: translate(p.field, fields) }))];
  if (problems.length || data === undefined) fail(problems);
  return data;
}

// ---- Acknowledgement ----------------------------------------------------------------------------------------------

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * BaRS acknowledges synchronously with the processed Bundle: the request as received, with the ServiceRequest's
 * `id`, `status` and `meta.lastUpdated` set to what this service assigned. Its entry's `fullUrl` becomes
 * `urn:uuid:<assigned id>`, and every `reference` in the Bundle that pointed at the old fullUrl (or at
 * `ServiceRequest/<old id>`) is repointed, so the acknowledgement still resolves. Everything else is kept.
 * Call it only with a Bundle that parseBarsMessage accepted.
 */
export function acknowledgementBundle(
  request: unknown,
  assigned: { serviceRequestId: string; status: string; lastUpdated: string },
): Record<string, unknown> {
  if (!isRecord(request) || !Array.isArray(request['entry'])) {
    throw new TypeError('acknowledgementBundle needs the request Bundle that parseBarsMessage accepted');
  }
  const bundle = structuredClone(request);
  const entries = (bundle['entry'] as unknown[]).filter(isRecord);
  const resourceOf = (entry: Record<string, unknown>) =>
    isRecord(entry['resource']) ? entry['resource'] : {};

  // The ServiceRequest is the MessageHeader's focus; fall back to the first ServiceRequest entry.
  const header = entries[0] === undefined ? {} : resourceOf(entries[0]);
  const focus = Array.isArray(header['focus']) ? header['focus'].filter(isRecord) : [];
  const focusRefs = focus.flatMap((f) =>
    typeof f['reference'] === 'string' ? referenceKeys(f['reference']) : [],
  );
  const isServiceRequest = (entry: Record<string, unknown>) =>
    resourceOf(entry)['resourceType'] === 'ServiceRequest';
  const target =
    entries.find(
      (entry) =>
        isServiceRequest(entry) &&
        typeof entry['fullUrl'] === 'string' &&
        entryKeys(entry['fullUrl'], 'ServiceRequest', resourceOf(entry)['id']).some((key) =>
          focusRefs.includes(key),
        ),
    ) ?? entries.find(isServiceRequest);
  if (target === undefined)
    throw new TypeError('acknowledgementBundle: the request Bundle has no ServiceRequest');

  const resource = resourceOf(target);
  const oldKeys = new Set<string>(
    typeof target['fullUrl'] === 'string'
      ? entryKeys(target['fullUrl'], 'ServiceRequest', resource['id'])
      : typeof resource['id'] === 'string'
        ? [`ServiceRequest/${resource['id']}`]
        : [],
  );
  const newFullUrl = `urn:uuid:${assigned.serviceRequestId}`;
  const { resourceType, id: _oldId, meta, ...rest } = resource;
  target['fullUrl'] = newFullUrl;
  target['resource'] = {
    resourceType,
    id: assigned.serviceRequestId,
    meta: { ...(isRecord(meta) ? meta : {}), lastUpdated: assigned.lastUpdated },
    ...rest,
    status: assigned.status,
  };

  // Repoint references to the ServiceRequest (iteratively, one value pushed at a time: neither recursion nor a
  // spread of a client-sized array into push, either of which can overflow the stack on a large Bundle).
  const stack: unknown[] = [bundle];
  while (stack.length) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      for (const item of node) stack.push(item);
    } else if (isRecord(node)) {
      const ref = node['reference'];
      if (typeof ref === 'string' && referenceKeys(ref).some((key) => oldKeys.has(key)))
        node['reference'] = newFullUrl;
      for (const key in node) stack.push(node[key]);
    }
  }
  return bundle;
}

/**
 * The fallback acknowledgement, built only from the validated message and what this service assigned (it never
 * reads the request body): the Bundle id and timestamp as sent, the MessageHeader (event, source, focus) and the
 * ServiceRequest with its assigned `id`, `status` and `meta.lastUpdated`. For when acknowledgementBundle cannot
 * be built, so that a processed message is never answered with an error.
 */
export function minimalAcknowledgementBundle(
  message: MessageInfo,
  assigned: { serviceRequestId: string; status: string; lastUpdated: string },
): Record<string, unknown> {
  const serviceRequestUrl = `urn:uuid:${assigned.serviceRequestId}`;
  return {
    resourceType: 'Bundle',
    id: message.bundleId,
    type: 'message',
    timestamp: message.timestamp,
    entry: [
      {
        ...(uuidPattern.test(message.messageHeaderId)
          ? { fullUrl: `urn:uuid:${message.messageHeaderId}` }
          : {}),
        resource: {
          resourceType: 'MessageHeader',
          id: message.messageHeaderId,
          eventCoding: { system: fhirSystems.messageEvents, code: 'servicerequest-request' },
          ...(message.sourceEndpoint === undefined ? {} : { source: { endpoint: message.sourceEndpoint } }),
          focus: [{ reference: serviceRequestUrl }],
        },
      },
      {
        fullUrl: serviceRequestUrl,
        resource: {
          resourceType: 'ServiceRequest',
          id: assigned.serviceRequestId,
          meta: { lastUpdated: assigned.lastUpdated },
          status: assigned.status,
          intent: 'plan',
          subject: { display: 'The patient of the request message' },
        },
      },
    ],
  };
}
