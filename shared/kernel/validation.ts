import type { z } from 'zod';
import { ValidationError, type FieldProblem } from '#kernel/errors.ts';

/**
 * Validating input against a zod schema, with every problem told as a field and the rule it broke
 * (`FieldProblem`), whichever form the input came in (JSON body, FHIR Bundle, queue message). Pure: no I/O.
 */

/** A key as it may appear in an error: short, printable, and never a large piece of the body. */
export function safeKey(key: string | number): string {
  const text = String(key);
  if (/^[A-Za-z0-9_$@-]{1,64}$/.test(text)) return text;
  const printable = [...text.slice(0, 64)]
    .map((c) => (/[\p{L}\p{N}\p{P}\p{S} ]/u.test(c) ? c : '?'))
    .join('');
  return JSON.stringify(text.length > 64 ? `${printable}...` : printable);
}

export function parseWith<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new ValidationError(result.error.issues.map((issue) => problemFrom(issue, input)));
}

/** Looks up the value at a zod issue's path, to tell a missing field from a wrong one. */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function problemFrom(issue: z.core.$ZodIssue, input: unknown): FieldProblem {
  const field = issue.path.map((key) => safeKey(typeof key === 'number' ? key : String(key))).join('.');
  switch (issue.code) {
    case 'invalid_type':
      if (valueAt(input, issue.path) === undefined) return { field, rule: 'is required', kind: 'required' };
      return { field, rule: `must be ${article(issue.expected)}`, kind: 'invalid' };
    case 'unrecognized_keys':
      return {
        field: [field, issue.keys[0] === undefined ? '' : safeKey(issue.keys[0])].filter(Boolean).join('.'),
        rule: `is not a field of this resource (unknown: ${issue.keys.slice(0, 10).map(safeKey).join(', ')}${issue.keys.length > 10 ? ', ...' : ''})`,
        kind: 'structure',
      };
    case 'invalid_value':
      // A missing enum or literal field is missing, not a wrong value.
      if (valueAt(input, issue.path) === undefined) return { field, rule: 'is required', kind: 'required' };
      return { field, rule: `must be one of: ${issue.values.map(String).join(', ')}`, kind: 'value' };
    default:
      return { field, rule: issue.message, kind: 'value' };
  }
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
