import { z } from 'zod';
import { InterventionCategory } from './categories.ts';
import type { FieldProblem } from './errors.ts';
import { OdsCode } from './directory.ts';
import { isValidNhsNumber, normaliseNhsNumber } from './nhs-number.ts';
import { normalisePostcode, ukPostcodePattern } from './postcode.ts';

/**
 * A referral as a GP system submits it in plain JSON (`POST /referrals`), and the internal model every form maps to.
 */

export const NhsNumber = z
  .string({ error: 'must be a string of 10 digits' })
  .transform(normaliseNhsNumber)
  .refine((value) => /^\d{10}$/.test(value), {
    message: 'must be 10 digits (spaces allowed: 943 476 5919)',
    abort: true,
  })
  .refine(isValidNhsNumber, { message: 'fails the NHS number Modulus 11 check digit' });

export const Postcode = z
  .string()
  .regex(ukPostcodePattern, 'must be a UK postcode such as LS6 1AA')
  .transform(normalisePostcode);

export const PatientContact = z
  .object({
    phone: z
      .string()
      .regex(/^\+?[\d\s()-]{10,20}$/, 'must be a phone number of 10 to 20 digits, spaces or brackets')
      .optional(),
    email: z.email('must be an email address').optional(),
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

export const shareableVerification: ReadonlySet<NhsNumberVerification> = new Set([
  'verified',
  'present-not-traced',
]);

export const Patient = z.object({
  nhsNumber: NhsNumber,
  nhsNumberVerification: NhsNumberVerification.optional(),
  name: z.object({
    given: z.string().trim().min(1, 'must not be empty').max(100),
    family: z.string().trim().min(1, 'must not be empty').max(100),
  }),
  birthDate: z.iso.date('must be a date as YYYY-MM-DD').optional(),
  contact: PatientContact,
  postcode: Postcode.optional(),
});
export type Patient = z.infer<typeof Patient>;

/** Sharing with the PCN's link worker is direct care; a VCSE partner needs the patient's explicit agreement. */
export const anyVcsePartner = 'any-vcse';

export const ConsentGrant = z.object({
  /** A partner id from the directory, or `any-vcse` for every partner the referral is routed to. */
  recipient: z.string().min(1).max(100),
  granted: z.boolean(),
});
export type ConsentGrant = z.infer<typeof ConsentGrant>;

export const ReferralRequest = z.strictObject({
  patient: Patient,
  practiceOds: OdsCode,
  needs: z
    .array(InterventionCategory)
    .min(1, 'at least one need is required')
    .max(11)
    .refine((needs) => new Set(needs).size === needs.length, { message: 'each need may appear once' }),
  consent: z.array(ConsentGrant).max(50),
  /** Free text for the link worker; never sent to partners. */
  reasonForReferral: z.string().max(2000).optional(),
  /** Flags every recipient must see: a safeguarding concern, and adjustments the patient needs to take part. */
  flags: z
    .object({
      safeguarding: z.boolean().default(false),
      reasonableAdjustments: z.array(z.string().trim().min(1).max(200)).max(20).default([]),
    })
    .optional(),
  /** When the receiver must act by (BaRS occurrencePeriod.end); must be in the future when submitted. */
  respondBy: z.iso.datetime({ offset: true, message: 'must be a date-time with a time zone' }).optional(),
});
export type ReferralRequest = z.infer<typeof ReferralRequest>;

export const referralStatuses = ['received', 'routed', 'cancelled'] as const;
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

export interface ServiceMatch {
  category: InterventionCategory;
  serviceId: string;
  serviceName: string;
  partnerId: string;
  partnerName: string;
  reason: string;
}

export interface UnmetNeed {
  category: InterventionCategory;
  area: string;
  reason: string;
}

export interface RoutingDecision {
  decidedAt: string;
  area: string;
  areaSource: 'patient-postcode' | 'practice';
  team: { id: string; name: string } | null;
  teamReason: string;
  matches: ServiceMatch[];
  unmetNeeds: UnmetNeed[];
  deliveries: PlannedDelivery[];
}

/**
 * A delivery's progress: `pending` (no attempt yet), `sending` (a POST is going out or went out and its answer is
 * not recorded yet: after a crash it stays so until the retry re-sends it with the same webhook-id), `retrying` (the
 * last attempt was refused or could not reach the recipient; SQS retries it), `delivered` (the recipient answered 2xx).
 */
export const deliveryStatuses = ['pending', 'sending', 'retrying', 'delivered'] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];

export interface DeliveryState {
  status: DeliveryStatus;
  /** When the latest POST was about to go out (recorded before it, so a crash after it is visible). */
  attemptedAt?: string;
  /** POSTs attempted so far (the retry after a crash counts too). */
  attempts?: number;
  /** Why the latest attempt failed: `HTTP <status>`, `unreachable` or `no webhook channel`. */
  lastFailure?: string;
  deliveredAt?: string;
  /** HTTP status the recipient answered with. */
  responseStatus?: number;
  /** When the recipient was told to stop (the referral was cancelled after it had it). */
  cancellationNoticeAt?: string;
  /** The latest referral version the recipient has been told about by an update notice. */
  updateNoticeVersion?: number;
}

/** Where a referral came from: the plain JSON route, or a BaRS message (with its conversation ids). */
export type ReferralSource =
  | { channel: 'json'; idempotencyKey?: string }
  | { channel: 'fhir'; requestId: string; correlationId: string; senderEndpoint?: string };

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
  source: ReferralSource;
  /** 1 when received; each accepted update adds one. */
  version: number;
  /** The sender's timestamp of the last message applied: an older message may not overwrite a newer one. */
  lastMessageAt?: string;
  cancellation?: { reason: CancellationReason; at: string };
  routing?: RoutingDecision;
  deliveryStatus?: Record<string, DeliveryState>;
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
    source,
    ...clinicalContent(request),
  };
}

/** The parts of a referral a sender provides (and may later amend). */
export function clinicalContent(
  request: ReferralRequest,
): Pick<
  Referral,
  'practiceOds' | 'patient' | 'needs' | 'consent' | 'reasonForReferral' | 'flags' | 'respondBy'
> {
  return {
    practiceOds: request.practiceOds,
    patient: request.patient,
    needs: request.needs,
    consent: request.consent,
    ...(request.reasonForReferral === undefined ? {} : { reasonForReferral: request.reasonForReferral }),
    ...(request.flags === undefined ? {} : { flags: request.flags }),
    ...(request.respondBy === undefined ? {} : { respondBy: request.respondBy }),
  };
}

/** Does the patient agree to this partner receiving identifiable details? An explicit refusal wins. */
export function hasConsentFor(consent: ConsentGrant[], partnerId: string): boolean {
  const specific = consent.find((grant) => grant.recipient === partnerId);
  if (specific) return specific.granted;
  return consent.some((grant) => grant.recipient === anyVcsePartner && grant.granted);
}

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
