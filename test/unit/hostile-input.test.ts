import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UnsupportedMediaTypeError, ValidationError, type FieldProblem } from '#kernel/errors.ts';
import { maxClockSkewMs } from '#fhir/inbound/message-header.ts';
import { parseBarsMessage } from '#fhir/inbound/message-intent.ts';
import { canonicalSystem } from '#fhir/inbound/normalise.ts';
import { ReferralRequest } from '#referral/domain/referral.ts';
import { unusableCharacter } from '#kernel/text.ts';
import {
  jsonStructureProblem,
  maxJsonArrayLength,
  maxJsonDepth,
  maxJsonNodes,
  maxJsonObjectKeys,
} from '#http/json-limits.ts';
import { assertMediaType, fhirMediaTypes, jsonMediaTypes, parseJson } from '#http/request.ts';
import { parseWith } from '#kernel/validation.ts';
import { clientErrorResponse } from '#http/responses.ts';
import { sampleBody } from './fixtures.ts';

/** Issue 6: what a hostile or careless client can send, refused cheaply and by name. */

type Json = Record<string, unknown>;

const now = new Date('2026-01-20T10:35:00Z');

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

function problems(fn: () => unknown): FieldProblem[] {
  const error = thrown(fn);
  expect(error).toBeInstanceOf(ValidationError);
  return (error as ValidationError).problems;
}

const referral = (): Json & { patient: Json } =>
  sampleBody('leeds-arts-and-mental-health') as Json & { patient: Json };

function fhirExample(name: string): Json {
  return JSON.parse(readFileSync(new URL(`../../events/fhir/${name}`, import.meta.url), 'utf8')) as Json;
}
const entries = (bundle: Json) => bundle['entry'] as Array<{ resource: Json }>;
const resourceOf = (bundle: Json, type: string): Json => {
  const found = entries(bundle).find((e) => e.resource['resourceType'] === type);
  if (!found) throw new Error(`no ${type}`);
  return found.resource;
};
const flagsOf = (bundle: Json): Json[] =>
  entries(bundle)
    .map((e) => e.resource)
    .filter((r) => r['resourceType'] === 'Flag');

/** Runs `fn` and returns how long it took, in ms. */
function timed(fn: () => void): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

describe('item 4: no super-linear work on client strings; every string bounded', () => {
  const slashes = `https://fhir.nhs.uk/${'/'.repeat(255_000)}x`;

  it('canonicalSystem handles a 255,000-character run of slashes in linear time', () => {
    // The old /\/+$/ took ~20 s on this; a generous bound only guards against a regression to quadratic.
    expect(timed(() => canonicalSystem(slashes))).toBeLessThan(500);
    expect(canonicalSystem('HTTPS://fhir.nhs.uk/Id/nhs-number///')).toBe('fhir.nhs.uk/id/nhs-number');
  });

  it('a 255,000-character code system in a Bundle is refused quickly, naming the element', () => {
    const bundle = fhirExample('new-referral.json');
    const sr = resourceOf(bundle, 'ServiceRequest');
    ((sr['code'] as Json)['coding'] as Json[])[0] = { system: slashes, code: '871731000000106' };
    let found: FieldProblem[] = [];
    expect(timed(() => (found = problems(() => parseBarsMessage(bundle, now))))).toBeLessThan(500);
    expect(found).toContainEqual({
      field: 'Bundle.entry[1].resource.code.coding[0].system',
      rule: 'must be at most 1024 characters',
      kind: 'value',
    });
  });

  it.each([
    [
      'patient.name.given',
      (r: Json & { patient: Json }) => ((r.patient['name'] as Json)['given'] = 'a'.repeat(255_000)),
    ],
    ['patient.nhsNumber', (r: Json & { patient: Json }) => (r.patient['nhsNumber'] = '9'.repeat(255_000))],
    ['patient.postcode', (r: Json & { patient: Json }) => (r.patient['postcode'] = ' '.repeat(255_000))],
    [
      'patient.contact.email',
      (r: Json & { patient: Json }) =>
        (r.patient['contact'] = { email: `${'a.'.repeat(100_000)}@example.org`, preferred: 'email' }),
    ],
    [
      'patient.contact.phone',
      (r: Json & { patient: Json }) =>
        (r.patient['contact'] = { phone: '0'.repeat(255_000), preferred: 'phone' }),
    ],
    ['reasonForReferral', (r: Json) => (r['reasonForReferral'] = 'x'.repeat(255_000))],
    [
      'consent.0.recipient',
      (r: Json) => (r['consent'] = [{ recipient: 'p'.repeat(255_000), granted: true }]),
    ],
    ['practiceOds', (r: Json) => (r['practiceOds'] = 'A'.repeat(255_000))],
  ])('a 255,000-character %s is refused quickly, by name', (field, mutate) => {
    const body = referral();
    mutate(body);
    let found: FieldProblem[] = [];
    expect(timed(() => (found = problems(() => parseWith(ReferralRequest, body))))).toBeLessThan(500);
    expect(found.map((p) => p.field)).toContain(field);
  });
});

describe('item 5: depth and width limits, right after JSON.parse', () => {
  it('every valid example is well within the limits', () => {
    const dirs = ['../../events/fhir/', '../../events/referrals/'];
    for (const dir of dirs) {
      for (const name of readdirSync(new URL(dir, import.meta.url)).filter((n) => n.endsWith('.json'))) {
        const text = readFileSync(new URL(`${dir}${name}`, import.meta.url), 'utf8');
        expect(jsonStructureProblem(JSON.parse(text)), name).toBeUndefined();
      }
    }
  });

  it('a 20,000-deep array is a 400 structure problem naming the first element too deep', () => {
    const text = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const [problem, ...rest] = problems(() => parseJson(text));
    expect(rest).toEqual([]);
    expect(problem?.kind).toBe('structure');
    expect(problem?.field).toBe(Array(maxJsonDepth).fill('0').join('.'));
    expect(problem?.rule).toMatch(/nested deeper than 32/);
  });

  it('renders the path as FHIRPath for the BaRS route', () => {
    const deep = {
      resourceType: 'Bundle',
      entry: [{ resource: { x: JSON.parse(`${'['.repeat(40)}${']'.repeat(40)}`) as unknown } }],
    };
    const [problem] = problems(() => parseJson(JSON.stringify(deep), { expressionRoot: 'Bundle' }));
    expect(problem?.field).toMatch(/^Bundle\.entry\[0\]\.resource\.x(\[0\])+$/);
  });

  it.each([
    ['an array too long', { a: Array(maxJsonArrayLength + 1).fill(0) }, 'a', /more than 1000 items/],
    [
      'an object too wide',
      { a: Object.fromEntries(Array.from({ length: maxJsonObjectKeys + 1 }, (_, i) => [`k${i}`, 0])) },
      'a',
      /more than 200 fields/,
    ],
    [
      'too many values',
      { a: Array.from({ length: 20 }, () => Array(maxJsonArrayLength).fill(0)) },
      'a.9.988', // the body, a, then 9 full arrays of 1001 values each: the 10,001st value is here
      /more than 10000 values/,
    ],
  ])('refuses %s, naming where', (_name, body, field, rule) => {
    const [problem] = problems(() => parseJson(JSON.stringify(body)));
    expect(problem?.kind).toBe('structure');
    if (typeof field === 'string') expect(problem?.field).toBe(field);
    else expect(problem?.field).toMatch(field);
    expect(problem?.rule).toMatch(rule);
    expect(maxJsonNodes).toBe(10_000);
  });
});

describe('item 7: unknown fields in the JSON form are refused by name; FHIR flags are never dropped', () => {
  it.each([
    ['flags.safeGuarding', (r: Json & { patient: Json }) => (r['flags'] = { safeGuarding: true })],
    ['patient.postCode', (r: Json & { patient: Json }) => (r.patient['postCode'] = 'LS6 1AA')],
    ['patient.name.middle', (r: Json & { patient: Json }) => ((r.patient['name'] as Json)['middle'] = 'Jo')],
    [
      'patient.contact.mobile',
      (r: Json & { patient: Json }) => ((r.patient['contact'] as Json)['mobile'] = '07700 900001'),
    ],
    [
      'consent.0.recipent',
      (r: Json) => (r['consent'] = [{ recipient: 'any-vcse', granted: true, recipent: 'x' }]),
    ],
  ])('%s is a 400 structure problem naming it', (field, mutate) => {
    const body = referral();
    mutate(body);
    expect(problems(() => parseWith(ReferralRequest, body))).toContainEqual(
      expect.objectContaining({ field, kind: 'structure' }),
    );
  });

  const withFlag = (change: (flag: Json) => void): Json => {
    const bundle = fhirExample('new-referral.json');
    const [sg] = flagsOf(bundle);
    if (sg) change(sg);
    return bundle;
  };
  const safeguarding = (bundle: Json): boolean | undefined => {
    const intent = parseBarsMessage(bundle, now);
    return intent.kind === 'cancel' ? undefined : intent.request.flags?.safeguarding;
  };

  it('reads SG in any tolerated spelling of the system and any case of the code', () => {
    const bundle = withFlag((flag) => {
      flag['category'] = [
        { coding: [{ system: 'http://FHIR.nhs.uk/CodeSystem/flag-categories-bars/', code: ' sg ' }] },
      ];
    });
    expect(safeguarding(bundle)).toBe(true);
  });

  it('refuses an active Flag without a BaRS category (e.g. a misspelt system) instead of dropping it', () => {
    const bundle = withFlag((flag) => {
      flag['category'] = [
        { coding: [{ system: 'https://fhir.nhs.uk/CodeSystem/flag-category-bars', code: 'SG' }] },
      ];
    });
    expect(problems(() => parseBarsMessage(bundle, now))).toContainEqual(
      expect.objectContaining({ field: 'Bundle.entry[7].resource.category', kind: 'required' }),
    );
  });

  it('refuses a Flag that speaks of safeguarding under another BaRS category code', () => {
    const bundle = withFlag((flag) => {
      flag['category'] = [
        {
          coding: [
            {
              system: 'https://fhir.nhs.uk/CodeSystem/flag-categories-bars',
              code: 'SAFEGUARDING',
              display: 'Safeguarding',
            },
          ],
        },
      ];
    });
    expect(problems(() => parseBarsMessage(bundle, now))).toContainEqual(
      expect.objectContaining({
        field: 'Bundle.entry[7].resource.category[0].coding[0].code',
        kind: 'value',
      }),
    );
  });

  it('tolerates another BaRS flag category (RS) that is not about safeguarding, and still ignores inactive flags', () => {
    const rs = withFlag((flag) => {
      flag['category'] = [
        { coding: [{ system: 'https://fhir.nhs.uk/CodeSystem/flag-categories-bars', code: 'RS' }] },
      ];
      flag['code'] = { text: 'Declined the gym referral last year' };
    });
    expect(safeguarding(rs)).toBe(false);
    const inactive = withFlag((flag) => {
      flag['status'] = 'inactive';
      flag['category'] = [{ text: 'whatever' }];
    });
    expect(safeguarding(inactive)).toBe(false);
  });
});

describe('item 8: unusable values', () => {
  const withName = (given: string) => {
    const body = referral();
    (body.patient['name'] as Json)['given'] = given;
    return body;
  };

  it.each([
    ['NUL', 'Sam\u0000'],
    ['a C0 control', 'Sa\u0007m'],
    ['a C1 control', 'Sam\u0085'],
    ['a line break', 'Sam\nJones'],
    ['a bidi override', '\u202eSam'],
    ['a bidi isolate', 'Sam\u2066'],
    ['a zero-width space', 'Sa\u200bm'],
    ['a zero-width joiner at the edge', '\u200dSam'],
    ['a byte-order mark inside', 'Sa\ufeffm'],
    ['a lone surrogate', 'Sam\ud800'],
    ['no letter at all', '---'],
    ['only spaces', '     '],
  ])('a name with %s is refused', (_what, given) => {
    expect(problems(() => parseWith(ReferralRequest, withName(given)))).toContainEqual(
      expect.objectContaining({ field: 'patient.name.given', kind: 'value' }),
    );
  });

  it('names are NFC-normalised and trimmed; a joiner between letters (Persian, Indic scripts) is kept', () => {
    const decomposed = 'Zoe\u0301';
    const parsed = parseWith(ReferralRequest, withName(`  ${decomposed} `));
    expect(parsed.patient.name.given).toBe('Zo\u00e9');
    expect(unusableCharacter('\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645')).toBeUndefined();
  });

  it.each([
    ['ten spaces', '          '],
    ['only separators', '()()()-----'],
    ['too few digits', '0113 496'],
    ['letters', '0113 496 OOO1'],
    ['too many digits', '0'.repeat(16)],
  ])('a phone of %s is refused', (_what, phone) => {
    const body = referral();
    body.patient['contact'] = { phone, preferred: 'phone' };
    expect(problems(() => parseWith(ReferralRequest, body))).toContainEqual(
      expect.objectContaining({ field: 'patient.contact.phone', kind: 'value' }),
    );
  });

  it('accepts the phone forms people write', () => {
    for (const phone of ['0113 496 0001', '+44 (0)113 496 0001', '01134960001', '07700-900-001']) {
      const body = referral();
      body.patient['contact'] = { phone, preferred: 'phone' };
      expect(parseWith(ReferralRequest, body).patient.contact.phone).toBe(phone);
    }
  });

  it('an email of 200 KB is refused at once', () => {
    const body = referral();
    body.patient['contact'] = { email: `${'a'.repeat(200_000)}@example.org`, preferred: 'email' };
    expect(problems(() => parseWith(ReferralRequest, body))).toEqual([
      { field: 'patient.contact.email', rule: 'must be at most 254 characters', kind: 'value' },
    ]);
  });

  it('free text keeps line breaks but not controls', () => {
    const body = referral();
    body['reasonForReferral'] = '  Low mood.\nLives alone.  ';
    expect(parseWith(ReferralRequest, body).reasonForReferral).toBe('Low mood.\nLives alone.');
    body['reasonForReferral'] = 'Low mood\u001b[2J';
    expect(problems(() => parseWith(ReferralRequest, body))).toContainEqual(
      expect.objectContaining({ field: 'reasonForReferral' }),
    );
    body['reasonForReferral'] = 'ok';
    body['flags'] = { safeguarding: false, reasonableAdjustments: ['\u202eNeeds an interpreter'] };
    expect(problems(() => parseWith(ReferralRequest, body))).toContainEqual(
      expect.objectContaining({ field: 'flags.reasonableAdjustments.0' }),
    );
  });

  it('the same rules apply to the FHIR form (one schema): a bidi override in the family name', () => {
    const bundle = fhirExample('new-referral.json');
    const patient = resourceOf(bundle, 'Patient');
    ((patient['name'] as Json[])[0] as Json)['family'] = 'Sample\u202e';
    expect(problems(() => parseBarsMessage(bundle, now))).toContainEqual(
      expect.objectContaining({ field: 'Bundle.entry[2].resource.name[0].family', kind: 'value' }),
    );
  });

  it(`a Bundle.timestamp more than ${maxClockSkewMs / 60_000} minutes ahead of the clock is refused; within the skew it is accepted`, () => {
    const ahead = (ms: number) => {
      const bundle = fhirExample('new-referral.json');
      bundle['timestamp'] = new Date(now.getTime() + ms).toISOString();
      return bundle;
    };
    expect(problems(() => parseBarsMessage(ahead(365 * 24 * 3600 * 1000), now))).toEqual([
      expect.objectContaining({ field: 'Bundle.timestamp', kind: 'value' }),
    ]);
    expect(parseBarsMessage(ahead(maxClockSkewMs - 1000), now).kind).toBe('new');
  });
});

describe('item 9: content headers; nothing from the body echoed', () => {
  const event = (headers: Record<string, string>) => ({ headers });

  it.each([
    [jsonMediaTypes, { 'Content-Type': 'application/json' }],
    [jsonMediaTypes, { 'content-type': 'Application/JSON; charset=UTF-8' }],
    [fhirMediaTypes, { 'Content-Type': 'application/fhir+json; charset=utf-8' }],
    [fhirMediaTypes, { 'Content-Type': 'application/json', 'Content-Encoding': 'identity' }],
  ])('accepts %j with %j', (accepted, headers) => {
    expect(() => assertMediaType(event(headers), accepted)).not.toThrow();
  });

  it.each([
    [jsonMediaTypes, {}, 'Content-Type'],
    [jsonMediaTypes, { 'Content-Type': 'text/plain' }, 'Content-Type'],
    [jsonMediaTypes, { 'Content-Type': 'application/x-www-form-urlencoded' }, 'Content-Type'],
    [jsonMediaTypes, { 'Content-Type': 'multipart/form-data; boundary=x' }, 'Content-Type'],
    [jsonMediaTypes, { 'Content-Type': 'application/fhir+json' }, 'Content-Type'],
    [jsonMediaTypes, { 'Content-Type': 'application/json; charset=latin1' }, 'Content-Type'],
    [fhirMediaTypes, { 'Content-Type': 'application/xml' }, 'Content-Type'],
    [jsonMediaTypes, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, 'Content-Encoding'],
    [
      fhirMediaTypes,
      { 'Content-Type': 'application/fhir+json', 'Content-Encoding': 'identity, br' },
      'Content-Encoding',
    ],
  ])('refuses %j with %j as 415 naming %s', (accepted, headers, header) => {
    const error = thrown(() => assertMediaType(event(headers), accepted));
    expect(error).toBeInstanceOf(UnsupportedMediaTypeError);
    expect((error as UnsupportedMediaTypeError).header).toBe(header);
    const response = clientErrorResponse(error);
    expect(response?.statusCode).toBe(415);
    const outcome = JSON.parse(response?.body ?? '{}') as {
      issue: Array<{ code: string; expression: string[]; details: { coding: Array<{ code: string }> } }>;
    };
    expect(outcome.issue[0]).toMatchObject({ code: 'not-supported', expression: [header] });
    expect(outcome.issue[0]?.details.coding[0]?.code).toBe('REC_BAD_REQUEST');
  });

  it.each([
    ['{"nhsNumber": 9995260182x}', 'line 1, column 25'],
    ['{"name": "Sam Secret"\n "x": 1}', 'line 2, column 2'],
    ['{"note": "Sam Secret', 'ends too early'],
    ['\u001f\u008b\u0008 gzip bytes Secret', 'line 1, column 1'],
  ])('a syntax error in %j is located, never quoted', (text, where) => {
    const [problem] = problems(() => parseJson(text));
    expect(problem?.rule).toContain(where);
    expect(problem?.rule).not.toMatch(/Secret|9995260182|gzip/);
  });
});
