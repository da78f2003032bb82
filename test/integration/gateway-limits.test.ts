import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../infra/local/local-stack.ts';

// The local gateway's per-client rate limit (API Gateway's usage plan, mirrored): over it, 429 with Retry-After
// and the throttled OperationOutcome; other clients are unaffected.

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({ throttle: { ratePerSecond: 1, burst: 2 } });
});
afterAll(() => stack.stop());

const bearer = async (ods: string) => ({
  Authorization: `Bearer ${await stack.issuer.mint({ role: 'gp-system', ods: [ods], subject: `gp-${ods}` })}`,
});

describe('per-client rate limit', () => {
  it('answers 429 with Retry-After once a client exceeds its burst, and keeps serving other clients', async () => {
    const first = await bearer('A81001');
    const url = `${stack.apiUrl}/referrals/00000000-0000-4000-8000-000000000000`;
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(url, { headers: first })).status);
    expect(statuses).toEqual([404, 404, 429]);

    const throttled = await fetch(url, { headers: first });
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const outcome = (await throttled.json()) as {
      issue: Array<{ details: { coding: Array<{ code: string }> } }>;
    };
    expect(outcome.issue[0]?.details.coding[0]?.code).toBe('SEND_TOO_MANY_REQUESTS');

    expect((await fetch(url, { headers: await bearer('B82001') })).status).toBe(404);
  });

  it('answers 401 with WWW-Authenticate for a request without a token', async () => {
    const response = await fetch(`${stack.apiUrl}/referrals/00000000-0000-4000-8000-000000000000`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
  });
});
