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
};
