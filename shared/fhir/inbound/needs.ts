import type { FieldProblem } from '#kernel/errors.ts';
import { interventionCategories, type InterventionCategory } from '#referral/domain/categories.ts';
import { needCategorySystem, snomedNeedCategories, snomedSystem } from '#fhir/codes.ts';
import { isSystem } from '#fhir/inbound/normalise.ts';
import type { Codings, FieldMap } from '#fhir/inbound/provenance.ts';

/** ServiceRequest.reasonCode and Condition.code -> the candidate's `needs` (intervention categories). */

function lookup<T>(table: Readonly<Record<string, T>>, key: string | undefined): T | undefined {
  return key !== undefined && Object.hasOwn(table, key) ? table[key] : undefined;
}

/** Need categories from SNOMED or our need-category codes; an unknown code in either system is refused. */
export function readNeeds(
  codings: Codings[],
  needs: InterventionCategory[],
  fields: FieldMap,
  problems: FieldProblem[],
) {
  for (const { coding, expression } of codings) {
    let need: InterventionCategory | undefined;
    if (isSystem(coding.system, snomedSystem)) {
      need = lookup(snomedNeedCategories, coding.code);
      if (need === undefined) {
        problems.push({
          field: `${expression}.code`,
          rule: `is not a SNOMED CT code this service maps to a need (known: ${Object.keys(snomedNeedCategories).join(', ')})`,
          kind: coding.code === undefined ? 'required' : 'value',
        });
      }
    } else if (isSystem(coding.system, needCategorySystem)) {
      need = interventionCategories.find((category) => category === coding.code);
      if (need === undefined) {
        problems.push({
          field: `${expression}.code`,
          rule: `must be one of: ${interventionCategories.join(', ')}`,
          kind: coding.code === undefined ? 'required' : 'value',
        });
      }
    }
    if (need !== undefined && !needs.includes(need)) {
      fields.set(`needs.${needs.length}`, `${expression}.code`);
      needs.push(need);
    }
  }
}
