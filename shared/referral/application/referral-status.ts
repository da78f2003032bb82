import { z } from 'zod';
import { InterventionCategory } from '#referral/domain/categories.ts';
import { NotFoundError } from '#kernel/errors.ts';
import {
  deliveryStatuses,
  referralStatuses,
  type DeliveryStatus,
  type Referral,
} from '#referral/domain/referral.ts';
import type { ReferralStore } from '#referral/ports.ts';

/**
 * What a referral's status shows: where it went and how far it got. No patient identifiers: the status answers
 * "was it routed and delivered?", not "who is the patient?". The schema is also the API's (shared/http/api-schemas.ts).
 */
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
  partners: z
    .array(
      z.object({
        category: z.string().describe('The intervention category matched'),
        partnerId: z.string(),
        partnerName: z.string(),
        serviceName: z.string(),
        reason: z.string(),
      }),
    )
    .describe('VCSE services matched, one per need met'),
  unmetNeeds: z
    .array(
      z.object({
        category: z.string().describe('The intervention category no service covers'),
        area: z.string(),
        reason: z.string(),
      }),
    )
    .describe('Needs no service in the area covers'),
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
              'de-duplicate on), `retrying` (the recipient refused it or could not be reached; it is retried) or ' +
              '`delivered` (the recipient accepted it)',
          ),
        statusText: z.string().describe('The status in words, e.g. "sent, confirming"'),
        attemptedAt: z.iso.datetime().optional().describe('When the latest attempt went out'),
        deliveredAt: z.iso.datetime().optional(),
      }),
    )
    .describe('One webhook delivery per recipient'),
});
export type ReferralStatusView = z.infer<typeof ReferralStatusViewSchema>;

/**
 * `mayView` decides whether the caller may see this referral; a referral the caller may not see is reported as not
 * found, so ids of other organisations' referrals cannot be probed.
 */
export async function findReferral(
  referrals: ReferralStore,
  referralId: string,
  mayView: (referral: Referral) => boolean = () => true,
): Promise<Referral> {
  const referral = await referrals.get(referralId);
  if (!referral || !mayView(referral)) throw new NotFoundError(`No referral with id ${referralId}`);
  return referral;
}

export async function getReferralStatus(
  referrals: ReferralStore,
  referralId: string,
  mayView: (referral: Referral) => boolean = () => true,
): Promise<ReferralStatusView> {
  return statusView(await findReferral(referrals, referralId, mayView));
}

/** How each delivery status reads to the referrer. */
export const deliveryStatusText: Record<DeliveryStatus, string> = {
  pending: 'not sent yet',
  sending: 'sent, confirming',
  retrying: 'not accepted yet, retrying',
  delivered: 'delivered',
};

export function statusView(referral: Referral): ReferralStatusView {
  const routing = referral.routing;
  return {
    referralId: referral.referralId,
    status: referral.status,
    receivedAt: referral.receivedAt,
    updatedAt: referral.updatedAt,
    practiceOds: referral.practiceOds,
    needs: referral.needs,
    area: routing?.area ?? null,
    team: routing?.team ? { ...routing.team, reason: routing.teamReason } : null,
    partners: (routing?.matches ?? []).map((m) => ({
      category: m.category,
      partnerId: m.partnerId,
      partnerName: m.partnerName,
      serviceName: m.serviceName,
      reason: m.reason,
    })),
    unmetNeeds: routing?.unmetNeeds ?? [],
    deliveries: (routing?.deliveries ?? []).map((d) => {
      const state = referral.deliveryStatus?.[d.deliveryId];
      const status = state?.status ?? 'pending';
      return {
        deliveryId: d.deliveryId,
        recipient: d.recipient,
        content: d.content,
        status,
        statusText: deliveryStatusText[status],
        ...(state?.attemptedAt ? { attemptedAt: state.attemptedAt } : {}),
        ...(state?.deliveredAt ? { deliveredAt: state.deliveredAt } : {}),
      };
    }),
  };
}
