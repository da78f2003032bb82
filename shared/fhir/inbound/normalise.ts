import type { NhsNumberVerification } from '#referral/domain/referral.ts';
import { fhirSystems } from '#fhir/inbound/bundle.ts';

/**
 * Tolerating real-world variants before comparing. Senders differ in ways that carry no meaning:
 * - identifier and code systems spelled with `http` or `https`, `/Id/` or `/id/`, a trailing slash;
 * - BaRS's older code systems `message-event-servicerequest` and `message-reason-servicerequest`;
 * - NHS number verification status as a UK Core code (`number-present-and-verified`) or as the England code (`01`);
 * - references as `urn:uuid:...`, `Type/id`, an absolute URL ending in `Type/id`, or with `/_history/n`.
 * Values (NHS numbers, ODS codes, postcodes) are never rewritten here: the internal schema owns those rules.
 */

/** A system URL in a form where spelling variants compare equal (scheme, case and trailing slash dropped). */
export function canonicalSystem(system: string): string {
  const trimmed = system.trim().replace(/^https?:\/\//i, '');
  // A loop, not /\/+$/: that regex retries from every slash in a run, quadratic in a long run of slashes.
  let end = trimmed.length;
  while (end > 0 && trimmed.charCodeAt(end - 1) === 0x2f) end--;
  return trimmed.slice(0, end).toLowerCase();
}

/** Is `system` (as sent) one of the `accepted` canonical URLs, allowing for spelling variants? */
export function isSystem(system: string | undefined, ...accepted: string[]): boolean {
  if (system === undefined) return false;
  const canonical = canonicalSystem(system);
  return accepted.some((candidate) => canonicalSystem(candidate) === canonical);
}

export const eventSystems = [fhirSystems.messageEvents, fhirSystems.messageEventsLegacy];
export const reasonSystems = [fhirSystems.messageReasons, fhirSystems.messageReasonsLegacy];

/** The four BaRS message events; only `servicerequest-request` is processed here. */
export const barsEvents = [
  'servicerequest-request',
  'servicerequest-response',
  'booking-request',
  'booking-response',
];

/** Is this extension URL the UK Core NHS-number verification status (any spelling)? */
export function isVerificationExtension(url: string): boolean {
  return isSystem(url, fhirSystems.nhsNumberVerificationExtension);
}

const ukCoreVerification: Readonly<Record<string, NhsNumberVerification>> = {
  'number-present-and-verified': 'verified',
  'number-present-but-not-traced': 'present-not-traced',
  'trace-required': 'trace-required',
  'trace-attempted': 'trace-attempted',
  'trace-needs-to-be-resolved': 'trace-needs-resolving',
  'trace-needs-resolving': 'trace-needs-resolving',
  'trace-in-progress': 'trace-in-progress',
  'number-not-present-and-trace-not-required': 'not-present',
  'not-present': 'not-present',
  'trace-postponed': 'trace-postponed',
};

const englandVerification: Readonly<Record<string, NhsNumberVerification>> = {
  '01': 'verified',
  '02': 'present-not-traced',
  '03': 'trace-required',
  '04': 'trace-attempted',
  '05': 'trace-needs-resolving',
  '06': 'trace-in-progress',
  '07': 'not-present',
  '08': 'trace-postponed',
};

export type VerificationReading =
  { kind: 'status'; status: NhsNumberVerification } | { kind: 'unknown-code' } | { kind: 'other-system' };

/** Reads one coding of the verification extension: a known status, an unknown code in a known system, or neither. */
export function verificationFromCoding(
  system: string | undefined,
  code: string | undefined,
): VerificationReading {
  let table: Readonly<Record<string, NhsNumberVerification>>;
  if (isSystem(system, fhirSystems.nhsNumberVerification)) table = ukCoreVerification;
  else if (isSystem(system, fhirSystems.nhsNumberVerificationEngland)) table = englandVerification;
  else return { kind: 'other-system' };
  const status =
    code === undefined ? undefined : Object.hasOwn(table, code.trim()) ? table[code.trim()] : undefined;
  return status === undefined ? { kind: 'unknown-code' } : { kind: 'status', status };
}

/**
 * Keys under which a reference string may find its entry: the string itself, and for RESTful forms the trailing
 * `Type/id` (without `/_history/n`). `#contained` references are not supported and resolve to nothing.
 */
export function referenceKeys(reference: string): string[] {
  const trimmed = reference.trim();
  const keys = [trimmed];
  if (/^urn:(uuid|oid):/i.test(trimmed)) return [trimmed.toLowerCase()];
  const withoutHistory = trimmed.replace(/\/_history\/[^/]+$/, '');
  const match = /(?:^|\/)([A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64})$/.exec(withoutHistory);
  if (match?.[1] !== undefined) keys.push(match[1]);
  return keys;
}

/** Keys under which an entry can be found: its fullUrl (and trailing `Type/id`), and `resourceType/id`. */
export function entryKeys(fullUrl: string, resourceType: string, id: unknown): string[] {
  const keys = referenceKeys(fullUrl);
  if (typeof id === 'string' && id !== '') keys.push(`${resourceType}/${id}`);
  return keys;
}
