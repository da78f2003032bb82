import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { PostcodeLocation } from '#geography/domain/geography.ts';

/**
 * A synthetic NSPL (2021-census layout, 35 columns, strings quoted and lat/long/imd bare as ONS writes them) of any
 * size, for the bench and the resume test: deterministic for a seed (same seed, same bytes), streamed (a few
 * thousand rows in memory at a time), every postcode unique and well formed, about a third of them terminated, and
 * `badRows` rows spread through the file that break one rule each (postcode shape, doterm, LSOA code, width).
 * All codes are invented; none is a real postcode's.
 */

export const nsplHeader = [
  'pcd',
  'pcd2',
  'pcds',
  'dointr',
  'doterm',
  'usertype',
  'oseast1m',
  'osnrth1m',
  'osgrdind',
  'oa21',
  'cty',
  'ced',
  'laua',
  'ward',
  'nhser',
  'ctry',
  'rgn',
  'pcon',
  'ttwa',
  'itl',
  'park',
  'lsoa21',
  'msoa21',
  'wz11',
  'sicbl',
  'bua24',
  'ruc21',
  'oac11',
  'lat',
  'long',
  'lep1',
  'lep2',
  'pfa',
  'imd',
  'icb',
] as const;

export interface GenerateOptions {
  /** Data rows, bad ones included. */
  rows: number;
  seed?: number;
  /** Rows that break a rule (default 6, spread evenly); they do not count towards the unique postcodes. */
  badRows?: number;
}

export interface GenerateResult {
  rows: number;
  good: number;
  bad: number;
  terminated: number;
  bytes: number;
}

/** mulberry32: a small, fast, seeded generator; plenty for synthetic data. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Postcode areas with numeric districts only (no EC1A / W1A style), and the country each is in.
const scottish = ['AB', 'DD', 'DG', 'EH', 'FK', 'G', 'HS', 'IV', 'KA', 'KW', 'KY', 'ML', 'PA', 'PH', 'ZE'];
const welsh = ['CF', 'LD', 'LL', 'NP', 'SA'];
const northernIrish = ['BT'];
const english = [
  'AL',
  'B',
  'BA',
  'BB',
  'BD',
  'BH',
  'BL',
  'BN',
  'BR',
  'BS',
  'CA',
  'CB',
  'CH',
  'CM',
  'CO',
  'CR',
  'CT',
  'CV',
  'CW',
  'DA',
  'DE',
  'DH',
  'DL',
  'DN',
  'DT',
  'DY',
  'E',
  'EN',
  'EX',
  'FY',
  'GL',
  'GU',
  'HA',
  'HD',
  'HG',
  'HP',
  'HR',
  'HU',
  'HX',
  'IG',
  'IP',
  'KT',
  'L',
  'LA',
  'LE',
  'LN',
  'LS',
  'LU',
  'M',
  'ME',
  'MK',
  'N',
  'NE',
  'NG',
  'NN',
  'NR',
  'OL',
  'OX',
  'PE',
  'PL',
  'PO',
  'PR',
  'RG',
  'RH',
  'RM',
  'S',
  'SE',
  'SG',
  'SK',
  'SL',
  'SM',
  'SN',
  'SO',
  'SP',
  'SR',
  'SS',
  'ST',
  'TA',
  'TF',
  'TN',
  'TQ',
  'TR',
  'TS',
  'TW',
  'UB',
  'WA',
  'WD',
  'WF',
  'WN',
  'WR',
  'WS',
  'WV',
  'YO',
];
const areas = [...english, ...scottish, ...welsh, ...northernIrish].sort();
const countryOf = (area: string): { ctry: string; letter: string } =>
  scottish.includes(area)
    ? { ctry: 'S92000003', letter: 'S' }
    : welsh.includes(area)
      ? { ctry: 'W92000004', letter: 'W' }
      : northernIrish.includes(area)
        ? { ctry: 'N92000002', letter: 'N' }
        : { ctry: 'E92000001', letter: 'E' };
const unitLetters = 'ABDEFGHJLNPQRSTUWXYZ';
const districtsPerArea = 40;
const unitsPerSector = unitLetters.length ** 2;

/** The n-th postcode of the enumeration (area, district 1-40, sector 0-9, unit AA-ZZ): unique by construction. */
function postcodeAt(n: number): { outward: string; inward: string; area: string } {
  const unit = n % unitsPerSector;
  const sector = Math.floor(n / unitsPerSector) % 10;
  const district = (Math.floor(n / (unitsPerSector * 10)) % districtsPerArea) + 1;
  const area = areas[Math.floor(n / (unitsPerSector * 10 * districtsPerArea)) % areas.length] ?? 'LS';
  const inward = `${sector}${unitLetters[Math.floor(unit / unitLetters.length)]}${unitLetters[unit % unitLetters.length]}`;
  return { outward: `${area}${district}`, inward, area };
}

export const generatorCapacity = areas.length * districtsPerArea * 10 * unitsPerSector;

const pad = (n: number, width: number): string => String(n).padStart(width, '0');
const code = (prefix: string, n: number): string => `${prefix}${pad(n, 9 - prefix.length)}`;
const month = (next: () => number, from: number, to: number): string => {
  const index = from + Math.floor(next() * (to - from + 1));
  return `${Math.floor(index / 12)}${pad((index % 12) + 1, 2)}`;
};
const quoted = (values: readonly string[]): string => values.map((v) => `"${v}"`).join(',');

/** One good row: the fields as ONS writes them (quoted strings; lat, long and imd bare). */
function goodRow(
  n: number,
  next: () => number,
): { line: string; terminated: boolean; location: PostcodeLocation } {
  const { outward, inward, area } = postcodeAt(n);
  const { ctry, letter } = countryOf(area);
  // Outward codes here are 2 to 4 characters: pcd pads them to 4 (7 in all), pcd2 adds a space (8 in all).
  const pcd7 = `${outward.padEnd(4, ' ')}${inward}`;
  const pcd2 = `${outward.padEnd(4, ' ')} ${inward}`;
  const pcds = `${outward} ${inward}`;
  const terminated = next() < 1 / 3;
  const terminatedAt = 2000 * 12 + Math.floor(next() * 25 * 12);
  const introduced = month(next, 1980 * 12, terminated ? terminatedAt - 1 : 2020 * 12);
  const doterm = terminated ? month(() => 0, terminatedAt, terminatedAt) : '';
  const ladPrefix = { E: 'E08', W: 'W06', S: 'S12', N: 'N09' }[letter] ?? 'E08';
  const lad = code(ladPrefix, 1 + Math.floor(next() * 40));
  const lsoa = code(`${letter}01`, 1 + Math.floor(next() * 33_000));
  const imd =
    letter === 'E' ? String(1 + Math.floor(next() * 32_844)) : String(1 + Math.floor(next() * 1_900));
  const lat = (50 + next() * 8).toFixed(6);
  const long = (-5 + next() * 6).toFixed(6);
  const strings = [
    pcd7,
    pcd2,
    pcds,
    introduced,
    doterm,
    next() < 0.05 ? '1' : '0',
    pad(Math.floor(next() * 700_000), 6),
    pad(Math.floor(next() * 1_200_000), 7),
    '1',
    code(`${letter}00`, Math.floor(next() * 200_000)),
    `${letter}99999999`,
    `${letter}99999999`,
    lad,
    code(`${letter}05`, Math.floor(next() * 9_000)),
    code(`${letter}40`, 1 + Math.floor(next() * 7)),
    ctry,
    code(`${letter}12`, 1 + Math.floor(next() * 9)),
    code(`${letter}14`, 1 + Math.floor(next() * 600)),
    code(`${letter}30`, 1 + Math.floor(next() * 200)),
    code(`${letter}06`, 1 + Math.floor(next() * 150)),
    `${letter}99999999`,
    lsoa,
    code(`${letter}02`, 1 + Math.floor(next() * 7_000)),
    code(`${letter}33`, 1 + Math.floor(next() * 50_000)),
    code(`${letter}38`, 1 + Math.floor(next() * 100)),
    code(`${letter}63`, 1 + Math.floor(next() * 5_000)),
    next() < 0.8 ? 'UN1' : 'RLN1',
    `${1 + Math.floor(next() * 8)}${'ABC'[Math.floor(next() * 3)]}1`,
  ];
  const tail = [
    code(`${letter}37`, 1 + Math.floor(next() * 38)),
    '',
    code(`${letter}23`, 1 + Math.floor(next() * 43)),
  ];
  return {
    line: `${quoted(strings)},${lat},${long},${quoted(tail)},${imd},"${code(`${letter}54`, 1 + Math.floor(next() * 42))}"\n`,
    terminated,
    // What an import of this row stores: for the bench's bare write loop, which writes the same items unparsed.
    location: {
      postcode: pcds,
      district: outward,
      lsoa21: lsoa,
      localAuthority: lad,
      country: ctry,
      terminated,
      ...(terminated ? { terminatedOn: doterm } : {}),
    },
  };
}

/** A row breaking one rule; which one rotates. Built from a good row so that only that rule is broken. */
function badRow(index: number, n: number, next: () => number): string {
  const { line } = goodRow(n, next);
  const fields = line.trimEnd().split(',');
  switch (index % 4) {
    case 0:
      fields[2] = '"NOT A PC"';
      break;
    case 1:
      fields[4] = '"2025-13"';
      break;
    case 2:
      fields[21] = '"E01-BAD"';
      break;
    default:
      fields.splice(10, 3);
  }
  return `${fields.join(',')}\n`;
}

/** The rows of the file `generateNspl` writes for these options, in order: each good row's location, or `bad`. */
function* rowsOf(options: GenerateOptions): Generator<{ line: string; location?: PostcodeLocation }> {
  const next = random(options.seed ?? 2_025);
  const badRows = Math.min(options.badRows ?? 6, options.rows);
  const good = options.rows - badRows;
  if (good > generatorCapacity) throw new Error(`at most ${generatorCapacity} good rows can be generated`);
  // Bad rows at evenly spread positions (never the first row), so a resumed import meets some on either side.
  const badEvery = badRows > 0 ? Math.floor(options.rows / (badRows + 1)) : Infinity;
  let written = 0;
  let bad = 0;
  for (let row = 1; row <= options.rows; row++) {
    if (bad < badRows && row % badEvery === 0) {
      yield { line: badRow(bad, written, next) };
      bad++;
    } else {
      const generated = goodRow(written, next);
      yield { line: generated.line, location: generated.location };
      written++;
    }
  }
}

/** The locations an import of the generated file stores, without writing or parsing it (the bench's raw loop). */
export function* generatedLocations(options: GenerateOptions): Generator<PostcodeLocation> {
  for (const row of rowsOf(options)) if (row.location) yield row.location;
}

export async function generateNspl(file: string, options: GenerateOptions): Promise<GenerateResult> {
  const out = createWriteStream(file);
  // The header unquoted, the values quoted, as ONS writes the file.
  let chunk = `${nsplHeader.join(',')}\n`;
  let bytes = 0;
  let good = 0;
  let bad = 0;
  let terminated = 0;
  const flush = async (): Promise<void> => {
    bytes += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
    chunk = '';
  };
  for (const row of rowsOf(options)) {
    chunk += row.line;
    if (!row.location) bad++;
    else {
      good++;
      if (row.location.terminated) terminated++;
    }
    if (chunk.length > 256 * 1024) await flush();
  }
  await flush();
  out.end();
  await once(out, 'finish');
  return { rows: options.rows, good, bad, terminated, bytes };
}
