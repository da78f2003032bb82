import * as z from 'zod';

/**
 * Zod schemas for the parts of a BaRS-shaped FHIR R4 message Bundle that the social-prescribing receiver reads.
 *
 * These check FHIR JSON *shape* only (an element that repeats is an array, a string is a string), never business
 * rules: the values read from them are mapped to the internal `ReferralRequest` and validated by that one schema.
 * Every object is a `z.looseObject`, so elements we do not read (text, meta.security, extensions, ...) pass through.
 * Leaves we do not read are not declared at all. No `@types/fhir`: these are the only FHIR types the product needs.
 */

// ---- Canonical URLs (what we send; normalise.ts says which spellings we accept) ----------------------------------

export { fhirSystems } from '#fhir/systems.ts';

/**
 * Consent to share with VCSE partners (our design; BaRS has no social-prescribing consent profile):
 * - `Consent.status` `active`; other statuses (draft, proposed, rejected, inactive, entered-in-error) are ignored.
 * - `Consent.provision.type` `permit` grants, `deny` refuses (ConsentGrant.granted).
 * - Each `provision.actor[]` names one partner: `actor.reference.identifier` with system `partnerIdentifierSystem`
 *   and the partner id from the directory as value, or `actor.reference.reference` to an Organization entry that
 *   carries such an identifier. One grant per actor.
 * - `provision.code[]` holding `{system: consentRecipientSystem, code: 'any-vcse'}` means "every partner the
 *   referral is routed to" and yields the grant `{recipient: 'any-vcse'}`.
 * - A `provision.period.end` already past means the consent has lapsed: the Consent is ignored.
 * - A Consent with no `provision` at all (e.g. BaRS's implied direct-care consent, category DRC) says nothing about
 *   onward sharing and is ignored.
 * - Sharing back with the referring practice: `provision.code[]` holding `{system: sharingBackSystem, code:
 *   'full-detail'}` is about the messages back to the GP. `deny` is the patient's objection to full sharing back
 *   (ReferralRequest.sharingBack `codes-only`: the practice gets codes only), `permit` says `full`. The same Consent
 *   may also name partners; an objection in any Consent wins.
 */
export const partnerIdentifierSystem = 'https://social-prescribing.example.org/Id/partner';
export const consentRecipientSystem = 'https://social-prescribing.example.org/CodeSystem/consent-recipient';
/** Our code system (BaRS has none) for what the messages back to the referring practice may carry. */
export const sharingBackSystem = 'https://social-prescribing.example.org/CodeSystem/sharing-back';
export const fullDetailCode = 'full-detail';

// ---- Lengths ------------------------------------------------------------------------------------------------------

/**
 * Upper bounds on every string read from a Bundle, checked before anything (normalisation, regular expressions,
 * references) works on it. They are FHIR's own where it has one (an id is at most 64 characters) and generous
 * elsewhere: the internal ReferralRequest schema applies the tighter rules (a name part at most 100 characters)
 * and names the element, so these only stop strings no valid message has.
 */
export const fhirStringLimits = {
  /** FHIR `id`: [A-Za-z0-9-.]{1,64}. */
  id: 64,
  /** `code`, identifier values, enumerated elements (status, intent, use). */
  code: 256,
  /** `uri` / `url` / `canonical`: code and identifier systems, fullUrl, references, extension urls. */
  uri: 1024,
  /** `dateTime`, `instant`, `date`. */
  dateTime: 64,
  /** Short human text: display, names, telecom values, postcodes. */
  string: 1024,
  /** Narrative-like text: CodeableConcept.text, Annotation.text. */
  text: 4000,
} as const;

const bounded = (max: number) => z.string().max(max, `must be at most ${max} characters`);
const code = () => bounded(fhirStringLimits.code);
const uri = () => bounded(fhirStringLimits.uri);
const id = () => bounded(fhirStringLimits.id);
const dateTime = () => bounded(fhirStringLimits.dateTime);
const str = () => bounded(fhirStringLimits.string);
const narrative = () => bounded(fhirStringLimits.text);

// ---- Data types ---------------------------------------------------------------------------------------------------

export const Coding = z.looseObject({
  system: uri().optional(),
  code: code().optional(),
  display: str().optional(),
});
export type Coding = z.infer<typeof Coding>;

export const CodeableConcept = z.looseObject({
  coding: z.array(Coding).optional(),
  text: narrative().optional(),
});
export type CodeableConcept = z.infer<typeof CodeableConcept>;

export const Extension = z.looseObject({
  url: uri(),
  valueCodeableConcept: CodeableConcept.optional(),
});
export type Extension = z.infer<typeof Extension>;

export const Identifier = z.looseObject({
  extension: z.array(Extension).optional(),
  system: uri().optional(),
  value: code().optional(),
});
export type Identifier = z.infer<typeof Identifier>;

export const Reference = z.looseObject({
  reference: uri().optional(),
  identifier: Identifier.optional(),
  display: str().optional(),
});
export type Reference = z.infer<typeof Reference>;

export const Period = z.looseObject({
  start: dateTime().optional(),
  end: dateTime().optional(),
});

export const HumanName = z.looseObject({
  use: code().optional(),
  family: str().optional(),
  given: z.array(str()).optional(),
});

export const ContactPoint = z.looseObject({
  system: code().optional(),
  value: str().optional(),
  rank: z.number().int().positive().optional(),
});
export type ContactPoint = z.infer<typeof ContactPoint>;

export const Address = z.looseObject({
  use: code().optional(),
  postalCode: str().optional(),
});

const Meta = z.looseObject({
  profile: z.array(uri()).optional(),
  lastUpdated: dateTime().optional(),
});

const Annotation = z.looseObject({ text: narrative().optional() });

// ---- Bundle envelope ----------------------------------------------------------------------------------------------

/** FHIR `instant`: a date-time with seconds and a time zone (fractions of any precision). */
const Instant = z.iso
  .datetime({
    offset: true,
    message: 'must be a FHIR instant, e.g. 2030-01-01T09:00:00+00:00',
  })
  .max(fhirStringLimits.dateTime, `must be at most ${fhirStringLimits.dateTime} characters`);

export const BundleEntry = z.looseObject({
  fullUrl: uri().min(1, 'must not be empty'),
  resource: z.looseObject({ resourceType: id().min(1, 'must not be empty') }),
});
export type BundleEntry = z.infer<typeof BundleEntry>;

export const MessageBundle = z.looseObject({
  resourceType: z.literal('Bundle'),
  id: id().min(1, 'must not be empty'),
  meta: Meta.optional(),
  type: z.literal('message'),
  timestamp: Instant,
  entry: z.array(BundleEntry).min(1, 'a message Bundle must have entries, the first a MessageHeader'),
});
export type MessageBundle = z.infer<typeof MessageBundle>;

// ---- Resources ----------------------------------------------------------------------------------------------------

export const MessageHeader = z.looseObject({
  resourceType: z.literal('MessageHeader'),
  id: id().optional(),
  eventCoding: Coding,
  reason: CodeableConcept.optional(),
  focus: z.array(Reference).optional(),
  sender: Reference.optional(),
  source: z.looseObject({ endpoint: uri().optional() }).optional(),
});
export type MessageHeader = z.infer<typeof MessageHeader>;

export const ServiceRequest = z.looseObject({
  resourceType: z.literal('ServiceRequest'),
  id: id().optional(),
  meta: Meta.optional(),
  status: code().optional(),
  intent: code().optional(),
  category: z.array(CodeableConcept).optional(),
  code: CodeableConcept.optional(),
  subject: Reference.optional(),
  encounter: Reference.optional(),
  requester: Reference.optional(),
  reasonCode: z.array(CodeableConcept).optional(),
  occurrencePeriod: Period.optional(),
  note: z.array(Annotation).optional(),
});
export type ServiceRequest = z.infer<typeof ServiceRequest>;

export const Patient = z.looseObject({
  resourceType: z.literal('Patient'),
  identifier: z.array(Identifier).optional(),
  name: z.array(HumanName).optional(),
  telecom: z.array(ContactPoint).optional(),
  birthDate: dateTime().optional(),
  gender: code().optional(),
  address: z.array(Address).optional(),
  /** BaRS examples put the patient's own phone numbers in a contact whose relationship is ONESELF. */
  contact: z
    .array(
      z.looseObject({
        relationship: z.array(CodeableConcept).optional(),
        telecom: z.array(ContactPoint).optional(),
      }),
    )
    .optional(),
});
export type Patient = z.infer<typeof Patient>;

export const Organization = z.looseObject({
  resourceType: z.literal('Organization'),
  identifier: z.array(Identifier).optional(),
  name: str().optional(),
});
export type Organization = z.infer<typeof Organization>;

export const Condition = z.looseObject({
  resourceType: z.literal('Condition'),
  code: CodeableConcept.optional(),
});
export type Condition = z.infer<typeof Condition>;

export const Flag = z.looseObject({
  resourceType: z.literal('Flag'),
  status: code().optional(),
  category: z.array(CodeableConcept).optional(),
  code: CodeableConcept.optional(),
});
export type Flag = z.infer<typeof Flag>;

/**
 * `scope` (1..1) and `category` (1..*) are required by FHIR R4 itself, so a Consent without them is not a Consent
 * and is refused (naming the element) rather than read: what it permits or denies cannot be told apart from a
 * malformed resource.
 */
export const Consent = z.looseObject({
  resourceType: z.literal('Consent'),
  status: code().optional(),
  scope: CodeableConcept,
  category: z
    .array(CodeableConcept)
    .min(1, 'must hold at least one category (FHIR R4 Consent.category is 1..*)'),
  provision: z
    .looseObject({
      type: code().optional(),
      period: Period.optional(),
      actor: z.array(z.looseObject({ role: CodeableConcept.optional(), reference: Reference })).optional(),
      code: z.array(CodeableConcept).optional(),
    })
    .optional(),
});
export type Consent = z.infer<typeof Consent>;

/** Carries the BaRS journey id (episodeOfCare); read only to check that ServiceRequest.encounter points at one. */
export const Encounter = z.looseObject({
  resourceType: z.literal('Encounter'),
  identifier: z.array(Identifier).optional(),
  episodeOfCare: z.array(Reference).optional(),
});

export const Practitioner = z.looseObject({
  resourceType: z.literal('Practitioner'),
  identifier: z.array(Identifier).optional(),
});

export const PractitionerRole = z.looseObject({
  resourceType: z.literal('PractitionerRole'),
  practitioner: Reference.optional(),
  organization: Reference.optional(),
});
