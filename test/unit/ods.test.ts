import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readDirectory, sampleDirectoryFile } from '../../infra/local/seed.ts';
import { CsvFileError, csvRows } from '../../infra/ops/directory/csv-rows.ts';
import { districtOf, isoDateOf, practicesFromOds, type CsvRow } from '#directory/domain/ods.ts';

const today = '2026-01-20';
const header =
  'Partner Organisation Code,Partner Name,PCN Code,PCN Name,PCN Parent Sub ICB Location Name,Practice to PCN Relationship Start Date,Practice to PCN Relationship End Date,Postcode';

const rowsOf = csvRows;

const csv = (...lines: string[]): CsvRow[] => rowsOf([header, ...lines].join('\n'));
const good = 'A81001,Woodhouse Medical Practice,U00001,Woodhouse PCN,West Yorkshire ICB,20200701,,LS6 1AA';

describe('practicesFromOds', () => {
  it('reads the sample, consistent with events/directory.json (practices, PCNs, the PCN with no team)', () => {
    const result = practicesFromOds(
      rowsOf(readFileSync(new URL('../../events/ods/practice-pcn-sample.csv', import.meta.url), 'utf8')),
      today,
    );
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    const directory = readDirectory(sampleDirectoryFile, 'http://127.0.0.1:3001');
    // The ODS file has no endpoints (the sample directory gives some practices one, at the local receiver).
    const withoutEndpoints = directory.practices.map(({ endpoint: _endpoint, ...practice }) => practice);
    expect(result.practices).toEqual(expect.arrayContaining(withoutEndpoints));
    expect(result.pcns).toEqual(expect.arrayContaining(directory.pcns));
    const withTeams = new Set(directory.teams.map((t) => t.pcn));
    expect(result.pcns.some((pcn) => !withTeams.has(pcn.code))).toBe(true);
    expect(result.skipped).toEqual([
      { line: 7, ods: 'C83002', pcn: 'U00003', reason: 'left the PCN on 2023-03-31' },
    ]);
  });

  it('matches headers case-insensitively, ignoring punctuation and spacing, in any order', () => {
    const result = practicesFromOds(
      rowsOf(
        [
          'postcode,pcn  code,PCN NAME,partner name,partner organisation code,icb name',
          'ls6 1aa,u00001,Woodhouse PCN,Woodhouse Medical Practice,a81001,West Yorkshire ICB',
        ].join('\n'),
      ),
      today,
    );
    expect(result).toEqual({
      ok: true,
      pcns: [{ code: 'U00001', name: 'Woodhouse PCN', icb: 'West Yorkshire ICB' }],
      practices: [{ ods: 'A81001', name: 'Woodhouse Medical Practice', pcn: 'U00001', area: 'LS6' }],
      skipped: [],
    });
  });

  it('names each missing required column, and says a postcode column must be added to the ODS file', () => {
    const result = practicesFromOds(
      rowsOf('Partner Organisation Code,Partner Name,PCN Code\nA81001,X,U00001'),
      today,
    );
    expect(result.ok).toBe(false);
    const rules = result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.rule}`);
    expect(rules).toEqual([
      expect.stringMatching(/^line 1: has no "PCN Name" column/),
      expect.stringMatching(/^line 1: has no "ICB Name" or "PCN Parent Sub ICB Location Name"/),
      expect.stringMatching(/^line 1: has no "Postcode" .*add the practices' postcodes/),
    ]);
  });

  it('refuses a file without a header row (the ODS report comes without one)', () => {
    const result = practicesFromOds(rowsOf(good), today);
    expect(result).toEqual({
      ok: false,
      problems: [
        expect.objectContaining({ path: 'line 1', rule: expect.stringContaining('not a header row') }),
      ],
    });
  });

  it('skips relationships that ended before today or start after it, and reports them', () => {
    const result = practicesFromOds(
      csv(
        'A81001,Woodhouse,U00002,Old PCN,West Yorkshire ICB,20190701,20200630,LS6 1AA',
        good,
        'A81002,Hyde Park,U00001,Woodhouse PCN,West Yorkshire ICB,2026-02-01,,LS2 9JT',
        `A81003,Today's end,U00001,Woodhouse PCN,West Yorkshire ICB,01/07/2020,20/01/2026,LS2 9JT`,
      ),
      today,
    );
    expect(result).toMatchObject({
      ok: true,
      practices: [{ ods: 'A81001', pcn: 'U00001' }, { ods: 'A81003' }],
      skipped: [
        { line: 2, ods: 'A81001', pcn: 'U00002', reason: 'left the PCN on 2020-06-30' },
        { line: 4, ods: 'A81002', pcn: 'U00001', reason: 'joins the PCN on 2026-02-01' },
      ],
    });
  });

  it('reports every bad row with its line and column, and imports nothing', () => {
    const result = practicesFromOds(
      csv(
        good,
        'X1,Bad Code,U00001,Woodhouse PCN,West Yorkshire ICB,,,LS6 1AA',
        'A81002,Bad PCN,P00001,Woodhouse PCN,West Yorkshire ICB,,,LS6 1AA',
        'A81003,Bad Postcode,U00001,Woodhouse PCN,West Yorkshire ICB,,,Leeds',
        'A81004,Bad Date,U00001,Woodhouse PCN,West Yorkshire ICB,2020-13-01,,LS6 1AA',
        'A81005,,U00001,Woodhouse PCN,,,,LS6 1AA',
        'A81001,Woodhouse Medical Practice,U00003,Other PCN,West Yorkshire ICB,,,LS6 1AA',
        'A81006,Renamed PCN,U00001,Woodhouse and Hyde Park,West Yorkshire ICB,,,LS6 1AA',
      ),
      today,
    );
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.problems.map((p) => p.path)).toEqual([
      'line 3, "Partner Organisation Code"',
      'line 4, "PCN Code"',
      'line 5, "Postcode"',
      'line 6, "Practice to PCN Relationship Start Date"',
      'line 7, "Partner Name"',
      'line 7, "PCN Parent Sub ICB Location Name"',
      'line 8, "PCN Code"',
      'line 9, "PCN Name"',
    ]);
    expect(result.ok ? [] : result.problems[6]?.rule).toContain('also in PCN U00001 (line 2)');
  });

  it('takes a repeated identical row once', () => {
    const result = practicesFromOds(csv(good, good), today);
    expect(result.ok && result.practices).toHaveLength(1);
  });
});

describe('csvRows', () => {
  it('numbers rows by the line they end on, across quoted line breaks, after a byte-order mark', () => {
    expect(csvRows('\uFEFFa,b\n"x\ny",2\n\nz,3\n')).toEqual([
      { line: 1, cells: ['a', 'b'] },
      { line: 3, cells: ['x\ny', '2'] },
      { line: 5, cells: ['z', '3'] },
    ]);
  });

  it('throws a CsvFileError for a file that is not CSV', () => {
    expect(() => csvRows('a,b\n"unclosed,2\n')).toThrow(CsvFileError);
  });
});

describe('helpers', () => {
  it.each([
    ['20240401', '2024-04-01'],
    ['2024-04-01', '2024-04-01'],
    ['01/04/2024', '2024-04-01'],
    ['20240230', undefined],
    ['2024-4-1', undefined],
    ['yesterday', undefined],
  ])('isoDateOf(%j) = %j', (text, iso) => {
    expect(isoDateOf(text)).toBe(iso);
  });

  it.each([
    ['LS6 1AA', 'LS6'],
    ['ls61aa', 'LS6'],
    ['SW1A 1AA', 'SW1A'],
    ['LS6', 'LS6'],
    ['Leeds', undefined],
    ['', undefined],
  ])('districtOf(%j) = %j', (text, district) => {
    expect(districtOf(text)).toBe(district);
  });
});
