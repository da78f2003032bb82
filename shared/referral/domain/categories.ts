import * as z from 'zod';

/**
 * Intervention categories: what a patient needs help with, and what a VCSE service offers.
 * The evidence base names these as the common social-prescribing interventions and the typical gaps in provision.
 */
export const interventionCategories = [
  'arts',
  'nature',
  'physical-activity',
  'health-coaching',
  'benefits-advice',
  'housing-advice',
  'debt-advice',
  'mental-health',
  'employment-support',
  'befriending',
  'food',
] as const;

export const InterventionCategory = z.enum(interventionCategories);
export type InterventionCategory = z.infer<typeof InterventionCategory>;
