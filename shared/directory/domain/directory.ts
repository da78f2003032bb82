import { z } from 'zod';
import { InterventionCategory } from '#referral/domain/categories.ts';

/**
 * The service directory: who refers (practices in PCNs), who sees the patient (a PCN's link-worker team), and who
 * helps (VCSE partners and their services, each covering some intervention categories in some areas).
 * An area is a postcode district (`LS6`): coarse enough for analytics, fine enough to match locally.
 */

export const OdsCode = z
  .string()
  .max(6, { abort: true, error: 'an ODS practice code is one capital letter and five digits' })
  .regex(/^[A-Z]\d{5}$/, 'an ODS practice code is one capital letter and five digits');
export const PostcodeDistrict = z
  .string()
  .max(4)
  .regex(/^[A-Z]{1,2}\d[A-Z\d]?$/, 'a postcode district such as LS6');

/** How a recipient is reached. Webhooks are signed (Standard Webhooks); the secret stays out of the referral. */
export const WebhookChannel = z.object({
  kind: z.literal('webhook'),
  url: z.url(),
  /** Standard Webhooks secret (`whsec_` + base64). */
  secret: z.string().startsWith('whsec_'),
});
export type WebhookChannel = z.infer<typeof WebhookChannel>;

export const Pcn = z.object({
  code: z.string().regex(/^U\d{5}$/, 'a PCN code is U and five digits'),
  name: z.string().min(1),
  icb: z.string().min(1),
});
export type Pcn = z.infer<typeof Pcn>;

export const Practice = z.object({
  ods: OdsCode,
  name: z.string().min(1),
  pcn: Pcn.shape.code,
  area: PostcodeDistrict,
});
export type Practice = z.infer<typeof Practice>;

export const LinkWorkerTeam = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  pcn: Pcn.shape.code,
  channel: WebhookChannel,
});
export type LinkWorkerTeam = z.infer<typeof LinkWorkerTeam>;

export const Partner = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  /** VCSE organisations rarely have ODS codes: a charity or company number identifies them. */
  charityNumber: z.string().optional(),
  channel: WebhookChannel,
});
export type Partner = z.infer<typeof Partner>;

export const Service = z.object({
  id: z.string().min(1),
  partnerId: z.string().min(1),
  name: z.string().min(1),
  categories: z.array(InterventionCategory).min(1),
  areas: z.array(PostcodeDistrict).min(1),
  /** A service that is full keeps its place in the directory but is not offered new referrals. */
  acceptingReferrals: z.boolean().default(true),
});
export type Service = z.infer<typeof Service>;

/** The whole directory as a file (events/directory.json), validated before it is loaded. */
export const DirectorySnapshot = z.object({
  pcns: z.array(Pcn),
  practices: z.array(Practice),
  teams: z.array(LinkWorkerTeam),
  partners: z.array(Partner),
  services: z.array(Service),
});
export type DirectorySnapshot = z.infer<typeof DirectorySnapshot>;
