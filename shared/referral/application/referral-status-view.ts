import * as z from 'zod';
import { InterventionCategory } from '#referral/domain/categories.ts';
import {
  candidateRules,
  candidateVerdicts,
  coverageLevels,
  deliveryStatuses,
  referralStatuses,
  unmetReasons,
} from '#referral/domain/referral.ts';

/**
 * What a referral's status shows: where it went and how far it got. No patient identifiers: the status answers
 * "was it routed and delivered?", not "who is the patient?". The schema is also the API's (shared/http/api-schemas.ts).
 */
const Lsoa = z.object({
  code: z.string().describe('LSOA code, e.g. E01011331'),
  vintage: z.enum(['2011', '2021']).describe('The LSOA boundaries the code is of'),
});
const Imd = z
  .object({
    edition: z.enum(['2019', '2025']).describe('The English IMD edition the rank and decile come from'),
    rank: z.number().int().describe('Rank of the LSOA in that edition, 1 = most deprived'),
    decile: z.number().int().min(1).max(10).describe('1 = the most deprived tenth of LSOAs in England'),
  })
  .nullable()
  .describe(
    "The IMD rank and decile of the patient's LSOA; null if not known (no LSOA, or not an English one)",
  );
const UnmetCode = z
  .enum(unmetReasons)
  .describe(
    '`no-service` (no service covers the area), `all-full-or-paused` (services do, but none is taking referrals), ' +
      '`none-eligible` (none admits the patient, e.g. by age) or `no-consent` (the fitting ones need details the ' +
      'patient has not consented to share)',
  );

export const AreaClassificationView = z
  .object({
    source: z
      .enum(['patient-postcode', 'practice'])
      .describe("The patient's postcode, or (without one) the practice's area"),
    postcodeStatus: z
      .enum(['found', 'terminated', 'not-found', 'none'])
      .describe(
        "Whether the geography knew the patient's postcode (`terminated` postcodes still classify); `none`: no postcode",
      ),
    district: z.string().describe('Postcode district matched in'),
    lsoa: Lsoa.optional().describe("The patient's LSOA, of the vintage the IMD edition is keyed on"),
    localAuthority: z.string().optional().describe('Local authority district code, e.g. E08000035'),
    imdEdition: z.enum(['2019', '2025']).describe('The IMD edition the referral was classified with'),
    lsoaVintage: z.enum(['2011', '2021']).describe('The LSOA vintage that edition is keyed on'),
    imd: Imd,
  })
  .describe(
    "Where the referral was matched and how deprived the patient's area is; the full postcode is never shown",
  );

export const NeedMatchingView = z.object({
  category: InterventionCategory,
  outcome: z.enum(['matched', 'unmet']),
  unmet: z.object({ code: UnmetCode, reason: z.string() }).optional().describe('Why no service fits'),
  candidates: z
    .array(
      z.object({
        serviceId: z.string(),
        serviceName: z.string(),
        partnerId: z.string(),
        partnerName: z.string(),
        coveredBy: z
          .enum(coverageLevels)
          .describe("The narrowest of its coverage that reaches the patient's area"),
        verdict: z
          .enum(candidateVerdicts)
          .describe('`chosen` (one per need), `eligible` (fits, ranked lower) or `ruled-out`'),
        rule: z.enum(candidateRules).describe('The rule that ruled it in or out'),
        reason: z.string().describe('The same, in words'),
        content: z
          .enum(['identifiable', 'signposting'])
          .optional()
          .describe('For a service that fits: what its partner may be sent'),
      }),
    )
    .describe(
      'Every service considered for the need: the chosen one first, then the others that fit, then those ruled out',
    ),
});

export const ReferralStatusViewSchema = z.object({
  referralId: z.uuid(),
  status: z.enum(referralStatuses),
  receivedAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  practiceOds: z.string().describe('ODS code of the referring practice'),
  needs: z.array(InterventionCategory),
  area: z.string().nullable().describe('Postcode district the referral was routed in; null until routed'),
  team: z
    .object({ id: z.string(), name: z.string(), reason: z.string() })
    .nullable()
    .describe("The PCN's link-worker team assigned, with the reason; null until routed or if none covers it"),
  noTeam: z
    .object({
      code: z.literal('no-link-worker-team'),
      reason: z.string(),
      pcn: z.string().describe('The PCN of the practice'),
    })
    .nullable()
    .describe('Recorded when no active link-worker team serves the practice (it is counted); null otherwise'),
  classification: AreaClassificationView.nullable().describe(
    "Where the referral was matched and how deprived the patient's area is; null until routed (or routed before " +
      'explainable matching)',
  ),
  partners: z
    .array(
      z.object({
        category: z.string().describe('The intervention category matched'),
        partnerId: z.string(),
        partnerName: z.string(),
        serviceName: z.string(),
        reason: z.string(),
        coveredBy: z.enum(coverageLevels).optional(),
        content: z
          .enum(['identifiable', 'signposting'])
          .optional()
          .describe('What the partner is sent for this need'),
      }),
    )
    .describe('VCSE services matched, one per need met'),
  unmetNeeds: z
    .array(
      z.object({
        category: z.string().describe('The intervention category no fitting service covers'),
        area: z.string().describe('Postcode district'),
        reason: z.string().describe('Why, in words'),
        code: UnmetCode.optional(),
        lsoa: Lsoa.optional(),
        imd: Imd.optional(),
      }),
    )
    .describe('Needs no fitting service in the area meets, with why'),
  matching: z
    .array(NeedMatchingView)
    .describe('Per need, every candidate service considered and the rule that ruled it in or out'),
  deliveries: z
    .array(
      z.object({
        deliveryId: z.string(),
        recipient: z.object({
          kind: z.string().describe('`team` or `partner`'),
          id: z.string(),
          name: z.string(),
        }),
        content: z
          .string()
          .describe('`identifiable` (name and contact route) or `signposting` (nothing identifiable)'),
        status: z
          .enum(deliveryStatuses)
          .describe(
            '`pending` (not sent yet), `sending` (sent, confirming: the webhook went out, or was about to, and its ' +
              'answer is not recorded yet; if it stays so, it is re-sent with the same webhook-id, which receivers ' +
              'de-duplicate on), `retrying` (the recipient refused it or could not be reached; it is retried after ' +
              'a backoff), `delivered` (the recipient accepted it, or it is in their worklist) or `failed` (the ' +
              "recipient refused it for good, e.g. HTTP 410; it is not retried and the service's operators are alerted)",
          ),
        statusText: z.string().describe('The status in words, e.g. "sent, confirming"'),
        attemptedAt: z.iso.datetime().optional().describe('When the latest attempt went out'),
        deliveredAt: z.iso.datetime().optional(),
      }),
    )
    .describe('One webhook delivery per recipient'),
});
export type ReferralStatusView = z.infer<typeof ReferralStatusViewSchema>;
