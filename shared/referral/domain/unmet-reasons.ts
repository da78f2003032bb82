/**
 * Why a need has no fitting service, for the gap reports: no service covers the area at all; services cover it but
 * none is taking referrals; none admits the patient (age); the fitting ones need details the patient did not
 * consent to share. On its own (referral.ts re-exports it), so the reports do not build the referral's schemas at
 * import.
 */
export const unmetReasons = ['no-service', 'all-full-or-paused', 'none-eligible', 'no-consent'] as const;
export type UnmetReason = (typeof unmetReasons)[number];
