import * as z from 'zod';

/**
 * Why a social-prescribing case was closed (the `close` event's data; every reason leads to the same `closed` state),
 * coded so the funnel counts closures by reason and the practice's message carries a code, never only words:
 * - `completed`: the support agreed has ended (or advice or signposting was enough);
 * - `patient-withdrew`: the patient stopped taking part;
 * - `patient-unreachable`: contact was lost after the case was accepted;
 * - `moved-away`: the patient left the area the team serves;
 * - `referred-elsewhere`: another service (statutory or clinical) took the case on;
 * - `other`: with free text, which a codes-only message leaves out.
 * The same list as the case-work action's (#referral/domain/case-work.ts): one vocabulary for the action and the
 * message.
 */
export const closureReasons = [
  'completed',
  'patient-withdrew',
  'patient-unreachable',
  'moved-away',
  'referred-elsewhere',
  'other',
] as const;
export const ClosureReason = z.enum(closureReasons);
export type ClosureReason = z.infer<typeof ClosureReason>;

/** What people see beside each code (the practice's message carries both). */
export const closureReasonDisplay: Record<ClosureReason, string> = {
  completed: 'Support completed',
  'patient-withdrew': 'Patient stopped taking part',
  'patient-unreachable': 'Patient could not be contacted',
  'moved-away': 'Patient moved out of the area',
  'referred-elsewhere': 'Referred to another service',
  other: 'Other reason',
};
