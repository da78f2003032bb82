import type { FieldProblem } from '#kernel/errors.ts';
import type { InterventionCategory } from '#referral/domain/categories.ts';
import { referralRules, ReferralRequest } from '#referral/domain/referral.ts';
import {
  Condition,
  Consent,
  Encounter,
  Flag,
  Organization,
  Patient,
  Practitioner,
  PractitionerRole,
} from '#fhir/inbound/bundle.ts';
import type { BundleIndex } from '#fhir/inbound/bundle-index.ts';
import { readConsent, type ConsentReading } from '#fhir/inbound/consent.ts';
import { readFlag, type FlagReading } from '#fhir/inbound/flags.ts';
import { readNeeds } from '#fhir/inbound/needs.ts';
import { readPatient } from '#fhir/inbound/patient.ts';
import {
  check,
  codingsOf,
  entryBase,
  validate,
  type Draft,
  type ExtraRule,
} from '#fhir/inbound/provenance.ts';
import type { FocusServiceRequest } from '#fhir/inbound/service-request.ts';

/**
 * A new referral or an update: the `ReferralRequest` candidate built from the focus ServiceRequest and the entries
 * it refers to (Patient, Condition, Flag, Consent), recording where each field came from, then validated by the
 * same schema as the JSON route plus the rules both intake forms share. `draft` already holds the sender's
 * `practiceOds`; `problems` found earlier in the message are reported first.
 */
export function readReferralRequest(
  { sr, srBase }: FocusServiceRequest,
  index: BundleIndex,
  now: Date,
  draft: Draft,
  problems: FieldProblem[],
): ReferralRequest {
  const { candidate, fields, skipped } = draft;
  const extra: ExtraRule[] = [];

  const patientIndex = index.resolve(sr.subject, `${srBase}.subject`, ['Patient'], problems, true);
  if (patientIndex === undefined) skipped.push('patient');
  else {
    const base = entryBase(patientIndex);
    const patient = check(Patient, index.resource(patientIndex), base, problems);
    if (patient === undefined) skipped.push('patient');
    else {
      const reading = readPatient(patient, base, fields, problems);
      candidate['patient'] = reading.candidate;
    }
  }
  // Who asked, and the encounter (journey): not mapped, but they must resolve and be of the right shape.
  const requesterSchemas = { Practitioner, PractitionerRole, Organization } as const;
  const requester = index.resolve(
    sr.requester,
    `${srBase}.requester`,
    Object.keys(requesterSchemas),
    problems,
    false,
  );
  if (requester !== undefined) {
    const schema = requesterSchemas[index.typeOf(requester) as keyof typeof requesterSchemas];
    check(schema, index.resource(requester), entryBase(requester), problems);
  }
  const encounter = index.resolve(sr.encounter, `${srBase}.encounter`, ['Encounter'], problems, false);
  if (encounter !== undefined) check(Encounter, index.resource(encounter), entryBase(encounter), problems);

  // Needs: ServiceRequest.reasonCode, then every Condition entry's code.
  const needs: InterventionCategory[] = [];
  const beforeNeeds = problems.length;
  fields.set('needs', `${srBase}.reasonCode`);
  readNeeds(codingsOf(sr.reasonCode, `${srBase}.reasonCode`, true), needs, fields, problems);
  for (const i of index.indexesOf('Condition')) {
    const condition = check(Condition, index.resource(i), entryBase(i), problems);
    if (condition === undefined) skipped.push('needs');
    else if (condition.code)
      readNeeds(codingsOf([condition.code], `${entryBase(i)}.code`, false), needs, fields, problems);
  }
  candidate['needs'] = needs;
  if (problems.length > beforeNeeds) skipped.push('needs'); // a refused code is the problem, not "no need"

  // Flags: SG safeguarding, RA reasonable adjustments.
  const flags: FlagReading = { safeguarding: false, reasonableAdjustments: [] };
  const flagIndexes = index.indexesOf('Flag');
  fields.set('flags', flagIndexes.length ? entryBase(flagIndexes[0] ?? 0) : 'Bundle.entry');
  for (const i of flagIndexes) {
    const flag = check(Flag, index.resource(i), entryBase(i), problems);
    if (flag === undefined) skipped.push('flags');
    else readFlag(flag, entryBase(i), flags, fields, problems);
  }
  candidate['flags'] = flags;

  // Consent to share with VCSE partners, and the patient's choice about sharing back with the practice.
  const consents: ConsentReading = { grants: [] };
  const consentIndexes = index.indexesOf('Consent');
  fields.set('consent', consentIndexes.length ? entryBase(consentIndexes[0] ?? 0) : 'Bundle.entry');
  for (const i of consentIndexes) {
    const consent = check(Consent, index.resource(i), entryBase(i), problems);
    if (consent === undefined) skipped.push('consent');
    else readConsent(consent, entryBase(i), index, now, consents, fields, problems);
  }
  candidate['consent'] = consents.grants;
  if (consents.sharingBack !== undefined) candidate['sharingBack'] = consents.sharingBack;

  // Deadline and free text.
  const deadline = sr.occurrencePeriod?.end;
  fields.set('respondBy', `${srBase}.occurrencePeriod.end`);
  if (deadline !== undefined) candidate['respondBy'] = deadline;
  // The clock- and policy-dependent rules both intake forms share (birth date, deadline, NHS number verification).
  for (const { field, check } of referralRules) extra.push({ field, applies: () => check(candidate, now) });
  const notes = (sr.note ?? []).flatMap((note) => (note.text?.trim() ? [note.text.trim()] : []));
  fields.set('reasonForReferral', sr.note?.length === 1 ? `${srBase}.note[0].text` : `${srBase}.note`);
  if (notes.length) candidate['reasonForReferral'] = notes.join('\n\n');

  return validate(ReferralRequest, draft, extra, problems);
}
