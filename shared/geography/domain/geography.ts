import * as z from 'zod';
import { normalisePostcode, postcodeDistrict, ukPostcodePattern } from '#referral/domain/postcode.ts';
import { lsoaVintageOf } from '#geography/domain/lsoa.ts';

/**
 * Geography: where a postcode is (its LSOA, local authority and country, from the ONS postcode products NSPL and
 * ONSPD) and how deprived an LSOA is (the English Index of Multiple Deprivation). Pure: the row mappers here read
 * one CSV row at a time, already split into fields; the importer (shared/geography/application/) streams the files.
 *
 * The facts this relies on (docs/geography.md, from the ONS and MHCLG files themselves):
 * - Column names change between releases (`pcd` -> `pcd7`, `laua` -> `lad25cd`, `lsoa21` -> `lsoa21cd`), so columns
 *   are found by stem or pattern, never by exact name. A leading byte-order mark on the first header is dropped.
 * - `doterm` empty means live; `YYYYMM` means terminated that month. Terminated postcodes are kept, marked.
 * - `E99999999`, `S99999999`, ... are pseudo-codes meaning "not applicable": treated as absent.
 * - IMD 2019 is keyed on 2011 LSOAs (32,844 in England), IMD 2025 on 2021 LSOAs (33,755). Rank 1 and decile 1
 *   are the most deprived. Ranks in re-exported CSVs may carry thousands separators ("29,199").
 * - Other nations' indices (WIMD, SIMD, NIMDM) are not comparable with England's and are not loaded.
 */

export const ImdEdition = z.enum(['2019', '2025']);
export type ImdEdition = z.infer<typeof ImdEdition>;
export const imdEditions = ImdEdition.options;

export const LsoaVintage = z.enum(['2011', '2021']);
export type LsoaVintage = z.infer<typeof LsoaVintage>;

export { lsoaFor, lsoaVintageOf } from '#geography/domain/lsoa.ts';

/** How many English LSOAs each edition ranks (N in the decile formula). */
export const rankedAreasOf: Readonly<Record<ImdEdition, number>> = { '2019': 32_844, '2025': 33_755 };

/**
 * The decile of a rank among `n` areas: ceil(rank * 10 / n), 1 = the most deprived tenth. For IMD 2019 this gives
 * every one of the 32,844 published deciles (floor((rank - 1) * 10 / n) + 1 misses 8 of them).
 */
export function decileFromRank(rank: number, n: number): number {
  return Math.ceil((rank * 10) / n);
}

/** A GSS area code (nine characters, e.g. E01011331, E08000035, E92000001; S and N codes alike). */
export const AreaCode = z.string().regex(/^[A-Z]\d{8}$/, 'an area code such as E01011331');
/** An English LSOA, the only kind the English IMD ranks. */
export const EnglishLsoa = z.string().regex(/^E01\d{6}$/, 'an English LSOA code such as E01011331');
const YearMonth = z.string().regex(/^\d{4}(0[1-9]|1[0-2])$/, 'a month as YYYYMM');

export const PostcodeLocation = z.object({
  /** The postcode as ONS prints it (`pcds`): outward code, one space, inward code. */
  postcode: z.string().regex(/^[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}$/, 'a postcode such as LS6 1AA'),
  /** The outward code, e.g. LS6: what matching uses. */
  district: z.string().regex(/^[A-Z]{1,2}\d[A-Z\d]?$/, 'a postcode district such as LS6'),
  lsoa11: AreaCode.optional(),
  lsoa21: AreaCode.optional(),
  /** Local authority district (laua / oslaua / ladNNcd). */
  localAuthority: AreaCode.optional(),
  /** E92000001 England, W92000004 Wales, S92000003 Scotland, N92000002 Northern Ireland. */
  country: AreaCode.optional(),
  terminated: z.boolean(),
  terminatedOn: YearMonth.optional(),
});
export type PostcodeLocation = z.infer<typeof PostcodeLocation>;

export const Deprivation = z.object({
  edition: ImdEdition,
  lsoa: EnglishLsoa,
  rank: z.number().int().min(1),
  decile: z.number().int().min(1).max(10),
});
export type Deprivation = z.infer<typeof Deprivation>;

export const englandCode = 'E92000001';

/**
 * The compact form a postcode is looked up by (`LS61AA`): uppercase, no whitespace, the UK shape
 * `^[A-Z]{1,2}\d[A-Z\d]?\d[A-Z]{2}$`; undefined when the text is not shaped like a postcode. Shape-valid does
 * not mean the postcode exists: only a lookup says that.
 */
export function compactPostcode(text: string): string | undefined {
  const compact = text.replace(/\s+/g, '').toUpperCase();
  return ukPostcodePattern.test(compact) ? compact : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Row mapping

/** A row that cannot be used: its line in the file and the rule it broke. */
export interface RowError {
  line: number;
  rule: string;
}

/** A mapped row, perhaps with a note worth reporting (it is still used), or why it was refused. */
export type RowResult<T> = { ok: true; value: T; warning?: string } | { ok: false; error: RowError };

/** A header the importer can work with (the columns to read, by position), or what is wrong with it. */
export type HeaderResult<C> = { ok: true; columns: C } | { ok: false; problem: string };

/** Header names as compared: without a byte-order mark or surrounding space, lower case. */
const plain = (name: string): string =>
  name
    .replace(/^\uFEFF/, '')
    .trim()
    .toLowerCase();

/** Part of a value safe to show in a report: short, printable. */
function shown(value: string): string {
  const text = value.length > 20 ? `${value.slice(0, 20)}...` : value;
  return JSON.stringify(text.replace(/[^\x20-\x7E]/g, '?'));
}

export interface PostcodeColumns {
  /** How many fields a row should have. */
  width: number;
  postcode: number;
  lsoa11?: number;
  lsoa21?: number;
  localAuthority?: number;
  country?: number;
  introduced?: number;
  terminated: number;
}

/** The first column whose name matches, skipping `...nm` name columns some releases carry beside the codes. */
function columnMatching(names: readonly string[], pattern: RegExp): number | undefined {
  const index = names.findIndex((name) => pattern.test(name) && !name.endsWith('nm'));
  return index === -1 ? undefined : index;
}

/**
 * The columns of an NSPL or ONSPD header, found by stem: the postcode (`pcds`, else `pcd`/`pcd7`, else
 * `pcd2`/`pcd8`), `lsoa11*`, `lsoa21*`, `laua`/`oslaua`/`ladNNcd`, `ctry`/`ctryNNcd`, `dointr*`, `doterm*`.
 */
export function postcodeColumns(header: readonly string[]): HeaderResult<PostcodeColumns> {
  const names = header.map(plain);
  const postcode =
    columnMatching(names, /^pcds$/) ?? columnMatching(names, /^pcd7?$/) ?? columnMatching(names, /^pcd[28]$/);
  if (postcode === undefined) {
    return {
      ok: false,
      problem: 'no postcode column (pcds, pcd, pcd7, pcd2 or pcd8): is this an NSPL or ONSPD file?',
    };
  }
  const terminated = columnMatching(names, /^doterm/);
  if (terminated === undefined) {
    return { ok: false, problem: 'no doterm column: live and terminated postcodes cannot be told apart' };
  }
  const columns: PostcodeColumns = { width: names.length, postcode, terminated };
  const optional = {
    lsoa11: /^lsoa11/,
    lsoa21: /^lsoa21/,
    localAuthority: /^(laua|oslaua|lad\d\dcd)$/,
    country: /^(ctry|ctry\d\dcd)$/,
    introduced: /^dointr/,
  } as const;
  for (const [key, pattern] of Object.entries(optional) as Array<[keyof typeof optional, RegExp]>) {
    const index = columnMatching(names, pattern);
    if (index !== undefined) columns[key] = index;
  }
  if (columns.lsoa11 === undefined && columns.lsoa21 === undefined) {
    return { ok: false, problem: 'no LSOA column (lsoa11... or lsoa21...): is this an NSPL or ONSPD file?' };
  }
  return { ok: true, columns };
}

const pseudoCode = /^[A-Z]99999999$/;
const areaCode = /^[A-Z]\d{8}$/;
const yearMonth = /^\d{4}(0[1-9]|1[0-2])$/;

type CodeField = 'lsoa11' | 'lsoa21' | 'localAuthority' | 'country';
const codeFields: readonly CodeField[] = ['lsoa11', 'lsoa21', 'localAuthority', 'country'];

/** One NSPL/ONSPD row, split into fields, as a location; `line` is its line in the file. */
export function locationFromFields(
  fields: readonly string[],
  columns: PostcodeColumns,
  line: number,
): RowResult<PostcodeLocation> {
  const refuse = (rule: string): RowResult<PostcodeLocation> => ({ ok: false, error: { line, rule } });
  if (fields.length !== columns.width) {
    return refuse(`has ${fields.length} fields where the header has ${columns.width}`);
  }
  const rawPostcode = (fields[columns.postcode] ?? '').trim();
  if (rawPostcode === '') return refuse('postcode is empty');
  const compact = compactPostcode(rawPostcode);
  if (compact === undefined) return refuse(`postcode ${shown(rawPostcode)} is not shaped like a UK postcode`);

  const doterm = (fields[columns.terminated] ?? '').trim();
  if (doterm !== '' && !yearMonth.test(doterm))
    return refuse(`doterm ${shown(doterm)} is not a month as YYYYMM`);
  if (columns.introduced !== undefined) {
    const dointr = (fields[columns.introduced] ?? '').trim();
    if (dointr !== '' && !yearMonth.test(dointr)) {
      return refuse(`dointr ${shown(dointr)} is not a month as YYYYMM`);
    }
  }
  const postcode = normalisePostcode(compact);
  const location: PostcodeLocation = {
    postcode,
    district: postcodeDistrict(postcode),
    terminated: doterm !== '',
  };
  if (doterm !== '') location.terminatedOn = doterm;
  for (const field of codeFields) {
    const index = columns[field];
    if (index === undefined) continue;
    const code = (fields[index] ?? '').trim().toUpperCase();
    if (code === '' || pseudoCode.test(code)) continue;
    if (!areaCode.test(code))
      return refuse(`${field} ${shown(code)} is not an area code (a letter and 8 digits)`);
    location[field] = code;
  }
  return { ok: true, value: location };
}

/** Splits a row object (keyed by its header, as a CSV parser with column names gives it) for a mapper. */
function splitRow(row: Readonly<Record<string, string>>): { header: string[]; fields: string[] } {
  const header = Object.keys(row);
  return { header, fields: header.map((name) => row[name] ?? '') };
}

/** One NSPL/ONSPD row keyed by its header names, as a location (the columns found afresh for each call). */
export function locationFromRow(
  row: Readonly<Record<string, string>>,
  line: number,
): RowResult<PostcodeLocation> {
  const { header, fields } = splitRow(row);
  const columns = postcodeColumns(header);
  if (!columns.ok) return { ok: false, error: { line, rule: columns.problem } };
  return locationFromFields(fields, columns.columns, line);
}

export interface ImdColumns {
  width: number;
  edition: ImdEdition;
  lsoa: number;
  rank: number;
  decile?: number;
}

const lsoaColumn = /^lsoa code \((\d{4})\)/;
const rankColumn = /^index of multiple deprivation \(imd\) rank/;
const decileColumn = /^index of multiple deprivation \(imd\) decile/;

/**
 * The columns of an English IoD CSV (File 1 or File 7), by prefix: `LSOA code (2011)` or `LSOA code (2021)`,
 * `Index of Multiple Deprivation (IMD) Rank...`, `Index of Multiple Deprivation (IMD) Decile...`. The file's LSOA
 * year must be the edition's (`LSOA code (2011)` for 2019, `(2021)` for 2025), so that a file given with the wrong
 * edition is refused before anything is written.
 */
export function imdColumns(header: readonly string[], edition: ImdEdition): HeaderResult<ImdColumns> {
  const names = header.map(plain);
  const lsoa = names.findIndex((name) => lsoaColumn.test(name));
  const rank = names.findIndex((name) => rankColumn.test(name));
  const decile = names.findIndex((name) => decileColumn.test(name));
  if (lsoa === -1) {
    return {
      ok: false,
      problem:
        'no "LSOA code (2011)" or "LSOA code (2021)" column: is this an IoD File 1 or File 7 CSV for England?',
    };
  }
  if (rank === -1) return { ok: false, problem: 'no "Index of Multiple Deprivation (IMD) Rank" column' };
  const year = lsoaColumn.exec(names[lsoa] ?? '')?.[1];
  const wanted = lsoaVintageOf(edition);
  if (year !== wanted) {
    const fileEdition = imdEditions.find((e) => lsoaVintageOf(e) === year);
    return {
      ok: false,
      problem:
        `edition ${edition} is keyed on ${wanted} LSOAs ("LSOA code (${wanted})"), but this file's LSOA column is ` +
        `"${header[lsoa]?.replace(/^\uFEFF/, '').trim()}"` +
        (fileEdition ? `: it looks like the IMD ${fileEdition} file (edition ${fileEdition})` : ''),
    };
  }
  return {
    ok: true,
    columns: { width: names.length, edition, lsoa, rank, ...(decile === -1 ? {} : { decile }) },
  };
}

/** A whole number from a CSV field, thousands separators allowed ("29,199"); undefined if it is not one. */
function wholeNumber(text: string): number | undefined {
  const digits = text.trim().replace(/[,\s]/g, '');
  return /^\d+$/.test(digits) ? Number(digits) : undefined;
}

/** One IoD row, split into fields, as an LSOA's deprivation; the file's decile is checked against its rank. */
export function deprivationFromFields(
  fields: readonly string[],
  columns: ImdColumns,
  line: number,
): RowResult<Deprivation> {
  const refuse = (rule: string): RowResult<Deprivation> => ({ ok: false, error: { line, rule } });
  if (fields.length !== columns.width) {
    return refuse(`has ${fields.length} fields where the header has ${columns.width}`);
  }
  const lsoa = (fields[columns.lsoa] ?? '').trim().toUpperCase();
  if (!/^E01\d{6}$/.test(lsoa)) {
    return refuse(`LSOA code ${shown(lsoa)} is not an English LSOA (E01 and six digits)`);
  }
  const n = rankedAreasOf[columns.edition];
  const rawRank = fields[columns.rank] ?? '';
  const rank = wholeNumber(rawRank);
  if (rank === undefined || rank < 1 || rank > n) {
    return refuse(`IMD rank ${shown(rawRank)} is not a whole number from 1 to ${n}`);
  }
  const expected = decileFromRank(rank, n);
  if (columns.decile === undefined) {
    return { ok: true, value: { edition: columns.edition, lsoa, rank, decile: expected } };
  }
  const rawDecile = fields[columns.decile] ?? '';
  const decile = wholeNumber(rawDecile);
  if (decile === undefined || decile < 1 || decile > 10) {
    return refuse(`IMD decile ${shown(rawDecile)} is not a whole number from 1 to 10`);
  }
  const value: Deprivation = { edition: columns.edition, lsoa, rank, decile };
  return decile === expected
    ? { ok: true, value }
    : {
        ok: true,
        value,
        warning: `the file's decile ${decile} differs from ceil(rank * 10 / ${n}) = ${expected} for rank ${rank}; the file's is kept`,
      };
}

/** One IoD row keyed by its header names, as an LSOA's deprivation (the columns found afresh for each call). */
export function deprivationFromRow(
  row: Readonly<Record<string, string>>,
  edition: ImdEdition,
  line: number,
): RowResult<Deprivation> {
  const { header, fields } = splitRow(row);
  const columns = imdColumns(header, edition);
  if (!columns.ok) return { ok: false, error: { line, rule: columns.problem } };
  return deprivationFromFields(fields, columns.columns, line);
}
