import type { ConsentGrant, NhsNumberVerification } from '#referral/domain/referral.ts';

// What may be shared onward, on its own (referral.ts re-exports it): routing, delivery and case work take referrals
// already parsed, and importing these from here keeps the referral's schemas out of their cold start.

/** Only a verified NHS number, or one present but not traced, may be shared onward (referral.ts says more). */
export const shareableVerification: ReadonlySet<NhsNumberVerification> = new Set([
  'verified',
  'present-not-traced',
]);

/** Sharing with the PCN's link worker is direct care; a VCSE partner needs the patient's explicit agreement. */
export const anyVcsePartner = 'any-vcse';

/** Does the patient agree to this partner receiving identifiable details? An explicit refusal wins. */
export function hasConsentFor(consent: ConsentGrant[], partnerId: string): boolean {
  const specific = consent.find((grant) => grant.recipient === partnerId);
  if (specific) return specific.granted;
  return consent.some((grant) => grant.recipient === anyVcsePartner && grant.granted);
}
