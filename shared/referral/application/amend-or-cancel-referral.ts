import { ConflictError, LifecycleConflictError, NotFoundError, ValidationError } from '#kernel/errors.ts';
import {
  amendedContent,
  referralRuleBreaches,
  type CancellationReason,
  type Referral,
  type ReferralRequest,
} from '#referral/domain/referral.ts';
import { allowedEvents, decide } from '#referral/domain/lifecycle.ts';
import { doneByAnotherMessage, type ReferralTransition } from '#referral/domain/transition-refusal.ts';
import { transitionReferral } from '#referral/application/transition-referral.ts';
import { uncoveredNeeds } from '#matching/domain/routing.ts';
import type { AuditLog } from '#audit/ports.ts';
import type { Clock } from '#kernel/clock.ts';
import type { Figures, MetricCounters } from '#reporting/ports.ts';
import { funnelFigure, funnelUnit } from '#reporting/domain/referral-figures.ts';
import { noticeId, type NoticeMessage } from '#messages/notice-message.ts';
import type { Queue } from '#messages/queue.ts';
import { routingKey, type RoutingMessage } from '#messages/routing-message.ts';
import type { OfferStore, ReferralStore, TransitionChanges } from '#referral/ports.ts';
import { offersFollowReferral } from '#referral/application/offers-follow-referral.ts';

/**
 * Updates and cancellations from the referring practice (BaRS `update` messages). Whether one applies is the
 * lifecycle's to say (#referral/domain/lifecycle.ts): both apply only to an open referral of that practice, an update
 * only if its message is newer than the last one applied, so an update delayed in transit cannot overwrite a later
 * one. A recipient who already has the referral is told: an update notice with the new details, or a cancellation
 * notice telling them to stop. Recipients who do not have it yet get the latest version, or nothing at all once it
 * is cancelled.
 */

export interface LifecycleDeps {
  referrals: ReferralStore;
  audit: AuditLog;
  counters: MetricCounters;
  /** The observatory's figures: a cancellation is the funnel's `cancelled`. */
  figures: Figures;
  routingQueue: Queue<RoutingMessage>;
  deliveryQueue: Queue<NoticeMessage>;
  clock: Clock;
  /** The referral's offers to partners, which follow its updates and its cancellation (absent: there are none). */
  offers?: OfferStore;
}

export interface AmendCommand {
  referralId: string;
  request: ReferralRequest;
  /** The sender's timestamp of the message. */
  messageAt: string;
  /** Which message it is (BaRS: its X-Request-ID), so a retry of it is told from another message of that time. */
  messageId?: string;
  actor: string;
  /** BaRS: the message's X-Correlation-ID, which must be the conversation the referral was created in. */
  correlationId?: string;
}

export async function amendReferral(deps: LifecycleDeps, command: AmendCommand): Promise<Referral> {
  const breaches = referralRuleBreaches(command.request, deps.clock.now());
  if (breaches.length > 0) throw new ValidationError(breaches);
  const { referral: current, transition } = await transitionByPractice(deps, {
    referralId: command.referralId,
    practiceOds: command.request.practiceOds,
    event: 'update',
    messageAt: command.messageAt,
    messageId: command.messageId,
    correlationId: command.correlationId,
    at: deps.clock.now().toISOString(),
    changes: amendedContent(command.request),
  });

  await deps.audit.append({
    referralId: current.referralId,
    eventKey: `amended.v${current.version}`,
    action: transition.audit,
    actor: command.actor,
    at: current.updatedAt,
    detail: { version: current.version, needs: current.needs, messageAt: current.lastMessageAt },
  });
  await notifyHolders(deps, current, 'updated');
  if (deps.offers) await offersFollowReferral({ ...deps, offers: deps.offers }, current, 'update');
  // Needs added after routing are matched by the router (what was routed before stands).
  if (
    current.routing &&
    allowedEvents('referral', current.status, 'system').includes('re-route') &&
    uncoveredNeeds(current).length > 0
  ) {
    const body = { referralId: current.referralId, version: current.version };
    await deps.routingQueue.send([{ id: routingKey(body), body }]);
  }
  return current;
}

export interface CancelCommand {
  referralId: string;
  practiceOds: string;
  reason: CancellationReason;
  messageAt: string;
  /** Which message it is (BaRS: its X-Request-ID). */
  messageId?: string;
  actor: string;
  /** BaRS: the message's X-Correlation-ID, which must be the conversation the referral was created in. */
  correlationId?: string;
}

export async function cancelReferral(deps: LifecycleDeps, command: CancelCommand): Promise<Referral> {
  const at = deps.clock.now().toISOString();
  const { referral: current, transition } = await transitionByPractice(deps, {
    referralId: command.referralId,
    practiceOds: command.practiceOds,
    event: 'cancel',
    messageAt: command.messageAt,
    messageId: command.messageId,
    correlationId: command.correlationId,
    at,
    changes: { cancellation: { reason: command.reason, at } },
  });
  // From the stored cancellation, not this request's: a retry finishes the first attempt's audit and count.
  const cancelledAt = current.cancellation?.at ?? current.updatedAt;

  await deps.audit.append({
    referralId: current.referralId,
    eventKey: 'cancelled',
    action: transition.audit,
    actor: command.actor,
    at: cancelledAt,
    detail: { reason: command.reason, messageAt: current.lastMessageAt },
  });
  await deps.counters.countOnce(
    transition.counts.map((name) => ({
      name,
      dimensions: { practice: current.practiceOds, reason: command.reason },
    })),
    cancelledAt.slice(0, 10),
    current.referralId,
  );
  // The funnel's `cancelled`, once per referral (a referral cancelled before it was routed was never in the funnel).
  const cancelledFigure = funnelFigure(current, 'cancelled', cancelledAt, current.cancellation?.reason);
  if (cancelledFigure)
    await deps.figures.recordOnce([cancelledFigure], funnelUnit(current.referralId, 'cancelled'));
  await notifyHolders(deps, current, 'cancelled');
  if (deps.offers) await offersFollowReferral({ ...deps, offers: deps.offers }, current, 'cancel');
  return current;
}

/** One event of the referring practice on its referral: `update` or `cancel`. */
interface PracticeEvent {
  referralId: string;
  practiceOds: string;
  event: 'update' | 'cancel';
  /** The sender's timestamp of the message, as sent. */
  messageAt: string;
  messageId: string | undefined;
  correlationId: string | undefined;
  /** Now, on the caller's clock: the write's `updatedAt` (and a cancellation's time, the same instant). */
  at: string;
  changes: TransitionChanges;
}

/**
 * The referral after the practice's event, and the transition whose audit, counts and notices the caller finishes.
 * Reads the referral once and lets the lifecycle decide (transitionReferral): `apply` is ONE conditional write
 * (state, version, practice, newer message, with the event's data); `already` with this very message is a retry after
 * a crash, answered as the first attempt was, so its notices still go out (they are keyed per step, so none goes
 * twice); a refusal is thrown typed. A refused write is read once more and decided again at the version the message
 * was judged against, which names the reason (or finds this message's own earlier write); no loop, a client retries.
 */
async function transitionByPractice(
  deps: LifecycleDeps,
  command: PracticeEvent,
): Promise<{ referral: Referral; transition: ReferralTransition }> {
  const messageAt = new Date(command.messageAt).toISOString();
  const read = ownReferral(command, await deps.referrals.get(command.referralId));
  assertConversation(read, command.correlationId);
  const outcome = await transitionReferral(deps.referrals, read, {
    referralId: command.referralId,
    decide: (referral) =>
      decide(
        'referral',
        {
          state: referral.status,
          version: referral.version,
          lastMessageAt: referral.lastMessageAt,
          lastMessageId: referral.lastMessageId,
        },
        command.event,
        'gp-system',
        // The version the practice's message was judged against: the first read's, also after a refused write.
        read.version,
        { messageAt, messageId: command.messageId },
      ),
    context: () => ({
      at: command.at,
      ownerId: command.practiceOds,
      messageAt,
      ...(command.messageId === undefined ? {} : { messageId: command.messageId }),
      changes: command.changes,
    }),
    reread: async () => ownReferral(command, await deps.referrals.get(command.referralId)),
    writeAgain: false,
  });
  if (outcome.kind === 'refused') throw new LifecycleConflictError(outcome.refusal);
  const { referral, transition } = outcome;
  if (
    outcome.kind === 'already' &&
    (referral.lastMessageAt !== messageAt || referral.lastMessageId !== command.messageId)
  )
    throw new LifecycleConflictError(doneByAnotherMessage(referral, command.event));
  return { referral, transition };
}

/** Another practice's referral is answered exactly as one that does not exist: its existence is not revealed. */
function notFound(referralId: string, practiceOds: string): NotFoundError {
  return new NotFoundError(`No referral with id ${referralId} from practice ${practiceOds}`);
}

/**
 * The referral, if it is the practice's own; else NotFoundError, as for no referral at all. The conditional write
 * checks the practice again, so a race cannot slip past this read.
 */
function ownReferral(
  command: Pick<PracticeEvent, 'referralId' | 'practiceOds'>,
  referral: Referral | undefined,
): Referral {
  if (!referral || referral.practiceOds !== command.practiceOds)
    throw notFound(command.referralId, command.practiceOds);
  return referral;
}

/** A BaRS update or cancel must keep the X-Correlation-ID of the conversation that created the referral. */
function assertConversation(referral: Referral, correlationId: string | undefined): void {
  if (
    correlationId !== undefined &&
    referral.source.channel === 'fhir' &&
    referral.source.correlationId !== correlationId
  ) {
    throw new ConflictError(
      `X-Correlation-ID ${correlationId} is not the conversation of referral ${referral.referralId}; an update keeps the original one`,
    );
  }
}

/** Queues a notice for each recipient that already has the referral (deliveries not yet made need none). */
async function notifyHolders(
  deps: LifecycleDeps,
  referral: Referral,
  kind: 'updated' | 'cancelled',
): Promise<void> {
  const holders = (referral.routing?.deliveries ?? []).filter(
    (d) => referral.deliveryStatus?.[d.deliveryId]?.status === 'delivered',
  );
  const notices: NoticeMessage[] = holders.map((d) => ({
    referralId: referral.referralId,
    deliveryId: d.deliveryId,
    kind,
    ...(kind === 'updated' ? { version: referral.version } : {}),
  }));
  await deps.deliveryQueue.send(notices.map((notice) => ({ id: noticeId(notice), body: notice })));
}
