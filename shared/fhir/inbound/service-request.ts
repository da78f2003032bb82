import { UnsupportedMessageError, type FieldProblem } from '#kernel/errors.ts';
import { referralRequestCodes, snomedSystem, useCaseCode, useCaseSystem } from '#fhir/codes.ts';
import { fhirSystems, ServiceRequest, type MessageHeader } from '#fhir/inbound/bundle.ts';
import type { BundleIndex } from '#fhir/inbound/bundle-index.ts';
import { headerBase } from '#fhir/inbound/message-header.ts';
import { isSystem } from '#fhir/inbound/normalise.ts';
import { check, codingsOf, entryBase, fail } from '#fhir/inbound/provenance.ts';

/**
 * The ServiceRequest the MessageHeader focuses on: found (preferring a focus that resolves to a ServiceRequest),
 * checked to be a social-prescribing referral (category; anything else is 422, not ours), and held to the BaRS
 * rules on `intent` and `code`. Those rule problems are recorded, not thrown, so the sender sees them all at once.
 */

export interface FocusServiceRequest {
  sr: ServiceRequest;
  srBase: string;
}

export function readServiceRequest(
  index: BundleIndex,
  header: MessageHeader,
  problems: FieldProblem[],
): FocusServiceRequest {
  const focus = header.focus ?? [];
  let srIndex: number | undefined;
  if (focus.length === 0) {
    problems.push({
      field: `${headerBase}.focus`,
      rule: 'must refer to the ServiceRequest',
      kind: 'required',
    });
  } else {
    const preferred = focus.findIndex(
      (f) => f.reference !== undefined && index.typeOf(index.find(f.reference) ?? -1) === 'ServiceRequest',
    );
    const f = Math.max(0, preferred);
    srIndex = index.resolve(focus[f], `${headerBase}.focus[${f}]`, ['ServiceRequest'], problems, true);
  }
  if (srIndex === undefined) fail(problems);
  const srBase = entryBase(srIndex);
  const sr = check(ServiceRequest, index.resource(srIndex), srBase, problems);
  if (sr === undefined) fail(problems);

  if (!sr.category?.length) {
    fail([
      {
        field: `${srBase}.category`,
        rule: `is required: referral (${fhirSystems.serviceRequestCategory}) and ${useCaseSystem}|${useCaseCode}`,
        kind: 'required',
      },
    ]);
  }
  const categories = codingsOf(sr.category, `${srBase}.category`, true);
  const isReferral = categories.some(
    ({ coding }) => isSystem(coding.system, fhirSystems.serviceRequestCategory) && coding.code === 'referral',
  );
  const isOurs = categories.some(
    ({ coding }) => isSystem(coding.system, useCaseSystem) && coding.code === useCaseCode,
  );
  if (!isReferral || !isOurs) {
    const given = categories.map(
      ({ coding }) => `${coding.system ?? '(no system)'}|${coding.code ?? '(no code)'}`,
    );
    throw new UnsupportedMessageError(
      `${srBase}.category`,
      `ServiceRequest.category must include referral (${fhirSystems.serviceRequestCategory}) and the social-prescribing use case (${useCaseSystem}|${useCaseCode}); this receiver handles no other; given: ${given.join(', ') || 'none'}`,
    );
  }

  // BaRS rules on the ServiceRequest itself.
  if (sr.intent !== 'plan') {
    problems.push({
      field: `${srBase}.intent`,
      rule: sr.intent === undefined ? 'is required: plan' : 'must be plan',
      kind: sr.intent === undefined ? 'required' : 'value',
    });
  }
  const referralCodes = [...referralRequestCodes].join(', ');
  if (sr.code === undefined) {
    problems.push({
      field: `${srBase}.code`,
      rule: `is required: SNOMED CT, one of ${referralCodes}`,
      kind: 'required',
    });
  } else {
    const snomed = codingsOf([sr.code], `${srBase}.code`, false).filter(({ coding }) =>
      isSystem(coding.system, snomedSystem),
    );
    if (snomed.length === 0) {
      problems.push({
        field: `${srBase}.code.coding`,
        rule: `must include a SNOMED CT coding for a social-prescribing referral: one of ${referralCodes}`,
        kind: 'required',
      });
    }
    for (const { coding, expression } of snomed) {
      if (coding.code === undefined || !referralRequestCodes.has(coding.code)) {
        problems.push({
          field: `${expression}.code`,
          rule: `must be a SNOMED CT code for a social-prescribing referral: one of ${referralCodes}`,
          kind: coding.code === undefined ? 'required' : 'value',
        });
      }
    }
  }
  return { sr, srBase };
}
