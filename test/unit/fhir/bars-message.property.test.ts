import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UnsupportedMessageError, ValidationError } from '#kernel/errors.ts';
import { parseBarsMessage } from '#fhir/inbound/message-intent.ts';
import { acknowledgementBundle } from '#fhir/outbound/acknowledgement.ts';
import { nhsCheckDigit } from '#referral/domain/nhs-number.ts';

/**
 * Whatever arrives, the parser answers with a result or one of its two typed errors, and every ValidationError
 * names a field and a rule. Kept fast: a few hundred runs each.
 */

const now = new Date('2026-01-20T10:35:00Z');
const kinds = new Set(['required', 'invalid', 'value', 'structure']);

type Json = Record<string, unknown>;

function example(name: string): Json {
  return JSON.parse(readFileSync(new URL(`../../../events/fhir/${name}`, import.meta.url), 'utf8')) as Json;
}

const validExamples = [
  'new-referral.json',
  'new-referral-variants.json',
  'update.json',
  'cancel.json',
  'entered-in-error.json',
];

/** Parses; returns the error it threw if it is one of the two typed errors, and fails the property otherwise. */
function outcome(input: unknown): unknown {
  try {
    return parseBarsMessage(input, now);
  } catch (error) {
    if (error instanceof ValidationError) {
      expect(error.problems.length).toBeGreaterThan(0);
      for (const problem of error.problems) {
        expect(typeof problem.field).toBe('string');
        expect(problem.field).toMatch(/^Bundle/);
        expect(problem.rule.length).toBeGreaterThan(0);
        expect(kinds.has(problem.kind)).toBe(true);
      }
      return error;
    }
    if (error instanceof UnsupportedMessageError) {
      expect(error.expression).toMatch(/^Bundle\.entry\[\d+\]\.resource\./);
      return error;
    }
    throw error;
  }
}

/** Every key path in a JSON value (objects and arrays), the root excluded. */
function pathsOf(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (Array.isArray(value)) {
    return value.flatMap((item, i) => [[...prefix, i], ...pathsOf(item, [...prefix, i])]);
  }
  const plain =
    typeof value === 'object' &&
    value !== null &&
    [Object.prototype, null].includes(Object.getPrototypeOf(value));
  if (plain) {
    return Object.entries(value).flatMap(([key, item]) => [
      [...prefix, key],
      ...pathsOf(item, [...prefix, key]),
    ]);
  }
  return [];
}

function mutate(
  root: Json,
  path: Array<string | number>,
  mutation: { op: 'delete' } | { op: 'set'; value: unknown },
) {
  let parent: unknown = root;
  for (const key of path.slice(0, -1)) parent = (parent as Record<string | number, unknown>)[key];
  const last = path[path.length - 1] as string | number;
  if (mutation.op === 'set') (parent as Record<string | number, unknown>)[last] = mutation.value;
  else if (Array.isArray(parent) && typeof last === 'number') parent.splice(last, 1);
  else delete (parent as Record<string | number, unknown>)[last];
}

const garbage = fc.anything({
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withNullPrototype: true,
  withObjectString: true,
  withSet: true,
  withSparseArray: true,
  withTypedArray: true,
});

describe('parseBarsMessage never throws anything but its typed errors', () => {
  it('on anything at all', () => {
    fc.assert(
      fc.property(garbage, (input) => {
        outcome(input);
      }),
      { numRuns: 300 },
    );
  });

  it('on any JSON value, and on any JSON text', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (input) => {
        outcome(input);
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.json(), (text) => {
        outcome(text);
      }),
      { numRuns: 100 },
    );
  });

  it('on bundle-shaped garbage', () => {
    const entry = fc.record(
      { fullUrl: fc.oneof(fc.string(), fc.constant('urn:uuid:x')), resource: fc.oneof(garbage, fc.object()) },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        fc.record(
          {
            resourceType: fc.constantFrom('Bundle', 'bundle', 7),
            id: fc.oneof(fc.string(), garbage),
            type: fc.constantFrom('message', 'collection'),
            timestamp: fc.oneof(fc.constant('2026-01-15T09:00:00Z'), fc.string()),
            entry: fc.array(entry, { maxLength: 6 }),
          },
          { requiredKeys: [] },
        ),
        (input) => {
          outcome(input);
        },
      ),
      { numRuns: 300 },
    );
  });

  for (const name of validExamples) {
    const bundle = example(name);
    const paths = pathsOf(bundle);

    it(`on ${name} with one key path deleted or replaced by another JSON value`, () => {
      const mutation = fc.oneof(
        fc.constant({ op: 'delete' as const }),
        fc.record({ op: fc.constant('set' as const), value: fc.jsonValue({ maxDepth: 3 }) }),
      );
      fc.assert(
        fc.property(fc.nat({ max: paths.length - 1 }), mutation, (at, change) => {
          const copy = structuredClone(bundle);
          mutate(copy, paths[at] ?? [], change);
          outcome(copy);
        }),
        { numRuns: 400 },
      );
    });

    it(`on ${name} with several mutations, including non-JSON values`, () => {
      const mutation = fc.oneof(
        fc.constant({ op: 'delete' as const }),
        fc.record({ op: fc.constant('set' as const), value: garbage }),
      );
      fc.assert(
        fc.property(fc.array(fc.tuple(fc.nat(), mutation), { minLength: 1, maxLength: 4 }), (changes) => {
          const copy = structuredClone(bundle);
          for (const [at, change] of changes) {
            const live = pathsOf(copy);
            if (live.length === 0) break;
            mutate(copy, live[at % live.length] ?? [], change);
          }
          outcome(copy);
        }),
        { numRuns: 200 },
      );
    });
  }
});

describe('round trips', () => {
  const digits = fc
    .array(fc.integer({ min: 0, max: 9 }), { minLength: 6, maxLength: 6 })
    .map((d) => `999${d.join('')}`);
  const validNhsNumber = digits
    .filter((nine) => nhsCheckDigit(nine) !== undefined)
    .map((nine) => `${nine}${nhsCheckDigit(nine)}`);

  it('any valid NHS number in the Patient identifier comes through unchanged', () => {
    const bundle = example('new-referral.json');
    fc.assert(
      fc.property(validNhsNumber, (nhsNumber) => {
        const copy = structuredClone(bundle);
        const patient = (copy['entry'] as Array<{ resource: Json }>)[2]?.resource as Json;
        ((patient['identifier'] as Json[])[0] as Json)['value'] = nhsNumber;
        const intent = parseBarsMessage(copy, now);
        expect(intent.kind === 'new' && intent.request.patient.nhsNumber).toBe(nhsNumber);
      }),
      { numRuns: 200 },
    );
  });

  it('the acknowledgement of any valid example parses to the same intent, with the assigned id', () => {
    fc.assert(
      fc.property(fc.constantFrom(...validExamples), fc.uuid(), (name, id) => {
        const request = example(name);
        const before = parseBarsMessage(request, now);
        const status = before.kind === 'cancel' ? before.status : 'active';
        const ack = acknowledgementBundle(request, {
          serviceRequestId: id,
          status,
          lastUpdated: now.toISOString(),
        });
        const after = parseBarsMessage(ack, now);
        expect(after.kind).toBe(before.kind);
        if (after.kind !== 'new' && before.kind !== 'new') {
          expect(after.serviceRequestId).toBe(id);
        }
        if (after.kind !== 'cancel' && before.kind !== 'cancel')
          expect(after.request).toEqual(before.request);
      }),
      { numRuns: 100 },
    );
  });
});
