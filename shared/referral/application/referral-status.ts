import { NotFoundError } from '#kernel/errors.ts';
import type { DeliveryStatus, Referral } from '#referral/domain/referral.ts';
import type { ReferralStatusView } from '#referral/application/referral-status-view.ts';
import type { ReferralStore } from '#referral/ports.ts';

// The view's schema (the API's, with its descriptions) is in referral-status-view.ts: the status function only
// builds views, and importing the schema would build it at every cold start.
export type { ReferralStatusView };

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
  failed: 'refused by the recipient, not retried',
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
    noTeam: routing?.noTeam ?? null,
    classification: routing?.classification ?? null,
    partners: (routing?.matches ?? []).map((m) => ({
      category: m.category,
      partnerId: m.partnerId,
      partnerName: m.partnerName,
      serviceName: m.serviceName,
      reason: m.reason,
      ...(m.coveredBy ? { coveredBy: m.coveredBy } : {}),
      ...(m.content ? { content: m.content } : {}),
    })),
    unmetNeeds: routing?.unmetNeeds ?? [],
    matching: routing?.needs ?? [],
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
