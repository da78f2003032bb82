import type { InterventionCategory } from '#referral/domain/categories.ts';
import type { PlannedDelivery, Referral, UnmetReason } from '#referral/domain/referral.ts';
import { hasConsentFor, shareableVerification } from '#referral/domain/sharing.ts';

/**
 * What a recipient is sent. Data minimisation lives here:
 * - a partner with the patient's consent gets what it needs to make contact and help: name, contact route, needs,
 *   reasonable adjustments and the safeguarding flag; never the NHS number, birth date or the GP's free text;
 * - a partner without consent gets signposting only: nothing identifiable;
 * - the link-worker team (direct care) also gets the GP's reason for referral, and the NHS number when its
 *   verification status allows sharing it onward (verified, or present but not traced);
 * - the team is also told which needs no service could meet, and why (category, reason code and sentence): it has
 *   to find another way for those. Partners are never sent that.
 */

export const deliveryEventTypes = {
  assigned: 'referral.assigned',
  updated: 'referral.updated',
  cancelled: 'referral.cancelled',
} as const;

export interface DeliveryPayload {
  referralId: string;
  deliveryId: string;
  /** Referral version the notice describes (1 at first, higher after updates). */
  version: number;
  recipient: PlannedDelivery['recipient'];
  content: PlannedDelivery['content'];
  needs: InterventionCategory[];
  area: string;
  referredAt: string;
  referringPractice: string;
  respondBy?: string;
  /** Team only, once routed: the needs no fitting service meets, with why (`no-service`, `all-full-or-paused`, ...). */
  unmetNeeds?: Array<{ category: InterventionCategory; code: UnmetReason; reason: string }>;
  patient?: {
    name: { given: string; family: string };
    contact: { preferred: 'phone' | 'email'; phone?: string; email?: string };
    safeguardingConcern: boolean;
    reasonableAdjustments: string[];
    nhsNumber?: string;
    reasonForReferral?: string;
  };
}

/**
 * Any other notice (the kinds of the offers' lifecycle and after: `reminder`, `withdrawn`, `offer-expired`...): a
 * small event, `referral.<kind>`, that says what happened to which referral and offer, and when, and nothing about
 * the patient, so it is within every recipient's content level. The recipient reads the rest through its worklist
 * or the status API, at its own level.
 */
export interface NoticeEvent {
  referralId: string;
  deliveryId: string;
  recipient: PlannedDelivery['recipient'];
  kind: string;
  /** The offer it is about, for the offers' notices. */
  offerId?: string;
  /** When the notice was sent. */
  at: string;
}

/** The event type of a notice of `kind`: `referral.<kind>` (the three first kinds keep their names). */
export const noticeEventType = (kind: string): string => `referral.${kind}`;

export function buildNoticeEvent(
  referral: Referral,
  delivery: PlannedDelivery,
  notice: { kind: string; offerId?: string | undefined },
  at: string,
): NoticeEvent {
  return {
    referralId: referral.referralId,
    deliveryId: delivery.deliveryId,
    recipient: delivery.recipient,
    kind: notice.kind,
    ...(notice.offerId === undefined ? {} : { offerId: notice.offerId }),
    at,
  };
}

export interface CancellationPayload {
  referralId: string;
  deliveryId: string;
  recipient: PlannedDelivery['recipient'];
  reason: string;
  cancelledAt: string;
  instruction: string;
}

export function buildDeliveryPayload(
  referral: Referral,
  delivery: PlannedDelivery,
  area: string,
): DeliveryPayload {
  const content = contentAllowedNow(referral, delivery);
  const base: DeliveryPayload = {
    referralId: referral.referralId,
    deliveryId: delivery.deliveryId,
    version: referral.version ?? 1,
    recipient: delivery.recipient,
    content,
    needs: delivery.categories,
    area,
    referredAt: referral.receivedAt,
    referringPractice: referral.practiceOds,
    ...(referral.respondBy === undefined ? {} : { respondBy: referral.respondBy }),
    ...(delivery.recipient.kind === 'team' && referral.routing
      ? {
          unmetNeeds: referral.routing.unmetNeeds.map(({ category, code, reason }) => ({
            category,
            code,
            reason,
          })),
        }
      : {}),
  };
  if (content === 'signposting') return base;

  const { name, contact, nhsNumber, nhsNumberVerification } = referral.patient;
  const patient: NonNullable<DeliveryPayload['patient']> = {
    name: { given: name.given, family: name.family },
    contact: {
      preferred: contact.preferred,
      ...(contact.phone === undefined ? {} : { phone: contact.phone }),
      ...(contact.email === undefined ? {} : { email: contact.email }),
    },
    safeguardingConcern: referral.flags?.safeguarding ?? false,
    reasonableAdjustments: referral.flags?.reasonableAdjustments ?? [],
  };
  if (delivery.recipient.kind === 'team') {
    if (nhsNumberVerification !== undefined && shareableVerification.has(nhsNumberVerification)) {
      patient.nhsNumber = nhsNumber;
    }
    if (referral.reasonForReferral !== undefined) patient.reasonForReferral = referral.reasonForReferral;
  }
  return { ...base, patient };
}

/**
 * Consent is checked again at every send, not only at routing: a patient who withdraws consent for a partner (in an
 * update) stops that partner receiving identifiable details from then on.
 */
function contentAllowedNow(referral: Referral, delivery: PlannedDelivery): PlannedDelivery['content'] {
  if (delivery.recipient.kind !== 'partner') return delivery.content;
  return hasConsentFor(referral.consent, delivery.recipient.id) ? delivery.content : 'signposting';
}

/** A cancellation notice: which referral to stop work on, and why. Nothing identifiable. */
export function buildCancellationPayload(referral: Referral, delivery: PlannedDelivery): CancellationPayload {
  return {
    referralId: referral.referralId,
    deliveryId: delivery.deliveryId,
    recipient: delivery.recipient,
    reason: referral.cancellation?.reason ?? 'revoked',
    cancelledAt: referral.cancellation?.at ?? referral.updatedAt,
    instruction:
      'The referrer has cancelled this referral: stop work on it and do not contact the patient about it.',
  };
}
