import { describe, expect, it } from 'vitest';
import type { MeasureSetRecord } from '#outcomes/domain/measure-set.ts';
import type { Referral, RoutingDecision } from '#referral/domain/referral.ts';
import { ageBandOf } from '#reporting/domain/figures.ts';
import { outcomeFigures } from '#reporting/domain/outcome-figures.ts';
import {
  funnelFigure,
  needFigures,
  referralFigure,
  routingFigures,
  sexOf,
} from '#reporting/domain/referral-figures.ts';
import { responseFigure } from '#reporting/domain/response-figures.ts';
import { sampleReferral } from './fixtures.ts';

// The observatory's figures as built from a routed referral, a partner answer and a measure set: every dimension of
// its family, `unknown` where nothing says, the IMD always with its edition.

const decision = (overrides: Partial<RoutingDecision> = {}): RoutingDecision => ({
  decidedAt: '2025-03-04T09:16:00.000Z',
  area: 'LS6',
  areaSource: 'patient-postcode',
  team: { id: 'team-leeds-north', name: 'Leeds North' },
  teamReason: 'the team of the PCN',
  matches: [
    {
      category: 'arts',
      serviceId: 'svc-1',
      serviceName: 'Art',
      partnerId: 'partner-1',
      partnerName: 'Partner',
      reason: 'fits',
      coveredBy: 'district',
      content: 'identifiable',
    },
  ],
  unmetNeeds: [{ category: 'mental-health', area: 'LS6', reason: 'none', code: 'no-service', imd: null }],
  deliveries: [],
  classification: {
    source: 'patient-postcode',
    postcodeStatus: 'found',
    district: 'LS6',
    localAuthority: 'E08000035',
    imdEdition: '2019',
    lsoaVintage: '2011',
    imd: { edition: '2019', rank: 1234, decile: 2 },
  },
  pcn: 'U12345',
  ...overrides,
});

const routed = (overrides: Partial<RoutingDecision> = {}, referral: Partial<Referral> = {}): Referral =>
  sampleReferral('leeds-arts-and-mental-health', {
    status: 'routed',
    routing: decision(overrides),
    ...referral,
  });

describe('referral figures', () => {
  it('the referrals figure: practice, PCN, team, area, local authority, IMD with edition, channel, age band, sex', () => {
    expect(referralFigure(routed())).toEqual({
      family: 'referrals',
      day: '2025-03-04',
      dimensions: {
        practice: 'A81001',
        pcn: 'U12345',
        team: 'team-leeds-north',
        area: 'LS6',
        localAuthority: 'E08000035',
        imd: '2019:2',
        channel: 'json',
        ageBand: '55-64',
        sex: 'unknown',
      },
    });
    expect(referralFigure(sampleReferral('leeds-arts-and-mental-health'))).toBeUndefined();
  });

  it('unknown where nothing says: no decile (with its edition), no classification, no PCN, no birth date', () => {
    const noDecile = routed({
      classification: { ...decision().classification!, imd: null, localAuthority: undefined },
    });
    expect(referralFigure(noDecile)?.dimensions).toMatchObject({
      imd: '2019:unknown',
      localAuthority: 'unknown',
    });
    const old = routed({ classification: undefined, pcn: undefined });
    expect(referralFigure(old)?.dimensions).toMatchObject({ imd: 'unknown:unknown', pcn: 'unknown' });
    const { birthDate: _none, ...patient } = routed().patient;
    expect(referralFigure(routed({}, { patient }))?.dimensions.ageBand).toBe('unknown');
    const fhir = routed({}, { source: { channel: 'fhir', requestId: 'r', correlationId: 'c' } });
    expect(referralFigure(fhir)?.dimensions.channel).toBe('fhir');
  });

  it('age bands at their boundaries, on the day received in England', () => {
    expect([0, 17, 18, 24, 25, 34, 35, 44, 45, 54, 55, 64, 65, 74, 75, 104].map(ageBandOf)).toEqual([
      '0-17',
      '0-17',
      '18-24',
      '18-24',
      '25-34',
      '25-34',
      '35-44',
      '35-44',
      '45-54',
      '45-54',
      '55-64',
      '55-64',
      '65-74',
      '65-74',
      '75+',
      '75+',
    ]);
    expect([undefined, -1, Number.NaN].map(ageBandOf)).toEqual(['unknown', 'unknown', 'unknown']);
    const birthday = (receivedAt: string) =>
      referralFigure(routed({}, { receivedAt, patient: { ...routed().patient, birthDate: '2007-06-15' } }))
        ?.dimensions.ageBand;
    // 18 on 15 June 2025: at 23:30 UTC on the 14th it is already the 15th in England (BST).
    expect(birthday('2025-06-14T22:30:00.000Z')).toBe('0-17');
    expect(birthday('2025-06-14T23:30:00.000Z')).toBe('18-24');
  });

  it('age band and sex as first routed: a patient amended later stays in the cell counted', () => {
    const bands = { ageBand: '35-44', sex: 'unknown' };
    const amended = routed(
      { patientBands: bands },
      { patient: { ...routed().patient, birthDate: '2001-01-01' } },
    );
    expect(referralFigure(amended)?.dimensions).toMatchObject(bands);
  });

  it('sex is unknown until the patient record carries a gender', () => {
    expect(sexOf(routed().patient)).toBe('unknown');
    expect(sexOf({ ...routed().patient, gender: 'female' } as Referral['patient'])).toBe('female');
    expect(sexOf({ ...routed().patient, gender: 'banana' } as unknown as Referral['patient'])).toBe(
      'unknown',
    );
  });

  it('one needs figure per need: matched, or unmet with its reason', () => {
    const needs = needFigures(routed());
    expect(needs.map((n) => [n.dimensions.category, n.dimensions.outcome, n.dimensions.reason])).toEqual([
      ['arts', 'matched', '-'],
      ['mental-health', 'unmet', 'no-service'],
    ]);
    expect(needs[0]?.dimensions).toEqual({
      category: 'arts',
      outcome: 'matched',
      reason: '-',
      practice: 'A81001',
      pcn: 'U12345',
      area: 'LS6',
      localAuthority: 'E08000035',
      imd: '2019:2',
    });
  });

  it('no link-worker team: matched needs count unmet (no-link-worker-team), a gap keeps its own reason', () => {
    const noTeam = routed({
      team: null,
      pcn: undefined,
      noTeam: { code: 'no-link-worker-team', reason: 'none', pcn: 'U99999' },
    });
    expect(
      needFigures(noTeam).map((n) => [n.dimensions.outcome, n.dimensions.reason, n.dimensions.pcn]),
    ).toEqual([
      ['unmet', 'no-link-worker-team', 'U99999'],
      ['unmet', 'no-service', 'U99999'],
    ]);
    expect(referralFigure(noTeam)?.dimensions.team).toBe('-');
  });

  it('a need added by an update and not yet routed has no figure', () => {
    expect(needFigures(routed({}, { needs: ['arts', 'mental-health', 'befriending'] }))).toHaveLength(2);
  });

  it('routing counts the referral, each need and the funnel’s referred, each with its own unit', () => {
    const referral = routed();
    expect(routingFigures(referral).map((c) => [c.unitId, c.figures.map((f) => f.family)])).toEqual([
      [referral.referralId, ['referrals']],
      [`${referral.referralId}#arts`, ['needs']],
      [`${referral.referralId}#mental-health`, ['needs']],
      [`${referral.referralId}#referred`, ['funnel']],
    ]);
    expect(routingFigures(sampleReferral('leeds-arts-and-mental-health'))).toEqual([]);
  });

  it('a funnel figure on the day of its step, with the coded reason where there is one', () => {
    expect(funnelFigure(routed(), 'declined', '2025-03-09T10:00:00.000Z', 'declined-by-patient')).toEqual({
      family: 'funnel',
      day: '2025-03-09',
      dimensions: {
        stage: 'declined',
        reason: 'declined-by-patient',
        practice: 'A81001',
        pcn: 'U12345',
        team: 'team-leeds-north',
        area: 'LS6',
        localAuthority: 'E08000035',
        imd: '2019:2',
      },
    });
    expect(funnelFigure(routed(), 'contacted', '2025-03-05T10:00:00.000Z')?.dimensions.reason).toBe('-');
  });
});

describe('response figures', () => {
  const base = { partnerId: 'partner-1', category: 'arts', at: '2025-03-05T10:00:00.000Z' } as const;
  it('accepted and declined with their band, declined with its coded reason, expired with neither', () => {
    expect(responseFigure({ ...base, outcome: 'accepted', responseHours: 3 }).dimensions).toEqual({
      partner: 'partner-1',
      category: 'arts',
      outcome: 'accepted',
      reason: '-',
      band: 'within-4h',
    });
    expect(
      responseFigure({ ...base, outcome: 'declined', reason: 'no-capacity', responseHours: 30 }).dimensions,
    ).toMatchObject({ outcome: 'declined', reason: 'no-capacity', band: 'within-48h' });
    const expired = responseFigure({ ...base, outcome: 'expired' });
    expect(expired).toMatchObject({
      day: '2025-03-05',
      dimensions: { outcome: 'expired', reason: '-', band: '-' },
    });
  });
});

describe('outcome figures', () => {
  const set = (overrides: Partial<MeasureSetRecord>): MeasureSetRecord => ({
    referralId: '11111111-1111-4111-8111-111111111111',
    id: '44444444-4444-4444-8444-444444444444',
    timepoint: 'baseline',
    takenOn: '2025-03-10',
    recordedAt: '2025-03-10T10:00:00.000Z',
    recordedBy: { subject: 'lw', team: 'team-leeds-north' },
    fingerprint: 'f',
    ...overrides,
  });
  const baseline = set({
    ons4: { lifeSatisfaction: 4, worthwhile: 6, happiness: 5, anxiety: 7 },
    ucla3: { lackCompanionship: 3, leftOut: 2, isolated: 3 },
    lonelinessDirect: 'some-of-the-time',
    swemwbs: {
      optimistic: 2,
      useful: 2,
      relaxed: 2,
      dealingWithProblems: 2,
      thinkingClearly: 2,
      closeToOthers: 2,
      ownMind: 2,
    },
  });

  it('at baseline: every measure with its band or score, no change', () => {
    const figures = outcomeFigures(routed(), baseline, baseline);
    expect(figures.map((f) => [f.dimensions.measure, f.dimensions.band, f.dimensions.change])).toEqual([
      ['ons4-life-satisfaction', 'low', '-'],
      ['ons4-worthwhile', 'medium', '-'],
      ['ons4-happiness', 'medium', '-'],
      ['ons4-anxiety', 'high', '-'],
      ['ucla3', '8', '-'],
      ['loneliness-direct', 'some-of-the-time', '-'],
      ['swemwbs', '14', '-'],
    ]);
    expect(figures[0]).toEqual({
      family: 'outcomes',
      day: '2025-03-10',
      dimensions: {
        measure: 'ons4-life-satisfaction',
        timepoint: 'baseline',
        band: 'low',
        change: '-',
        pcn: 'U12345',
        team: 'team-leeds-north',
        imd: '2019:2',
      },
    });
  });

  it('at follow-up: change by each instrument’s sense of better (anxiety and UCLA-3 lower)', () => {
    const followUp = set({
      id: '55555555-5555-4555-8555-555555555555',
      timepoint: 'follow-up',
      takenOn: '2025-06-10',
      // Life satisfaction up, worthwhile same, happiness down, anxiety down (better).
      ons4: { lifeSatisfaction: 7, worthwhile: 6, happiness: 4, anxiety: 3 },
      // UCLA-3 up (worse).
      ucla3: { lackCompanionship: 3, leftOut: 3, isolated: 3 },
      // Less often lonely (better).
      lonelinessDirect: 'hardly-ever',
    });
    expect(
      outcomeFigures(routed(), followUp, baseline).map((f) => [f.dimensions.measure, f.dimensions.change]),
    ).toEqual([
      ['ons4-life-satisfaction', 'improved'],
      ['ons4-worthwhile', 'same'],
      ['ons4-happiness', 'worse'],
      ['ons4-anxiety', 'improved'],
      ['ucla3', 'worse'],
      ['loneliness-direct', 'improved'],
    ]);
    const swemwbsOnly = set({
      id: '66666666-6666-4666-8666-666666666666',
      timepoint: 'follow-up',
      swemwbs: { ...baseline.swemwbs!, relaxed: 5 },
    });
    expect(outcomeFigures(routed(), swemwbsOnly, baseline).map((f) => f.dimensions.change)).toEqual([
      'improved',
    ]);
    // A measure the baseline lacks, or no baseline at all: nothing to compare with.
    expect(
      outcomeFigures(routed(), followUp, set({ ucla3: baseline.ucla3 })).map((f) => f.dimensions.change),
    ).toEqual(['-', '-', '-', '-', 'worse', '-']);
    expect(outcomeFigures(routed(), followUp, undefined).every((f) => f.dimensions.change === '-')).toBe(
      true,
    );
  });
});
