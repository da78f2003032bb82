import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalAws } from '../../infra/local/local-aws.ts';
import {
  apiEvent,
  contextFor,
  sampleReferral,
  type ApiHandler,
  startIntakeAgainstLocalAws,
} from '../support/local.ts';

// Property-based: whatever a client sends to either intake route, the answer is never a 5xx, and every refusal is
// a well-formed OperationOutcome. Runs the real handler against real local DynamoDB and SQS.

let aws: LocalAws;
let intake: ApiHandler;

beforeAll(async () => {
  ({ aws, intake } = await startIntakeAgainstLocalAws());
});
afterAll(() => aws.stop());

const newReferralBundle = JSON.parse(
  readFileSync(new URL('../../events/fhir/new-referral.json', import.meta.url), 'utf8'),
) as unknown;

async function storedCount(): Promise<number> {
  const { Count = 0 } = await aws.documentClient.send(
    new ScanCommand({ TableName: aws.tables.referrals, Select: 'COUNT', ConsistentRead: true }),
  );
  return Count;
}

async function send(route: '/referrals' | '/$process-message', body: string): Promise<void> {
  await statusOf(route, body);
}

/** Sends; never a 5xx; a refusal is a well-formed OperationOutcome and stores nothing. Returns the status. */
async function statusOf(route: '/referrals' | '/$process-message', body: string): Promise<number> {
  const headers: Record<string, string> =
    route === '/$process-message' ? { 'X-Request-ID': randomUUID(), 'X-Correlation-ID': randomUUID() } : {};
  const before = await storedCount();
  const response = await intake(apiEvent('POST', route, body, headers), contextFor('intake'));
  expect(response.statusCode, response.body.slice(0, 2000)).toBeLessThan(500);
  if (response.statusCode >= 400) {
    expectOperationOutcome(JSON.parse(response.body) as unknown);
    expect(await storedCount()).toBe(before);
  }
  return response.statusCode;
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

// ---- Hostile shapes (issue 6): deep, wide, long, invisible, misspelt ----------------------------------------------

/** Every path to an object (the body included), where a field can be added. */
function objectPaths(value: Json, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (Array.isArray(value)) return value.flatMap((item, i) => objectPaths(item, [...prefix, i]));
  if (value !== null && typeof value === 'object') {
    return [prefix, ...Object.entries(value).flatMap(([key, item]) => objectPaths(item, [...prefix, key]))];
  }
  return [];
}

function withField(document: unknown, path: Array<string | number>, key: string, value: Json): string {
  const copy = structuredClone(document) as Json;
  let target = copy as Record<string | number, Json>;
  for (const step of path) target = target[step] as Record<string | number, Json>;
  target[key] = value;
  return JSON.stringify(copy);
}

const placeholder = '"__hostile__"';

/** Nested arrays and objects, as text (no recursion anywhere), deeper than any limit. */
const deep = fc
  .tuple(fc.integer({ min: 33, max: 20_000 }), fc.boolean())
  .map(([depth, objects]) =>
    objects ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}` : `${'['.repeat(depth)}${']'.repeat(depth)}`,
  );
/** Arrays and objects wider than the limits. */
const wide = fc.oneof(
  fc.integer({ min: 1_001, max: 20_000 }).map((n) => JSON.stringify(Array(n).fill(0))),
  fc
    .integer({ min: 201, max: 2_000 })
    .map((n) => JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i])))),
);
/** Long strings, including runs of the characters slow regular expressions choke on. */
const long = fc
  .tuple(fc.constantFrom('a', '/', ' ', '9', '.', '\t', '@'), fc.integer({ min: 300, max: 200_000 }))
  .map(([unit, n]) => JSON.stringify(unit.repeat(n)));
/** Text with controls, bidi overrides and isolates, zero-width characters and lone surrogates. */
const invisible = fc
  .tuple(
    fc.string({ maxLength: 20 }),
    fc.constantFrom('\u0000', '\u0007', '\u001b', '\u0085', '\u202e', '\u2066', '\u200b', '\ufeff', '\ud800'),
    fc.string({ maxLength: 20 }),
  )
  .map(([before, bad, after]) => JSON.stringify(`${before}${bad}${after}`));

describe.each(['/referrals', '/$process-message'] as const)('POST %s with hostile values', (route) => {
  const valid = route === '/referrals' ? sampleReferral() : newReferralBundle;
  const paths = pathsOf(valid as Json);

  it('answers deep, wide, long or invisible values anywhere with a 4xx (or an acceptance), never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: paths.length - 1 }),
        fc.oneof(deep, wide, long, invisible),
        async (at, hostile) => {
          const text = mutated(valid, paths[at] ?? [], '__hostile__').replace(placeholder, hostile);
          const status = await statusOf(route, text);
          // Too deep or too wide is always refused, wherever it is; so is any long string in the JSON form, whose
          // every field is bounded (FHIR tolerates elements it does not read, so a long one there may be accepted).
          const tooDeepOrWide = /^(\[\[|\{"a":\{|\[0,|\{"k0")/.test(hostile);
          if (tooDeepOrWide || (route === '/referrals' && hostile.length > 20_000)) {
            expect(status).toBeGreaterThanOrEqual(400);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('answers an unknown field added to any object: refused in the JSON form, tolerated or refused in FHIR', async () => {
    const objects = objectPaths(valid as Json);
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: objects.length - 1 }),
        fc
          .string({ minLength: 1, maxLength: 20 })
          .filter((key) => !/^(resourceType|id|__proto__)$/.test(key)),
        fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
        async (at, key, value) => {
          const path = objects[at] ?? [];
          const existing = path.reduce<unknown>(
            (node, step) => (node as Record<string, unknown>)[step],
            valid,
          );
          fc.pre(!Object.hasOwn(existing as object, key));
          const status = await statusOf(route, withField(valid, path, key, value));
          if (route === '/referrals') expect(status).toBe(400);
        },
      ),
      { numRuns: 40 },
    );
  });
});
