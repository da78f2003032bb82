import type { FieldProblem } from '#kernel/errors.ts';
import type { BundleEntry, Reference } from '#fhir/inbound/bundle.ts';
import { entryKeys, referenceKeys } from '#fhir/inbound/normalise.ts';

/**
 * The message Bundle's entries, found by fullUrl or `resourceType/id` (normalise.ts says which spellings match),
 * and the resolution of a Reference element to the entry it points at, with a FHIR-expressed problem when it
 * points nowhere or at the wrong type. Duplicate fullUrls are refused as the index is built.
 */

/** Short, safe rendering of a sender's value inside a rule. */
function quote(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
}

export class BundleIndex {
  private readonly byKey = new Map<string, number>();

  constructor(
    readonly entries: BundleEntry[],
    problems: FieldProblem[],
  ) {
    const fullUrls = new Map<string, number>();
    entries.forEach((entry, index) => {
      const fullUrl = entry.fullUrl.trim();
      const seen = fullUrls.get(fullUrl);
      if (seen !== undefined) {
        problems.push({
          field: `Bundle.entry[${index}].fullUrl`,
          rule: `duplicates Bundle.entry[${seen}].fullUrl: each entry needs its own fullUrl`,
          kind: 'invalid',
        });
        return;
      }
      fullUrls.set(fullUrl, index);
      for (const key of entryKeys(fullUrl, entry.resource.resourceType, entry.resource['id'])) {
        if (!this.byKey.has(key)) this.byKey.set(key, index);
      }
    });
  }

  typeOf(index: number): string {
    return this.entries[index]?.resource.resourceType ?? '';
  }

  resource(index: number): Record<string, unknown> {
    return this.entries[index]?.resource ?? {};
  }

  find(reference: string): number | undefined {
    for (const key of referenceKeys(reference)) {
      const index = this.byKey.get(key);
      if (index !== undefined) return index;
    }
    return undefined;
  }

  indexesOf(resourceType: string): number[] {
    return this.entries.flatMap((entry, index) =>
      entry.resource.resourceType === resourceType ? [index] : [],
    );
  }

  /**
   * Resolves a Reference element at `expression` to an entry of one of `types`. A required reference whose target
   * type is absent from the Bundle altogether is a missing entry (`required`); one that points nowhere, or at the
   * wrong type, is `invalid`. An optional reference given only as an identifier resolves to nothing, quietly.
   */
  resolve(
    reference: Reference | undefined,
    expression: string,
    types: readonly string[],
    problems: FieldProblem[],
    required: boolean,
  ): number | undefined {
    const wanted = types.join(' or ');
    if (reference === undefined) {
      if (required)
        problems.push({ field: expression, rule: `must refer to the ${wanted}`, kind: 'required' });
      return undefined;
    }
    if (reference.reference === undefined) {
      if (required) {
        problems.push({
          field: `${expression}.reference`,
          rule: `must refer to the ${wanted} entry by its fullUrl`,
          kind: 'required',
        });
      }
      return undefined;
    }
    const index = this.find(reference.reference);
    if (index === undefined) {
      if (required && !types.some((type) => this.indexesOf(type).length > 0)) {
        problems.push({
          field: 'Bundle.entry',
          rule: `must include the ${wanted} entry that ${expression} refers to`,
          kind: 'required',
        });
      } else {
        problems.push({
          field: `${expression}.reference`,
          rule: `${quote(reference.reference)} does not resolve to any entry in this Bundle (by fullUrl or resourceType/id)`,
          kind: 'invalid',
        });
      }
      return undefined;
    }
    if (!types.includes(this.typeOf(index))) {
      problems.push({
        field: `${expression}.reference`,
        rule: `must refer to a ${wanted}, but refers to a ${this.typeOf(index)} (Bundle.entry[${index}])`,
        kind: 'invalid',
      });
      return undefined;
    }
    return index;
  }
}
