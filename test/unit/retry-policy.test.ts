import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  backoffSeconds,
  isPermanentStatus,
  retryAfterLimitSeconds,
  retryAfterSeconds,
  retryDecision,
  sqsMaxVisibilitySeconds,
  type AttemptFailure,
} from '#delivery/domain/retry-policy.ts';

const backoff = { baseSeconds: 60, capSeconds: 900 };
const now = new Date('2025-03-04T09:21:00.000Z');
const decide = (failure: AttemptFailure, attempt = 1, random = 0.5) =>
  retryDecision({ failure, attempt, backoff, now, random });

describe('the retry policy (shared/delivery/domain/retry-policy.ts)', () => {
  it.each([400, 401, 403, 404, 405, 409, 410, 413, 415, 422, 451, 499])(
    'HTTP %i is permanent: give up',
    (status) => {
      expect(isPermanentStatus(status)).toBe(true);
      expect(decide({ kind: 'http', status })).toEqual({ action: 'give-up', reason: `HTTP ${status}` });
    },
  );

  it.each([408, 429, 500, 502, 503, 504, 301, 302, 307, 199, 100])('HTTP %i is retried', (status) => {
    expect(isPermanentStatus(status)).toBe(false);
    expect(decide({ kind: 'http', status })).toMatchObject({ action: 'retry', reason: `HTTP ${status}` });
  });

  it.each([
    [{ kind: 'timeout' } as const, 'timeout'],
    [{ kind: 'unreachable' } as const, 'unreachable'],
    [{ kind: 'mail-deferred' } as const, 'email not accepted yet'],
  ])('%o is retried (%s)', (failure, reason) => {
    expect(decide(failure)).toMatchObject({ action: 'retry', reason, delaySource: 'backoff' });
  });

  it('an email the mail service refuses for good is given up', () => {
    expect(decide({ kind: 'mail-rejected' })).toEqual({ action: 'give-up', reason: 'email refused' });
  });

  it('backs off exponentially: the ceiling doubles from the base per attempt, up to the cap', () => {
    // random just under 1 shows each attempt's ceiling.
    const ceilings = [1, 2, 3, 4, 5, 6, 10].map((attempt) =>
      backoffSeconds({ attempt, backoff, random: 0.999999 }),
    );
    expect(ceilings).toEqual([60, 120, 240, 480, 900, 900, 900]);
  });

  it('full jitter: any whole number of seconds from 1 to the ceiling, never 0', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, random) => {
          const delay = backoffSeconds({ attempt, backoff, random });
          const ceiling = Math.min(900, 60 * 2 ** (attempt - 1));
          return Number.isInteger(delay) && delay >= 1 && delay <= ceiling;
        },
      ),
    );
    expect(backoffSeconds({ attempt: 1, backoff, random: 0 })).toBe(1);
    expect(backoffSeconds({ attempt: 2, backoff, random: 0.5 })).toBe(60);
  });

  it('Retry-After in seconds or as an HTTP-date is the delay, bounded to [1 s, 6 h]', () => {
    const retry = (retryAfter: string, status = 429) => decide({ kind: 'http', status, retryAfter });
    expect(retry('7')).toEqual({
      action: 'retry',
      delaySeconds: 7,
      reason: 'HTTP 429',
      delaySource: 'retry-after',
    });
    expect(retry('0')).toMatchObject({ delaySeconds: 1 });
    expect(retry('Tue, 04 Mar 2025 09:22:30 GMT', 503)).toMatchObject({
      delaySeconds: 90,
      reason: 'HTTP 503',
    });
    // A date already past: as soon as possible.
    expect(retry('Tue, 04 Mar 2025 09:00:00 GMT')).toMatchObject({ delaySeconds: 1 });
    expect(retry(String(10 * 24 * 3600))).toMatchObject({ delaySeconds: retryAfterLimitSeconds });
    expect(retryAfterLimitSeconds).toBeLessThan(sqsMaxVisibilitySeconds);
  });

  it('an unreadable Retry-After is ignored: the backoff applies', () => {
    for (const value of ['soon', '-5', '1.5', '2025-03-04T10:00:00Z', 'Tue, 04 Mar 2025 25:99:00 GMT', ''])
      expect(decide({ kind: 'http', status: 429, retryAfter: value }), value).toMatchObject({
        delaySource: 'backoff',
      });
    expect(retryAfterSeconds(undefined, now)).toBeUndefined();
  });

  it('Retry-After on a permanent refusal changes nothing: still given up', () => {
    expect(decide({ kind: 'http', status: 410, retryAfter: '5' })).toMatchObject({ action: 'give-up' });
  });

  it('never asks SQS for more than its 12-hour visibility maximum', () => {
    const huge = { baseSeconds: 3600, capSeconds: 100_000 };
    const decision = retryDecision({
      failure: { kind: 'timeout' },
      attempt: 20,
      backoff: huge,
      now,
      random: 0.99,
    });
    expect(decision.action === 'retry' && decision.delaySeconds).toBeLessThan(sqsMaxVisibilitySeconds);
  });
});
