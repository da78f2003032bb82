import { z } from 'zod';

/**
 * Why a social-prescribing case was closed (the `close` event's data; every reason leads to the same `closed` state).
 * Coded so the funnel counts closures by reason and the practice's message carries a code, never only words:
 * - `support-completed`: the patient took up the support agreed and the case ended as planned;
 * - `advice-or-signposting`: advice or signposting was enough, no intervention was needed;
 * - `patient-withdrew`: the patient stopped taking part after it had started;
 * - `patient-unreachable`: contact was lost after the case was accepted;
 * - `moved-away`: the patient left the area the team serves;
 * - `referred-elsewhere`: another service (statutory or clinical) took the case on;
 * - `no-suitable-service`: nothing in the area could meet the need (an unmet need for the gap reports);
 * - `other`: with free text, which a codes-only message leaves out.
 */
export const closureReasons = [
  'support-completed',
  'advice-or-signposting',
  'patient-withdrew',
  'patient-unreachable',
  'moved-away',
  'referred-elsewhere',
  'no-suitable-service',
  'other',
] as const;
export const ClosureReason = z.enum(closureReasons);
export type ClosureReason = z.infer<typeof ClosureReason>;

/** What people see beside each code (the practice's message carries both). */
export const closureReasonDisplay: Record<ClosureReason, string> = {
  'support-completed': 'Support completed as agreed',
  'advice-or-signposting': 'Advice or signposting was enough',
  'patient-withdrew': 'Patient stopped taking part',
  'patient-unreachable': 'Patient could not be contacted',
  'moved-away': 'Patient moved out of the area',
  'referred-elsewhere': 'Referred to another service',
  'no-suitable-service': 'No suitable service in the area',
  other: 'Other reason',
};
