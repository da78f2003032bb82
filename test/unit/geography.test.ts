import { describe, expect, it } from 'vitest';
import {
  compactPostcode,
  decileFromRank,
  deprivationFromFields,
  deprivationFromRow,
  imdColumns,
  locationFromFields,
  locationFromRow,
  lsoaFor,
  lsoaVintageOf,
  postcodeColumns,
  PostcodeLocation,
  rankedAreasOf,
  type ImdColumns,
  type PostcodeColumns,
} from '#geography/domain/geography.ts';

// The pure row mappers of shared/geography/domain/geography.ts: headers of every NSPL/ONSPD release seen, by stem;
// pseudo-codes; the IMD files' prefixes, thousands separators and edition check; the decile formula.

const nspl2025May =
  'pcd,pcd2,pcds,dointr,doterm,usertype,oseast1m,osnrth1m,osgrdind,oa21,cty,ced,laua,ward,nhser,ctry,rgn,pcon,ttwa,itl,park,lsoa21,msoa21,wz11,sicbl,bua24,ruc21,oac11,lat,long,lep1,lep2,pfa,imd,icb'.split(
    ',',
  );
const nspl2025Aug =
  'pcd7,pcd8,pcds,dointr,doterm,usrtypind,east1m,north1m,gridind,oa21cd,cty25cd,ced25cd,lad25cd,wd25cd,nhser24cd,ctry25cd,rgn25cd,pcon24cd,ttwa15cd,itl25cd,npark16cd,lsoa21cd,msoa21cd,wz11cd,sicbl24cd,bua24cd,ruc21ind,oac11ind,lat,long,lep21cd1,lep21cd2,pfa23cd,imd20ind,icb23cd'.split(
    ',',
  );
const onspdOld =
  'pcd,pcd2,pcds,dointr,doterm,oscty,ced,oslaua,osward,parish,usertype,oseast1m,osnrth1m,osgrdind,oshlthau,nhser,ctry,rgn,streg,pcon,eer,teclec,ttwa,pct,itl,statsward,oa01,casward,npark,lsoa01,msoa01,ur01ind,oac01,oa11,lsoa11,msoa11,wz11,sicbl,bua11,ru11ind,oac11,lat,long,lep1,lep2,pfa,imd,calncv,icb,oa21,lsoa21,msoa21'.split(
    ',',
  );

/** A row for `header` with the given values by column name; every other field empty. */
function rowOf(header: readonly string[], values: Record<string, string>): string[] {
  return header.map((name) => values[name.replace(/^\uFEFF/, '')] ?? '');
}

function columnsOf(header: readonly string[]): PostcodeColumns {
  const found = postcodeColumns(header);
  if (!found.ok) throw new Error(found.problem);
  return found.columns;
}

describe('compactPostcode', () => {
  it.each([
    ['LS6 1AA', 'LS61AA'],
    ['ls6 1aa', 'LS61AA'],
    ['  LS6\t 1AA ', 'LS61AA'],
    ['M1  1AD', 'M11AD'],
    ['EC1A 1BB', 'EC1A1BB'],
    ['TN34 1AA', 'TN341AA'],
  ])('%j -> %s', (text, compact) => {
    expect(compactPostcode(text)).toBe(compact);
  });

  it.each(['', 'LS6', 'LS6 1A', 'LS6 1AAA', '1S6 1AA', 'LS6-1AA', 'not a postcode'])('refuses %j', (text) => {
    expect(compactPostcode(text)).toBeUndefined();
  });
});

describe('editions and deciles', () => {
  it('IMD 2019 is keyed on 2011 LSOAs, IMD 2025 on 2021 LSOAs', () => {
    expect(lsoaVintageOf('2019')).toBe('2011');
    expect(lsoaVintageOf('2025')).toBe('2021');
    expect(rankedAreasOf).toEqual({ '2019': 32_844, '2025': 33_755 });
  });

  it('decile = ceil(rank * 10 / N): decile 1 is ranks 1-3,284 and decile 10 ranks 29,560-32,844 in 2019', () => {
    const n = rankedAreasOf['2019'];
    expect([1, 3_284, 3_285, 29_559, 29_560, 32_844].map((rank) => decileFromRank(rank, n))).toEqual([
      1, 1, 2, 9, 10, 10,
    ]);
    // The floor((rank - 1) * 10 / N) + 1 alternative puts rank 3,285 in decile 1: the formulas differ here.
    expect(Math.floor(((3_285 - 1) * 10) / n) + 1).toBe(1);
  });

  it('every 2019 decile holds 3,284 or 3,285 ranks', () => {
    const n = rankedAreasOf['2019'];
    const sizes = new Map<number, number>();
    for (let rank = 1; rank <= n; rank++) {
      const decile = decileFromRank(rank, n);
      sizes.set(decile, (sizes.get(decile) ?? 0) + 1);
    }
    expect([...sizes.keys()]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(new Set(sizes.values())).toEqual(new Set([3_284, 3_285]));
  });

  it('the same rank can be decile 2 in 2019 and decile 1 in 2025 (more LSOAs)', () => {
    expect(decileFromRank(3_300, rankedAreasOf['2019'])).toBe(2);
    expect(decileFromRank(3_300, rankedAreasOf['2025'])).toBe(1);
  });
});

describe('postcodeColumns: columns by stem, whatever the release', () => {
  it.each([
    [
      'NSPL May 2025',
      nspl2025May,
      { postcode: 'pcds', lsoa21: 'lsoa21', localAuthority: 'laua', country: 'ctry' },
    ],
    [
      'NSPL Aug 2025',
      nspl2025Aug,
      { postcode: 'pcds', lsoa21: 'lsoa21cd', localAuthority: 'lad25cd', country: 'ctry25cd' },
    ],
    [
      'ONSPD (old style)',
      onspdOld,
      { postcode: 'pcds', lsoa11: 'lsoa11', lsoa21: 'lsoa21', localAuthority: 'oslaua', country: 'ctry' },
    ],
    [
      'the claimed Aug 2026 suffixes',
      nspl2025Aug.map((name) => name.replace(/^(lad|ctry)25cd$/, '$126cd')),
      { postcode: 'pcds', lsoa21: 'lsoa21cd', localAuthority: 'lad26cd', country: 'ctry26cd' },
    ],
  ])('%s', (_, header, expected) => {
    const columns = columnsOf(header);
    const named = Object.fromEntries(
      Object.entries(expected).map(([key]) => [key, header[columns[key as keyof PostcodeColumns] as number]]),
    );
    expect(named).toEqual(expected);
    expect(header[columns.terminated]).toMatch(/^doterm/);
    if (!('lsoa11' in expected)) expect(columns.lsoa11).toBeUndefined();
  });

  it('drops a byte-order mark before the first header', () => {
    const header = ['\uFEFFpcd', ...nspl2025May.slice(1)].filter((name) => name !== 'pcds');
    expect(header[columnsOf(header).postcode]).toBe('\uFEFFpcd');
  });

  it('takes pcd7 or pcd2 when there is no pcds', () => {
    expect(columnsOf(['pcd7', 'doterm', 'lsoa21cd']).postcode).toBe(0);
    expect(columnsOf(['pcd8', 'doterm', 'lsoa21cd']).postcode).toBe(0);
  });

  it('skips name columns (…nm) beside the codes', () => {
    expect(columnsOf(['pcds', 'doterm', 'lsoa21nm', 'lsoa21cd']).lsoa21).toBe(3);
  });

  it.each([
    [['postcode', 'doterm', 'lsoa21'], /no postcode column/],
    [['pcds', 'lsoa21'], /no doterm column/],
    [['pcds', 'doterm', 'laua'], /no LSOA column/],
    [['LSOA code (2011)', 'Index of Multiple Deprivation (IMD) Rank'], /no postcode column/],
  ])('refuses the header %j', (header, problem) => {
    const found = postcodeColumns(header);
    expect(found.ok).toBe(false);
    expect(!found.ok && found.problem).toMatch(problem);
  });
});

describe('locationFromFields', () => {
  const columns = columnsOf(nspl2025May);
  const live = {
    pcd: 'LS6 1AA',
    pcd2: 'LS6  1AA',
    pcds: 'LS6 1AA',
    dointr: '198001',
    doterm: '',
    laua: 'E08000035',
    ctry: 'E92000001',
    lsoa21: 'E01011331',
    cty: 'E99999999',
  };

  it('maps a live row', () => {
    expect(locationFromFields(rowOf(nspl2025May, live), columns, 2)).toEqual({
      ok: true,
      value: {
        postcode: 'LS6 1AA',
        district: 'LS6',
        lsoa21: 'E01011331',
        localAuthority: 'E08000035',
        country: 'E92000001',
        terminated: false,
      },
    });
  });

  it('keeps a terminated postcode, marked, with its month', () => {
    const result = locationFromFields(rowOf(nspl2025May, { ...live, doterm: '201906' }), columns, 3);
    expect(result).toMatchObject({ ok: true, value: { terminated: true, terminatedOn: '201906' } });
  });

  it('treats pseudo-codes (E99999999, S99999999, ...) and empty fields as absent', () => {
    const result = locationFromFields(
      rowOf(nspl2025May, { ...live, laua: 'E99999999', lsoa21: 'S99999999', ctry: '' }),
      columns,
      4,
    );
    expect(result).toEqual({ ok: true, value: { postcode: 'LS6 1AA', district: 'LS6', terminated: false } });
  });

  it('normalises the postcode to pcds form from a padded pcd7', () => {
    const header = ['pcd7', 'doterm', 'lsoa21cd'];
    const result = locationFromFields(['M1  1AD', '', 'E01005108'], columnsOf(header), 2);
    expect(result).toMatchObject({ ok: true, value: { postcode: 'M1 1AD', district: 'M1' } });
  });

  it('reads both LSOA columns of an ONSPD row', () => {
    const row = rowOf(onspdOld, {
      pcds: 'M11 1AA',
      oslaua: 'E08000003',
      ctry: 'E92000001',
      lsoa11: 'E01005108',
      lsoa21: 'E01034113',
    });
    expect(locationFromFields(row, columnsOf(onspdOld), 9)).toMatchObject({
      ok: true,
      value: { postcode: 'M11 1AA', lsoa11: 'E01005108', lsoa21: 'E01034113', localAuthority: 'E08000003' },
    });
  });

  it('keeps a row of another nation with its country code', () => {
    const row = rowOf(nspl2025May, {
      ...live,
      pcds: 'EH1 1ZZ',
      lsoa21: 'S01008677',
      laua: 'S12000036',
      ctry: 'S92000003',
    });
    expect(locationFromFields(row, columns, 5)).toMatchObject({
      ok: true,
      value: { postcode: 'EH1 1ZZ', country: 'S92000003', lsoa21: 'S01008677' },
    });
  });

  it.each([
    [{ pcds: '' }, 'postcode is empty'],
    [{ pcds: 'LS6 XBA' }, 'postcode "LS6 XBA" is not shaped like a UK postcode'],
    [{ doterm: '2019-03' }, 'doterm "2019-03" is not a month as YYYYMM'],
    [{ doterm: '201913' }, 'doterm "201913" is not a month as YYYYMM'],
    [{ dointr: 'Jan-80' }, 'dointr "Jan-80" is not a month as YYYYMM'],
    [{ lsoa21: 'E01BAD' }, 'lsoa21 "E01BAD" is not an area code (a letter and 8 digits)'],
  ])('refuses %j with its line and rule', (change, rule) => {
    expect(locationFromFields(rowOf(nspl2025May, { ...live, ...change }), columns, 17)).toEqual({
      ok: false,
      error: { line: 17, rule },
    });
  });

  it('refuses a row of the wrong width', () => {
    const row = rowOf(nspl2025May, live).slice(0, 30);
    expect(locationFromFields(row, columns, 8)).toEqual({
      ok: false,
      error: { line: 8, rule: 'has 30 fields where the header has 35' },
    });
  });

  it('what it maps is a valid PostcodeLocation', () => {
    const result = locationFromFields(rowOf(nspl2025May, { ...live, doterm: '200512' }), columns, 2);
    expect(result.ok && PostcodeLocation.safeParse(result.value).success).toBe(true);
  });
});

describe('locationFromRow (a row keyed by its header)', () => {
  it('finds the columns by stem, a byte-order mark on the first one included', () => {
    const row = { '\uFEFFpcd7': 'LS2 3AA', doterm: '', lsoa21cd: 'E01035001', lad25cd: 'E08000035' };
    expect(locationFromRow(row, 2)).toEqual({
      ok: true,
      value: {
        postcode: 'LS2 3AA',
        district: 'LS2',
        lsoa21: 'E01035001',
        localAuthority: 'E08000035',
        terminated: false,
      },
    });
  });

  it("refuses a row whose header is not a postcode file's, with the header's problem", () => {
    expect(locationFromRow({ postcode: 'LS2 3AA' }, 2)).toMatchObject({
      ok: false,
      error: { line: 2, rule: expect.stringMatching(/no postcode column/) },
    });
  });
});

const file1Header2019 = [
  'LSOA code (2011)',
  'LSOA name (2011)',
  'Local Authority District code (2019)',
  'Local Authority District name (2019)',
  'Index of Multiple Deprivation (IMD) Rank',
  'Index of Multiple Deprivation (IMD) Decile',
];
const file7Header2025 = [
  '\uFEFFLSOA code (2021)',
  'LSOA name (2021)',
  'Local Authority District code (2024)',
  'Local Authority District name (2024)',
  'Index of Multiple Deprivation (IMD) Score',
  'Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)',
  'Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)',
  'Income Rank (where 1 is most deprived)',
  'Income Decile (where 1 is most deprived 10% of LSOAs)',
];

function imdColumnsOf(header: readonly string[], edition: '2019' | '2025'): ImdColumns {
  const found = imdColumns(header, edition);
  if (!found.ok) throw new Error(found.problem);
  return found.columns;
}

describe('imdColumns: columns by prefix, and the edition checked against the LSOA year', () => {
  it('reads File 1 (2019) and File 7 (2025, with a byte-order mark and the long suffixes)', () => {
    expect(imdColumnsOf(file1Header2019, '2019')).toEqual({
      width: 6,
      edition: '2019',
      lsoa: 0,
      rank: 4,
      decile: 5,
    });
    // The IMD's own rank and decile, not the Income domain's.
    expect(imdColumnsOf(file7Header2025, '2025')).toEqual({
      width: 9,
      edition: '2025',
      lsoa: 0,
      rank: 5,
      decile: 6,
    });
  });

  it('refuses the 2019 file given as edition 2025, naming what it is', () => {
    const found = imdColumns(file1Header2019, '2025');
    expect(found).toEqual({
      ok: false,
      problem:
        'edition 2025 is keyed on 2021 LSOAs ("LSOA code (2021)"), but this file\'s LSOA column is ' +
        '"LSOA code (2011)": it looks like the IMD 2019 file (edition 2019)',
    });
  });

  it('refuses the 2025 file given as edition 2019', () => {
    const found = imdColumns(file7Header2025, '2019');
    expect(!found.ok && found.problem).toMatch(
      /edition 2019 is keyed on 2011 LSOAs.*"LSOA code \(2021\)".*IMD 2025 file/,
    );
  });

  it.each([
    [['LSOA name (2011)', 'Index of Multiple Deprivation (IMD) Rank'], /no "LSOA code \(2011\)"/],
    [
      ['LSOA code (2011)', 'Index of Multiple Deprivation (IMD) Score'],
      /no "Index of Multiple Deprivation \(IMD\) Rank"/,
    ],
    [nspl2025May, /no "LSOA code/],
  ])('refuses %j', (header, problem) => {
    const found = imdColumns(header, '2019');
    expect(!found.ok && found.problem).toMatch(problem);
  });
});

describe('deprivationFromFields', () => {
  const file1 = imdColumnsOf(file1Header2019, '2019');
  const row = (lsoa: string, rank: string, decile: string) => [
    lsoa,
    'Leeds 047A',
    'E08000035',
    'Leeds',
    rank,
    decile,
  ];

  it('reads the rank and the decile', () => {
    expect(deprivationFromFields(row('E01011331', '1200', '1'), file1, 2)).toEqual({
      ok: true,
      value: { edition: '2019', lsoa: 'E01011331', rank: 1_200, decile: 1 },
    });
  });

  it('strips thousands separators', () => {
    expect(deprivationFromFields(row('E01020971', '27,100', '9'), file1, 3)).toMatchObject({
      ok: true,
      value: { rank: 27_100, decile: 9 },
    });
  });

  it("keeps the file's decile when the formula disagrees, with a warning", () => {
    expect(deprivationFromFields(row('E01011331', '3,285', '1'), file1, 4)).toEqual({
      ok: true,
      value: { edition: '2019', lsoa: 'E01011331', rank: 3_285, decile: 1 },
      warning:
        "the file's decile 1 differs from ceil(rank * 10 / 32844) = 2 for rank 3285; the file's is kept",
    });
  });

  it('computes the decile when the file has no decile column', () => {
    const header = [
      'LSOA code (2021)',
      'Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)',
    ];
    expect(deprivationFromFields(['E01035002', '9800'], imdColumnsOf(header, '2025'), 2)).toEqual({
      ok: true,
      value: { edition: '2025', lsoa: 'E01035002', rank: 9_800, decile: 3 },
    });
  });

  it.each([
    [row('W01001900', '100', '1'), 'LSOA code "W01001900" is not an English LSOA (E01 and six digits)'],
    [row('E01011331', '0', '1'), 'IMD rank "0" is not a whole number from 1 to 32844'],
    [row('E01011331', '32845', '10'), 'IMD rank "32845" is not a whole number from 1 to 32844'],
    [row('E01011331', '12.5', '1'), 'IMD rank "12.5" is not a whole number from 1 to 32844'],
    [row('E01011331', '', '1'), 'IMD rank "" is not a whole number from 1 to 32844'],
    [row('E01011331', '1200', '11'), 'IMD decile "11" is not a whole number from 1 to 10'],
    [row('E01011331', '1200', '1').slice(0, 5), 'has 5 fields where the header has 6'],
  ])('refuses %j', (fields, rule) => {
    expect(deprivationFromFields(fields, file1, 12)).toEqual({ ok: false, error: { line: 12, rule } });
  });

  it('takes a row keyed by its header, and refuses one of the other edition', () => {
    const keyed = Object.fromEntries(
      file1Header2019.map((name, i) => [name, row('E01012670', '12', '1')[i] ?? '']),
    );
    expect(deprivationFromRow(keyed, '2019', 2)).toMatchObject({ ok: true, value: { rank: 12, decile: 1 } });
    expect(deprivationFromRow(keyed, '2025', 2)).toMatchObject({
      ok: false,
      error: { line: 2, rule: expect.stringMatching(/^edition 2025 is keyed on 2021 LSOAs/) },
    });
  });
});

describe('lsoaFor', () => {
  const base: PostcodeLocation = { postcode: 'M11 1AA', district: 'M11', terminated: false };

  it('takes the 2011 LSOA for IMD 2019 and the 2021 LSOA for IMD 2025', () => {
    const both = { ...base, lsoa11: 'E01005108', lsoa21: 'E01034113' };
    expect(lsoaFor(both, '2019')).toBe('E01005108');
    expect(lsoaFor(both, '2025')).toBe('E01034113');
  });

  it('falls back on the 2021 code for IMD 2019 when the file had no 2011 column (the NSPL)', () => {
    expect(lsoaFor({ ...base, lsoa21: 'E01011331' }, '2019')).toBe('E01011331');
    expect(lsoaFor({ ...base, lsoa11: 'E01005108' }, '2025')).toBeUndefined();
    expect(lsoaFor(base, '2019')).toBeUndefined();
  });
});
