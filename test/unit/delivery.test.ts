import { describe, expect, it } from 'vitest';
import { buildDeliveryPayload, type DeliveryPayload } from '#delivery/domain/minimisation.ts';
import type { PlannedDelivery, Referral } from '#referral/domain/referral.ts';
import { deliveryIdFor } from '#matching/domain/routing.ts';
import { receivedAt, sampleReferral } from './fixtures.ts';

const nhsNumber = '9995260182';
const birthDate = '1961-04-12';
const reason = 'Low mood since retirement; would like a creative group.';

function leeds(): Referral {
  const referral = sampleReferral('leeds-arts-and-mental-health');
  referral.patient.contact = { phone: '0113 496 0001', email: 'alex@example.invalid', preferred: 'phone' };
  return referral;
}

function delivery(
  referral: Referral,
  kind: 'team' | 'partner',
  content: PlannedDelivery['content'],
): PlannedDelivery {
  const id = kind === 'team' ? 'lw-woodhouse' : 'arts-for-all';
  return {
    deliveryId: deliveryIdFor(referral.referralId, kind, id),
    recipient: { kind, id, name: kind === 'team' ? 'Woodhouse link workers' : 'Arts for All Leeds' },
    categories: ['arts'],
    content,
  };
}

describe('buildDeliveryPayload', () => {
  it('the sample referral carries the identifiers the checks look for', () => {
    const referral = leeds();
    expect(referral.patient.nhsNumber).toBe(nhsNumber);
    expect(referral.patient.birthDate).toBe(birthDate);
    expect(referral.reasonForReferral).toBe(reason);
  });

  it('the link-worker team (direct care) gets name, contact, NHS number and reason, not the birth date', () => {
    const referral = leeds();
    const planned = delivery(referral, 'team', 'identifiable');
    const payload = buildDeliveryPayload(referral, planned, 'LS6');
    expect(payload).toEqual<DeliveryPayload>({
      referralId: referral.referralId,
      deliveryId: planned.deliveryId,
      version: 1,
      recipient: planned.recipient,
      content: 'identifiable',
      needs: ['arts'],
      area: 'LS6',
      referredAt: receivedAt,
      referringPractice: 'A81001',
      patient: {
        name: { given: 'Alex', family: 'Testpatient' },
        contact: { preferred: 'phone', phone: '0113 496 0001', email: 'alex@example.invalid' },
        safeguardingConcern: false,
        reasonableAdjustments: [],
        nhsNumber,
        reasonForReferral: reason,
      },
    });
    const text = JSON.stringify(payload);
    expect(text).toContain(nhsNumber);
    expect(text).toContain(reason);
    expect(text).not.toContain(birthDate);
  });

  it('a consenting partner gets name and contact but never NHS number, birth date or reason', () => {
    const referral = leeds();
    const payload = buildDeliveryPayload(referral, delivery(referral, 'partner', 'identifiable'), 'LS6');
    expect(payload.patient).toEqual({
      name: { given: 'Alex', family: 'Testpatient' },
      contact: { preferred: 'phone', phone: '0113 496 0001', email: 'alex@example.invalid' },
      safeguardingConcern: false,
      reasonableAdjustments: [],
    });
    const text = JSON.stringify(payload);
    expect(text).not.toContain(nhsNumber);
    expect(text).not.toContain('999 526 0182');
    expect(text).not.toContain(birthDate);
    expect(text).not.toContain('Low mood');
    expect(text).not.toContain('LS6 1AA'); // full postcode stays home; the district is enough
    expect(text).not.toContain('nhsNumber');
    expect(text).not.toContain('reasonForReferral');
  });

  it('the team gets no NHS number unless its verification status allows sharing it', () => {
    for (const verification of [undefined, 'trace-required', 'not-present'] as const) {
      const referral = leeds();
      if (verification === undefined) delete referral.patient.nhsNumberVerification;
      else referral.patient.nhsNumberVerification = verification;
      const payload = buildDeliveryPayload(referral, delivery(referral, 'team', 'identifiable'), 'LS6');
      expect(JSON.stringify(payload)).not.toContain(nhsNumber);
    }
    const notTraced = leeds();
    notTraced.patient.nhsNumberVerification = 'present-not-traced';
    const payload = buildDeliveryPayload(notTraced, delivery(notTraced, 'team', 'identifiable'), 'LS6');
    expect(payload.patient?.nhsNumber).toBe(nhsNumber);
  });

  it('a partner whose consent was withdrawn after routing gets signposting only from then on', () => {
    const referral = leeds();
    const planned = delivery(referral, 'partner', 'identifiable');
    const withdrawn = { ...referral, consent: [{ recipient: planned.recipient.id, granted: false }] };
    const payload = buildDeliveryPayload(withdrawn, planned, 'LS6');
    expect(payload.content).toBe('signposting');
    expect('patient' in payload).toBe(false);
  });

  it('flags reach every identifiable recipient', () => {
    const referral = {
      ...leeds(),
      flags: { safeguarding: true, reasonableAdjustments: ['Needs an interpreter'] },
    };
    const payload = buildDeliveryPayload(referral, delivery(referral, 'partner', 'identifiable'), 'LS6');
    expect(payload.patient?.safeguardingConcern).toBe(true);
    expect(payload.patient?.reasonableAdjustments).toEqual(['Needs an interpreter']);
  });

  it('signposting carries no patient at all', () => {
    const referral = leeds();
    const payload = buildDeliveryPayload(referral, delivery(referral, 'partner', 'signposting'), 'LS6');
    expect('patient' in payload).toBe(false);
    expect(Object.keys(payload).sort()).toEqual(
      [
        'area',
        'content',
        'deliveryId',
        'needs',
        'recipient',
        'referralId',
        'referredAt',
        'referringPractice',
        'version',
      ].sort(),
    );
    const text = JSON.stringify(payload);
    for (const identifier of [
      nhsNumber,
      birthDate,
      'Alex',
      'Testpatient',
      '0113 496 0001',
      'alex@example',
      'LS6 1AA',
    ]) {
      expect(text).not.toContain(identifier);
    }
  });

  it('only the contact routes given are included', () => {
    const referral = sampleReferral('blackpool-benefits-and-activity');
    const payload = buildDeliveryPayload(
      referral,
      {
        deliveryId: deliveryIdFor(referral.referralId, 'partner', 'blackpool-moves'),
        recipient: { kind: 'partner', id: 'blackpool-moves', name: 'Blackpool Moves' },
        categories: ['physical-activity'],
        content: 'identifiable',
      },
      'FY1',
    );
    expect(payload.patient?.contact).toEqual({ preferred: 'email', email: 'sam.sample@example.invalid' });
    expect('phone' in (payload.patient?.contact ?? {})).toBe(false);
    expect(JSON.stringify(payload)).not.toContain('9991590838');
  });

  it('a team referral without a reason has no reasonForReferral key', () => {
    const referral = sampleReferral('hastings-befriending-no-consent');
    const payload = buildDeliveryPayload(
      referral,
      {
        deliveryId: deliveryIdFor(referral.referralId, 'team', 'lw-hastings'),
        recipient: { kind: 'team', id: 'lw-hastings', name: 'Hastings link workers' },
        categories: ['befriending', 'employment-support'],
        content: 'identifiable',
      },
      'TN34',
    );
    // No verification status stated: the number is not shared onward.
    expect(payload.patient?.nhsNumber).toBeUndefined();
    expect(payload.patient && 'reasonForReferral' in payload.patient).toBe(false);
  });
});
