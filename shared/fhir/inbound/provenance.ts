import type { z } from 'zod';
import { ValidationError, type FieldProblem } from '#kernel/errors.ts';
import { parseWith } from '#kernel/validation.ts';
import type { CodeableConcept } from '#fhir/inbound/bundle.ts';

/**
 * Element provenance: which FHIR element each internal field came from, so that a problem found by the internal
 * `ReferralRequest` schema (field `patient.nhsNumber`) is reported where the sender can fix it
 * (`Bundle.entry[2].resource.identifier[0].value`). The readers record a `FieldMap` while they build a candidate;
 * `validate` translates the schema's `FieldProblem`s through it, falling back to the nearest recorded parent.
 */

export const entryBase = (index: number): string => `Bundle.entry[${index}].resource`;

/** `identifier.0.value` under `Bundle.entry[3].resource` -> `Bundle.entry[3].resource.identifier[0].value`. */
function fhirExpression(base: string, dotted: string): string {
  if (dotted === '') return base;
  return dotted
    .split('.')
    .reduce((path, segment) => (/^\d+$/.test(segment) ? `${path}[${segment}]` : `${path}.${segment}`), base);
}

/** Shape check with parseWith; problems are recorded with FHIR expressions under `base`. */
export function check<S extends z.ZodType>(
  schema: S,
  input: unknown,
  base: string,
  problems: FieldProblem[],
): z.infer<S> | undefined {
  try {
    return parseWith(schema, input);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    for (const p of error.problems) problems.push({ ...p, field: fhirExpression(base, p.field) });
    return undefined;
  }
}

export function fail(problems: FieldProblem[]): never {
  throw new ValidationError(problems);
}

export interface Codings {
  coding: { system?: string | undefined; code?: string | undefined; display?: string | undefined };
  expression: string;
}

/** Every coding of some CodeableConcepts, with its expression. */
export function codingsOf(
  concepts: ReadonlyArray<CodeableConcept> | undefined,
  base: string,
  indexed: boolean,
): Codings[] {
  const out: Codings[] = [];
  (concepts ?? []).forEach((concept, i) => {
    const conceptBase = indexed ? `${base}[${i}]` : base;
    (concept.coding ?? []).forEach((coding, c) =>
      out.push({ coding, expression: `${conceptBase}.coding[${c}]` }),
    );
  });
  return out;
}

/** Internal field path (as FieldProblem.field) -> FHIR expression it came from. */
export type FieldMap = Map<string, string>;

/** A candidate for an internal schema, as read from the Bundle so far. */
export interface Draft {
  candidate: Record<string, unknown>;
  fields: FieldMap;
  /** Internal paths whose FHIR source is already reported: not reported twice. */
  skipped: string[];
}

export function emptyDraft(): Draft {
  return { candidate: {}, fields: new Map([['', 'Bundle']]), skipped: [] };
}

/** A rule only a BaRS message has (on top of the internal schema): `applies` says what is broken, if anything. */
export interface ExtraRule {
  field: string;
  applies: () => string | undefined;
}

function translate(field: string, fields: FieldMap): string {
  let current = field;
  for (;;) {
    const found = fields.get(current);
    if (found !== undefined) return found;
    if (current === '') return 'Bundle';
    const dot = current.lastIndexOf('.');
    current = dot === -1 ? '' : current.slice(0, dot);
  }
}

/**
 * Validates the candidate with the internal schema, translates its problems to FHIR expressions, adds the
 * BaRS-only rules (only where the schema found nothing wrong with that field), and throws if anything is wrong.
 * `earlier` problems (already FHIR expressions) come first, as the readers found them.
 */
export function validate<S extends z.ZodType>(
  schema: S,
  { candidate, fields, skipped }: Draft,
  extra: readonly ExtraRule[],
  earlier: readonly FieldProblem[],
): z.infer<S> {
  let data: z.infer<S> | undefined;
  let internal: FieldProblem[] = [];
  try {
    data = parseWith(schema, candidate);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    internal = error.problems.filter(
      (p) => !skipped.some((prefix) => p.field === prefix || p.field.startsWith(`${prefix}.`)),
    );
  }
  const reported = new Set(internal.map((p) => p.field));
  for (const rule of extra) {
    if (reported.has(rule.field)) continue;
    const broken = rule.applies();
    if (broken !== undefined) internal.push({ field: rule.field, rule: broken, kind: 'value' });
  }
  const problems = [...earlier, ...internal.map((p) => ({ ...p, field: translate(p.field, fields) }))];
  if (problems.length || data === undefined) fail(problems);
  return data;
}
