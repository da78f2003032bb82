import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalAws, type LocalAws } from '../../infra/local/local-aws.ts';
import { apiEvent, contextFor, sampleReferral, type ApiHandler } from '../support/local.ts';

// Property-based: whatever a client sends to either intake route, the answer is never a 5xx, and every refusal is
// a well-formed OperationOutcome. Runs the real handler against real local DynamoDB and SQS.

let aws: LocalAws;
let intake: ApiHandler;

beforeAll(async () => {
  aws = await startLocalAws();
  await aws.seedDirectory('http://127.0.0.1:9');
  intake = ((await import('../../functions/intake/handler.ts')) as { handler: ApiHandler }).handler;
});
afterAll(() => aws.stop());

const newReferralBundle = JSON.parse(
  readFileSync(new URL('../../events/fhir/new-referral.json', import.meta.url), 'utf8'),
) as unknown;

async function send(route: '/referrals' | '/$process-message', body: string): Promise<void> {
  const headers: Record<string, string> =
    route === '/$process-message' ? { 'X-Request-ID': randomUUID(), 'X-Correlation-ID': randomUUID() } : {};
  const response = await intake(apiEvent('POST', route, body, headers), contextFor('intake'));
  expect(response.statusCode, response.body).toBeLessThan(500);
  if (response.statusCode >= 400) expectOperationOutcome(JSON.parse(response.body) as unknown);
}

function expectOperationOutcome(body: unknown): void {
  const outcome = body as { resourceType?: unknown; issue?: unknown };
  expect(outcome.resourceType).toBe('OperationOutcome');
  expect(Array.isArray(outcome.issue) && outcome.issue.length > 0).toBe(true);
  for (const issue of outcome.issue as Array<Record<string, unknown>>) {
    expect(issue.severity).toBe('error');
    expect(typeof issue.code).toBe('string');
    expect(typeof issue.diagnostics).toBe('string');
    const coding = (issue.details as { coding?: Array<{ code?: unknown }> } | undefined)?.coding?.[0];
    expect(String(coding?.code)).toMatch(/^(REC|SEND)_[A-Z_]+$/);
    if (issue.expression !== undefined) {
      expect(
        Array.isArray(issue.expression) && issue.expression.every((e) => typeof e === 'string' && e !== ''),
      ).toBe(true);
    }
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every path to a value inside a JSON document. */
function pathsOf(value: Json, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (Array.isArray(value))
    return value.flatMap((item, i) => [[...prefix, i], ...pathsOf(item, [...prefix, i])]);
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) => [
      [...prefix, key],
      ...pathsOf(item, [...prefix, key]),
    ]);
  }
  return [];
}

function mutated(document: unknown, path: Array<string | number>, replacement: Json | undefined): string {
  const copy = structuredClone(document) as Json;
  let parent = copy as Record<string | number, Json>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, Json>;
  const last = path[path.length - 1] ?? '';
  if (replacement === undefined) delete parent[last];
  else parent[last] = replacement;
  return JSON.stringify(copy);
}

const replacement = fc.option(fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>, { nil: undefined });

describe.each(['/referrals', '/$process-message'] as const)('POST %s', (route) => {
  it('answers arbitrary JSON (and non-JSON) with a 4xx OperationOutcome, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.json(), fc.string()), (body) => send(route, body)),
      { numRuns: 60 },
    );
  });

  it('answers mutations of a valid message without a 5xx', async () => {
    const valid = route === '/referrals' ? sampleReferral() : newReferralBundle;
    const paths = pathsOf(valid as Json);
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: paths.length - 1 }), replacement, (at, value) =>
        send(route, mutated(valid, paths[at] ?? [], value)),
      ),
      { numRuns: 120 },
    );
  });
});
