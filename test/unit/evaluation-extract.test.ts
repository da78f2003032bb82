import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '#kernel/errors.ts';
import type { MeasureSetRecord } from '#outcomes/domain/measure-set.ts';
import type { Offer } from '#referral/domain/offer.ts';
import type { Referral } from '#referral/domain/referral.ts';
import {
  evaluationCsv,
  evaluationExtract,
  type EvaluationDeps,
} from '#reporting/application/evaluation-extract.ts';
import {
  evaluationColumns,
  evaluationRowOf,
  monthsOf,
  type EvaluationRow,
  type ReferralPartition,
} from '#reporting/domain/evaluation-rows.ts';
import {
  assertKAnonymous,
  describeCell,
  SmallCellsError,
  smallCells,
} from '#reporting/domain/k-anonymity.ts';
import { pseudonymOf } from '#reporting/domain/pseudonym.ts';
import { sampleReferral } from './fixtures.ts';

const key = Buffer.from('k'.repeat(64));
const otherKey = Buffer.from('q'.repeat(64));

/** A referral that went all the way: routed (IMD 2019 decile 3), accepted, contacted, started, closed. */
function journey(overrides: Partial<Referral> = {}): Referral {
  const base = sampleReferral('leeds-arts-and-mental-health');
  return {
    ...base,
    receivedAt: '2026-01-07T10:15:00.000Z', // Wednesday of 2026-W02
    patient: { ...base.patient, gender: 'female', birthDate: '1956-03-01' },
    status: 'closed',
    reasonForReferral: 'Lonely since her husband died; lives at 12 Acacia Avenue',
    routing: {
      decidedAt: '2026-01-07T10:15:02.000Z',
      area: 'LS6',
      areaSource: 'patient-postcode',
      team: { id: 'lw-woodhouse', name: 'Woodhouse link workers' },
      teamReason: 'x',
      matches: [],
      deliveries: [],
      unmetNeeds: [
        {
          category: 'mental-health',
          area: 'LS6',
          reason: 'No service covers LS6',
          code: 'no-service',
          imd: { edition: '2019', rank: 5000, decile: 3 },
        },
      ],
      classification: {
        source: 'patient-postcode',
        postcodeStatus: 'found',
        district: 'LS6',
        imdEdition: '2019',
        lsoaVintage: '2011',
        imd: { edition: '2019', rank: 5000, decile: 3 },
      },
    },
    acceptance: { at: '2026-01-12T09:00:00.000Z', by: 'lw-1' }, // Monday 2026-W03
    firstContact: { at: '2026-01-18T23:30:00.000Z', by: 'lw-1', channel: 'phone' }, // Sunday, still W03
    interventionStart: { at: '2026-01-19T09:00:00.000Z', by: 'lw-1' }, // Monday W04
    closure: {
      at: '2026-03-02T09:00:00.000Z',
      by: 'lw-1',
      reason: 'completed',
      code: '1362721000000106',
      text: 'Now goes to the choir at St Mary',
    },
    ...overrides,
  } as Referral;
}

const set = (fields: Partial<MeasureSetRecord>): MeasureSetRecord => ({
  referralId: '00000000-0000-4000-8000-000000000001',
  id: '00000000-0000-4000-8000-0000000000a1',
  timepoint: 'baseline',
  takenOn: '2026-01-19',
  recordedAt: '2026-01-19T10:00:00.000Z',
  recordedBy: { subject: 'lw-1', team: 'lw-woodhouse' },
  fingerprint: 'f',
  ...fields,
});

const partitionOf = (referral: Referral, extra: Partial<ReferralPartition> = {}): ReferralPartition => ({
  referral,
  offers: [],
  outcomes: [],
  ...extra,
});

const context = { pseudonym: 'p1', pcn: 'U00001' };

describe('pseudonyms', () => {
  it('are a keyed hash: the same NHS number and key give the same pseudonym, another key another one', () => {
    const a = pseudonymOf(key, 'patient', '9995260182');
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(pseudonymOf(key, 'patient', '9995260182')).toBe(a);
    expect(pseudonymOf(key, 'patient', '9990000018')).not.toBe(a);
    expect(pseudonymOf(otherKey, 'patient', '9995260182')).not.toBe(a);
    // A patient's pseudonym is never a referral's, even for the same text.
    expect(pseudonymOf(key, 'referral', '9995260182')).not.toBe(a);
    expect(a).not.toContain('9995260182');
  });

  it('refuse a short key', () => {
    expect(() => pseudonymOf(Buffer.from('short'), 'patient', '9995260182')).toThrow(RangeError);
  });
});

describe('the row builder', () => {
  it('gives codes, bands and ISO weeks, and nothing that identifies the patient or any free text', () => {
    const referral = journey();
    const row = evaluationRowOf(
      partitionOf(referral, {
        offers: [
          {
            decline: {
              reason: 'no-capacity',
              at: '2026-01-08T00:00:00Z',
              by: 'p',
              text: 'we are full, sorry Alex',
            },
          },
          { decline: { reason: 'no-capacity', at: '2026-01-09T00:00:00Z', by: 'p' } },
          {},
        ] as unknown as Offer[],
      }),
      context,
    );
    expect(Object.keys(row)).toEqual([...evaluationColumns]);
    expect(row).toMatchObject({
      pseudonym: 'p1',
      channel: 'json',
      pcn: 'U00001',
      imd_edition: '2019',
      imd_decile: '3',
      age_band: '65-74', // 69 on 7 January 2026
      sex: 'female',
      categories: 'arts;mental-health',
      unmet_categories: 'mental-health:no-service',
      status: 'closed',
      received_week: '2026-W02',
      accepted_week: '2026-W03',
      first_contact_week: '2026-W03',
      started_week: '2026-W04',
      closed_week: '2026-W10',
      declined_week: '',
      team_decline_reason: '',
      partner_decline_reasons: 'no-capacity',
      closure_reason: 'completed',
      follow_ups: '0',
    });
    const text = Object.values(row).join('|');
    for (const identifier of [
      referral.patient.nhsNumber,
      referral.patient.name.given,
      referral.patient.name.family,
      '1956',
      'LS6 1AA',
      '0113',
      referral.referralId,
      // The practice: finer than the PCN the k check groups by (below).
      referral.practiceOds,
      'Acacia',
      'choir',
      'Alex',
      '2026-01-07', // no day survives, only weeks
    ]) {
      expect(text).not.toContain(identifier);
    }
  });

  it('gives the baseline and the latest follow-up, each scored, banded and coarsened to its week', () => {
    const row = evaluationRowOf(
      partitionOf(journey(), {
        outcomes: [
          set({
            ons4: { lifeSatisfaction: 3, worthwhile: 5, happiness: 7, anxiety: 8 },
            ucla3: { lackCompanionship: 3, leftOut: 3, isolated: 2 },
            lonelinessDirect: 'often-always',
          }),
          set({
            id: '00000000-0000-4000-8000-0000000000a2',
            timepoint: 'follow-up',
            takenOn: '2026-02-16',
            ons4: { lifeSatisfaction: 5, worthwhile: 6, happiness: 7, anxiety: 4 },
          }),
          set({
            id: '00000000-0000-4000-8000-0000000000a3',
            timepoint: 'follow-up',
            takenOn: '2026-03-02',
            ons4: { lifeSatisfaction: 9, worthwhile: 9, happiness: 8, anxiety: 1 },
            swemwbs: {
              optimistic: 4,
              useful: 4,
              relaxed: 3,
              dealingWithProblems: 4,
              thinkingClearly: 4,
              closeToOthers: 5,
              ownMind: 4,
            },
          }),
        ],
      }),
      context,
    );
    expect(row).toMatchObject({
      follow_ups: '2',
      baseline_week: '2026-W04',
      baseline_ons4_life_satisfaction: '3',
      baseline_ons4_life_satisfaction_band: 'low',
      baseline_ons4_anxiety: '8',
      baseline_ons4_anxiety_band: 'high',
      baseline_ucla3_total: '8',
      baseline_loneliness_direct: 'often-always',
      baseline_swemwbs_raw_total: '',
      followup_week: '2026-W10',
      followup_ons4_life_satisfaction: '9',
      followup_ons4_life_satisfaction_band: 'very-high',
      followup_ons4_anxiety_band: 'very-low',
      followup_ucla3_total: '',
      followup_swemwbs_raw_total: '28',
    });
  });

  it('names no organisation finer than the PCN the k check groups by, and no key of the referral', () => {
    expect(evaluationColumns).not.toContain('practice');
    expect(evaluationColumns).not.toContain('referral_key');
    // Two referrals alike but for their practice (two practices of one PCN) give the same row: a cell that passes
    // the k check cannot be split by practice into smaller ones nobody checked.
    const atOne = evaluationRowOf(partitionOf(journey({ practiceOds: 'A81001' })), context);
    const atAnother = evaluationRowOf(partitionOf(journey({ practiceOds: 'A81002' })), context);
    expect(atAnother).toEqual(atOne);
    expect(Object.values(atOne)).not.toContain('A81001');
  });

  it("takes the PCN the router kept with its decision before the directory's", () => {
    const referral = journey();
    const routedWithPcn = { ...referral, routing: { ...referral.routing!, pcn: 'U00009' } };
    expect(evaluationRowOf(partitionOf(routedWithPcn), context).pcn).toBe('U00009');
    expect(evaluationRowOf(partitionOf(referral), context).pcn).toBe('U00001');
  });

  it('says unknown for what was not recorded, and leaves steps not reached empty', () => {
    const base = sampleReferral('leeds-arts-and-mental-health');
    const referral = {
      ...base,
      patient: { ...base.patient, birthDate: undefined },
      status: 'received',
    } as unknown as Referral;
    const row = evaluationRowOf(partitionOf(referral), { ...context, pcn: undefined });
    expect(row).toMatchObject({
      pcn: 'unknown',
      imd_edition: 'unknown',
      imd_decile: 'unknown',
      age_band: 'unknown',
      sex: 'unknown',
      accepted_week: '',
      closed_week: '',
      baseline_week: '',
    });
  });
});

describe('coarsening to ISO weeks', () => {
  it.each([
    ['2025-12-29T08:00:00.000Z', '2026-W01'], // a Monday in December, in the next year's first week
    ['2026-01-04T23:59:59.999Z', '2026-W01'], // Sunday: still the same week
    ['2026-01-05T00:00:00.000Z', '2026-W02'],
    ['2027-01-01T12:00:00.000Z', '2026-W53'], // a Friday: 2026 has 53 weeks
  ])('%s is in %s', (receivedAt, week) => {
    expect(evaluationRowOf(partitionOf(journey({ receivedAt })), context).received_week).toBe(week);
  });

  it('a date range touches the months it spans, year ends included', () => {
    expect(monthsOf('2025-11-20', '2026-02-01')).toEqual(['2025-11', '2025-12', '2026-01', '2026-02']);
    expect(monthsOf('2026-03-01', '2026-03-31')).toEqual(['2026-03']);
  });
});

const row = (pseudonym: string, cell: Partial<EvaluationRow> = {}): EvaluationRow =>
  ({
    pseudonym,
    imd_decile: '3',
    age_band: '65-74',
    sex: 'female',
    pcn: 'U00001',
    ...cell,
  }) as EvaluationRow;

describe('the k check', () => {
  it('passes when every combination holds k people, counting a person with several referrals once', () => {
    const rows = ['a', 'b', 'c', 'd', 'e'].map((p) => row(p));
    expect(smallCells(rows, 5)).toEqual([]);
    expect(() => assertKAnonymous(rows, 5)).not.toThrow();
    // Two more referrals of a person already counted add no one.
    expect(smallCells([...rows, row('a'), row('a')], 6)).toHaveLength(1);
  });

  it('refuses an extract with a smaller cell, naming it by its values and count, never its members', () => {
    const rows = [
      ...['a', 'b', 'c', 'd', 'e'].map((p) => row(p)),
      row('f', { sex: 'male' }),
      row('f', { sex: 'male' }),
      row('g', { sex: 'male' }),
      row('h', { imd_decile: 'unknown', pcn: 'U00002' }),
    ];
    const cells = smallCells(rows, 5);
    expect(cells).toEqual([
      { values: { imd_decile: '3', age_band: '65-74', sex: 'male', pcn: 'U00001' }, people: 2 },
      { values: { imd_decile: 'unknown', age_band: '65-74', sex: 'female', pcn: 'U00002' }, people: 1 },
    ]);
    expect(describeCell(cells[0]!)).toBe('imd_decile=3, age_band=65-74, sex=male, pcn=U00001 (2 people)');
    let refusal: unknown;
    try {
      assertKAnonymous(rows, 5);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(SmallCellsError);
    const message = (refusal as SmallCellsError).message;
    expect(message).toContain('fewer than k=5 people');
    expect(message).toContain('sex=male, pcn=U00001 (2 people)');
    expect(message).toContain('imd_decile=unknown, age_band=65-74, sex=female, pcn=U00002 (1 person)');
    for (const member of ['f', 'g', 'h']) expect(message).not.toMatch(new RegExp(`\\b${member}\\b`));
    // A lower k lets the same rows through.
    expect(() => assertKAnonymous(rows, 2)).toThrow(SmallCellsError);
    expect(smallCells(rows, 2)).toHaveLength(1);
  });
});

describe('the extract use case', () => {
  /** Five patients (five in one cell) with one referral each, and the first with a second referral. */
  function deps(referrals: Referral[]): EvaluationDeps & { queried: string[] } {
    const queried: string[] = [];
    return {
      queried,
      received: {
        async *idsReceived(month, from, to) {
          queried.push(month);
          for (const r of referrals)
            if (
              r.receivedAt.slice(0, 7) === month &&
              r.receivedAt.slice(0, 10) >= from &&
              r.receivedAt.slice(0, 10) <= to
            )
              yield r.referralId;
        },
        partition: async (id) => {
          const referral = referrals.find((r) => r.referralId === id);
          return referral && partitionOf(referral);
        },
      },
      directory: { practice: async (ods) => ({ ods, pcn: 'U00001' }) as never },
      pseudonymKey: { key: async () => key },
    };
  }
  const patient = (n: number, receivedAt: string, id: string): Referral => {
    const base = journey({ receivedAt, referralId: id });
    return { ...base, patient: { ...base.patient, nhsNumber: `999000001${n}` } };
  };
  const referrals = [
    patient(0, '2026-01-07T10:00:00.000Z', 'id-1'),
    patient(0, '2026-02-11T10:00:00.000Z', 'id-2'),
    patient(1, '2026-01-08T10:00:00.000Z', 'id-3'),
    patient(2, '2026-01-09T10:00:00.000Z', 'id-4'),
    patient(3, '2026-01-10T10:00:00.000Z', 'id-5'),
    patient(4, '2026-02-01T10:00:00.000Z', 'id-6'),
    patient(5, '2026-03-05T10:00:00.000Z', 'id-7'),
  ];

  // Monday 29 December 2025 (2026-W01) to Sunday 1 March 2026 (2026-W09).
  const weeks = { from: '2025-12-29', to: '2026-03-01' };

  it('one Query per month, rows keyed by pseudonym (the same patient linked), the CSV with its header', async () => {
    const d = deps(referrals);
    const extract = await evaluationExtract(d, weeks);
    expect(d.queried).toEqual(['2025-12', '2026-01', '2026-02', '2026-03']);
    expect(extract.rows).toHaveLength(6);
    expect(extract.people).toBe(5);
    const twice = pseudonymOf(key, 'patient', '9990000010');
    expect(extract.rows.filter((r) => r.pseudonym === twice)).toHaveLength(2);
    const csv = evaluationCsv(extract.rows);
    expect(csv.split('\r\n')[0]).toBe(evaluationColumns.join(','));
    expect(csv).not.toContain('9990000010');
    // No key of a referral: nothing matches one referral's row from one extract to another but the pseudonym.
    for (const id of referrals.map((r) => r.referralId)) {
      expect(csv).not.toContain(pseudonymOf(key, 'referral', id));
      expect(csv).not.toContain(id);
    }
    // The rows' order is their values', not the order they were read in.
    expect(evaluationCsv((await evaluationExtract(deps([...referrals].reverse()), weeks)).rows)).toBe(csv);
  });

  it('refuses a range whose cell holds fewer than k people (k from the request), and bad requests', async () => {
    await expect(evaluationExtract(deps(referrals), { ...weeks, k: '6' })).rejects.toThrow(SmallCellsError);
    for (const bad of [
      {},
      { from: '2026-02-02', to: '2026-01-04' },
      { ...weeks, k: '1' },
      { ...weeks, k: 'five' },
      { ...weeks, limit: '3' },
    ]) {
      await expect(evaluationExtract(deps(referrals), bad), JSON.stringify(bad)).rejects.toThrow(
        ValidationError,
      );
    }
    await expect(
      evaluationExtract(deps(referrals), { from: '2025-12-29', to: '2026-12-27' }, { maxWeeks: 13 }),
    ).rejects.toThrow(/at most 13 weeks here \(52 asked\)/);
    // Thirteen whole weeks, Monday 29 December to Sunday 29 March, are not too many.
    await expect(
      evaluationExtract(deps(referrals), { from: '2025-12-29', to: '2026-03-29' }, { maxWeeks: 13 }),
    ).resolves.toMatchObject({ k: 5 });
  });

  /** The problems a request is refused for, as the route's 400 and the CLI's exit 2 tell them. */
  async function problemsOf(input: unknown): Promise<Array<{ field: string; rule: string }>> {
    try {
      await evaluationExtract(deps(referrals), input);
    } catch (error) {
      if (error instanceof ValidationError) return error.problems.map(({ field, rule }) => ({ field, rule }));
      throw error;
    }
    throw new Error(`not refused: ${JSON.stringify(input)}`);
  }

  it('takes only whole ISO weeks, so no extract, nor two differenced, tells the day a referral came in', async () => {
    // One day: every row's received day would be that day.
    expect(await problemsOf({ from: '2026-01-07', to: '2026-01-07' })).toEqual([
      { field: 'from', rule: expect.stringMatching(/^must be a Monday: .*whole ISO weeks/) },
      { field: 'to', rule: expect.stringMatching(/^must be a Sunday: .*whole ISO weeks/) },
    ]);
    // Two ranges a day apart, differenced, would give one day's rows.
    expect(await problemsOf({ from: '2025-12-30', to: '2026-03-01' })).toEqual([
      { field: 'from', rule: expect.stringMatching(/^must be a Monday/) },
    ]);
    expect(await problemsOf({ from: '2025-12-29', to: '2026-02-28' })).toEqual([
      { field: 'to', rule: expect.stringMatching(/^must be a Sunday/) },
    ]);
    // One whole week is a range like any other (here, a cell of too few people).
    await expect(
      evaluationExtract(deps(referrals), { from: '2026-01-05', to: '2026-01-11' }),
    ).rejects.toThrow(SmallCellsError);
  });

  it('lets k be raised above the default 5, never lowered below it', async () => {
    for (const k of ['2', '3', '4', '0', '101'])
      expect(await problemsOf({ ...weeks, k }), k).toEqual([
        {
          field: 'k',
          rule: 'must be a whole number from 5 to 100: k may be raised above the default 5, never lowered below it',
        },
      ]);
    // The five women in one cell pass at 5, the default and the floor, and not at 6.
    await expect(evaluationExtract(deps(referrals), { ...weeks, k: '5' })).resolves.toMatchObject({ k: 5 });
    await expect(evaluationExtract(deps(referrals), weeks)).resolves.toMatchObject({ k: 5 });
    await expect(evaluationExtract(deps(referrals), { ...weeks, k: '6' })).rejects.toThrow(SmallCellsError);
  });
});

describe('the data dictionary (docs/evaluation.md)', () => {
  const doc = readFileSync(new URL('../../docs/evaluation.md', import.meta.url), 'utf8');
  it.each([...evaluationColumns])('describes the column %s', (column) => {
    expect(doc).toMatch(new RegExp(`^\\| \`${column}\``, 'm'));
  });

  it('describes no column the extract does not have', () => {
    const described = [...doc.matchAll(/^\| `([a-z0-9_]+)`/gm)].map((match) => match[1]);
    expect(described).toEqual([...evaluationColumns]);
  });
});
