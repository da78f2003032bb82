import * as z from 'zod';
import { InterventionCategory } from '#referral/domain/categories.ts';
import { DeclineReason } from '#referral/domain/lifecycle.ts';
import { channelPolicies } from '#directory/domain/channel-policy.ts';
import { OdsCode } from '#directory/domain/ods-code.ts';

export { OdsCode };
export { practiceSecretName, secretNameOf } from '#directory/domain/secret-names.ts';
export { servesPractice } from '#directory/domain/serves-practice.ts';

/**
 * The service directory: who refers (practices in PCNs), who sees the patient (a PCN's link-worker team), and who
 * helps (VCSE partners and their services). A service says which intervention categories it offers, where (postcode
 * districts, LSOAs, or a whole local authority), for whom (age range, criteria a link worker reads), and whether it
 * can take more people now (capacity). Teams, partners and services are versioned records that are retired, never
 * deleted, so a referral's history always names what it was matched with.
 *
 * How a recipient is reached (its channel) is here; the secret that signs what it is sent is not: secrets live in a
 * secret store (AWS Secrets Manager, or a local file in `npm start`), read through the RecipientSecrets port.
 */

const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max);

export const PostcodeDistrict = z
  .string()
  .max(4)
  .regex(/^[A-Z]{1,2}\d[A-Z\d]?$/, 'a postcode district such as LS6');
/** An LSOA (2011 or 2021) or Welsh equivalent: E01 / W01 and six digits. */
export const LsoaCode = z
  .string()
  .max(9)
  .regex(/^[EW]01\d{6}$/, 'an LSOA code such as E01011331');
/** A local authority district: E06 / E07 / E08 / E09 / W06 and six digits. */
export const LocalAuthorityCode = z
  .string()
  .max(9)
  .regex(/^(E0[6-9]|W06)\d{6}$/, 'a local authority district code such as E08000035');
/** Directory ids are chosen by people and appear in URLs and keys: lower-case words joined by hyphens. */
export const DirectoryId = z
  .string()
  .max(64, { abort: true, error: 'at most 64 characters' })
  .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'lower-case letters, digits and single hyphens, such as arts-for-all');

/** A record is `active` until it is retired; a retired one takes no new referrals and keeps its history. */
export const RecordStatus = z.enum(['active', 'retired']);
export type RecordStatus = z.infer<typeof RecordStatus>;
/** Every directory record carries a version, so an edit names the version it was made on (a stale edit is refused). */
export const Version = z.number().int().min(1).max(1_000_000_000);

/** A recipient's own system: webhooks are signed (Standard Webhooks) with a secret kept in the secret store. */
export const WebhookChannel = z.strictObject({
  kind: z.literal('webhook'),
  url: z.url({ protocol: /^https?$/ }).max(2048),
});
export type WebhookChannel = z.infer<typeof WebhookChannel>;

/**
 * A recipient with no system that can take a webhook (many small charities): an email to this address says only
 * that there is news and links to the inbox page, where they sign in. The email carries no patient data at all.
 */
export const EmailChannel = z.strictObject({
  kind: z.literal('email'),
  address: z.email('an email address such as referrals@charity.example').max(254),
});
export type EmailChannel = z.infer<typeof EmailChannel>;

/** Nothing is pushed: the recipient works from its worklist (the inbox page or the worklist API). */
export const WorklistChannel = z.strictObject({ kind: z.literal('worklist') });
export type WorklistChannel = z.infer<typeof WorklistChannel>;

/** How a recipient is reached: `webhook` (signed), `email` (a nudge with no patient data), or `worklist` only. */
export const RecipientChannel = z.discriminatedUnion(
  'kind',
  [WebhookChannel, EmailChannel, WorklistChannel],
  {
    error:
      'a channel: { "kind": "webhook", "url" }, { "kind": "email", "address" } or { "kind": "worklist" }',
  },
);
export type RecipientChannel = z.infer<typeof RecipientChannel>;
export type ChannelKind = RecipientChannel['kind'];

/**
 * Where webhooks may go, a deployment setting: `https-only` in AWS (https, and never an IP-literal host that is
 * loopback, link-local, private or unspecified, nor `localhost`), `allow-loopback-http` locally (npm start, tests),
 * which also allows plain http to a loopback host. The check is on the URL as written: a DNS name that resolves to a
 * private address is not caught here (a known limit).
 */
export const ChannelPolicy = z.enum(channelPolicies);
export type ChannelPolicy = z.infer<typeof ChannelPolicy>;

export { channelProblem } from '#directory/domain/channel-policy.ts';

/** A Standard Webhooks signing secret: `whsec_` + base64. */
export const WebhookSecret = z
  .string()
  .max(200)
  .regex(/^whsec_[A-Za-z0-9+/]{24,}={0,2}$/, 'a Standard Webhooks secret: whsec_ and base64');

export const Pcn = z.strictObject({
  code: z.string().regex(/^U\d{5}$/, 'a PCN code is U and five digits'),
  name: text(200),
  icb: text(200),
});
export type Pcn = z.infer<typeof Pcn>;

export const Practice = z.strictObject({
  ods: OdsCode,
  name: text(200),
  pcn: Pcn.shape.code,
  /** The practice's postcode district: where a referral is matched when the patient's postcode is not known. */
  area: PostcodeDistrict,
  /**
   * Where the messages back to the practice go (BaRS `servicerequest-response`, signed like any webhook with the
   * secret `practice/<ods>`), for a referral that did not come with a BaRS sender's endpoint. Not in the ODS files:
   * set by import-practices from an optional `Endpoint` column (docs/directory.md).
   */
  endpoint: WebhookChannel.optional(),
});
export type Practice = z.infer<typeof Practice>;

export const LinkWorkerTeam = z.strictObject({
  id: DirectoryId,
  name: text(200),
  pcn: Pcn.shape.code,
  /** The practices it serves; absent means every practice of its PCN. */
  practices: z.array(OdsCode).max(200).optional(),
  channel: RecipientChannel,
  status: RecordStatus.default('active'),
  version: Version.default(1),
});
export type LinkWorkerTeam = z.infer<typeof LinkWorkerTeam>;

/** VCSE organisations rarely have ODS codes: a charity or company number, or an Open Referral UK id, names them. */
export const PartnerIdentifiers = z.strictObject({
  charityNumber: z
    .string()
    .regex(/^\d{6,8}(-\d{1,2})?$/, 'a charity number: 6 to 8 digits')
    .optional(),
  companyNumber: z
    .string()
    .regex(/^([0-9]{8}|[A-Z]{2}[0-9]{6})$/, 'a company number: 8 digits, or 2 letters and 6 digits')
    .optional(),
  orukId: z.uuid('an Open Referral UK organisation id (a UUID)').optional(),
});
export type PartnerIdentifiers = z.infer<typeof PartnerIdentifiers>;

/**
 * How a partner has answered referrals (acceptance rate, median hours to answer), recomputed daily from each answer
 * counted once (#reporting/domain/response-record.ts, docs/directory.md). Matching prefers a better record among
 * equally fitting services. `answered` counts accepts and coded declines; expiries (silence) are apart in `expired`.
 * The later fields are optional, so a record written before them (or by an import) stays valid.
 */
export const ResponseRecord = z.strictObject({
  answered: z.number().int().min(0),
  accepted: z.number().int().min(0),
  medianResponseHours: z.number().min(0).optional(),
  /** Declines by coded reason (free text is never counted). */
  declineReasons: z.partialRecord(DeclineReason, z.number().int().min(0)).optional(),
  /** Offers the partner let pass their deadline unanswered. */
  expired: z.number().int().min(0).optional(),
  /** The rolling window the figures cover, in days up to the last daily recompute. */
  windowDays: z.number().int().min(1).optional(),
});
export type ResponseRecord = z.infer<typeof ResponseRecord>;

export const Partner = z.strictObject({
  id: DirectoryId,
  name: text(200),
  identifiers: PartnerIdentifiers.default({}),
  channel: RecipientChannel,
  status: RecordStatus.default('active'),
  version: Version.default(1),
  responseRecord: ResponseRecord.optional(),
});
export type Partner = z.infer<typeof Partner>;

/**
 * Where a service is offered. At least one of: postcode districts, LSOAs, whole local authorities. Matching prefers
 * the narrowest coverage that reaches the patient (an LSOA before a district before a local authority).
 */
/** An issue at each entry of a list that repeats an earlier one (a list of areas or categories is a set). */
function refuseRepeats(
  list: readonly string[],
  path: readonly PropertyKey[],
  context: z.RefinementCtx,
): void {
  for (const [index, item] of list.entries())
    if (list.indexOf(item) !== index)
      context.addIssue({ code: 'custom', path: [...path, index], message: `lists "${item}" more than once` });
}

export const Coverage = z
  .strictObject({
    districts: z.array(PostcodeDistrict).max(500).default([]),
    lsoas: z.array(LsoaCode).max(5_000).default([]),
    localAuthorities: z.array(LocalAuthorityCode).max(50).default([]),
  })
  .refine((c) => c.districts.length + c.lsoas.length + c.localAuthorities.length > 0, {
    error: 'a service covers at least one postcode district, LSOA or local authority',
  })
  .superRefine((coverage, context) => {
    refuseRepeats(coverage.districts, ['districts'], context);
    refuseRepeats(coverage.lsoas, ['lsoas'], context);
    refuseRepeats(coverage.localAuthorities, ['localAuthorities'], context);
  });
export type Coverage = z.infer<typeof Coverage>;

/** Who a service is for. Ages are checked at matching; criteria are shown to the link worker, never enforced. */
export const Eligibility = z
  .strictObject({
    minimumAge: z.number().int().min(0).max(130).optional(),
    maximumAge: z.number().int().min(0).max(130).optional(),
    criteria: text(2_000).optional(),
  })
  .refine((e) => e.minimumAge === undefined || e.maximumAge === undefined || e.minimumAge <= e.maximumAge, {
    error: 'minimumAge must not be above maximumAge',
    path: ['maximumAge'],
  });
export type Eligibility = z.infer<typeof Eligibility>;

/**
 * Whether a service can take new referrals: `open`, `paused` (by the partner, for a while) or `full`. An optional
 * weekly limit makes an open service full for the rest of the week once that many referrals were matched to it.
 */
export const CapacityState = z.enum(['open', 'paused', 'full']);
export type CapacityState = z.infer<typeof CapacityState>;
export const Capacity = z.strictObject({
  state: CapacityState.default('open'),
  weeklyLimit: z.number().int().min(1).max(100_000).optional(),
});
export type Capacity = z.infer<typeof Capacity>;

export const ServiceContact = z.strictObject({
  name: text(200),
  email: z.email().max(254).optional(),
  phone: z
    .string()
    .regex(/^\+?[0-9 ]{10,20}$/, 'a phone number of 10 to 15 digits')
    .optional(),
});
export type ServiceContact = z.infer<typeof ServiceContact>;

/**
 * At most this many coverage index entries per service (one per category and district, LSOA or local authority):
 * each is a copy of the service, and the whole set is rewritten on every change.
 */
export const maxCoverageEntries = 1_000;

export const Service = z
  .strictObject({
    id: DirectoryId,
    partnerId: DirectoryId,
    name: text(200),
    description: text(2_000).optional(),
    categories: z.array(InterventionCategory).min(1).max(20),
    coverage: Coverage,
    eligibility: Eligibility.default({}),
    capacity: Capacity.default({ state: 'open' }),
    /**
     * Whether the service will take a referral with no identifiable details (a signposting notice: the link worker
     * puts the patient in touch). A service that needs the patient's details cannot help someone who did not consent
     * to share them with it.
     */
    acceptsSignposting: z.boolean().default(true),
    /** Working days the partner expects to take to answer a referral. */
    responseDays: z.number().int().min(1).max(90).default(5),
    contact: ServiceContact.optional(),
    status: RecordStatus.default('active'),
    version: Version.default(1),
  })
  .superRefine((service, context) => {
    refuseRepeats(service.categories, ['categories'], context);
    const { districts, lsoas, localAuthorities } = service.coverage;
    const areas = districts.length + lsoas.length + localAuthorities.length;
    const entries = service.categories.length * areas;
    if (entries > maxCoverageEntries)
      context.addIssue({
        code: 'custom',
        path: ['coverage'],
        message: `is too large: ${service.categories.length} categories x ${areas} areas is ${entries} coverage entries, and a service may have at most ${maxCoverageEntries} (categories x (districts + LSOAs + local authorities)); cover a whole local authority instead of many LSOAs or districts`,
      });
  });
export type Service = z.infer<typeof Service>;

/** The whole directory as a file (events/directory.json), validated before it is loaded. */
export const DirectorySnapshot = z.strictObject({
  _comment: z.string().optional(),
  pcns: z.array(Pcn),
  practices: z.array(Practice),
  teams: z.array(LinkWorkerTeam),
  partners: z.array(Partner),
  services: z.array(Service),
  /**
   * Signing secrets by recipient (`team/<id>`, `partner/<id>`, `practice/<ods>` for a practice's endpoint), for
   * loading into the secret store. Only seed files carry them; the directory table never stores a secret.
   */
  secrets: z
    .record(z.string().regex(/^(team|partner)\/[a-z0-9-]+$|^practice\/[A-Z]\d{5}$/), WebhookSecret)
    .optional(),
});
export type DirectorySnapshot = z.infer<typeof DirectorySnapshot>;

export type RecipientKind = 'team' | 'partner';
/**
 * Whose signing secret the secret store keeps: a recipient's, or a practice's (the messages back to the GP go to
 * its endpoint). A practice is no recipient of deliveries, so it has a secret but no `channelOf`.
 */
export type SecretOwnerKind = RecipientKind | 'practice';
