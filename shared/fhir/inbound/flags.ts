import type { FieldProblem } from '#kernel/errors.ts';
import { fhirSystems, type Flag } from '#fhir/inbound/bundle.ts';
import { isSystem } from '#fhir/inbound/normalise.ts';
import { codingsOf, type FieldMap } from '#fhir/inbound/provenance.ts';

/** Flag entries -> the candidate's `flags`: SG safeguarding, RA reasonable adjustments. */

export interface FlagReading {
  safeguarding: boolean;
  reasonableAdjustments: string[];
}

/** Does anything a person would read on this Flag speak of safeguarding? */
function mentionsSafeguarding(flag: Flag): boolean {
  const words = [flag.code, ...(flag.category ?? [])].flatMap((concept) => [
    concept?.text,
    ...(concept?.coding ?? []).flatMap((coding) => [coding.code, coding.display]),
  ]);
  return words.some((word) => word !== undefined && word.toLowerCase().includes('safeguard'));
}

/**
 * A Flag is never dropped unread: a safeguarding concern lost in transit is the hazard. Each active Flag must carry a
 * BaRS flag category (flag-categories-bars, any spelling of the system, code in any case): SG and RA are read;
 * another BaRS category (RS rejected services, ...) is not ours to act on and is tolerated, unless its words speak
 * of safeguarding. A Flag with no BaRS category, or one whose category says safeguarding but is not SG, is refused.
 */
export function readFlag(
  flag: Flag,
  base: string,
  out: FlagReading,
  fields: FieldMap,
  problems: FieldProblem[],
) {
  if (flag.status === 'inactive' || flag.status === 'entered-in-error') return;
  const categories = codingsOf(flag.category, `${base}.category`, true).filter(({ coding }) =>
    isSystem(coding.system, fhirSystems.flagCategories),
  );
  if (categories.length === 0) {
    problems.push({
      field: `${base}.category`,
      rule: `an active Flag must have a category coding from ${fhirSystems.flagCategories} (SG safeguarding, RA reasonable adjustment): a flag this receiver cannot read is refused, never dropped`,
      kind: 'required',
    });
    return;
  }
  for (const { coding, expression } of categories) {
    const category = coding.code?.trim().toUpperCase();
    if (category === undefined || category === '') {
      problems.push({
        field: `${expression}.code`,
        rule: 'is required: SG (safeguarding) or RA (reasonable adjustment)',
        kind: 'required',
      });
      continue;
    }
    if (category !== 'SG' && category !== 'RA' && mentionsSafeguarding(flag)) {
      problems.push({
        field: `${expression}.code`,
        rule: 'this Flag speaks of safeguarding but its category is not SG: code a safeguarding concern as SG so it cannot be missed',
        kind: 'value',
      });
      continue;
    }
    if (category === 'SG') out.safeguarding = true;
    if (category === 'RA') {
      const text = flag.code?.text?.trim();
      const displayIndex = (flag.code?.coding ?? []).findIndex((c) => (c.display ?? '').trim() !== '');
      const description = text || flag.code?.coding?.[displayIndex]?.display;
      if (description === undefined) {
        problems.push({
          field: `${base}.code.text`,
          rule: 'a reasonable-adjustment Flag must say what the adjustment is (code.text or a coding display)',
          kind: 'required',
        });
        continue;
      }
      fields.set(
        `flags.reasonableAdjustments.${out.reasonableAdjustments.length}`,
        text ? `${base}.code.text` : `${base}.code.coding[${displayIndex}].display`,
      );
      out.reasonableAdjustments.push(description);
    }
  }
}
