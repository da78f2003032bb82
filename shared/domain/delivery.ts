import type { InterventionCategory } from './categories.ts';
import type { PlannedDelivery, Referral } from './referral.ts';

/**
 * What a recipient is sent. Data minimisation lives here: a partner gets what it needs to make contact and help
 * (name, contact route, needs), never the NHS number, the GP's free text or the birth date; without the patient's
 * consent a partner gets signposting only (nothing identifiable). The link-worker team, as direct care, also gets
 * the NHS number and the reason for referral.
 */

export const deliveryEventType = 'referral.assigned';

export interface DeliveryPayload {
  referralId: string;
  deliveryId: string;
  recipient: PlannedDelivery['recipient'];
  content: PlannedDelivery['content'];
  needs: InterventionCategory[];
  area: string;
  referredAt: string;
  referringPractice: string;
  patient?: {
    name: { given: string; family: string };
    contact: { preferred: 'phone' | 'email'; phone?: string; email?: string };
    nhsNumber?: string;
    reasonForReferral?: string;
  };
}

export function buildDeliveryPayload(
  referral: Referral,
  delivery: PlannedDelivery,
  area: string,
): DeliveryPayload {
  const base: DeliveryPayload = {
    referralId: referral.referralId,
    deliveryId: delivery.deliveryId,
    recipient: delivery.recipient,
    content: delivery.content,
    needs: delivery.categories,
    area,
    referredAt: referral.receivedAt,
    referringPractice: referral.practiceOds,
  };
  if (delivery.content === 'signposting') return base;

  const { name, contact } = referral.patient;
  const patient: NonNullable<DeliveryPayload['patient']> = {
    name: { given: name.given, family: name.family },
    contact: {
      preferred: contact.preferred,
      ...(contact.phone === undefined ? {} : { phone: contact.phone }),
      ...(contact.email === undefined ? {} : { email: contact.email }),
    },
  };
  if (delivery.recipient.kind === 'team') {
    patient.nhsNumber = referral.patient.nhsNumber;
    if (referral.reasonForReferral !== undefined) patient.reasonForReferral = referral.reasonForReferral;
  }
  return { ...base, patient };
}
