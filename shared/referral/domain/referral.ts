import * as z from 'zod';
import { InterventionCategory } from '#referral/domain/categories.ts';
import type { FieldProblem } from '#kernel/errors.ts';
import { OdsCode } from '#directory/domain/ods-code.ts';
import { isValidNhsNumber, normaliseNhsNumber } from '#referral/domain/nhs-number.ts';
import { normalisePostcode, ukPostcodePattern } from '#referral/domain/postcode.ts';
import { text } from '#kernel/text.ts';
import type { ImdEdition, LsoaVintage } from '#geography/domain/geography.ts';
import { referralStates } from '#referral/domain/lifecycle.ts';
import { shareableVerification } from '#referral/domain/sharing.ts';
import type { UnmetReason } from '#referral/domain/unmet-reasons.ts';
import type { CaseWork } from '#referral/domain/case-work.ts';

/**
 * A referral as a GP system submits it in plain JSON (`POST /referrals`), and the internal model every form maps to.
 */

export const NhsNumber = z
  .string({ error: 'must be a string of 10 digits' })
  // Capped before any rewriting: 10 digits with the separators people type fit in 20.
  .max(20, { abort: true, error: 'must be 10 digits (spaces allowed: 943 476 5919)' })
  .transform(normaliseNhsNumber)
  .refine((value) => /^\d{10}$/.test(value), {
    message: 'must be 10 digits (spaces allowed: 943 476 5919)',
    abort: true,
  })
  .refine(isValidNhsNumber, { message: 'fails the NHS number Modulus 11 check digit' });

export const Postcode = z
  .string()
  .max(10, { abort: true, error: 'must be a UK postcode such as LS6 1AA' })
  .regex(ukPostcodePattern, 'must be a UK postcode such as LS6 1AA')
  .transform(normalisePostcode);

/** Digits in a phone number: a UK number has 10 or 11, an international one (E.164) at most 15. */
export const phoneDigits = { min: 10, max: 15 } as const;
/** Characters in a phone number as written, separators included. */
export const maxPhoneLength = 25;
/** RFC 5321's limit on a forward path: longer is not an address anyone can send to. */
export const maxEmailLength = 254;

/**
 * A phone number a person can dial: digits with the separators people write (spaces, brackets, hyphens, a leading
 * +), and 10 to 15 digits. Counting digits, not characters, refuses `()()()-----` and ten spaces.
 */
export const PhoneNumber = z
  .string()
  .meta({
    description: `${phoneDigits.min} to ${phoneDigits.max} digits; spaces, brackets, hyphens and a leading + allowed`,
  })
  .max(maxPhoneLength, { abort: true, error: `must be at most ${maxPhoneLength} characters` })
  .trim()
  .check((payload) => {
    let digits = 0;
    for (let i = 0; i < payload.value.length; i++) {
      const c = payload.value[i] as string;
      if (c >= '0' && c <= '9') digits++;
      else if (!(c === ' ' || c === '(' || c === ')' || c === '-' || (c === '+' && i === 0))) {
        payload.issues.push({
          code: 'custom',
          message: 'must be a phone number: digits, spaces, brackets, hyphens and a leading +',
          input: payload.value,
        });
        return;
      }
    }
    if (digits < phoneDigits.min || digits > phoneDigits.max) {
      payload.issues.push({
        code: 'custom',
        message: `must be a phone number of ${phoneDigits.min} to ${phoneDigits.max} digits`,
        input: payload.value,
      });
    }
  });

export const EmailAddress = z
  .string()
  .max(maxEmailLength, { abort: true, error: `must be at most ${maxEmailLength} characters` })
  .trim()
  // zod's own email pattern, run only on a string already within the length limit.
  .regex(z.regexes.email, 'must be an email address')
  .meta({ format: 'email' });

// Strict objects throughout: a misspelt field (`postCode`, `safeGuarding`) is refused, never silently dropped.
export const PatientContact = z
  .strictObject({
    phone: PhoneNumber.optional(),
    email: EmailAddress.optional(),
    preferred: z.enum(['phone', 'email']),
  })
  .refine((contact) => contact[contact.preferred] !== undefined, {
    message: 'the preferred contact route must be given',
    path: ['preferred'],
  });

/**
 * NHS number verification (UK Core). Only a verified number, or one present but not traced, may be shared onward;
 * any other status (or none stated) keeps the number inside this service.
 */
export const nhsNumberVerificationStatuses = [
  'verified',
  'present-not-traced',
  'trace-required',
  'trace-attempted',
  'trace-needs-resolving',
  'trace-in-progress',
  'not-present',
  'trace-postponed',
] as const;
export const NhsNumberVerification = z.enum(nhsNumberVerificationStatuses);
export type NhsNumberVerification = z.infer<typeof NhsNumberVerification>;

export { anyVcsePartner, hasConsentFor, shareableVerification } from '#referral/domain/sharing.ts';

/** A name part as a person would write it: 1-100 characters, at least one letter, nothing invisible. */
export const maxNameLength = 100;
const NamePart = text({ max: maxNameLength, min: 1, letter: true });

/**
 * FHIR administrative gender (Patient.gender), as the patient's record gives it: the sex the observatory's figures
 * and the evaluation extract count by. Patient data like the rest: never logged.
 */
export const administrativeGenders = ['male', 'female', 'other', 'unknown'] as const;
export const AdministrativeGender = z.enum(administrativeGenders);
export type AdministrativeGender = z.infer<typeof AdministrativeGender>;

export const Patient = z.strictObject({
  nhsNumber: NhsNumber,
  nhsNumberVerification: NhsNumberVerification.optional(),
  name: z.strictObject({ given: NamePart, family: NamePart }),
  birthDate: z.iso.date('must be a date as YYYY-MM-DD').max(10).optional(),
  gender: AdministrativeGender.optional(),
  contact: PatientContact,
  postcode: Postcode.optional(),
});
export type Patient = z.infer<typeof Patient>;

export const ConsentGrant = z.strictObject({
  /** A partner id from the directory, or `any-vcse` for every partner the referral is routed to. */
  recipient: text({ max: 100, min: 1 }),
  granted: z.boolean(),
});
export type ConsentGrant = z.infer<typeof ConsentGrant>;

export const maxReasonLength = 2000;

/**
 * What the messages back to the referring practice may carry (domain.md: "a patient who objects to full sharing back
 * to the GP gets codes only"). `full`: the national codes plus free text (the link worker's notes, a decline's or a
 * closure's own words) and the names of the team and services; `codes-only`: coded status, reasons and interventions,
 * nothing else. Absent means `full`: sharing back with the referrer is direct care (implied consent) unless the patient
 * objects.
 */
export const sharingBackLevels = ['full', 'codes-only'] as const;
export const SharingBack = z.enum(sharingBackLevels);
export type SharingBack = z.infer<typeof SharingBack>;

export const ReferralRequest = z.strictObject({
  patient: Patient,
  practiceOds: OdsCode,
  needs: z
    .array(InterventionCategory)
    .min(1, 'at least one need is required')
    .max(11)
    .refine((needs) => new Set(needs).size === needs.length, { message: 'each need may appear once' }),
  consent: z.array(ConsentGrant).max(50),
  /** Free text for the link worker; never sent to partners. Line breaks allowed, controls not. */
  reasonForReferral: text({ max: maxReasonLength, multiline: true }).optional(),
  /** Flags every recipient must see: a safeguarding concern, and adjustments the patient needs to take part. */
  flags: z
    .strictObject({
      safeguarding: z.boolean().default(false),
      reasonableAdjustments: z
        .array(text({ max: 200, min: 1 }))
        .max(20)
        .default([]),
    })
    .optional(),
  /** `codes-only` when the patient objected to full sharing back to the practice; absent is `full`. */
  sharingBack: SharingBack.optional(),
  /** When the receiver must act by (BaRS occurrencePeriod.end); must be in the future when submitted. */
  respondBy: z.iso
    .datetime({ offset: true, message: 'must be a date-time with a time zone' })
    .max(64)
    .optional(),
});
export type ReferralRequest = z.infer<typeof ReferralRequest>;

/**
 * Every state of the referral's lifecycle (#referral/domain/lifecycle.ts): received, routed, then the link-worker
 * team's case work (accepted, contacted, in-progress, escalated) and the ends (declined, closed, cancelled).
 */
export const referralStatuses = referralStates;
export type ReferralStatus = (typeof referralStatuses)[number];

export type RecipientKind = 'team' | 'partner';
/** What a recipient may see: identifiable (name and contact route) or signposting only (nothing identifiable). */
export type ContentLevel = 'identifiable' | 'signposting';

export interface PlannedDelivery {
  deliveryId: string;
  recipient: { kind: RecipientKind; id: string; name: string };
  categories: InterventionCategory[];
  content: ContentLevel;
}

/** How a service reaches the patient's area, narrowest first: the patient's LSOA, postcode district, local authority. */
export const coverageLevels = ['lsoa', 'district', 'local-authority'] as const;
export type CoverageLevel = (typeof coverageLevels)[number];

export interface ServiceMatch {
  category: InterventionCategory;
  serviceId: string;
  serviceName: string;
  partnerId: string;
  partnerName: string;
  /** The sentence people see: why this service. */
  reason: string;
  coveredBy: CoverageLevel;
  /** What the partner may be sent for this need: identifiable with the patient's consent, else signposting. */
  content: ContentLevel;
}

/**
 * The rule that ruled a candidate in or out, as a code (the sentence beside it is for people). `chosen` and
 * `ranked-lower` rule it in (it fits; one is chosen per need); the rest rule it out.
 */
export const candidateRules = [
  'chosen',
  'ranked-lower',
  'service-retired',
  'partner-retired',
  'below-minimum-age',
  'above-maximum-age',
  'paused',
  'full',
  'weekly-limit-reached',
  'no-consent',
] as const;
export type CandidateRule = (typeof candidateRules)[number];
export const candidateVerdicts = ['chosen', 'eligible', 'ruled-out'] as const;
export type CandidateVerdict = (typeof candidateVerdicts)[number];

/** One service considered for one need, with the rule that decided it and the sentence shown to people. */
export interface CandidateVerdictRecord {
  serviceId: string;
  serviceName: string;
  partnerId: string;
  partnerName: string;
  coveredBy: CoverageLevel;
  verdict: CandidateVerdict;
  rule: CandidateRule;
  reason: string;
  /** For a service that fits: what its partner may be sent (identifiable with consent, else signposting). */
  content?: ContentLevel;
}

export { unmetReasons, type UnmetReason } from '#referral/domain/unmet-reasons.ts';

/** The IMD rank and decile of the patient's LSOA, always with the edition they come from (never mixed). */
export interface ImdClassification {
  edition: ImdEdition;
  rank: number;
  decile: number;
}

export interface UnmetNeed {
  category: InterventionCategory;
  /** The postcode district the need was matched in. */
  area: string;
  /** The sentence people see (the FHIR ServiceRequest's note, the status view). */
  reason: string;
  code: UnmetReason;
  lsoa?: { code: string; vintage: LsoaVintage };
  imd: ImdClassification | null;
}

/** Every candidate a need had, in order (the chosen one first, then the other fitting ones, then those ruled out). */
export interface NeedDecision {
  category: InterventionCategory;
  outcome: 'matched' | 'unmet';
  candidates: CandidateVerdictRecord[];
  unmet?: { code: UnmetReason; reason: string };
}

/**
 * Where the patient was placed for matching and deprivation: from the patient's postcode through the geography (its
 * LSOA of the IMD edition's vintage, local authority, district), else the postcode's district, else the practice's
 * area. A terminated postcode still classifies (status `terminated`). The IMD edition and the LSOA vintage it is
 * keyed on are recorded whatever was found, so no count mixes editions.
 */
export interface AreaClassification {
  source: 'patient-postcode' | 'practice';
  postcodeStatus: 'found' | 'terminated' | 'not-found' | 'none';
  district: string;
  lsoa?: { code: string; vintage: LsoaVintage };
  localAuthority?: string;
  imdEdition: ImdEdition;
  lsoaVintage: LsoaVintage;
  imd: ImdClassification | null;
}

/** A practice no active link-worker team serves: recorded and counted, never dropped silently. */
export interface NoTeam {
  code: 'no-link-worker-team';
  reason: string;
  pcn: string;
}

export interface RoutingDecision {
  decidedAt: string;
  /** The postcode district matched in (also `classification.district`). */
  area: string;
  areaSource: 'patient-postcode' | 'practice';
  team: { id: string; name: string } | null;
  teamReason: string;
  matches: ServiceMatch[];
  unmetNeeds: UnmetNeed[];
  deliveries: PlannedDelivery[];
  // The fields below are written by every decision since explainable matching (issue 8); decisions recorded before
  // it do not have them, so readers treat them as possibly absent.
  classification?: AreaClassification;
  /** Per need, every candidate considered and the rule that ruled it in or out. */
  needs?: NeedDecision[];
  /** Set when no active link-worker team serves the practice (then `team` is null). */
  noTeam?: NoTeam;
  /** The practice's PCN as the directory gave it when routed, for the figures by PCN (absent in older decisions). */
  pcn?: string;
  /**
   * The patient's age band (on the day received) and sex as first routed, for the `referrals` figure: fixed with the
   * decision, so an update that amends the patient later cannot move the referral to another cell (a second count).
   */
  patientBands?: { ageBand: string; sex: string };
  /**
   * How many times case work changed the decision after routing (a declined offer's need offered to the next match,
   * or returned to the link worker); absent is 0. Such a change is written only if the stored revision is still the
   * one it was made on, so two declines at once cannot each replace the decision without the other's delivery.
   */
  revision?: number;
}

/**
 * A delivery's progress: `pending` (no attempt yet), `sending` (a POST is going out or went out and its answer is
 * not recorded yet: after a crash it stays so until the retry re-sends it with the same webhook-id), `retrying` (the
 * last attempt was refused or could not reach the recipient; SQS retries it after a backoff), `delivered` (the
 * recipient answered 2xx, the email was accepted, or the referral is in its worklist), `failed` (the recipient
 * refused it for good, e.g. HTTP 410: never retried; audited, counted and alarmed).
 */
export const deliveryStatuses = ['pending', 'sending', 'retrying', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];

export interface DeliveryState {
  status: DeliveryStatus;
  /** When the latest POST was about to go out (recorded before it, so a crash after it is visible). */
  attemptedAt?: string;
  /** POSTs attempted so far (the retry after a crash counts too). */
  attempts?: number;
  /** Why the latest attempt failed: `HTTP <status>`, `timeout`, `unreachable` or `no webhook channel`. */
  lastFailure?: string;
  deliveredAt?: string;
  /** HTTP status the recipient answered with (webhooks). */
  responseStatus?: number;
  /** How it was delivered: a signed webhook, an email (no patient data), or only the worklist (nothing pushed). */
  channel?: 'webhook' | 'email' | 'worklist';
  /** When it was given up for good (`failed`). */
  failedAt?: string;
  /** When the recipient was told to stop (the referral was cancelled after it had it). */
  cancellationNoticeAt?: string;
  /** The latest referral version the recipient has been told about by an update notice. */
  updateNoticeVersion?: number;
}

/**
 * What became of one message back to the referring practice (a BaRS `servicerequest-response`, one per lifecycle
 * event: #delivery/application/deliver-practice-response.ts), recorded once and final: `delivered` (the practice's
 * endpoint answered 2xx), `failed` (it refused the message for good, e.g. HTTP 410), `not-sent` (it could not go at
 * all: the practice has no endpoint or signing secret). Attempts that will be retried are not recorded here.
 */
export type PracticeMessageState =
  | { status: 'delivered'; at: string; messageId: string; responseStatus: number }
  | { status: 'failed' | 'not-sent'; at: string; reason: string };

/** Where a referral came from: the plain JSON route, or a BaRS message (with its conversation ids). */
export type ReferralSource =
  | { channel: 'json'; idempotencyKey?: string }
  | {
      channel: 'fhir';
      requestId: string;
      correlationId: string;
      senderEndpoint?: string;
      /**
       * The creating message's MessageHeader id (or its entry's uuid), which a `servicerequest-response` names in
       * `MessageHeader.response.identifier`; referrals stored before it was kept fall back to `requestId`.
       */
      messageHeaderId?: string;
    };

export type CancellationReason = 'revoked' | 'entered-in-error';

export interface Referral {
  referralId: string;
  status: ReferralStatus;
  receivedAt: string;
  updatedAt: string;
  practiceOds: string;
  patient: Patient;
  needs: InterventionCategory[];
  consent: ConsentGrant[];
  reasonForReferral?: string;
  flags?: { safeguarding: boolean; reasonableAdjustments: string[] };
  respondBy?: string;
  /** Absent is `full` (ReferralRequest.sharingBack). */
  sharingBack?: SharingBack;
  source: ReferralSource;
  /** SHA-256 of the request that created it (shared/domain/ids.ts): a key reused for another request is refused. */
  requestFingerprint?: string;
  /** 1 when received; each accepted update adds one. */
  version: number;
  /** The sender's timestamp of the last message applied: an older message may not overwrite a newer one. */
  lastMessageAt?: string;
  /**
   * Which message that was (BaRS: its X-Request-ID). Two messages may carry the same timestamp (senders often send
   * whole seconds): only the same message again is a repeat; another one with that timestamp is refused.
   */
  lastMessageId?: string;
  cancellation?: { reason: CancellationReason; at: string };
  routing?: RoutingDecision;
  deliveryStatus?: Record<string, DeliveryState>;
  /** The messages back to the practice, by the lifecycle event each reports (accepted, seen, ...). */
  practiceMessages?: Record<string, PracticeMessageState>;
  // The link-worker team's case work (#referral/domain/case-work.ts), one field per step so that a step's write
  // never replaces what another step recorded.
  acceptance?: CaseWork['acceptance'];
  teamDecline?: CaseWork['teamDecline'];
  lastContactAttempt?: CaseWork['lastContactAttempt'];
  firstContact?: CaseWork['firstContact'];
  interventionStart?: CaseWork['interventionStart'];
  closure?: CaseWork['closure'];
  /** Needs whose offers were declined with no fitting service left: back with the link worker, with why. */
  returnedNeeds?: CaseWork['returnedNeeds'];
}

/** A referral is open (it can still be updated or cancelled) until it is cancelled. */
export const isOpen = (referral: Pick<Referral, 'status'>): boolean => referral.status !== 'cancelled';

export function newReferral(
  referralId: string,
  request: ReferralRequest,
  receivedAt: string,
  source: ReferralSource = { channel: 'json' },
  messageAt?: string,
): Referral {
  return {
    referralId,
    status: 'received',
    receivedAt,
    updatedAt: receivedAt,
    version: 1,
    ...(messageAt === undefined ? {} : { lastMessageAt: messageAt }),
    // The creating BaRS message is the first message applied: an update with its timestamp is another message.
    ...(messageAt !== undefined && source.channel === 'fhir' ? { lastMessageId: source.requestId } : {}),
    source,
    ...clinicalContent(request),
  };
}

/** The parts of a referral a sender provides (and may later amend). */
export function clinicalContent(
  request: ReferralRequest,
): Pick<
  Referral,
  | 'practiceOds'
  | 'patient'
  | 'needs'
  | 'consent'
  | 'reasonForReferral'
  | 'flags'
  | 'respondBy'
  | 'sharingBack'
> {
  return {
    practiceOds: request.practiceOds,
    patient: request.patient,
    needs: request.needs,
    consent: request.consent,
    ...(request.reasonForReferral === undefined ? {} : { reasonForReferral: request.reasonForReferral }),
    ...(request.flags === undefined ? {} : { flags: request.flags }),
    ...(request.respondBy === undefined ? {} : { respondBy: request.respondBy }),
    ...(request.sharingBack === undefined ? {} : { sharingBack: request.sharingBack }),
  };
}

/** The fields an update replaces: everything a sender provides, except which practice it is. */
export const amendableFields = [
  'patient',
  'needs',
  'consent',
  'reasonForReferral',
  'flags',
  'respondBy',
  'sharingBack',
] as const;
export type AmendableField = (typeof amendableFields)[number];

/**
 * An update's content as the fields it writes: EVERY amendable field is named, undefined where the sender left it
 * out, so the store removes it instead of keeping the value from before.
 */
export function amendedContent(request: ReferralRequest): AmendedContent {
  const content = clinicalContent(request);
  // fromEntries loses the key types; the keys are exactly amendableFields, each with its own field's value.
  return Object.fromEntries(amendableFields.map((field) => [field, content[field]])) as AmendedContent;
}
export type AmendedContent = { [K in AmendableField]: Referral[K] | undefined };

/** The fields the clock-dependent rules read, as loose as the raw candidate a FHIR message becomes. */
interface RuleInput {
  patient?: { birthDate?: unknown; nhsNumberVerification?: unknown };
  respondBy?: unknown;
}

/**
 * Rules a schema cannot hold because they depend on "now" or on sharing policy; both intake forms apply them (the
 * JSON route in the use cases, the FHIR parser with FHIR expressions), so there is one set of rules.
 */
export const referralRules: ReadonlyArray<{
  field: string;
  check: (request: RuleInput, now: Date) => string | undefined;
}> = [
  {
    field: 'patient.birthDate',
    check: ({ patient }, now) => {
      const birthDate = patient?.birthDate;
      if (typeof birthDate !== 'string') return undefined;
      if (birthDate > now.toISOString().slice(0, 10)) return 'must not be in the future';
      if (birthDate < '1900-01-01') return 'must not be before 1900';
      return undefined;
    },
  },
  {
    field: 'respondBy',
    check: ({ respondBy }, now) =>
      typeof respondBy === 'string' && !(Date.parse(respondBy) > now.getTime())
        ? 'must be in the future'
        : undefined,
  },
  {
    field: 'patient.nhsNumberVerification',
    check: ({ patient }) => {
      const status = patient?.nhsNumberVerification;
      if (status === undefined || shareableVerification.has(status as NhsNumberVerification))
        return undefined;
      return `NHS number verification status is ${String(status)}: only a verified number (or one present but not traced) may be shared onward; trace it on PDS first`;
    },
  },
];

export function referralRuleBreaches(request: RuleInput, now: Date): FieldProblem[] {
  return referralRules.flatMap(({ field, check }) => {
    const rule = check(request, now);
    return rule === undefined ? [] : [{ field, rule, kind: 'value' as const }];
  });
}
