import { describe, expect, it } from 'vitest';
import { hasConsentFor, newReferral, ReferralRequest } from '#referral/domain/referral.ts';
import { sampleBody, sampleNames } from './fixtures.ts';

type Body = Record<string, unknown> & {
  patient: Record<string, unknown> & { contact: Record<string, unknown> };
};

const leeds = (): Body => sampleBody('leeds-arts-and-mental-health') as Body;

function issuesOf(input: unknown): Array<{ path: string; message: string; code: string }> {
  const result = ReferralRequest.safeParse(input);
  if (result.success) return [];
  return result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message, code: i.code }));
}

describe('ReferralRequest schema', () => {
  it.each(sampleNames)('accepts the sample referral %s', (name) => {
    expect(ReferralRequest.safeParse(sampleBody(name)).success).toBe(true);
  });

  it('normalises the NHS number and postcode of a valid referral', () => {
    const body = leeds();
    body.patient.postcode = 'ls61aa';
    const parsed = ReferralRequest.parse(body);
    expect(parsed.patient.nhsNumber).toBe('9995260182');
    expect(parsed.patient.postcode).toBe('LS6 1AA');
    expect(parsed.needs).toEqual(['arts', 'mental-health']);
    expect(parsed.consent).toEqual([{ recipient: 'any-vcse', granted: true }]);
  });

  it('rejects a missing required field (practiceOds)', () => {
    const body = leeds();
    delete body.practiceOds;
    expect(issuesOf(body)).toEqual([expect.objectContaining({ path: 'practiceOds', code: 'invalid_type' })]);
  });

  it('rejects a missing nested field (patient.name.family)', () => {
    const body = leeds();
    body.patient.name = { given: 'Alex' };
    expect(issuesOf(body).map((i) => i.path)).toEqual(['patient.name.family']);
  });

  it('rejects a wrong type (needs as a string)', () => {
    const body = { ...leeds(), needs: 'arts' };
    expect(issuesOf(body)).toEqual([expect.objectContaining({ path: 'needs', code: 'invalid_type' })]);
  });

  it('rejects an NHS number that fails Modulus 11', () => {
    const body = leeds();
    body.patient.nhsNumber = '3478526985';
    expect(issuesOf(body)).toEqual([
      expect.objectContaining({ path: 'patient.nhsNumber', message: expect.stringContaining('Modulus 11') }),
    ]);
  });

  it.each(['NOT A POSTCODE', 'LS6', '12345', 'LS6 1A'])('rejects the bad postcode %j', (postcode) => {
    const body = leeds();
    body.patient.postcode = postcode;
    expect(issuesOf(body).map((i) => i.path)).toEqual(['patient.postcode']);
  });

  it('accepts a referral with no postcode (the practice area is used)', () => {
    const body = leeds();
    delete body.patient.postcode;
    expect(ReferralRequest.parse(body).patient.postcode).toBeUndefined();
  });

  it('rejects duplicate needs', () => {
    const body = { ...leeds(), needs: ['arts', 'mental-health', 'arts'] };
    expect(issuesOf(body)).toEqual([
      expect.objectContaining({ path: 'needs', message: 'each need may appear once' }),
    ]);
  });

  it('rejects an empty list of needs', () => {
    expect(issuesOf({ ...leeds(), needs: [] })).toEqual([
      expect.objectContaining({ path: 'needs', message: 'at least one need is required' }),
    ]);
  });

  it('rejects an unknown category', () => {
    const body = { ...leeds(), needs: ['arts', 'astrology'] };
    expect(issuesOf(body)).toEqual([expect.objectContaining({ path: 'needs.1', code: 'invalid_value' })]);
  });

  it('rejects a preferred contact route that is not given', () => {
    const body = leeds();
    body.patient.contact = { phone: '0113 496 0001', preferred: 'email' };
    expect(issuesOf(body)).toEqual([
      expect.objectContaining({
        path: 'patient.contact.preferred',
        message: 'the preferred contact route must be given',
      }),
    ]);
  });

  it('rejects an unknown top-level field', () => {
    const body = { ...leeds(), diagnosis: 'depression' };
    expect(issuesOf(body)).toEqual([expect.objectContaining({ code: 'unrecognized_keys', path: '' })]);
  });

  it('rejects a bad practice ODS code and a bad birth date', () => {
    const body = { ...leeds(), practiceOds: 'a81001' };
    body.patient.birthDate = '12/04/1961';
    expect(
      issuesOf(body)
        .map((i) => i.path)
        .sort(),
    ).toEqual(['patient.birthDate', 'practiceOds']);
  });

  it('rejects consent without a boolean grant', () => {
    const body = { ...leeds(), consent: [{ recipient: 'any-vcse', granted: 'yes' }] };
    expect(issuesOf(body).map((i) => i.path)).toEqual(['consent.0.granted']);
  });
});

describe('newReferral', () => {
  it('starts a referral as received, with the request fields and the idempotency key', () => {
    const request = ReferralRequest.parse(leeds());
    const referral = newReferral('id-1', request, '2025-01-02T03:04:05.000Z', {
      channel: 'json',
      idempotencyKey: 'key-1',
    });
    expect(referral).toEqual({
      referralId: 'id-1',
      status: 'received',
      receivedAt: '2025-01-02T03:04:05.000Z',
      updatedAt: '2025-01-02T03:04:05.000Z',
      version: 1,
      practiceOds: 'A81001',
      patient: request.patient,
      needs: ['arts', 'mental-health'],
      consent: [{ recipient: 'any-vcse', granted: true }],
      reasonForReferral: 'Low mood since retirement; would like a creative group.',
      source: { channel: 'json', idempotencyKey: 'key-1' },
    });
  });

  it('leaves out an absent reason and key', () => {
    const request = ReferralRequest.parse(sampleBody('hastings-befriending-no-consent'));
    const referral = newReferral('id-2', request, '2025-01-02T03:04:05.000Z');
    expect('reasonForReferral' in referral).toBe(false);
    expect(referral.source).toEqual({ channel: 'json' });
  });
});

describe('hasConsentFor', () => {
  it('a specific refusal beats an any-vcse grant, whichever comes first', () => {
    expect(
      hasConsentFor(
        [
          { recipient: 'any-vcse', granted: true },
          { recipient: 'green-gym', granted: false },
        ],
        'green-gym',
      ),
    ).toBe(false);
    expect(
      hasConsentFor(
        [
          { recipient: 'green-gym', granted: false },
          { recipient: 'any-vcse', granted: true },
        ],
        'green-gym',
      ),
    ).toBe(false);
  });

  it('an any-vcse grant covers partners without a specific entry', () => {
    const consent = [
      { recipient: 'any-vcse', granted: true },
      { recipient: 'green-gym', granted: false },
    ];
    expect(hasConsentFor(consent, 'arts-for-all')).toBe(true);
  });

  it('a specific grant counts on its own, and only for that partner', () => {
    const consent = [{ recipient: 'blackpool-moves', granted: true }];
    expect(hasConsentFor(consent, 'blackpool-moves')).toBe(true);
    expect(hasConsentFor(consent, 'coastal-friends')).toBe(false);
  });

  it('a specific grant beats an any-vcse refusal', () => {
    const consent = [
      { recipient: 'any-vcse', granted: false },
      { recipient: 'green-gym', granted: true },
    ];
    expect(hasConsentFor(consent, 'green-gym')).toBe(true);
    expect(hasConsentFor(consent, 'arts-for-all')).toBe(false);
  });

  it('no consent recorded means no consent', () => {
    expect(hasConsentFor([], 'green-gym')).toBe(false);
    expect(hasConsentFor([{ recipient: 'any-vcse', granted: false }], 'green-gym')).toBe(false);
  });
});
