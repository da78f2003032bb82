import { keyedUuid } from '#kernel/ids.ts';
import { practiceDeliveryId } from '#messages/notice-message.ts';
import type { WebhookChannel } from '#directory/domain/directory.ts';
import { practiceSecretName } from '#directory/domain/secret-names.ts';
import type { Directory } from '#directory/ports.ts';
import {
  practiceResponseBundle,
  practiceResponseKinds,
  type PracticeResponseEvent,
  type PracticeResponseKind,
} from '#fhir/outbound/servicerequest-response.ts';
import type { LifecycleNoticeKind } from '#referral/domain/lifecycle.ts';
import type { Referral } from '#referral/domain/referral.ts';

/**
 * A lifecycle notice to the `practice` audience (accepted, seen, declined, intervention-started, closed) turned into
 * the message back to the referring practice: the BaRS `servicerequest-response` Bundle
 * (#fhir/outbound/servicerequest-response.ts) and where and how it goes, for the notifier to sign and send like any
 * delivery (it is not wired into the notifier yet).
 *
 * What the message says is read from the referral's case work (the record each action leaves: `acceptance`,
 * `firstContact`, `teamDecline`, `interventionStart`, `closure`), so a retry, or a redelivered notice, builds the
 * very same message: its id is derived from the referral and the event, its timestamp is the event's own.
 *
 * It goes to the practice's endpoint from the directory (`Practice.endpoint`), signed with the secret
 * `practice/<ods>`. The MessageHeader names the BaRS sender's `source.endpoint` as its destination when the
 * referral came as a BaRS message (where BaRS says responses go), else the directory endpoint.
 */

export interface PracticeResponseDeps {
  directory: Pick<Directory, 'practice'>;
  /** Our `$process-message` URL (MessageHeader.source.endpoint: where the practice's system answers us). */
  sourceEndpoint: string;
}

export type PracticeResponse =
  | {
      outcome: 'send';
      /** The webhook-id and delivery key: stable per referral and event, so a repeat is dropped by the receiver. */
      deliveryId: string;
      eventType: 'servicerequest-response';
      endpoint: WebhookChannel;
      /** The secret store's name of the signing secret. */
      secretName: string;
      message: Record<string, unknown>;
    }
  /** Nothing to send: this notice is not one for the practice. */
  | { outcome: 'not-for-practice' }
  /** The event's record is not on the referral (yet): the notice is ahead of the write it reports; retry later. */
  | { outcome: 'not-recorded'; reason: string }
  /**
   * The practice has no endpoint in the directory (or is not in it): the message cannot go. The caller records it
   * and counts it (the GP hears nothing: hazard H7), never retries it forever.
   */
  | { outcome: 'no-endpoint'; reason: string };

const isPracticeKind = (kind: LifecycleNoticeKind): kind is PracticeResponseKind =>
  (practiceResponseKinds as readonly string[]).includes(kind);

/** A UUID (RFC 9562 version 8) derived from the referral and the event: the message's id, the same on every retry. */
export function practiceMessageId(referralId: string, kind: PracticeResponseKind): string {
  return keyedUuid(['servicerequest-response', referralId], kind);
}

/** The event as the referral's case work recorded it, or why it is not there. */
export function practiceEventOf(
  referral: Referral,
  kind: PracticeResponseKind,
): PracticeResponseEvent | { missing: string } {
  // The needs the case addresses: what the intervention is for (the case work records no narrower list).
  const interventions = referral.needs;
  switch (kind) {
    case 'accepted':
      return referral.acceptance
        ? { kind, at: referral.acceptance.at }
        : { missing: 'the referral has no acceptance recorded' };
    case 'seen':
      return referral.firstContact
        ? { kind, at: referral.firstContact.at }
        : { missing: 'the referral has no first contact recorded' };
    case 'declined': {
      const decline = referral.teamDecline;
      if (!decline) return { missing: 'the referral has no decline recorded' };
      return {
        kind,
        at: decline.at,
        reason: decline.reason,
        ...(decline.text === undefined ? {} : { note: decline.text }),
      };
    }
    case 'intervention-started':
      return referral.interventionStart
        ? { kind, at: referral.interventionStart.at, interventions }
        : { missing: 'the referral has no intervention start recorded' };
    case 'closed': {
      const closure = referral.closure;
      if (!closure) return { missing: 'the referral has no closure recorded' };
      return {
        kind,
        at: closure.at,
        reason: closure.reason,
        code: closure.code,
        ...(referral.interventionStart === undefined ? {} : { interventions }),
        ...(closure.text === undefined ? {} : { note: closure.text }),
      };
    }
  }
}

export async function practiceResponseFor(
  deps: PracticeResponseDeps,
  referral: Referral,
  notice: { kind: LifecycleNoticeKind },
): Promise<PracticeResponse> {
  if (!isPracticeKind(notice.kind)) return { outcome: 'not-for-practice' };
  const kind = notice.kind;
  const event = practiceEventOf(referral, kind);
  if ('missing' in event) return { outcome: 'not-recorded', reason: event.missing };

  const practice = await deps.directory.practice(referral.practiceOds);
  if (practice === undefined)
    return { outcome: 'no-endpoint', reason: `practice ${referral.practiceOds} is not in the directory` };
  if (practice.endpoint === undefined)
    return {
      outcome: 'no-endpoint',
      reason: `practice ${referral.practiceOds} has no endpoint in the directory`,
    };

  const messageId = practiceMessageId(referral.referralId, kind);
  const message = practiceResponseBundle({
    referral,
    event,
    messageId,
    timestamp: event.at,
    sourceEndpoint: deps.sourceEndpoint,
    destinationEndpoint:
      referral.source.channel === 'fhir' && referral.source.senderEndpoint !== undefined
        ? referral.source.senderEndpoint
        : practice.endpoint.url,
    // A decline straight after routing is the first message back; after an acceptance it is an update.
    firstResponse: kind === 'accepted' || (kind === 'declined' && referral.acceptance === undefined),
  });
  return {
    outcome: 'send',
    deliveryId: `${practiceDeliveryId(referral.referralId)}.${kind}`,
    eventType: 'servicerequest-response',
    endpoint: practice.endpoint,
    secretName: practiceSecretName(practice.ods),
    message,
  };
}
