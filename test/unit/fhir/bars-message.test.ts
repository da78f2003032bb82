import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  UnprocessableError,
  UnsupportedMessageError,
  ValidationError,
  type FieldProblem,
} from '#kernel/errors.ts';
import { parseBarsMessage, type BarsIntent } from '#fhir/inbound/message-intent.ts';
import { acknowledgementBundle } from '#fhir/outbound/acknowledgement.ts';
import { ReferralRequest } from '#referral/domain/referral.ts';

/** The clock these tests run at: after the examples' timestamps, long before their 2030 deadline. */
const now = new Date('2026-01-20T10:35:00Z');

type Json = Record<string, unknown>;
type Entry = { fullUrl: string; resource: Json };

function example(name: string): Json {
  return JSON.parse(readFileSync(new URL(`../../../events/fhir/${name}`, import.meta.url), 'utf8')) as Json;
}

const entriesOf = (bundle: Json): Entry[] => bundle['entry'] as Entry[];

/** The first resource of a type (mutable: tests edit fresh copies of the examples). */
function resourceOf(bundle: Json, resourceType: string): Json {
  const found = entriesOf(bundle).find((entry) => entry.resource['resourceType'] === resourceType);
  if (found === undefined) throw new Error(`no ${resourceType} in the bundle`);
  return found.resource;
}

function parse(input: unknown): BarsIntent {
  return parseBarsMessage(input, now);
}

function problemsOf(input: unknown): FieldProblem[] {
  try {
    parse(input);
  } catch (error) {
    if (error instanceof ValidationError) return error.problems;
    throw error;
  }
  throw new Error('expected a ValidationError, but the message was accepted');
}

function unsupported(input: unknown): UnsupportedMessageError {
  try {
    parse(input);
  } catch (error) {
    if (error instanceof UnsupportedMessageError) return error;
    throw error;
  }
  throw new Error('expected an UnsupportedMessageError, but the message was accepted');
}

/** Exactly one problem, at this expression, of this kind (and, optionally, a rule matching). */
function expectOne(input: unknown, field: string, kind: FieldProblem['kind'], rule?: RegExp): void {
  const problems = problemsOf(input);
  expect(problems, JSON.stringify(problems)).toHaveLength(1);
  expect(problems[0]).toMatchObject({ field, kind });
  if (rule) expect(problems[0]?.rule).toMatch(rule);
}

/** new-referral.json with an edit applied. */
function newReferralWith(edit: (bundle: Json) => void): Json {
  const bundle = example('new-referral.json');
  edit(bundle);
  return bundle;
}

const serviceRequestId = '7d9f3b2a-1111-4c3d-8e5f-000000000001';

describe('valid examples', () => {
  it('new-referral.json maps to a new ReferralRequest', () => {
    const intent = parse(example('new-referral.json'));
    expect(intent).toEqual({
      kind: 'new',
      request: {
        patient: {
          nhsNumber: '9995260182',
          nhsNumberVerification: 'verified',
          name: { given: 'Alex', family: 'Testpatient' },
          birthDate: '1961-04-12',
          gender: 'unknown',
          contact: { phone: '0113 496 0001', email: 'alex.testpatient@example.org', preferred: 'phone' },
          postcode: 'LS6 1AA',
        },
        practiceOds: 'A81001',
        needs: ['arts', 'mental-health'],
        consent: [{ recipient: 'any-vcse', granted: true }],
        reasonForReferral: 'Low mood since retirement; would like a creative group.',
        flags: {
          safeguarding: true,
          reasonableAdjustments: ['Hard of hearing: prefers text messages, or a face-to-face meeting'],
        },
        respondBy: '2030-06-28T17:00:00+01:00',
      },
      message: {
        bundleId: '5b1f6a3e-2c4d-4e8f-9a0b-1c2d3e4f5a01',
        messageHeaderId: '0a1b2c3d-0000-4000-8000-000000000001',
        timestamp: '2026-01-15T09:00:00+00:00',
        sourceEndpoint: 'https://gp.example.org/bars/A81001',
        senderOds: 'A81001',
      },
    });
  });

  it('maps to the same internal model as the plain JSON form of the same referral', () => {
    const json = ReferralRequest.parse(
      JSON.parse(
        readFileSync(
          new URL('../../../events/referrals/leeds-arts-and-mental-health.json', import.meta.url),
          'utf8',
        ),
      ),
    );
    const intent = parse(example('new-referral.json'));
    if (intent.kind !== 'new') throw new Error('expected new');
    expect(intent.request.patient.nhsNumber).toBe(json.patient.nhsNumber);
    expect(intent.request.patient.postcode).toBe(json.patient.postcode);
    expect(intent.request.patient.birthDate).toBe(json.patient.birthDate);
    expect(intent.request.practiceOds).toBe(json.practiceOds);
    expect(intent.request.needs).toEqual(json.needs);
    expect(intent.request.consent).toEqual(json.consent);
    expect(intent.request.reasonForReferral).toBe(json.reasonForReferral);
    expect(ReferralRequest.parse(intent.request)).toEqual(intent.request);
  });

  it('new-referral-variants.json: old code systems, /id/ and http spellings, England code 01, BaRS-style contact', () => {
    const intent = parse(example('new-referral-variants.json'));
    expect(intent).toEqual({
      kind: 'new',
      request: {
        patient: {
          nhsNumber: '9990000018', // sent as "999 000 0018"
          nhsNumberVerification: 'verified', // England code 01
          name: { given: 'Jo', family: 'Variant' },
          birthDate: '1961-04-12',
          gender: 'unknown',
          // Patient.contact with relationship ONESELF; rank 1 (email) is preferred
          contact: { phone: '01134960002', email: 'jo.variant@example.org', preferred: 'email' },
          postcode: 'LS6 1AA', // the home address, normalised from "ls61aa"
        },
        practiceOds: 'A81001', // http://fhir.nhs.uk/id/ods-organization-code
        needs: ['physical-activity', 'befriending'], // SNOMED reasonCode, then a need-category Condition
        consent: [
          { recipient: 'leeds-walking-group', granted: true }, // actor by identifier
          { recipient: 'leeds-befriending', granted: false }, // actor by reference to an Organization; deny
        ], // the DRC direct-care Consent without provision is ignored
        reasonForReferral: 'Low mood since retirement; would like a creative group.',
        flags: { safeguarding: false, reasonableAdjustments: [] },
        respondBy: '2030-06-28T17:00:00+01:00',
      },
      message: {
        bundleId: '5b1f6a3e-2c4d-4e8f-9a0b-1c2d3e4f5a02',
        messageHeaderId: '0a1b2c3d-0000-4000-8000-0000000000aa', // MessageHeader.id when given
        timestamp: '2026-01-15T09:00:00.8380931+00:00',
        sourceEndpoint: 'https://gp.example.org/bars/A81001',
        senderOds: 'A81001',
      },
    });
  });

  it('update.json is an update of the ServiceRequest this service assigned', () => {
    const intent = parse(example('update.json'));
    expect(intent.kind).toBe('update');
    if (intent.kind !== 'update') return;
    expect(intent.serviceRequestId).toBe(serviceRequestId);
    expect(intent.request.needs).toEqual(['arts', 'mental-health', 'physical-activity']);
    expect(intent.request.reasonForReferral).toMatch(/walking group/);
    expect(intent.message).toMatchObject({
      bundleId: '5b1f6a3e-2c4d-4e8f-9a0b-1c2d3e4f5a03',
      senderOds: 'A81001',
    });
  });

  it('cancel.json is a cancellation (revoked)', () => {
    expect(parse(example('cancel.json'))).toEqual({
      kind: 'cancel',
      serviceRequestId,
      status: 'revoked',
      message: {
        bundleId: '5b1f6a3e-2c4d-4e8f-9a0b-1c2d3e4f5a04',
        messageHeaderId: '0a1b2c3d-0000-4000-8000-000000000001',
        timestamp: '2026-01-20T10:30:00+00:00',
        sourceEndpoint: 'https://gp.example.org/bars/A81001',
        senderOds: 'A81001',
      },
    });
  });

  it('entered-in-error.json is a cancellation (entered-in-error)', () => {
    const intent = parse(example('entered-in-error.json'));
    expect(intent).toMatchObject({ kind: 'cancel', serviceRequestId, status: 'entered-in-error' });
  });

  it('a cancellation is accepted after the deadline has passed, and without the clinical content', () => {
    const bundle = example('cancel.json');
    const sr = resourceOf(bundle, 'ServiceRequest');
    sr['occurrencePeriod'] = { end: '2024-01-01T00:00:00Z' };
    delete sr['reasonCode'];
    bundle['entry'] = entriesOf(bundle).filter((e) => e.resource['resourceType'] !== 'Patient');
    delete sr['subject'];
    expect(parse(bundle)).toMatchObject({ kind: 'cancel', status: 'revoked' });
  });
});

describe('invalid examples', () => {
  it('invalid/bad-nhs-number.json: 400 value at the identifier value', () => {
    expectOne(
      example('invalid/bad-nhs-number.json'),
      'Bundle.entry[2].resource.identifier[0].value',
      'value',
      /Modulus 11/,
    );
  });

  it('invalid/unverified-nhs-number.json: 400 value at the verification extension', () => {
    expectOne(
      example('invalid/unverified-nhs-number.json'),
      'Bundle.entry[2].resource.identifier[0].extension[0]',
      'value',
      /trace-required/,
    );
  });

  it('invalid/unknown-snomed.json: 400 value at ServiceRequest.code', () => {
    expectOne(
      example('invalid/unknown-snomed.json'),
      'Bundle.entry[1].resource.code.coding[0].code',
      'value',
      /871731000000106/,
    );
  });

  it('invalid/unresolved-reference.json: 400 invalid at the reference', () => {
    expectOne(
      example('invalid/unresolved-reference.json'),
      'Bundle.entry[1].resource.subject.reference',
      'invalid',
      /does not resolve/,
    );
  });

  it('invalid/missing-patient.json: 400 required, a Patient entry', () => {
    expectOne(example('invalid/missing-patient.json'), 'Bundle.entry', 'required', /Patient/);
  });

  it('invalid/deadline-in-past.json: 400 value at occurrencePeriod.end', () => {
    expectOne(
      example('invalid/deadline-in-past.json'),
      'Bundle.entry[1].resource.occurrencePeriod.end',
      'value',
      /must be in the future/,
    );
  });

  it('invalid/wrong-event.json: 422 naming eventCoding.code', () => {
    const error = unsupported(example('invalid/wrong-event.json'));
    expect(error.expression).toBe('Bundle.entry[0].resource.eventCoding.code');
    expect(error.message).toMatch(/booking-request/);
    // It is an UnprocessableError, so the shared responses map it to 422 REC_UNPROCESSABLE_ENTITY.
    expect(error).toBeInstanceOf(UnprocessableError);
    expect(error.field).toBe(error.expression);
    expect(error.name).toBe('UnsupportedMessageError');
  });

  it('invalid/wrong-use-case.json: 422 naming the category', () => {
    const error = unsupported(example('invalid/wrong-use-case.json'));
    expect(error.expression).toBe('Bundle.entry[1].resource.category');
    expect(error.message).toMatch(/referraltopharmacy/);
  });

  it('invalid/consent-without-scope.json: 400 required at Consent.scope (FHIR R4: 1..1)', () => {
    expectOne(
      example('invalid/consent-without-scope.json'),
      'Bundle.entry[9].resource.scope',
      'required',
      /is required/,
    );
  });
});

describe('message header and lifecycle', () => {
  it.each(['servicerequest-response', 'booking-request', 'booking-response'])('event %s is 422', (code) => {
    const bundle = newReferralWith((b) => {
      (resourceOf(b, 'MessageHeader')['eventCoding'] as Json)['code'] = code;
    });
    expect(unsupported(bundle).expression).toBe('Bundle.entry[0].resource.eventCoding.code');
  });

  it('an event that is not a BaRS event is 400 value', () => {
    const bundle = newReferralWith((b) => {
      (resourceOf(b, 'MessageHeader')['eventCoding'] as Json)['code'] = 'referral';
    });
    expectOne(bundle, 'Bundle.entry[0].resource.eventCoding.code', 'value');
  });

  it('an unknown event code system is 400 value', () => {
    const bundle = newReferralWith((b) => {
      (resourceOf(b, 'MessageHeader')['eventCoding'] as Json)['system'] = 'https://example.org/events';
    });
    expectOne(bundle, 'Bundle.entry[0].resource.eventCoding.system', 'value');
  });

  it('reason delete is 422', () => {
    const bundle = newReferralWith((b) => {
      resourceOf(b, 'MessageHeader')['reason'] = {
        coding: [{ system: 'https://fhir.nhs.uk/CodeSystem/message-reason-bars', code: 'delete' }],
      };
    });
    expect(unsupported(bundle).expression).toBe('Bundle.entry[0].resource.reason.coding[0].code');
  });

  it('a missing reason is 400 required', () => {
    const bundle = newReferralWith((b) => delete resourceOf(b, 'MessageHeader')['reason']);
    expectOne(bundle, 'Bundle.entry[0].resource.reason', 'required');
  });

  it('reason new with status revoked is 400 value at status', () => {
    const bundle = newReferralWith((b) => (resourceOf(b, 'ServiceRequest')['status'] = 'revoked'));
    expectOne(bundle, 'Bundle.entry[1].resource.status', 'value');
  });

  it('reason update with status completed is 400 value at status', () => {
    const bundle = example('update.json');
    resourceOf(bundle, 'ServiceRequest')['status'] = 'completed';
    expectOne(bundle, 'Bundle.entry[1].resource.status', 'value');
  });

  it('an update without ServiceRequest.id is 400 required; with a non-UUID id, 400 value', () => {
    const missing = example('update.json');
    delete resourceOf(missing, 'ServiceRequest')['id'];
    expectOne(missing, 'Bundle.entry[1].resource.id', 'required');
    const wrong = example('cancel.json');
    resourceOf(wrong, 'ServiceRequest')['id'] = 'SR-42';
    expectOne(wrong, 'Bundle.entry[1].resource.id', 'value', /UUID/);
  });

  it('intent other than plan is 400 value', () => {
    const bundle = newReferralWith((b) => (resourceOf(b, 'ServiceRequest')['intent'] = 'order'));
    expectOne(bundle, 'Bundle.entry[1].resource.intent', 'value');
  });

  it('a category without the use case is 422; a missing category is 400 required', () => {
    const without = newReferralWith((b) => {
      const category = resourceOf(b, 'ServiceRequest')['category'] as Array<{ coding: Json[] }>;
      category[0]?.coding.pop();
    });
    expect(unsupported(without).expression).toBe('Bundle.entry[1].resource.category');
    const missing = newReferralWith((b) => delete resourceOf(b, 'ServiceRequest')['category']);
    expectOne(missing, 'Bundle.entry[1].resource.category', 'required');
  });

  it('MessageInfo: messageHeaderId falls back to the fullUrl uuid', () => {
    const intent = parse(newReferralWith((b) => delete resourceOf(b, 'MessageHeader')['id']));
    expect(intent.message.messageHeaderId).toBe('0a1b2c3d-0000-4000-8000-000000000001');
  });

  it('MessageHeader.source and its endpoint are required (R4 1..1, and where BaRS answers go): refused, not defaulted', () => {
    const withoutSource = newReferralWith((b) => delete resourceOf(b, 'MessageHeader')['source']);
    expectOne(withoutSource, 'Bundle.entry[0].resource.source', 'required');
    const withoutEndpoint = newReferralWith((b) => {
      resourceOf(b, 'MessageHeader')['source'] = { name: 'Leeds Test Practice' };
    });
    expectOne(withoutEndpoint, 'Bundle.entry[0].resource.source.endpoint', 'required');
  });

  it('the BARSBundleMessage profile is optional', () => {
    const bundle = newReferralWith((b) => delete b['meta']);
    expect(parse(bundle).kind).toBe('new');
  });
});

describe('bundle structure and references', () => {
  it.each([null, undefined, 42, 'Bundle', [], {}, [{ resourceType: 'Bundle' }]])(
    'a body that is not a Bundle (%j) is a 400 at Bundle',
    (input) => {
      const problems = problemsOf(input);
      expect(problems.length).toBeGreaterThan(0);
      for (const problem of problems) expect(problem.field).toMatch(/^Bundle/);
    },
  );

  it('type other than message is 400 value at Bundle.type', () => {
    expectOne(
      newReferralWith((b) => (b['type'] = 'collection')),
      'Bundle.type',
      'value',
    );
  });

  it('a missing timestamp is 400 required at Bundle.timestamp', () => {
    expectOne(
      newReferralWith((b) => delete b['timestamp']),
      'Bundle.timestamp',
      'required',
    );
  });

  it('an entry without fullUrl is 400 required at that entry', () => {
    const bundle = newReferralWith((b) => delete (entriesOf(b)[4] as Partial<Entry>).fullUrl);
    expectOne(bundle, 'Bundle.entry[4].fullUrl', 'required');
  });

  it('an entry without resource is 400 required at that entry', () => {
    const bundle = newReferralWith((b) => delete (entriesOf(b)[5] as Partial<Entry>).resource);
    expectOne(bundle, 'Bundle.entry[5].resource', 'required');
  });

  it('a first entry that is not a MessageHeader is 400', () => {
    const bundle = newReferralWith((b) => entriesOf(b).reverse());
    expectOne(bundle, 'Bundle.entry[0].resource.resourceType', 'invalid');
  });

  it('duplicate fullUrls are 400 invalid', () => {
    const bundle = newReferralWith((b) => {
      const list = entriesOf(b);
      (list[8] as Entry).fullUrl = (list[7] as Entry).fullUrl;
    });
    expectOne(bundle, 'Bundle.entry[8].fullUrl', 'invalid');
  });

  it('resolves resourceType/id references, absolute fullUrls and versioned references', () => {
    const bundle = newReferralWith((b) => {
      const list = entriesOf(b);
      const patient = list[2] as Entry;
      patient.resource['id'] = 'p1';
      resourceOf(b, 'ServiceRequest')['subject'] = { reference: 'Patient/p1/_history/3' };
      const org = list[3] as Entry;
      org.fullUrl = 'https://gp.example.org/fhir/Organization/org-1';
      resourceOf(b, 'MessageHeader')['sender'] = { reference: 'Organization/org-1' };
    });
    expect(parse(bundle).kind).toBe('new');
  });

  it('an unresolved optional reference (requester) is 400 invalid', () => {
    const bundle = newReferralWith((b) => {
      resourceOf(b, 'ServiceRequest')['requester'] = { reference: 'PractitionerRole/nobody' };
    });
    expectOne(bundle, 'Bundle.entry[1].resource.requester.reference', 'invalid');
  });

  it('an unresolved encounter is 400 invalid; a requester of the wrong shape is 400 at its element', () => {
    const encounter = newReferralWith((b) => {
      resourceOf(b, 'ServiceRequest')['encounter'] = { reference: 'Encounter/elsewhere' };
    });
    expectOne(encounter, 'Bundle.entry[1].resource.encounter.reference', 'invalid');
    const requester = newReferralWith(
      (b) => (resourceOf(b, 'PractitionerRole')['practitioner'] = 'Dr Example'),
    );
    expectOne(requester, 'Bundle.entry[4].resource.practitioner', 'invalid');
  });

  it('a requester given only as an identifier is accepted', () => {
    const bundle = newReferralWith((b) => {
      resourceOf(b, 'ServiceRequest')['requester'] = {
        identifier: { system: 'https://fhir.nhs.uk/Id/sds-user-id', value: '555000000101' },
      };
    });
    expect(parse(bundle).kind).toBe('new');
  });

  it('a reference to the wrong type is 400 invalid', () => {
    const bundle = newReferralWith((b) => {
      resourceOf(b, 'MessageHeader')['sender'] = { reference: entriesOf(b)[2]?.fullUrl };
    });
    expectOne(bundle, 'Bundle.entry[0].resource.sender.reference', 'invalid', /Organization/);
  });

  it('a missing focus, or a missing ServiceRequest entry, is 400 required', () => {
    expectOne(
      newReferralWith((b) => delete resourceOf(b, 'MessageHeader')['focus']),
      'Bundle.entry[0].resource.focus',
      'required',
    );
    const noServiceRequest = newReferralWith((b) => {
      b['entry'] = entriesOf(b).filter((e) => e.resource['resourceType'] !== 'ServiceRequest');
    });
    expectOne(noServiceRequest, 'Bundle.entry', 'required', /ServiceRequest/);
  });

  it('a missing sender Organization is 400 required', () => {
    const bundle = newReferralWith((b) => {
      b['entry'] = entriesOf(b).filter((e) => e.resource['resourceType'] !== 'Organization');
    });
    // PractitionerRole.organization is not read, so only the sender is reported.
    expectOne(bundle, 'Bundle.entry', 'required', /Organization/);
  });

  it('a resource of the wrong FHIR shape is 400 at that element, without follow-on noise', () => {
    const bundle = newReferralWith((b) => (resourceOf(b, 'Patient')['name'] = 'Alex Testpatient'));
    expectOne(bundle, 'Bundle.entry[2].resource.name', 'invalid', /array/);
  });
});

describe('patient', () => {
  const patientOf = (b: Json) => resourceOf(b, 'Patient');
  const identifierOf = (b: Json) => (patientOf(b)['identifier'] as Json[])[0] as Json;

  it('no NHS number identifier is 400 required at Patient.identifier', () => {
    const bundle = newReferralWith((b) => (identifierOf(b)['system'] = 'https://fhir.nhs.uk/Id/local'));
    expectOne(bundle, 'Bundle.entry[2].resource.identifier', 'required');
  });

  it.each([
    [
      'https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatus',
      'number-present-but-not-traced',
    ],
    ['https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland', '02'],
  ])('verification %s|%s is present-not-traced, and may be shared', (system, code) => {
    const bundle = newReferralWith((b) => {
      ((identifierOf(b)['extension'] as Json[])[0] as Json)['valueCodeableConcept'] = {
        coding: [{ system, code }],
      };
    });
    const intent = parse(bundle);
    if (intent.kind !== 'new') throw new Error('expected new');
    expect(intent.request.patient.nhsNumberVerification).toBe('present-not-traced');
  });

  it.each([
    ['03', 'trace-required'],
    ['04', 'trace-attempted'],
    ['05', 'trace-needs-resolving'],
    ['06', 'trace-in-progress'],
    ['07', 'not-present'],
    ['08', 'trace-postponed'],
  ])('England verification code %s (%s) is 400 value on the extension', (code, status) => {
    const bundle = newReferralWith((b) => {
      ((identifierOf(b)['extension'] as Json[])[0] as Json)['valueCodeableConcept'] = {
        coding: [
          { system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland', code },
        ],
      };
    });
    expectOne(bundle, 'Bundle.entry[2].resource.identifier[0].extension[0]', 'value', new RegExp(status));
  });

  it('an unknown verification code is 400 value at that code', () => {
    const bundle = newReferralWith((b) => {
      ((identifierOf(b)['extension'] as Json[])[0] as Json)['valueCodeableConcept'] = {
        coding: [
          {
            system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland',
            code: '09',
          },
        ],
      };
    });
    expectOne(
      bundle,
      'Bundle.entry[2].resource.identifier[0].extension[0].valueCodeableConcept.coding[0].code',
      'value',
    );
  });

  it('no verification extension leaves the status unstated', () => {
    const bundle = newReferralWith((b) => delete identifierOf(b)['extension']);
    const intent = parse(bundle);
    if (intent.kind !== 'new') throw new Error('expected new');
    expect(intent.request.patient).not.toHaveProperty('nhsNumberVerification');
  });

  it('reports several problems at once, each at its own element', () => {
    const bundle = newReferralWith((b) => {
      identifierOf(b)['value'] = '3478526985';
      const name = (patientOf(b)['name'] as Json[])[0] as Json;
      delete name['family'];
      name['given'] = ['  '];
      patientOf(b)['address'] = [{ use: 'home', postalCode: 'not a postcode' }];
    });
    const problems = problemsOf(bundle);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'Bundle.entry[2].resource.identifier[0].value', kind: 'value' }),
        expect.objectContaining({ field: 'Bundle.entry[2].resource.name[0].family', kind: 'required' }),
        expect.objectContaining({ field: 'Bundle.entry[2].resource.name[0].given[0]', kind: 'value' }),
        expect.objectContaining({ field: 'Bundle.entry[2].resource.address[0].postalCode', kind: 'value' }),
      ]),
    );
    expect(problems).toHaveLength(4);
  });

  it('no name is 400 required at Patient.name', () => {
    expectOne(
      newReferralWith((b) => delete patientOf(b)['name']),
      'Bundle.entry[2].resource.name',
      'required',
    );
  });

  it.each([
    ['2099-01-01', /future/],
    ['1899-12-31', /1900/],
  ])('birthDate %s is 400 value', (birthDate, rule) => {
    expectOne(
      newReferralWith((b) => (patientOf(b)['birthDate'] = birthDate)),
      'Bundle.entry[2].resource.birthDate',
      'value',
      rule,
    );
  });

  it('Patient.gender is read as the FHIR administrative gender; any other code is 400 value at Patient.gender', () => {
    const intent = parse(newReferralWith((b) => (patientOf(b)['gender'] = 'female')));
    if (intent.kind !== 'new') throw new Error('expected new');
    expect(intent.request.patient.gender).toBe('female');
    const absent = parse(newReferralWith((b) => delete patientOf(b)['gender']));
    if (absent.kind !== 'new') throw new Error('expected new');
    expect(absent.request.patient).not.toHaveProperty('gender');
    expectOne(
      newReferralWith((b) => (patientOf(b)['gender'] = 'F')),
      'Bundle.entry[2].resource.gender',
      'value',
      /male, female, other/,
    );
  });

  it('a birthDate that is not a date is 400 value (the internal schema rule)', () => {
    expectOne(
      newReferralWith((b) => (patientOf(b)['birthDate'] = '12/04/1961')),
      'Bundle.entry[2].resource.birthDate',
      'value',
      /YYYY-MM-DD/,
    );
  });

  it('no telecom is 400 required at Patient.telecom', () => {
    expectOne(
      newReferralWith((b) => delete patientOf(b)['telecom']),
      'Bundle.entry[2].resource.telecom',
      'required',
    );
  });

  it('preferred is the rank 1 telecom, else the first; a bad email points at its telecom', () => {
    const unranked = newReferralWith((b) => {
      patientOf(b)['telecom'] = [
        { system: 'email', value: 'a@example.org' },
        { system: 'phone', value: '0113 496 0001' },
      ];
    });
    const intent = parse(unranked);
    if (intent.kind !== 'new') throw new Error('expected new');
    expect(intent.request.patient.contact).toEqual({
      email: 'a@example.org',
      phone: '0113 496 0001',
      preferred: 'email',
    });
    const badEmail = newReferralWith((b) => {
      patientOf(b)['telecom'] = [{ system: 'email', value: 'not-an-email', rank: 1 }];
    });
    expectOne(badEmail, 'Bundle.entry[2].resource.telecom[0].value', 'value');
  });
});

describe('needs', () => {
  const srOf = (b: Json) => resourceOf(b, 'ServiceRequest');

  it('an unknown SNOMED reasonCode is 400 value at that coding', () => {
    const bundle = newReferralWith((b) => {
      srOf(b)['reasonCode'] = [{ coding: [{ system: 'http://snomed.info/sct', code: '73211009' }] }];
    });
    expectOne(bundle, 'Bundle.entry[1].resource.reasonCode[0].coding[0].code', 'value');
  });

  it('an unknown need-category code is 400 value', () => {
    const bundle = newReferralWith((b) => {
      srOf(b)['reasonCode'] = [
        {
          coding: [
            { system: 'https://social-prescribing.example.org/CodeSystem/need-category', code: 'golf' },
          ],
        },
      ];
    });
    expectOne(bundle, 'Bundle.entry[1].resource.reasonCode[0].coding[0].code', 'value', /arts/);
  });

  it('no need at all is 400 at ServiceRequest.reasonCode', () => {
    const bundle = newReferralWith((b) => (srOf(b)['reasonCode'] = [{ text: 'feeling low' }]));
    expectOne(bundle, 'Bundle.entry[1].resource.reasonCode', 'value', /at least one need/);
  });

  it('Condition codes add needs; the same need twice is kept once', () => {
    const bundle = newReferralWith((b) => {
      entriesOf(b).push({
        fullUrl: 'urn:uuid:0a1b2c3d-0000-4000-8000-000000000099',
        resource: {
          resourceType: 'Condition',
          code: {
            coding: [
              { system: 'http://snomed.info/sct', code: '171001002' },
              { system: 'http://snomed.info/sct', code: '278415002' },
            ],
          },
        },
      });
    });
    const intent = parse(bundle);
    if (intent.kind !== 'new') throw new Error('expected new');
    expect(intent.request.needs).toEqual(['arts', 'mental-health', 'benefits-advice']);
  });

  it('an unknown SNOMED code in a Condition is 400 value at that Condition', () => {
    const bundle = newReferralWith((b) => {
      entriesOf(b).push({
        fullUrl: 'urn:uuid:0a1b2c3d-0000-4000-8000-000000000099',
        resource: {
          resourceType: 'Condition',
          code: { coding: [{ system: 'http://snomed.info/sct', code: '35489007' }] },
        },
      });
    });
    expectOne(bundle, 'Bundle.entry[10].resource.code.coding[0].code', 'value');
  });
});

describe('sender organisation', () => {
  const orgOf = (b: Json) => resourceOf(b, 'Organization');

  it('no ODS identifier is 400 required at Organization.identifier', () => {
    expectOne(
      newReferralWith((b) => delete orgOf(b)['identifier']),
      'Bundle.entry[3].resource.identifier',
      'required',
    );
  });

  it('an ODS code that is not a practice code is 400 value at its value', () => {
    const bundle = newReferralWith((b) => (((orgOf(b)['identifier'] as Json[])[0] as Json)['value'] = 'RYE'));
    expectOne(bundle, 'Bundle.entry[3].resource.identifier[0].value', 'value', /ODS/);
  });
});

describe('flags and consent', () => {
  const flags = (b: Json) => entriesOf(b).filter((e) => e.resource['resourceType'] === 'Flag');

  it('inactive flags are ignored; an RA flag without text uses the coding display', () => {
    const bundle = newReferralWith((b) => {
      const [sg, ra] = flags(b);
      if (sg) sg.resource['status'] = 'inactive';
      if (ra) delete (ra.resource['code'] as Json)['text'];
    });
    const intent = parse(bundle);
    if (intent.kind !== 'new') throw new Error('expected new');
    expect(intent.request.flags).toEqual({
      safeguarding: false,
      reasonableAdjustments: ['Provision of Additional Support'],
    });
  });

  it('an RA flag that says nothing is 400 required', () => {
    const bundle = newReferralWith((b) => {
      const ra = flags(b)[1];
      if (ra)
        ra.resource['code'] = { coding: [{ system: 'https://fhir.nhs.uk/flag-codes-bars', code: 'x' }] };
    });
    expectOne(bundle, 'Bundle.entry[8].resource.code.text', 'required');
  });

  it('an over-long adjustment is 400 at its text (the internal schema rule)', () => {
    const bundle = newReferralWith((b) => {
      const ra = flags(b)[1];
      if (ra) (ra.resource['code'] as Json)['text'] = 'x'.repeat(201);
    });
    expectOne(bundle, 'Bundle.entry[8].resource.code.text', 'value');
  });

  const consentOf = (b: Json) => resourceOf(b, 'Consent');
  const provisionOf = (b: Json) => consentOf(b)['provision'] as Json;

  it('deny with any-vcse refuses; inactive and lapsed consents are ignored', () => {
    const deny = newReferralWith((b) => (provisionOf(b)['type'] = 'deny'));
    expect(parse(deny)).toMatchObject({ request: { consent: [{ recipient: 'any-vcse', granted: false }] } });
    const inactive = newReferralWith((b) => (consentOf(b)['status'] = 'inactive'));
    expect(parse(inactive)).toMatchObject({ request: { consent: [] } });
    const lapsed = newReferralWith((b) => (provisionOf(b)['period'] = { end: '2025-12-31T23:59:59Z' }));
    expect(parse(lapsed)).toMatchObject({ request: { consent: [] } });
  });

  it('an actor that names no partner is 400 value at that actor', () => {
    const bundle = newReferralWith((b) => {
      provisionOf(b)['actor'] = [
        {
          reference: {
            identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'A81001' },
          },
        },
      ];
    });
    expectOne(bundle, 'Bundle.entry[9].resource.provision.actor[0].reference', 'value', /partner/);
  });

  it('a provision naming nobody, or without a type, is 400 required', () => {
    expectOne(
      newReferralWith((b) => delete provisionOf(b)['code']),
      'Bundle.entry[9].resource.provision.actor',
      'required',
    );
    expectOne(
      newReferralWith((b) => delete provisionOf(b)['type']),
      'Bundle.entry[9].resource.provision.type',
      'required',
    );
  });

  it('a Consent without category (FHIR R4: 1..*), or an inactive one without scope, is 400 at that element', () => {
    expectOne(
      newReferralWith((b) => delete consentOf(b)['category']),
      'Bundle.entry[9].resource.category',
      'required',
    );
    expectOne(
      newReferralWith((b) => (consentOf(b)['category'] = [])),
      'Bundle.entry[9].resource.category',
      'value',
      /at least one category/,
    );
    // Ignored or not, it is not a Consent without them: refused, never read as "no consent".
    expectOne(
      newReferralWith((b) => {
        consentOf(b)['status'] = 'inactive';
        delete consentOf(b)['scope'];
      }),
      'Bundle.entry[9].resource.scope',
      'required',
    );
  });

  describe('sharing back with the practice (the patient may object: codes only)', () => {
    const sharingBack = (type: string, code = 'full-detail') => ({
      coding: [{ system: 'https://social-prescribing.example.org/CodeSystem/sharing-back', code }],
    });
    /** A second Consent, about sharing back only. */
    const withSharingBackConsent = (b: Json, type: string, code?: string) => {
      const consent = structuredClone(consentOf(b));
      consent['provision'] = { type, code: [sharingBack(type, code)] };
      const n = `ffff${String(entriesOf(b).length).padStart(8, '0')}`;
      entriesOf(b).push({ fullUrl: `urn:uuid:0a1b2c3d-0000-4000-8000-${n}`, resource: consent });
    };

    it('new-referral-codes-only.json: the objection is a Consent of its own; the rest is new-referral.json', () => {
      const intent = parse(example('new-referral-codes-only.json'));
      const plain = parse(example('new-referral.json'));
      if (intent.kind !== 'new' || plain.kind !== 'new') throw new Error('expected new');
      expect(intent.request).toEqual({ ...plain.request, sharingBack: 'codes-only' });
    });

    it('no such Consent: sharingBack is absent (full)', () => {
      const intent = parse(example('new-referral.json'));
      if (intent.kind !== 'new') throw new Error('expected new');
      expect(intent.request.sharingBack).toBeUndefined();
    });

    it('deny full-detail is the objection: codes-only; permit is full; the partners are still read', () => {
      expect(parse(newReferralWith((b) => withSharingBackConsent(b, 'deny')))).toMatchObject({
        request: { sharingBack: 'codes-only', consent: [{ recipient: 'any-vcse', granted: true }] },
      });
      expect(parse(newReferralWith((b) => withSharingBackConsent(b, 'permit')))).toMatchObject({
        request: { sharingBack: 'full' },
      });
    });

    it('in the same Consent as the partners: the type applies to both', () => {
      const bundle = newReferralWith((b) => {
        provisionOf(b)['type'] = 'deny';
        (provisionOf(b)['code'] as Json[]).push(sharingBack('deny'));
      });
      expect(parse(bundle)).toMatchObject({
        request: { sharingBack: 'codes-only', consent: [{ recipient: 'any-vcse', granted: false }] },
      });
    });

    it('an objection in any Consent wins over a permit in another', () => {
      const bundle = newReferralWith((b) => {
        withSharingBackConsent(b, 'deny');
        withSharingBackConsent(b, 'permit');
      });
      expect(parse(bundle)).toMatchObject({ request: { sharingBack: 'codes-only' } });
    });

    it('an inactive objection is read past; an unknown code in our system is 400 value at it', () => {
      const inactive = newReferralWith((b) => {
        withSharingBackConsent(b, 'deny');
        const added = entriesOf(b).at(-1);
        if (added) added.resource['status'] = 'inactive';
      });
      const intent = parse(inactive);
      if (intent.kind !== 'new') throw new Error('expected new');
      expect(intent.request.sharingBack).toBeUndefined();
      expectOne(
        newReferralWith((b) => withSharingBackConsent(b, 'deny', 'some-detail')),
        'Bundle.entry[10].resource.provision.code[0].coding[0].code',
        'value',
        /full-detail/,
      );
    });

    it('the JSON form takes the same field, strictly', () => {
      const body = JSON.parse(
        readFileSync(
          new URL('../../../events/referrals/leeds-arts-and-mental-health.json', import.meta.url),
          'utf8',
        ),
      ) as Json;
      expect(ReferralRequest.parse({ ...body, sharingBack: 'codes-only' }).sharingBack).toBe('codes-only');
      expect(ReferralRequest.safeParse({ ...body, sharingBack: 'none' }).success).toBe(false);
    });
  });

  it('an actor reference that does not resolve is 400 invalid', () => {
    const bundle = newReferralWith((b) => {
      provisionOf(b)['actor'] = [{ reference: { reference: 'Organization/unknown' } }];
    });
    expectOne(bundle, 'Bundle.entry[9].resource.provision.actor[0].reference.reference', 'invalid');
  });
});

describe('acknowledgementBundle', () => {
  const assigned = {
    serviceRequestId: '1f0e2d3c-4b5a-4968-8776-655443322110',
    status: 'active',
    lastUpdated: '2026-01-15T09:05:01Z',
  };

  it('returns the request with the ServiceRequest id, status, meta.lastUpdated and fullUrl set', () => {
    const request = example('new-referral.json');
    const before = structuredClone(request);
    const ack = acknowledgementBundle(request, assigned);
    expect(request).toEqual(before); // the request is not mutated

    const list = entriesOf(ack);
    const sr = list[1] as Entry;
    expect(sr.fullUrl).toBe(`urn:uuid:${assigned.serviceRequestId}`);
    expect(sr.resource).toMatchObject({
      resourceType: 'ServiceRequest',
      id: assigned.serviceRequestId,
      status: 'active',
      meta: {
        lastUpdated: assigned.lastUpdated,
        profile: ['https://fhir.nhs.uk/StructureDefinition/BARSServiceRequest-request-referral'],
      },
    });
    // The focus follows the ServiceRequest to its new fullUrl.
    expect(resourceOf(ack, 'MessageHeader')['focus']).toEqual([{ reference: sr.fullUrl }]);

    // Everything else is kept.
    const { entry: _ackEntries, ...ackRest } = ack;
    const { entry: _requestEntries, ...requestRest } = before;
    expect(ackRest).toEqual(requestRest);
    const others = (bundle: Json) => entriesOf(bundle).filter((_, i) => i > 1);
    expect(others(ack)).toEqual(others(before));
    const { id: _id, status: _status, meta: _meta, ...srRest } = sr.resource;
    const { id: _i, status: _s, meta: _m, ...srBefore } = (entriesOf(before)[1] as Entry).resource;
    expect(srRest).toEqual(srBefore);
  });

  it('the acknowledgement still parses: every reference resolves', () => {
    const ack = acknowledgementBundle(example('new-referral-variants.json'), assigned);
    expect(parse(ack).kind).toBe('new');
    expect(resourceOf(ack, 'MessageHeader')['focus']).toEqual([
      { reference: `urn:uuid:${assigned.serviceRequestId}` },
    ]);
  });

  it('a cancellation acknowledgement carries the new status', () => {
    const ack = acknowledgementBundle(example('cancel.json'), {
      serviceRequestId,
      status: 'revoked',
      lastUpdated: assigned.lastUpdated,
    });
    expect(resourceOf(ack, 'ServiceRequest')).toMatchObject({ id: serviceRequestId, status: 'revoked' });
    expect(parse(ack)).toMatchObject({ kind: 'cancel', serviceRequestId });
  });
});

describe('error types', () => {
  it('ValidationError and UnsupportedMessageError are the only errors, with FHIR expressions', () => {
    expect(() => parse('not json at all')).toThrow(ValidationError);
    expect(() => parse(example('invalid/wrong-event.json'))).toThrow(UnsupportedMessageError);
  });
});
