import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  APIGatewayTokenAuthorizerEvent,
  Context,
} from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CachingAuthorizer, matchRoute, proxyEvent } from '../../infra/local/gateway.ts';
import { lambdaContext } from '../../infra/local/lambda-context.ts';
import { authorizerContext, tokenClockToleranceSeconds, type Caller } from '#auth/caller.ts';
import { ValidationError, type FieldProblem } from '#kernel/errors.ts';
import type { OperationOutcome } from '#http/operation-outcome.ts';
import { clientErrorResponse, json, maxOutcomeIssues } from '#http/responses.ts';
import { httpHandler } from '#platform/handlers.ts';

// What a careless or hostile client can make the API do: keep using a token past its expiry through a cached
// Allow, fill the local authorizer cache with bad tokens, get an error answer larger than its request, or read an
// answer that a browser or proxy may keep.

const caller: Caller = { subject: 'unit-gp', role: 'gp-system', organisations: ['A81001'] };
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** GET /referrals/{id} as API Gateway passes it on, with the authorizer's context for a token expiring then. */
function eventWithTokenExpiring(expiresAt: number): APIGatewayProxyEvent {
  const path = '/referrals/00000000-0000-4000-8000-000000000000';
  const match = matchRoute('GET', path);
  if (!match) throw new Error('no route');
  const event = proxyEvent(
    { method: 'GET', url: path, headers: [], body: '' },
    match.route,
    match.pathParameters,
  );
  event.requestContext.authorizer = authorizerContext(caller, expiresAt);
  return event;
}

const ok = async () => json(200, { ok: true });
const handler = httpHandler('referralStatus', { getReferralStatus: ok, readServiceRequest: ok });
const call = (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> =>
  handler(event, lambdaContext('referralStatus') as Context);

describe('an Allow cached past its token (API Gateway caches by TTL alone)', () => {
  it('is refused with 401 once the token has expired beyond the clock tolerance', async () => {
    const response = await call(eventWithTokenExpiring(nowSeconds() - tokenClockToleranceSeconds - 5));
    expect(response.statusCode).toBe(401);
    expect(response.headers?.['WWW-Authenticate']).toBe('Bearer');
    const outcome = JSON.parse(response.body) as OperationOutcome;
    expect(outcome.issue[0]?.details.coding[0]?.code).toBe('REC_UNAUTHORIZED');
    expect(outcome.issue[0]?.diagnostics).toMatch(/expired/);
  });

  it('is honoured while the token is live, or within the tolerance the authorizer allows', async () => {
    expect((await call(eventWithTokenExpiring(nowSeconds() + 60))).statusCode).toBe(200);
    expect(
      (await call(eventWithTokenExpiring(nowSeconds() - tokenClockToleranceSeconds + 5))).statusCode,
    ).toBe(200);
  });

  it('is refused when the context carries no expiry at all', async () => {
    const event = eventWithTokenExpiring(nowSeconds() + 60);
    const { tokenExpiresAt: _dropped, ...withoutExpiry } = event.requestContext.authorizer as Record<
      string,
      string
    >;
    event.requestContext.authorizer = withoutExpiry;
    expect((await call(event)).statusCode).toBe(401);
  });
});

describe('security headers on every function answer', () => {
  it('carries Cache-Control: no-store and X-Content-Type-Options: nosniff, on success and on refusal', async () => {
    for (const response of [
      await call(eventWithTokenExpiring(nowSeconds() + 60)),
      await call(eventWithTokenExpiring(nowSeconds() - 3600)),
    ]) {
      expect(response.headers).toMatchObject({
        'Cache-Control': 'no-store',
        'X-Content-Type-Options': 'nosniff',
      });
    }
  });
});

describe('a ValidationError with thousands of problems', () => {
  const problems = (count: number): FieldProblem[] =>
    Array.from({ length: count }, (_, i) => ({
      field: `entry.${i}.resource.subject`,
      rule: 'must reference the Patient entry',
      kind: 'invalid' as const,
    }));

  it(`lists at most ${maxOutcomeIssues} issues plus one saying how many more there were`, () => {
    const response = clientErrorResponse(new ValidationError(problems(5000)));
    const outcome = JSON.parse(response?.body ?? '{}') as OperationOutcome;
    expect(response?.statusCode).toBe(400);
    expect(outcome.issue).toHaveLength(maxOutcomeIssues + 1);
    expect(outcome.issue.at(-1)?.diagnostics).toMatch(/^4900 more problems not listed \(5000 in all\)/);
    expect(outcome.issue.at(-1)?.details.coding[0]?.code).toBe('REC_BAD_REQUEST');
    expect(response?.body.length).toBeLessThan(64 * 1024);
  });

  it('lists every problem when there are no more than the cap, with no extra issue', () => {
    const response = clientErrorResponse(new ValidationError(problems(maxOutcomeIssues)));
    expect((JSON.parse(response?.body ?? '{}') as OperationOutcome).issue).toHaveLength(maxOutcomeIssues);
  });

  it('clips a field path the client built from an enormous key', () => {
    const response = clientErrorResponse(
      new ValidationError([{ field: 'k'.repeat(100_000), rule: 'unknown field', kind: 'structure' }]),
    );
    expect(response?.body.length).toBeLessThan(4 * 1024);
  });
});

describe('the local gateway authorizer cache', () => {
  afterEach(() => vi.useRealTimers());

  const allowing =
    (expiresAt: () => number) =>
    async (event: APIGatewayTokenAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => ({
      principalId: event.authorizationToken,
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: '*' }],
      },
      context: authorizerContext(caller, expiresAt()),
    });
  const counting = <A extends unknown[], R>(fn: (...args: A) => Promise<R>) => {
    const counted = Object.assign(
      (...args: A): Promise<R> => {
        counted.calls += 1;
        return fn(...args);
      },
      { calls: 0 },
    );
    return counted;
  };

  it('keeps an Allow no longer than the token lives (plus the clock tolerance), not the full TTL', async () => {
    vi.useFakeTimers({ now: new Date('2026-12-01T10:00:00Z') });
    const expiresAt = nowSeconds() + 60;
    const authorize = counting(allowing(() => expiresAt));
    const cache = new CachingAuthorizer(authorize);
    await cache.decide('Bearer a', 'arn');
    await cache.decide('Bearer a', 'arn');
    expect(authorize.calls).toBe(1);
    vi.setSystemTime(Date.now() + (60 + tokenClockToleranceSeconds + 1) * 1000);
    await cache.decide('Bearer a', 'arn');
    expect(authorize.calls).toBe(2);
  });

  it('does not keep refusals: a bad token is asked about again after a few seconds', async () => {
    vi.useFakeTimers({ now: new Date('2026-12-01T10:00:00Z') });
    const refuse = counting(async (): Promise<APIGatewayAuthorizerResult> => {
      throw new Error('Unauthorized');
    });
    const cache = new CachingAuthorizer(refuse);
    expect(await cache.decide('Bearer bad', 'arn')).toEqual({ kind: 'unauthorized' });
    vi.setSystemTime(Date.now() + 60_000);
    expect(await cache.decide('Bearer bad', 'arn')).toEqual({ kind: 'unauthorized' });
    expect(refuse.calls).toBe(2);
  });

  it('holds at most its bound of tokens, dropping the least recently used', async () => {
    const authorize = counting(allowing(() => nowSeconds() + 600));
    const cache = new CachingAuthorizer(authorize, 3);
    for (const token of ['a', 'b', 'c']) await cache.decide(`Bearer ${token}`, 'arn');
    await cache.decide('Bearer a', 'arn'); // a is now the most recently used
    for (let i = 0; i < 50; i++) await cache.decide(`Bearer distinct-${i}`, 'arn');
    expect(cache.size).toBe(3);
    const before = authorize.calls;
    await cache.decide('Bearer distinct-49', 'arn');
    expect(authorize.calls).toBe(before);
  });
});

describe("the local gateway's event for hostile names", () => {
  it('passes a query parameter or header named __proto__ as an ordinary key, repeated values in order', () => {
    const path = '/referrals/00000000-0000-4000-8000-000000000000';
    const match = matchRoute('GET', path);
    if (!match) throw new Error('no route');
    const event = proxyEvent(
      {
        method: 'GET',
        url: `${path}?__proto__=x&constructor=y&a=1&a=2`,
        headers: [
          ['__proto__', 'p'],
          ['x-a', '1'],
          ['x-a', '2'],
        ],
        body: '',
      },
      match.route,
      match.pathParameters,
    );
    expect(Object.getPrototypeOf(event.queryStringParameters)).toBe(Object.prototype);
    expect(Object.hasOwn(event.queryStringParameters ?? {}, '__proto__')).toBe(true);
    expect(event.multiValueQueryStringParameters?.['__proto__']).toEqual(['x']);
    expect(event.multiValueQueryStringParameters?.['a']).toEqual(['1', '2']);
    expect(event.queryStringParameters?.['a']).toBe('2');
    expect(Object.hasOwn(event.headers, '__proto__')).toBe(true);
    expect(event.multiValueHeaders['x-a']).toEqual(['1', '2']);
  });
});
