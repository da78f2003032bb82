import * as z from 'zod';
import {
  ConflictError,
  DependencyUnavailableError,
  UnprocessableError,
  ValidationError,
} from '#kernel/errors.ts';
import {
  newReferral,
  referralRuleBreaches,
  type Referral,
  type ReferralRequest,
  type ReferralSource,
} from '#referral/domain/referral.ts';
import type { AuditLog } from '#audit/ports.ts';
import type { Clock } from '#kernel/clock.ts';
import type { Directory } from '#directory/ports.ts';
import type { Queue } from '#messages/queue.ts';
import type { RoutingMessage } from '#messages/routing-message.ts';
import type { ReferralStore } from '#referral/ports.ts';

/**
 * Intake: accept a validated referral. Acknowledged means durable: the referral is stored and on the routing queue
 * before this returns. If the enqueue fails the stored referral is withdrawn and the caller is told to retry, so
 * nothing half-accepted lingers. Everything after (routing, counts, deliveries) happens off the queue, where SQS
 * retries it until it is done.
 */

export interface SubmitReferralDeps {
  referrals: ReferralStore;
  directory: Directory;
  audit: AuditLog;
  routingQueue: Queue<RoutingMessage>;
  clock: Clock;
}

export interface SubmitReferralCommand {
  /** Assigned by the caller: random, or derived from the client's idempotency key so a retry finds its referral. */
  referralId: string;
  request: ReferralRequest;
  /**
   * The request's fingerprint (ids.ts requestFingerprint), kept on the referral. A later request that lands on the
   * same id (the same key) is a retry only if its fingerprint is the same; otherwise it is a ConflictError, for
   * as long as the referral exists, whether or not any idempotency record still remembers the key.
   */
  fingerprint: string;
  source?: ReferralSource;
  /** The sender's own timestamp for the message (BaRS Bundle.timestamp), which orders later updates. */
  messageAt?: string;
}

/** What intake answers: the referral is stored and queued. The schema is also the API's (api-schemas.ts). */
export const AcknowledgementSchema = z.object({
  referralId: z.uuid().describe('The referral id; `GET /referrals/{id}` shows its progress'),
  status: z.literal('received'),
  receivedAt: z.iso.datetime().describe('When the referral was first accepted (a retry gets the same time)'),
});
export type Acknowledgement = z.infer<typeof AcknowledgementSchema>;

export async function submitReferral(
  deps: SubmitReferralDeps,
  command: SubmitReferralCommand,
): Promise<Acknowledgement> {
  const stored = await acceptReferral(deps, command);
  return { referralId: stored.referralId, status: 'received', receivedAt: stored.receivedAt };
}

/** submitReferral, answering with the referral as stored (the BaRS route acknowledges its status and version). */
export async function acceptReferral(
  deps: SubmitReferralDeps,
  command: SubmitReferralCommand,
): Promise<Referral> {
  const { request, referralId } = command;
  const breaches = referralRuleBreaches(request, deps.clock.now());
  if (breaches.length > 0) throw new ValidationError(breaches);
  const practice = await deps.directory.practice(request.practiceOds);
  if (!practice) {
    throw new UnprocessableError(
      'practiceOds',
      `practice ${request.practiceOds} is not in the service directory`,
    );
  }

  const receivedAt = deps.clock.now().toISOString();
  const source = command.source ?? { channel: 'json' };
  const referral: Referral = {
    ...newReferral(referralId, request, receivedAt, source, command.messageAt),
    requestFingerprint: command.fingerprint,
  };
  const created = await deps.referrals.create(referral);
  const stored = created ? referral : await deps.referrals.get(referralId);
  if (!stored) throw new DependencyUnavailableError(`referral ${referralId} vanished while being accepted`);
  // The id is taken: a retry of the same request finishes and answers as the first time; any other request under
  // the same key is refused, and the stored referral is left as it is. (A referral stored without a fingerprint
  // predates them and is never taken for a retry.)
  if (!created && stored.requestFingerprint !== command.fingerprint) {
    throw new ConflictError(
      `This Idempotency-Key / X-Request-ID was already used for another request (referral ${referralId}); use a new key for a new referral`,
    );
  }

  if (stored.status === 'received') {
    try {
      await deps.audit.append(
        {
          referralId,
          // One entry per acceptance: a retry of the same acceptance finds it; a new one after a withdrawal adds one.
          eventKey: `received.${stored.receivedAt}`,
          action: 'referral.received',
          actor: `practice:${request.practiceOds}`,
          at: stored.receivedAt,
          detail: { needs: request.needs, channel: source.channel },
        },
        { chainIsNew: created },
      );
      await deps.routingQueue.send([{ id: referralId, body: { referralId } }]);
    } catch (error) {
      if (created) await withdraw(deps, referralId, stored.receivedAt);
      throw new DependencyUnavailableError(
        `could not record and queue referral ${referralId}: ${String(error)}`,
      );
    }
  }
  return stored;
}

/** Undoes an acceptance that was never acknowledged, so nothing half-accepted lingers and a retry starts clean. */
async function withdraw(deps: SubmitReferralDeps, referralId: string, receivedAt: string): Promise<void> {
  await deps.referrals.deleteUnacknowledged(referralId);
  await deps.audit
    .append({
      referralId,
      eventKey: `withdrawn.${receivedAt}`,
      action: 'referral.withdrawn',
      actor: 'system:intake',
      at: deps.clock.now().toISOString(),
      detail: { reason: 'not acknowledged: recording or queueing failed' },
    })
    .catch(() => undefined); // best effort: the audit store may be what failed
}
