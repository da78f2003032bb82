import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { z } from 'zod';
import { PayloadTooLargeError, ValidationError, type FieldProblem } from '../domain/errors.ts';

/**
 * Reading an API Gateway request body: size first (413), then JSON syntax (400), then the schema (400 naming
 * every offending field and its rule). Never throws anything but the typed errors above.
 */

export function bodyText(
  event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>,
  limitBytes: number,
): string {
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  const size = Buffer.byteLength(text, 'utf8');
  if (size > limitBytes) throw new PayloadTooLargeError(size, limitBytes);
  return text;
}

export function parseJson(text: string): unknown {
  if (text.trim() === '') {
    throw new ValidationError([{ field: '', rule: 'a JSON body is required', kind: 'required' }]);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const detail = error instanceof SyntaxError ? error.message : 'not valid JSON';
    throw new ValidationError([{ field: '', rule: `body is not valid JSON (${detail})`, kind: 'structure' }]);
  }
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
  const field = issue.path.map(String).join('.');
  switch (issue.code) {
    case 'invalid_type':
      if (valueAt(input, issue.path) === undefined) return { field, rule: 'is required', kind: 'required' };
      return { field, rule: `must be ${article(issue.expected)}`, kind: 'invalid' };
    case 'unrecognized_keys':
      return {
        field: [field, issue.keys[0]].filter(Boolean).join('.'),
        rule: `is not a field of this resource (unknown: ${issue.keys.join(', ')})`,
        kind: 'structure',
      };
    case 'invalid_value':
      return { field, rule: `must be one of: ${issue.values.map(String).join(', ')}`, kind: 'value' };
    default:
      return { field, rule: issue.message, kind: 'value' };
  }
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
