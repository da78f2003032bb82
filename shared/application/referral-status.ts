import { NotFoundError } from '../domain/errors.ts';
import type { Referral } from '../domain/referral.ts';
import type { ReferralStore } from './ports.ts';

/**
 * What a referral's status shows: where it went and how far it got. No patient identifiers: the status answers
 * "was it routed and delivered?", not "who is the patient?".
 */
export interface ReferralStatusView {
  referralId: string;
  status: Referral['status'];
  receivedAt: string;
  updatedAt: string;
  practiceOds: string;
  needs: Referral['needs'];
  area: string | null;
  team: { id: string; name: string; reason: string } | null;
  partners: Array<{
    category: string;
    partnerId: string;
    partnerName: string;
    serviceName: string;
    reason: string;
  }>;
  unmetNeeds: Array<{ category: string; area: string; reason: string }>;
  deliveries: Array<{
    deliveryId: string;
    recipient: { kind: string; id: string; name: string };
    content: string;
    status: string;
    deliveredAt?: string;
  }>;
}

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
      return {
        deliveryId: d.deliveryId,
        recipient: d.recipient,
        content: d.content,
        status: state?.status ?? 'pending',
        ...(state?.deliveredAt ? { deliveredAt: state.deliveredAt } : {}),
      };
    }),
  };
}
