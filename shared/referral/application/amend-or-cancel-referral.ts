import { ConflictError, NotFoundError, ValidationError } from '#kernel/errors.ts';
import {
  clinicalContent,
  referralRuleBreaches,
  type CancellationReason,
  type Referral,
  type ReferralRequest,
} from '#referral/domain/referral.ts';
import { uncoveredNeeds } from '#matching/domain/routing.ts';
import type { AuditLog } from '#audit/ports.ts';
import type { Clock } from '#kernel/clock.ts';
import type { MetricCounters } from '#reporting/ports.ts';
import { noticeId, type NoticeMessage } from '#messages/notice-message.ts';
import type { Queue } from '#messages/queue.ts';
import { routingKey, type RoutingMessage } from '#messages/routing-message.ts';
import type { ReferralStore } from '#referral/ports.ts';

/**
 * Updates and cancellations from the referring practice (BaRS `update` messages). Both apply only to an open
 * referral of that practice, and only if the message is newer than the last one applied, so an update delayed in
 * transit cannot overwrite a later one. A recipient who already has the referral is told: an update notice with
 * the new details, or a cancellation notice telling them to stop. Recipients who do not have it yet get the latest
 * version, or nothing at all once it is cancelled.
 */

export interface LifecycleDeps {
  referrals: ReferralStore;
  audit: AuditLog;
  counters: MetricCounters;
  routingQueue: Queue<RoutingMessage>;
  deliveryQueue: Queue<NoticeMessage>;
  clock: Clock;
}

export interface AmendCommand {
  referralId: string;
  request: ReferralRequest;
  /** The sender's timestamp of the message. */
  messageAt: string;
  actor: string;
  /** BaRS: the message's X-Correlation-ID, which must be the conversation the referral was created in. */
  correlationId?: string;
}

export async function amendReferral(deps: LifecycleDeps, command: AmendCommand): Promise<Referral> {
  const breaches = referralRuleBreaches(command.request, deps.clock.now());
  if (breaches.length > 0) throw new ValidationError(breaches);
  const messageAt = new Date(command.messageAt).toISOString();
  const practiceOds = command.request.practiceOds;
  await assertOwnConversation(deps, command.referralId, practiceOds, command.correlationId);
  const applied = await deps.referrals.amend({
    referralId: command.referralId,
    practiceOds,
    content: clinicalContent(command.request),
    messageAt,
    at: deps.clock.now().toISOString(),
  });
  const current = await deps.referrals.get(command.referralId);
  if (!current || current.practiceOds !== practiceOds) throw notFound(command.referralId, practiceOds);
  // A retry of an update that was applied before a crash finds its own timestamp: finish the job.
  const alreadyApplied = !applied && current.status !== 'cancelled' && current.lastMessageAt === messageAt;
  if (!applied && !alreadyApplied) {
    if (current.status === 'cancelled')
      throw new ConflictError(`Referral ${current.referralId} is cancelled`);
    throw new ConflictError(
      `A newer message (${current.lastMessageAt ?? 'unknown'}) was already applied to referral ${current.referralId}`,
    );
  }

  await deps.audit.append({
    referralId: current.referralId,
    eventKey: `amended.v${current.version}`,
    action: 'referral.amended',
    actor: command.actor,
    at: current.updatedAt,
    detail: { version: current.version, needs: current.needs, messageAt },
  });
  await notifyHolders(deps, current, 'updated');
  // Needs added after routing are matched by the router (what was routed before stands).
  if (current.status === 'routed' && uncoveredNeeds(current).length > 0) {
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
  actor: string;
  /** BaRS: the message's X-Correlation-ID, which must be the conversation the referral was created in. */
  correlationId?: string;
}

export async function cancelReferral(deps: LifecycleDeps, command: CancelCommand): Promise<Referral> {
  const messageAt = new Date(command.messageAt).toISOString();
  await assertOwnConversation(deps, command.referralId, command.practiceOds, command.correlationId);
  const applied = await deps.referrals.cancel({
    referralId: command.referralId,
    practiceOds: command.practiceOds,
    reason: command.reason,
    messageAt,
    at: deps.clock.now().toISOString(),
  });
  const current = await deps.referrals.get(command.referralId);
  if (!current || current.practiceOds !== command.practiceOds) {
    throw notFound(command.referralId, command.practiceOds);
  }
  const alreadyApplied = !applied && current.status === 'cancelled' && current.lastMessageAt === messageAt;
  if (!applied && !alreadyApplied) {
    throw new ConflictError(
      `Referral ${current.referralId} is already cancelled; only an open referral can be`,
    );
  }

  await deps.audit.append({
    referralId: current.referralId,
    eventKey: 'cancelled',
    action: 'referral.cancelled',
    actor: command.actor,
    at: current.cancellation?.at ?? current.updatedAt,
    detail: { reason: command.reason, messageAt },
  });
  await deps.counters.countOnce(
    [{ name: 'referrals.cancelled', dimensions: { practice: current.practiceOds, reason: command.reason } }],
    (current.cancellation?.at ?? current.updatedAt).slice(0, 10),
    current.referralId,
  );
  await notifyHolders(deps, current, 'cancelled');
  return current;
}

/** Another practice's referral is answered exactly as one that does not exist: its existence is not revealed. */
function notFound(referralId: string, practiceOds: string): NotFoundError {
  return new NotFoundError(`No referral with id ${referralId} from practice ${practiceOds}`);
}

/**
 * Before anything else: the referral must be the practice's own (else NotFoundError, as for no referral at all),
 * and a BaRS update or cancel must keep the X-Correlation-ID of the conversation that created it (else conflict).
 * The conditional writes check the practice again, so a race cannot slip past this read.
 */
async function assertOwnConversation(
  deps: LifecycleDeps,
  referralId: string,
  practiceOds: string,
  correlationId: string | undefined,
): Promise<void> {
  const referral = await deps.referrals.get(referralId);
  if (!referral || referral.practiceOds !== practiceOds) throw notFound(referralId, practiceOds);
  if (
    correlationId !== undefined &&
    referral.source.channel === 'fhir' &&
    referral.source.correlationId !== correlationId
  ) {
    throw new ConflictError(
      `X-Correlation-ID ${correlationId} is not the conversation of referral ${referralId}; an update keeps the original one`,
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
