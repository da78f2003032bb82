import type { InterventionCategory } from '#referral/domain/categories.ts';

/**
 * Codes the product knows: SNOMED CT concepts for social prescribing (national codes GP systems must record) and
 * the mapping from intervention codes to our need categories. Codes outside these lists are refused on input, so a
 * typo cannot silently become "no need".
 */

export const snomedSystem = 'http://snomed.info/sct';

/** Our own code system for need categories, for senders that code needs directly. */
export const needCategorySystem = 'https://social-prescribing.example.org/CodeSystem/need-category';

/** Our BaRS-shaped use case (BaRS has no social-prescribing use case yet). */
export const useCaseSystem = 'https://social-prescribing.example.org/CodeSystem/bars-use-case';
export const useCaseCode = 'social-prescribing';

export const socialPrescribingCodes = {
  referral: '871731000000106', // Referral to social prescribing service
  offered: '871691000000100', // Social prescribing offered
  declined: '871711000000103', // Social prescribing declined
  signposting: '1084281000000109', // Signposting to social prescribing service
  seenByLinkWorker: '1362931000000106', // Seen by social prescribing link worker
  caseClosed: '1362721000000106', // Social prescribing case closed
  mentalHealth: '515721000000104', // Social prescribing for mental health
} as const;

/** ServiceRequest.code values that mean "a social-prescribing referral". */
export const referralRequestCodes: ReadonlySet<string> = new Set([
  socialPrescribingCodes.referral,
  socialPrescribingCodes.signposting,
  socialPrescribingCodes.mentalHealth,
]);

/** SNOMED intervention / reason codes and the need category each stands for. */
export const snomedNeedCategories: Readonly<Record<string, InterventionCategory>> = {
  '1078371000000100': 'health-coaching', // Referral for health coaching
  '526151000000109': 'physical-activity', // Referral to exercise on referral programme
  '390893007': 'physical-activity', // Referral to physical activity program
  '171001002': 'benefits-advice', // Counseling about benefits
  '171002009': 'employment-support', // Vocational counseling
  '278415002': 'arts', // Creative therapy
  '515721000000104': 'mental-health', // Social prescribing for mental health
};

export const snomedDisplay: Readonly<Record<string, string>> = {
  '871731000000106': 'Referral to social prescribing service',
  '871691000000100': 'Social prescribing offered',
  '871711000000103': 'Social prescribing declined',
  '1084281000000109': 'Signposting to social prescribing service',
  '1362931000000106': 'Seen by social prescribing link worker',
  '1362721000000106': 'Social prescribing case closed',
  '515721000000104': 'Social prescribing for mental health',
  '1078371000000100': 'Referral for health coaching',
  '526151000000109': 'Referral to exercise on referral programme',
  '390893007': 'Referral to physical activity program',
  '171001002': 'Counseling about benefits',
  '171002009': 'Vocational counseling',
  '278415002': 'Creative therapy',
  '306238000': 'Referral to Social Services',
};

/**
 * The SNOMED CT code the messages back to the practice carry for an intervention category, where domain.md lists
 * one (the national intervention examples). Categories without one (nature, housing and debt advice, befriending,
 * food) are sent with our need-category code only: no SNOMED code is invented for them.
 */
export const interventionSnomedCodes: Readonly<Partial<Record<InterventionCategory, string>>> = {
  'health-coaching': '1078371000000100', // Referral for health coaching
  'physical-activity': '390893007', // Referral to physical activity program
  'benefits-advice': '171001002', // Counseling about benefits
  'employment-support': '171002009', // Vocational counseling
  arts: '278415002', // Creative therapy
  'mental-health': '515721000000104', // Social prescribing for mental health
};

// ---- Our own code systems for the messages back to the practice ---------------------------------------------------
// BaRS and domain.md give no codes for these; they are ours (social-prescribing.example.org), so a GP system files the
// national SNOMED code beside them and can show ours as they are. docs/api.md lists every code.

/** What happened, one code per message back to the practice (`Task.businessStatus`, beside the SNOMED code). */
export const responseEventSystem =
  'https://social-prescribing.example.org/CodeSystem/referral-response-event';
/** Why the link-worker team declined (lifecycle.ts `declineReasons`). */
export const declineReasonSystem = 'https://social-prescribing.example.org/CodeSystem/decline-reason';
/** Why a case was closed. */
export const closureReasonSystem = 'https://social-prescribing.example.org/CodeSystem/closure-reason';
/** Task.output types of the messages back to the practice. */
export const responseOutputSystem =
  'https://social-prescribing.example.org/CodeSystem/referral-response-output';
/** The link-worker team's id in the directory. */
export const teamIdentifierSystem = 'https://social-prescribing.example.org/Id/team';
