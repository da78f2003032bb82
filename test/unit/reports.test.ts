import { describe, expect, it } from 'vitest';
import { ValidationError } from '#kernel/errors.ts';
import { buildReport, plannedReads, type ReportAudience } from '#reporting/application/build-report.ts';
import type { FigureDimension, FigureFamily } from '#reporting/domain/figures.ts';
import { maxReportDays, reportNames, type ReportName } from '#reporting/domain/report-shape.ts';
import { reportDefinitions } from '#reporting/domain/reports/catalogue.ts';
import { reportCsv, reportFileName } from '#reporting/domain/reports/csv.ts';
import { medianBand } from '#reporting/domain/reports/partners.ts';
import { parseReportQuery } from '#reporting/domain/reports/query.ts';
import { InMemoryFigures } from './fakes-figures.ts';

// The reports, built by the pure builders from the in-memory figures: what each answers, that each reads only its
// families (one read each, never more), the area and date filters, commissioners' suppression, the query's rules and
// the CSV.

let units = 0;
/** `n` units in one cell (each its own unit id, as n referrals would be). */
async function seed<F extends FigureFamily>(
  figures: InMemoryFigures,
  family: F,
  day: string,
  dimensions: Partial<Record<FigureDimension<F>, string>>,
  n = 1,
): Promise<void> {
  for (let i = 0; i < n; i++)
    await figures.recordOnce(
      [{ family, day, dimensions } as unknown as Parameters<InMemoryFigures['recordOnce']>[0][number]],
      `unit-${++units}`,
    );
}

const range = { from: '2026-11-01', to: '2026-11-30' };
const report = (
  figures: InMemoryFigures,
  name: ReportName,
  audience: ReportAudience = 'exact',
  area?: string,
) => buildReport(figures, { report: name, ...range, audience, ...(area === undefined ? {} : { area }) });

/** A small world: needs in two areas, a funnel, responses of two partners, outcomes and a surge. */
async function world(): Promise<InMemoryFigures> {
  const figures = new InMemoryFigures();
  const leeds = { area: 'LS6', localAuthority: 'E08000035', pcn: 'U00001', practice: 'A81001' };
  const blackpool = { area: 'FY1', localAuthority: 'E06000009', pcn: 'U00002', practice: 'B82001' };
  await seed(
    figures,
    'needs',
    '2026-11-02',
    { ...leeds, category: 'arts', outcome: 'matched', reason: '-', imd: '2019:3' },
    7,
  );
  await seed(
    figures,
    'needs',
    '2026-11-02',
    { ...leeds, category: 'arts', outcome: 'unmet', reason: 'all-full-or-paused', imd: '2019:3' },
    2,
  );
  await seed(
    figures,
    'needs',
    '2026-11-02',
    { ...blackpool, category: 'food', outcome: 'unmet', reason: 'no-service', imd: '2019:1' },
    6,
  );
  await seed(
    figures,
    'needs',
    '2026-11-03',
    { ...blackpool, category: 'arts', outcome: 'matched', reason: '-', imd: '2019:1' },
    1,
  );
  // Outside the range: never counted.
  await seed(
    figures,
    'needs',
    '2026-10-31',
    { ...leeds, category: 'arts', outcome: 'matched', reason: '-', imd: '2019:3' },
    50,
  );
  await seed(
    figures,
    'funnel',
    '2026-11-02',
    { ...leeds, stage: 'referred', reason: '-', imd: '2019:3', team: 'lw-a' },
    8,
  );
  await seed(
    figures,
    'funnel',
    '2026-11-02',
    { ...blackpool, stage: 'referred', reason: '-', imd: '2019:1', team: 'lw-b' },
    6,
  );
  await seed(
    figures,
    'funnel',
    '2026-11-04',
    { ...leeds, stage: 'received', reason: '-', imd: '2019:3', team: 'lw-a' },
    6,
  );
  await seed(
    figures,
    'funnel',
    '2026-11-05',
    { ...blackpool, stage: 'declined', reason: 'declined-by-patient', imd: '2019:1', team: 'lw-b' },
    3,
  );
  await seed(
    figures,
    'responses',
    '2026-11-04',
    { partner: 'arts-for-all', category: 'arts', outcome: 'accepted', reason: '-', band: 'within-4h' },
    6,
  );
  await seed(
    figures,
    'responses',
    '2026-11-05',
    { partner: 'arts-for-all', category: 'arts', outcome: 'accepted', reason: '-', band: 'within-48h' },
    4,
  );
  await seed(
    figures,
    'responses',
    '2026-11-05',
    {
      partner: 'arts-for-all',
      category: 'arts',
      outcome: 'declined',
      reason: 'no-capacity',
      band: 'within-24h',
    },
    2,
  );
  await seed(
    figures,
    'responses',
    '2026-11-06',
    { partner: 'arts-for-all', category: 'arts', outcome: 'expired', reason: '-', band: '-' },
    1,
  );
  await seed(
    figures,
    'responses',
    '2026-11-06',
    { partner: 'blackpool-moves', category: 'food', outcome: 'accepted', reason: '-', band: 'within-1h' },
    3,
  );
  const set = { pcn: 'U00001', team: 'lw-a', imd: '2019:3' };
  await seed(
    figures,
    'outcomes',
    '2026-11-02',
    { ...set, measure: 'ons4-happiness', timepoint: 'baseline', band: 'low', change: '-' },
    6,
  );
  await seed(
    figures,
    'outcomes',
    '2026-11-20',
    { ...set, measure: 'ons4-happiness', timepoint: 'follow-up', band: 'medium', change: 'improved' },
    5,
  );
  await seed(
    figures,
    'outcomes',
    '2026-11-20',
    { ...set, measure: 'ons4-happiness', timepoint: 'follow-up', band: 'low', change: 'same' },
    1,
  );
  await seed(figures, 'surges', '2026-11-09', {
    category: 'food',
    area: 'FY1',
    observed: '12',
    expected: '2.5',
    threshold: '9',
  });
  return figures;
}

describe('each report, for ops (exact counts)', () => {
  it('volumes: needs per day by category, every outcome, nothing outside the range', async () => {
    const answer = await report(await world(), 'volumes');
    expect(answer).toMatchObject({
      report: 'volumes',
      ...range,
      suppressedBelow: null,
      columns: ['day', 'category', 'needs'],
    });
    expect(answer.rows).toEqual([
      { day: '2026-11-02', category: 'arts', needs: 9 },
      { day: '2026-11-02', category: 'food', needs: 6 },
      { day: '2026-11-03', category: 'arts', needs: 1 },
    ]);
  });

  it('surges: one row per surge, counts as numbers', async () => {
    expect((await report(await world(), 'surges')).rows).toEqual([
      { day: '2026-11-09', category: 'food', area: 'FY1', observed: 12, expected: 2.5, threshold: 9 },
    ]);
  });

  it('funnel: every stage of the path, reached or not, and declines by reason', async () => {
    expect((await report(await world(), 'funnel')).rows).toEqual([
      { stage: 'referred', reason: '-', referrals: 14 },
      { stage: 'received', reason: '-', referrals: 6 },
      { stage: 'contacted', reason: '-', referrals: 0 },
      { stage: 'started', reason: '-', referrals: 0 },
      { stage: 'closed', reason: '-', referrals: 0 },
      { stage: 'declined', reason: 'declined-by-patient', referrals: 3 },
    ]);
  });

  it('caseloads: each team taken on, stepped and ended, side by side; referred alone moves no caseload', async () => {
    expect((await report(await world(), 'caseloads')).rows).toEqual([
      { team: 'lw-a', takenOn: 6, contacted: 0, started: 0, closed: 0, declined: 0, cancelled: 0 },
      { team: 'lw-b', takenOn: 0, contacted: 0, started: 0, closed: 0, declined: 3, cancelled: 0 },
    ]);
  });

  it('deprivation: every decile of each edition seen, referred, taken up, declined and unmet', async () => {
    const { rows } = await report(await world(), 'deprivation');
    expect(rows.map((row) => row.imd)).toEqual([...Array(10).keys()].map((i) => `2019:${i + 1}`));
    expect(rows[0]).toEqual({
      imd: '2019:1',
      edition: '2019',
      decile: '1',
      referred: 6,
      takenUp: 0,
      declined: 3,
      unmetNeeds: 6,
    });
    expect(rows[2]).toEqual({
      imd: '2019:3',
      edition: '2019',
      decile: '3',
      referred: 8,
      takenUp: 6,
      declined: 0,
      unmetNeeds: 2,
    });
    expect(rows[9]).toMatchObject({ imd: '2019:10', referred: 0, unmetNeeds: 0 });
  });

  it('deprivation: editions never mixed; unknown deciles last', async () => {
    const figures = new InMemoryFigures();
    await seed(figures, 'funnel', '2026-11-02', { stage: 'referred', reason: '-', imd: '2025:2' });
    await seed(figures, 'funnel', '2026-11-02', { stage: 'referred', reason: '-', imd: '2019:unknown' });
    const { rows } = await report(figures, 'deprivation');
    expect(rows.map((row) => row.imd)).toEqual([
      ...[...Array(10).keys()].map((i) => `2019:${i + 1}`),
      '2019:unknown',
      ...[...Array(10).keys()].map((i) => `2025:${i + 1}`),
    ]);
  });

  it('gaps: unmet needs only, by area, category and reason', async () => {
    expect((await report(await world(), 'gaps')).rows).toEqual([
      { area: 'FY1', localAuthority: 'E06000009', category: 'food', reason: 'no-service', unmetNeeds: 6 },
      {
        area: 'LS6',
        localAuthority: 'E08000035',
        category: 'arts',
        reason: 'all-full-or-paused',
        unmetNeeds: 2,
      },
    ]);
  });

  it('partners: answered, accepted, declines by reason, expiries, acceptance rate and median band', async () => {
    const { rows } = await report(await world(), 'partners');
    expect(rows).toEqual([
      {
        partner: 'arts-for-all',
        answered: 12,
        accepted: 10,
        declined: 2,
        declinedNoCapacity: 2,
        declinedNotEligible: 0,
        declinedPatientUnreachable: 0,
        declinedByPatient: 0,
        declinedOther: 0,
        expired: 1,
        acceptanceRate: 83.3,
        // 12 answers: 6 within 4h, 2 within 24h, 4 within 48h; the 6th is within 4 hours.
        medianResponseBand: 'within-4h',
      },
      expect.objectContaining({
        partner: 'blackpool-moves',
        answered: 3,
        acceptanceRate: 100,
        medianResponseBand: 'within-1h',
      }),
    ]);
  });

  it('partners: the median band is the lower median, the open band named as such', () => {
    expect(medianBand({})).toBeUndefined();
    expect(medianBand({ 'within-1h': 1, 'within-24h': 1 })).toBe('within-1h');
    expect(medianBand({ 'within-1h': 1, 'over-336h': 2 })).toBe('over-336h');
  });

  it('outcomes: baseline and follow-up by band, then the change', async () => {
    expect((await report(await world(), 'outcomes')).rows).toEqual([
      { measure: 'ons4-happiness', distribution: 'baseline', value: 'low', sets: 6 },
      { measure: 'ons4-happiness', distribution: 'follow-up', value: 'low', sets: 1 },
      { measure: 'ons4-happiness', distribution: 'follow-up', value: 'medium', sets: 5 },
      { measure: 'ons4-happiness', distribution: 'change', value: 'improved', sets: 5 },
      { measure: 'ons4-happiness', distribution: 'change', value: 'same', sets: 1 },
    ]);
  });

  it('every row has exactly the columns named, in every report', async () => {
    const figures = await world();
    for (const name of reportNames) {
      const answer = await report(figures, name);
      expect(answer.columns).toEqual(reportDefinitions[name].columns.map((column) => column.name));
      for (const row of answer.rows)
        expect(Object.keys(row).sort(), name).toEqual([...answer.columns].sort());
    }
  });
});

describe('reads: each report reads only its own families, one read each, never a scan', () => {
  const expectedFamilies: Record<ReportName, FigureFamily[]> = {
    volumes: ['needs'],
    surges: ['surges'],
    funnel: ['funnel'],
    deprivation: ['funnel', 'needs'],
    gaps: ['needs'],
    partners: ['responses'],
    outcomes: ['outcomes'],
    caseloads: ['funnel'],
  };
  for (const name of reportNames) {
    it(`${name}: ${expectedFamilies[name].join(' + ')}, ${expectedFamilies[name].length} read(s), over the whole range or one day alike`, async () => {
      const figures = await world();
      for (const [from, to] of [
        ['2026-11-01', '2026-11-30'],
        ['2025-12-01', '2026-11-30'],
        ['2026-11-02', '2026-11-02'],
      ] as const) {
        figures.cellReads = 0;
        await buildReport(figures, { report: name, from, to, audience: 'suppressed' });
        expect(figures.cellReads).toBe(expectedFamilies[name].length);
      }
      expect(plannedReads({ report: name, ...range }).map((read) => read.family)).toEqual(
        expectedFamilies[name],
      );
    });
  }
});

describe('filters', () => {
  it('area matches the postcode district, the local authority or the PCN, case-insensitively', async () => {
    const figures = await world();
    for (const area of ['FY1', 'E06000009', 'U00002', 'fy1']) {
      const answer = await report(figures, 'volumes', 'exact', area.toUpperCase());
      expect(answer.area).toBe(area.toUpperCase());
      expect(answer.rows, area).toEqual([
        { day: '2026-11-02', category: 'food', needs: 6 },
        { day: '2026-11-03', category: 'arts', needs: 1 },
      ]);
    }
    expect((await report(figures, 'volumes', 'exact', 'ZZ9')).rows).toEqual([]);
  });

  it('outcomes filter by their PCN; surges by their area', async () => {
    const figures = await world();
    expect((await report(figures, 'outcomes', 'exact', 'U00001')).rows).toHaveLength(5);
    expect((await report(figures, 'outcomes', 'exact', 'U00002')).rows).toEqual([]);
    expect((await report(figures, 'surges', 'exact', 'FY1')).rows).toHaveLength(1);
    expect((await report(figures, 'surges', 'exact', 'LS6')).rows).toEqual([]);
  });

  it('the date range includes both ends and nothing outside', async () => {
    const figures = await world();
    const day = await buildReport(figures, {
      report: 'volumes',
      from: '2026-11-03',
      to: '2026-11-03',
      audience: 'exact',
    });
    expect(day.rows).toEqual([{ day: '2026-11-03', category: 'arts', needs: 1 }]);
    const october = await buildReport(figures, {
      report: 'volumes',
      from: '2026-10-31',
      to: '2026-10-31',
      audience: 'exact',
    });
    expect(october.rows).toEqual([{ day: '2026-10-31', category: 'arts', needs: 50 }]);
  });
});

describe('suppression for commissioners', () => {
  it('a declined total is hidden when one of its reasons is, and answered with it: no part is the total minus the rest', async () => {
    const figures = new InMemoryFigures();
    const answer = { partner: 'p1', category: 'arts', band: 'within-4h' };
    await seed(figures, 'responses', '2026-11-02', { ...answer, outcome: 'accepted', reason: '-' }, 9);
    await seed(
      figures,
      'responses',
      '2026-11-02',
      { ...answer, outcome: 'declined', reason: 'no-capacity' },
      8,
    );
    await seed(figures, 'responses', '2026-11-02', { ...answer, outcome: 'declined', reason: 'other' }, 2);
    const [row] = (await report(figures, 'partners', 'suppressed')).rows;
    expect(row).toMatchObject({
      accepted: 9,
      declinedNoCapacity: 8,
      declinedOther: '<5',
      declined: 'suppressed',
      answered: 'suppressed',
      acceptanceRate: 'suppressed',
    });
    expect((await report(figures, 'partners', 'exact')).rows[0]).toMatchObject({
      declined: 10,
      answered: 19,
    });
  });

  it('counts 1 to 4 are "<5"; 0 and 5 and over are shown; the threshold is stated', async () => {
    const answer = await report(await world(), 'deprivation', 'suppressed');
    expect(answer.suppressedBelow).toBe(5);
    expect(answer.rows[0]).toEqual({
      imd: '2019:1',
      edition: '2019',
      decile: '1',
      referred: 6,
      takenUp: 0,
      declined: '<5',
      unmetNeeds: 6,
    });
    expect(answer.rows[2]).toEqual({
      imd: '2019:3',
      edition: '2019',
      decile: '3',
      referred: 8,
      takenUp: 6,
      declined: 0,
      unmetNeeds: '<5',
    });
  });

  it('no count from 1 to 4 is left in any report', async () => {
    const figures = await world();
    for (const name of reportNames) {
      const { rows, columns } = await report(figures, name, 'suppressed');
      const counts = reportDefinitions[name].columns
        .filter((column) => column.kind === 'count')
        .map((c) => c.name);
      expect(columns.length).toBeGreaterThan(0);
      for (const row of rows)
        for (const column of counts) expect(row[column], `${name}.${column}`).not.toBeOneOf([1, 2, 3, 4]);
    }
  });

  it('a total with a suppressed part, and a rate or median computed from either, is suppressed too', async () => {
    const { rows } = await report(await world(), 'partners', 'suppressed');
    // answered 12 shown beside accepted 10 would tell the suppressed declines (2): the total is hidden as well.
    expect(rows[0]).toMatchObject({
      partner: 'arts-for-all',
      answered: 'suppressed',
      accepted: 10,
      declined: '<5',
      declinedNoCapacity: '<5',
      expired: '<5',
      acceptanceRate: 'suppressed',
      medianResponseBand: 'suppressed',
    });
    expect(rows[1]).toMatchObject({
      partner: 'blackpool-moves',
      answered: '<5',
      accepted: '<5',
      acceptanceRate: 'suppressed',
      medianResponseBand: 'suppressed',
    });
  });

  it('a surge expected below 5 is suppressed, and the threshold worked out from it; its labels are not', async () => {
    expect((await report(await world(), 'surges', 'suppressed')).rows).toEqual([
      {
        day: '2026-11-09',
        category: 'food',
        area: 'FY1',
        observed: 12,
        expected: '<5',
        threshold: 'suppressed',
      },
    ]);
  });

  it('ops sees the same rows exactly', async () => {
    const figures = await world();
    const exact = await report(figures, 'partners', 'exact');
    expect(exact.suppressedBelow).toBeNull();
    expect(exact.rows[1]).toMatchObject({ answered: 3, accepted: 3, acceptanceRate: 100 });
  });
});

describe('the query', () => {
  const today = '2026-12-02';
  const parse = (parameters: Record<string, string | undefined>, name: ReportName = 'volumes') =>
    parseReportQuery(name, reportDefinitions[name].families, parameters, today);
  const problems = (parameters: Record<string, string | undefined>, name: ReportName = 'volumes') => {
    try {
      parse(parameters, name);
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      return (error as ValidationError).problems.map((p) => `${p.field}: ${p.rule}`);
    }
    throw new Error('accepted');
  };

  it('defaults to the 30 days to today', () => {
    expect(parse({})).toEqual({ from: '2026-11-03', to: '2026-12-02' });
    expect(parse({ to: '2026-01-30', from: undefined })).toEqual({ from: '2026-01-01', to: '2026-01-30' });
    expect(parse({ from: '2026-12-01', area: 'ls6', format: 'csv' })).toEqual({
      from: '2026-12-01',
      to: today,
      area: 'LS6',
      format: 'csv',
    });
  });

  it('refuses an unknown parameter, naming it', () => {
    expect(problems({ form: '2026-11-01' })).toEqual([
      'form: is not a parameter of this report (it takes: from, to, area, format)',
    ]);
  });

  it('refuses a day that is not a calendar day, naming the parameter', () => {
    expect(problems({ from: '2026-02-30' })).toEqual(['from: must be a calendar day, YYYY-MM-DD (UTC)']);
    expect(problems({ to: '1 Dec 2026' })).toEqual(['to: must be a calendar day, YYYY-MM-DD (UTC)']);
    // No date at all (month 13, day 45, day 00): refused, never an invalid Date's RangeError (a 500).
    for (const day of ['2026-13-45', '2026-00-10', '2026-11-00', '0000-00-00'])
      expect(problems({ from: day })).toEqual(['from: must be a calendar day, YYYY-MM-DD (UTC)']);
  });

  it('refuses a range that runs backwards or is too long', () => {
    expect(problems({ from: '2026-11-02', to: '2026-11-01' })).toEqual([
      'to: must not be before from (2026-11-02)',
    ]);
    expect(problems({ from: '2026-12-03' })[0]).toMatch(/^from: must not be after to \(2026-12-02/);
    expect(problems({ from: '2025-01-01', to: '2026-01-02' })).toEqual([
      `from: the range from 2025-01-01 to 2026-01-02 is 367 days: at most ${maxReportDays}`,
    ]);
    expect(parse({ from: '2025-01-02', to: '2026-01-02' })).toMatchObject({ from: '2025-01-02' });
  });

  it('refuses a bad format or area, and an area on a report with none', () => {
    expect(problems({ format: 'xml' })).toEqual(['format: must be one of: json, csv']);
    expect(problems({ area: 'LS6 1AA' })[0]).toMatch(/^area: must be a postcode district/);
    expect(problems({ area: 'LS6' }, 'partners')).toEqual([
      'area: the partners report has no area to filter by (its figures, responses, carry none)',
    ]);
  });
});

describe('CSV', () => {
  it('a header of the columns, one CRLF record per row, suppressed values as they are', async () => {
    const answer = await report(await world(), 'gaps', 'suppressed');
    expect(reportCsv(answer)).toBe(
      'area,localAuthority,category,reason,unmetNeeds\r\n' +
        'FY1,E06000009,food,no-service,6\r\n' +
        'LS6,E08000035,arts,all-full-or-paused,<5\r\n',
    );
    expect(reportFileName(answer)).toBe('gaps-2026-11-01-to-2026-11-30.csv');
  });

  it('an empty report is its header alone', async () => {
    expect(reportCsv(await report(new InMemoryFigures(), 'volumes'))).toBe('day,category,needs\r\n');
  });

  it('quotes what needs quoting and defuses what a spreadsheet would run', () => {
    const csv = reportCsv({
      report: 'gaps',
      from: '2026-11-01',
      to: '2026-11-30',
      suppressedBelow: null,
      columns: ['area', 'n'],
      rows: [
        { area: 'a,b', n: 1 },
        { area: '=HYPERLINK("x")', n: 2 },
        { area: '-', n: 3 },
      ],
    });
    expect(csv).toBe('area,n\r\n"a,b",1\r\n"\'=HYPERLINK(""x"")",2\r\n-,3\r\n');
  });
});
