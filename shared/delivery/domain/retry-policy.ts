/**
 * What to do after a push (a webhook POST, an email send) did not succeed: try again later, and when, or give up
 * for good. Pure: the notifier supplies the attempt number (the queue message's receive count), the time and a
 * random number, and applies the answer through the message's visibility (ChangeMessageVisibility).
 *
 * - A 4xx other than 408 (timeout) and 429 (too many requests) is PERMANENT: the recipient understood the request
 *   and refuses it (410 gone, 404 no such endpoint, 401/403 a secret it does not accept, 400/422 a body it does not
 *   take). Sending the same request again cannot succeed, so it is recorded, audited, counted and alarmed instead of
 *   going round the queue to the dead-letter queue.
 * - Anything else is worth retrying: 5xx, 408, 429, 3xx (redirects are not followed: see the webhook sender),
 *   timeouts, network errors, and an email the mail service could not take now.
 * - The delay is exponential backoff with full jitter: a random whole number of seconds in
 *   [1, min(cap, base x 2^(attempt - 1))], so recipients coming back after an outage are not hit by every retry at
 *   once. A `Retry-After` (seconds, or an HTTP-date) is honoured instead when the recipient gives one, bounded to
 *   [1 s, retryAfterLimitSeconds].
 * - Whatever the delay, it stays below SQS's 12-hour visibility maximum (counted from the receive), with room for
 *   the invocation itself.
 */

/** The queue's backoff (shared/system/queues.ts `retryBackoff`: 60 s base, 15 min cap for notifications). */
export interface Backoff {
  /** The first retry waits up to this long; each further one doubles it, up to `capSeconds`. */
  baseSeconds: number;
  capSeconds: number;
}

/** SQS refuses a visibility timeout beyond 12 hours from the receive. */
export const sqsMaxVisibilitySeconds = 43_200;
/** A recipient's Retry-After is honoured up to 6 hours: a referral should not wait longer on one recipient's word. */
export const retryAfterLimitSeconds = 6 * 3600;
/** Room left under SQS's maximum for the invocation that asks for the delay (the notifier's timeout is seconds). */
const invocationMarginSeconds = 300;

/** How one attempt ended, as the transport saw it (never the recipient's body or the network's message text). */
export type AttemptFailure =
  | { kind: 'http'; status: number; retryAfter?: string }
  | { kind: 'timeout' }
  | { kind: 'unreachable' }
  /** The mail service did not take the email now (throttled, unavailable). */
  | { kind: 'mail-deferred' }
  /** The mail service refused the email for good (e.g. the address is rejected). */
  | { kind: 'mail-rejected' };

export type RetryDecision =
  | { action: 'retry'; delaySeconds: number; reason: string; delaySource: 'backoff' | 'retry-after' }
  | { action: 'give-up'; reason: string };

/** Whether an HTTP status means the recipient refuses this request for good. */
export function isPermanentStatus(status: number): boolean {
  return status >= 400 && status <= 499 && status !== 408 && status !== 429;
}

/** What the status view and the audit say about a failure: the kind of failure, no text from the network. */
export function failureReasonOf(failure: AttemptFailure): string {
  switch (failure.kind) {
    case 'http':
      return `HTTP ${failure.status}`;
    case 'timeout':
      return 'timeout';
    case 'unreachable':
      return 'unreachable';
    case 'mail-deferred':
      return 'email not accepted yet';
    case 'mail-rejected':
      return 'email refused';
  }
}

/**
 * Retry-After as seconds from `now`: `delta-seconds` or an HTTP-date (RFC 9110 10.2.3); undefined when absent or
 * not one of those (an unreadable header is ignored, and the backoff applies).
 */
export function retryAfterSeconds(value: string | undefined, now: Date): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  // An HTTP-date always names its weekday and GMT; Date.parse alone would take "2" or "tomorrow"-ish strings.
  if (!/^[A-Za-z]{3},\s+\d{2}\s+[A-Za-z]{3}\s+\d{4}\s+\d{2}:\d{2}:\d{2}\s+GMT$/.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now.getTime()) / 1000));
}

/** The longest delay that can be asked for `elapsedSeconds` after the receive. */
function longestDelay(elapsedSeconds: number): number {
  return Math.max(1, sqsMaxVisibilitySeconds - invocationMarginSeconds - Math.ceil(elapsedSeconds));
}

/**
 * The decision after a failed attempt. `attempt` is 1 for the first (the message's ApproximateReceiveCount);
 * `random` is in [0, 1); `elapsedSeconds` is the time since the message was received.
 */
export function retryDecision(input: {
  failure: AttemptFailure;
  attempt: number;
  backoff: Backoff;
  now: Date;
  random: number;
  elapsedSeconds?: number;
}): RetryDecision {
  const { failure } = input;
  const reason = failureReasonOf(failure);
  if (failure.kind === 'mail-rejected') return { action: 'give-up', reason };
  if (failure.kind === 'http' && isPermanentStatus(failure.status)) return { action: 'give-up', reason };

  const limit = longestDelay(input.elapsedSeconds ?? 0);
  const asked = failure.kind === 'http' ? retryAfterSeconds(failure.retryAfter, input.now) : undefined;
  if (asked !== undefined) {
    const delaySeconds = Math.min(Math.max(asked, 1), retryAfterLimitSeconds, limit);
    return { action: 'retry', delaySeconds, reason, delaySource: 'retry-after' };
  }
  return {
    action: 'retry',
    delaySeconds: Math.min(backoffSeconds(input), limit),
    reason,
    delaySource: 'backoff',
  };
}

/** Full jitter: uniform over [1, min(cap, base x 2^(attempt - 1))] whole seconds. */
export function backoffSeconds(input: { attempt: number; backoff: Backoff; random: number }): number {
  const { baseSeconds, capSeconds } = input.backoff;
  const exponent = Math.min(Math.max(input.attempt, 1) - 1, 30);
  const ceiling = Math.max(1, Math.min(capSeconds, baseSeconds * 2 ** exponent));
  const random = Math.min(Math.max(input.random, 0), 1 - Number.EPSILON);
  return Math.max(1, Math.ceil(random * ceiling));
}
