import type { AuditLog } from '#audit/ports.ts';
import type { Clock } from '#kernel/clock.ts';
import { DeliveryRetryError, UnroutableMessageError } from '#kernel/errors.ts';
import type { Directory, RecipientSecrets } from '#directory/ports.ts';
import type { ChannelKind, ChannelPolicy } from '#directory/domain/directory.ts';
import { channelProblem } from '#directory/domain/channel-policy.ts';
import type { MetricCount, MetricCounters } from '#reporting/ports.ts';
import type { ReferralStore } from '#referral/ports.ts';
import type { PracticeMessageState, Referral } from '#referral/domain/referral.ts';
import type { WebhookSender } from '#delivery/ports.ts';
import { practiceMessageId, practiceResponseFor } from '#delivery/application/practice-response.ts';
import { retryDecision, type AttemptFailure, type Backoff } from '#delivery/domain/retry-policy.ts';
import type { NoticeMessage, PracticeResponseEvent } from '#messages/notice-message.ts';

/**
 * Sending the message back to the referring practice (issue 9.5): a `practice-response` notice, queued by case work
 * (#referral/application/tell-practice.ts), made into the BaRS `servicerequest-response` by practiceResponseFor and
 * POSTed signed (the practice's secret `practice/<ods>`) to the practice's endpoint from the directory, by the same
 * webhook sender and retry policy as every delivery.
 *
 * Recorded once per referral and event on the referral (`practiceMessages`, ReferralStore.recordPracticeMessage),
 * only when final: `delivered` (2xx), `failed` (a refusal for good, a 4xx other than 408/429: audited, counted and
 * alarmed like any delivery's, never retried), `not-sent` (no endpoint or signing secret in the directory, or an
 * endpoint the channel policy refuses: recorded with the reason, audited and counted, not retried for ever; the GP
 * hears nothing, hazard H7). A recorded message is never sent again. Anything worth retrying (5xx, 408, 429,
 * timeouts) throws DeliveryRetryError with the policy's delay. A crash between the POST and the record sends it
 * again with the same webhook-id (`practice.<referralId>.<event>`), which the practice's receiver drops.
 */

export interface DeliverPracticeResponseDeps {
  referrals: Pick<ReferralStore, 'get' | 'recordPracticeMessage'>;
  directory: Pick<Directory, 'practice'>;
  secrets: RecipientSecrets;
  audit: AuditLog;
  counters: MetricCounters;
  webhooks: WebhookSender;
  clock: Clock;
  channels: ChannelPolicy;
  backoff: Backoff;
  random: () => number;
  /**
   * Our `$process-message` URL, which the message names as its source (where the practice's system answers us).
   * Undefined when the deployment has not configured it: practice messages are then retried and dead-lettered.
   */
  practiceMessages?: { sourceEndpoint: string } | undefined;
  /** Told of each push (deliver-notification.ts); a message back to the GP is the channel `practice`. */
  onAttempt?: AttemptObserver;
}

/** How a push went, by channel: a team's or partner's (the directory's kinds), or the practice's own endpoint. */
export type AttemptObserver = (channel: ChannelKind | 'practice', outcome: 'delivered' | 'failed') => void;

export type PracticeDeliveryOutcome =
  'delivered' | 'failed' | 'not-sent' | 'already-delivered' | 'already-failed';

export async function deliverPracticeResponse(
  deps: DeliverPracticeResponseDeps,
  notice: NoticeMessage,
  attempt: number,
): Promise<PracticeDeliveryOutcome> {
  const event = notice.event;
  if (event === undefined)
    throw new UnroutableMessageError(`practice notice ${notice.deliveryId} names no event`);
  const referral = await deps.referrals.get(notice.referralId);
  if (!referral) throw new UnroutableMessageError(`referral ${notice.referralId} does not exist`);

  const recorded = referral.practiceMessages?.[event];
  if (recorded) {
    // A crash may have come between the record and its audit entry or count: both are keyed, so again is free.
    await auditAndCount(deps, referral, event, recorded);
    return recorded.status === 'delivered' ? 'already-delivered' : 'already-failed';
  }
  if (!deps.practiceMessages)
    throw new UnroutableMessageError('practice messages are not configured (no source endpoint)');

  const response = await practiceResponseFor(
    { directory: deps.directory, sourceEndpoint: deps.practiceMessages.sourceEndpoint },
    referral,
    { kind: event },
  );
  // The notice is queued after the write it reports, so this is a fault of ours: retried, then dead-lettered.
  if (response.outcome === 'not-recorded' || response.outcome === 'not-for-practice')
    throw new UnroutableMessageError(
      `practice message ${event}: ${response.outcome === 'not-recorded' ? response.reason : 'not a practice event'}`,
    );
  if (response.outcome === 'no-endpoint') return notSent(deps, referral, event, response.reason);

  const refused = channelProblem(response.endpoint.url, deps.channels);
  if (refused) return notSent(deps, referral, event, `the practice's endpoint ${refused}`);
  const secret = await deps.secrets.secretOf('practice', referral.practiceOds);
  if (!secret)
    return notSent(deps, referral, event, `practice ${referral.practiceOds} has no signing secret`);

  let failure: AttemptFailure;
  try {
    const answer = await deps.webhooks.send(
      { ...response.endpoint, secret },
      response.deliveryId,
      response.eventType,
      response.message,
    );
    if (answer.status >= 200 && answer.status <= 299) {
      deps.onAttempt?.('practice', 'delivered');
      return record(deps, referral, event, {
        status: 'delivered',
        at: deps.clock.now().toISOString(),
        messageId: practiceMessageId(referral.referralId, event),
        responseStatus: answer.status,
      });
    }
    failure = {
      kind: 'http',
      status: answer.status,
      ...(answer.retryAfter === undefined ? {} : { retryAfter: answer.retryAfter }),
    };
  } catch (error) {
    failure =
      error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')
        ? { kind: 'timeout' }
        : { kind: 'unreachable' };
  }
  deps.onAttempt?.('practice', 'failed');
  const decision = retryDecision({
    failure,
    attempt,
    backoff: deps.backoff,
    now: deps.clock.now(),
    random: deps.random(),
  });
  if (decision.action === 'retry')
    throw new DeliveryRetryError(
      `practice ${referral.practiceOds}: ${decision.reason}; retry in ${decision.delaySeconds} s (${decision.delaySource})`,
      decision.delaySeconds,
    );
  return record(deps, referral, event, {
    status: 'failed',
    at: deps.clock.now().toISOString(),
    reason: decision.reason,
  });
}

function notSent(
  deps: DeliverPracticeResponseDeps,
  referral: Referral,
  event: PracticeResponseEvent,
  reason: string,
): Promise<PracticeDeliveryOutcome> {
  return record(deps, referral, event, { status: 'not-sent', at: deps.clock.now().toISOString(), reason });
}

/** The final state, recorded once (a concurrent first record stands), then its audit entry and count. */
async function record(
  deps: DeliverPracticeResponseDeps,
  referral: Referral,
  event: PracticeResponseEvent,
  state: PracticeMessageState,
): Promise<PracticeDeliveryOutcome> {
  const first = await deps.referrals.recordPracticeMessage(referral.referralId, event, state);
  const stands = first ? state : (await deps.referrals.get(referral.referralId))?.practiceMessages?.[event];
  if (!stands) throw new UnroutableMessageError(`referral ${referral.referralId} does not exist`);
  await auditAndCount(deps, referral, event, stands);
  if (!first) return stands.status === 'delivered' ? 'already-delivered' : 'already-failed';
  return stands.status;
}

const auditActions: Record<PracticeMessageState['status'], string> = {
  delivered: 'referral.practice-message-sent',
  failed: 'referral.practice-message-failed',
  'not-sent': 'referral.practice-message-not-sent',
};

/**
 * Keyed by referral and event: a repeat writes nothing new. No patient data: the event, how sharing back was set,
 * and the outcome (a failure's reason is its kind: `HTTP 410`, never the receiver's text).
 */
async function auditAndCount(
  deps: Pick<DeliverPracticeResponseDeps, 'audit' | 'counters'>,
  referral: Referral,
  event: PracticeResponseEvent,
  state: PracticeMessageState,
): Promise<void> {
  const sharing = referral.sharingBack ?? 'full';
  await deps.audit.append({
    referralId: referral.referralId,
    eventKey: `practice-message.${event}`,
    action: auditActions[state.status],
    actor: 'system:notifier',
    at: state.at,
    detail: {
      practiceOds: referral.practiceOds,
      event,
      sharingBack: sharing,
      ...(state.status === 'delivered'
        ? { messageId: state.messageId, responseStatus: state.responseStatus }
        : { reason: state.reason }),
    },
  });
  const count: MetricCount =
    state.status === 'delivered'
      ? { name: 'practice-messages.delivered', dimensions: { event, sharingBack: sharing } }
      : state.status === 'failed'
        ? { name: 'deliveries.failed', dimensions: { recipient: 'practice', reason: state.reason } }
        : { name: 'practice-messages.not-sent', dimensions: { event } };
  await deps.counters.countOnce([count], state.at.slice(0, 10), `practice.${referral.referralId}.${event}`);
}
