import type { FieldProblem } from '#kernel/errors.ts';
import type { NhsNumberVerification } from '#referral/domain/referral.ts';
import { fhirSystems, type ContactPoint, type Patient } from '#fhir/inbound/bundle.ts';
import { isSystem, isVerificationExtension, verificationFromCoding } from '#fhir/inbound/normalise.ts';
import { codingsOf, type FieldMap } from '#fhir/inbound/provenance.ts';

/**
 * The Patient entry -> the candidate's `patient`: NHS number and its UK Core verification status, name, birth
 * date, administrative gender, contact (phone, email, which is preferred) and postcode, each recorded with the element it came from.
 */

interface Telecom {
  system: 'phone' | 'email';
  value: string | undefined;
  rank: number;
  order: number;
  expression: string;
}

function best(telecoms: Telecom[]): Telecom | undefined {
  return [...telecoms].sort((a, b) => a.rank - b.rank || a.order - b.order)[0];
}

function telecomsOf(points: ReadonlyArray<ContactPoint> | undefined, base: string): Telecom[] {
  const out: Telecom[] = [];
  (points ?? []).forEach((point, order) => {
    if (point.system === 'phone' || point.system === 'email') {
      out.push({
        system: point.system,
        value: point.value,
        rank: point.rank ?? Number.POSITIVE_INFINITY,
        order,
        expression: `${base}[${order}]`,
      });
    }
  });
  return out;
}

export interface PatientReading {
  candidate: Record<string, unknown>;
  verification?: { status: NhsNumberVerification; expression: string };
}

export function readPatient(
  patient: Patient,
  base: string,
  fields: FieldMap,
  problems: FieldProblem[],
): PatientReading {
  const candidate: Record<string, unknown> = {};
  let verification: PatientReading['verification'];
  fields.set('patient', base);

  // NHS number and its verification status (an extension on the identifier, as UK Core has it).
  const identifiers = patient.identifier ?? [];
  const idIndex = identifiers.findIndex((identifier) => isSystem(identifier.system, fhirSystems.nhsNumber));
  const identifier = identifiers[idIndex];
  if (identifier === undefined) {
    fields.set('patient.nhsNumber', `${base}.identifier`);
  } else {
    const idBase = `${base}.identifier[${idIndex}]`;
    fields.set('patient.nhsNumber', `${idBase}.value`);
    if (identifier.value !== undefined) candidate['nhsNumber'] = identifier.value;
    (identifier.extension ?? []).forEach((extension, e) => {
      if (verification !== undefined || !isVerificationExtension(extension.url)) return;
      const extBase = `${idBase}.extension[${e}]`;
      const codings = codingsOf(
        extension.valueCodeableConcept ? [extension.valueCodeableConcept] : [],
        `${extBase}.valueCodeableConcept`,
        false,
      );
      let known = false;
      for (const { coding, expression } of codings) {
        const reading = verificationFromCoding(coding.system, coding.code);
        if (reading.kind === 'status') {
          verification = { status: reading.status, expression: extBase };
          return;
        }
        if (reading.kind === 'unknown-code') {
          known = true;
          problems.push({
            field: `${expression}.code`,
            rule: 'is not an NHS number verification status (UK Core code such as number-present-and-verified, or England code 01-08)',
            kind: 'value',
          });
        }
      }
      if (!known) {
        problems.push({
          field: `${extBase}.valueCodeableConcept`,
          rule: `must hold a coding from ${fhirSystems.nhsNumberVerification} or ${fhirSystems.nhsNumberVerificationEngland}`,
          kind: 'required',
        });
      }
    });
    if (verification !== undefined) {
      candidate['nhsNumberVerification'] = verification.status;
      fields.set('patient.nhsNumberVerification', verification.expression);
    }
  }

  // Name: the official one, else the first.
  const names = patient.name ?? [];
  const nameIndex = Math.max(
    0,
    names.findIndex((name) => name.use === 'official'),
  );
  const name = names[nameIndex];
  if (name === undefined) {
    fields.set('patient.name', `${base}.name`);
  } else {
    const nameBase = `${base}.name[${nameIndex}]`;
    fields.set('patient.name', nameBase);
    fields.set('patient.name.given', name.given?.length ? `${nameBase}.given[0]` : `${nameBase}.given`);
    fields.set('patient.name.family', `${nameBase}.family`);
    candidate['name'] = {
      ...(name.given?.[0] === undefined ? {} : { given: name.given[0] }),
      ...(name.family === undefined ? {} : { family: name.family }),
    };
  }

  fields.set('patient.birthDate', `${base}.birthDate`);
  if (patient.birthDate !== undefined) candidate['birthDate'] = patient.birthDate;

  // Administrative gender: a code the referral's schema checks (male, female, other, unknown), as strictly as the rest.
  fields.set('patient.gender', `${base}.gender`);
  if (patient.gender !== undefined) candidate['gender'] = patient.gender;

  // Contact: Patient.telecom; else, as BaRS examples do, the telecom of a contact whose relationship is ONESELF.
  let telecomBase = `${base}.telecom`;
  let telecoms = telecomsOf(patient.telecom, telecomBase);
  if (telecoms.length === 0) {
    (patient.contact ?? []).forEach((contact, c) => {
      if (telecoms.length > 0) return;
      const self = codingsOf(contact.relationship, '', true).some(({ coding }) => coding.code === 'ONESELF');
      if (!self) return;
      telecomBase = `${base}.contact[${c}].telecom`;
      telecoms = telecomsOf(contact.telecom, telecomBase);
    });
  }
  fields.set('patient.contact', telecomBase);
  const preferred = best(telecoms);
  if (preferred !== undefined) {
    const phone = best(telecoms.filter((t) => t.system === 'phone'));
    const email = best(telecoms.filter((t) => t.system === 'email'));
    fields.set('patient.contact.preferred', preferred.expression);
    if (phone) fields.set('patient.contact.phone', `${phone.expression}.value`);
    if (email) fields.set('patient.contact.email', `${email.expression}.value`);
    candidate['contact'] = {
      ...(phone?.value === undefined ? {} : { phone: phone.value }),
      ...(email?.value === undefined ? {} : { email: email.value }),
      preferred: preferred.system,
    };
  }

  // Postcode: the home address, else the first.
  const addresses = patient.address ?? [];
  const addressIndex = Math.max(
    0,
    addresses.findIndex((address) => address.use === 'home'),
  );
  fields.set(
    'patient.postcode',
    addresses.length ? `${base}.address[${addressIndex}].postalCode` : `${base}.address`,
  );
  const postcode = addresses[addressIndex]?.postalCode;
  if (postcode !== undefined) candidate['postcode'] = postcode;

  return verification === undefined ? { candidate } : { candidate, verification };
}
