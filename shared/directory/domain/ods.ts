import {
  channelProblem,
  OdsCode,
  Pcn,
  PostcodeDistrict,
  WebhookChannel,
  type ChannelPolicy,
  type Practice,
} from '#directory/domain/directory.ts';
import type { ImportProblem } from '#directory/domain/oruk.ts';
import { postcodeDistrict, ukPostcodePattern } from '#referral/domain/postcode.ts';

/**
 * Practices and their PCNs from a CSV in the shape of the NHS ODS "PCN Core Partner Details" report
 * (`epcncorepartnerdetails`, the ePCN workbook's sheet of that name saved as CSV): one row per practice-to-PCN
 * relationship. Headers are matched case-insensitively, ignoring punctuation and repeated spaces; the accepted names
 * are `odsColumns` below (docs/directory.md lists them). ODS's file has no practice postcode, which the directory
 * needs for a practice's district: add a `Postcode` column (e.g. from the ODS `epraccur` report, whose 10th column
 * it is). Rows whose relationship ended before today, or starts after it, are skipped and reported; every bad row
 * is reported with its line, and a file with any is refused whole. An optional `Endpoint` column (not ODS's either)
 * gives a practice's endpoint for the messages back to it (`Practice.endpoint`), checked by the channel policy.
 */

export interface OdsColumn {
  field: OdsField;
  /** Header names read as this column, in order of preference. */
  headers: readonly string[];
  required: boolean;
  description: string;
}

export type OdsField = 'ods' | 'name' | 'pcn' | 'pcnName' | 'icb' | 'postcode' | 'start' | 'end' | 'endpoint';

export const odsColumns: readonly OdsColumn[] = [
  {
    field: 'ods',
    headers: ['Partner Organisation Code', 'Practice Code', 'Organisation Code', 'ODS Code'],
    required: true,
    description: "the practice's ODS code (A81001)",
  },
  {
    field: 'name',
    headers: ['Partner Name', 'Practice Name'],
    required: true,
    description: "the practice's name",
  },
  { field: 'pcn', headers: ['PCN Code'], required: true, description: "the PCN's code (U00001)" },
  { field: 'pcnName', headers: ['PCN Name'], required: true, description: "the PCN's name" },
  {
    field: 'icb',
    headers: [
      'ICB Name',
      'PCN Parent Sub ICB Location Name',
      'Practice Parent Sub ICB Location Name',
      'Sub ICB Location Name',
    ],
    required: true,
    description: "the PCN's ICB (or sub-ICB location), kept as Pcn.icb; the first of these present is read",
  },
  {
    field: 'postcode',
    headers: ['Postcode', 'Practice Postcode', 'Partner Postcode', 'Postcode District'],
    required: true,
    description: "the practice's postcode (or just its district): Practice.area is its district",
  },
  {
    field: 'start',
    headers: ['Practice to PCN Relationship Start Date'],
    required: false,
    description: 'YYYYMMDD, YYYY-MM-DD or DD/MM/YYYY; a relationship starting after today is skipped',
  },
  {
    field: 'end',
    headers: ['Practice to PCN Relationship End Date'],
    required: false,
    description: 'as the start date; empty while current; a relationship ended before today is skipped',
  },
  {
    field: 'endpoint',
    headers: ['Endpoint', 'BaRS Endpoint', 'Response Endpoint'],
    required: false,
    description:
      "the practice's endpoint for the messages back to it (a URL); empty keeps the one the directory has",
  },
];

export interface CsvRow {
  /** The line of the file the row ends on (1 is the header). */
  line: number;
  cells: readonly string[];
}

export interface SkippedRow {
  line: number;
  ods: string;
  pcn: string;
  reason: string;
}

export type OdsImport =
  | { ok: true; pcns: Pcn[]; practices: Practice[]; skipped: SkippedRow[] }
  | { ok: false; problems: ImportProblem[] };

const normaliseHeader = (header: string): string =>
  header
    .replace(/^\uFEFF/, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();

/** `20240401`, `2024-04-01` or `01/04/2024` -> `2024-04-01`; undefined when it is none of those or no real date. */
export function isoDateOf(text: string): string | undefined {
  const match =
    /^(\d{4})(\d{2})(\d{2})$/.exec(text) ??
    /^(\d{4})-(\d{2})-(\d{2})$/.exec(text) ??
    (() => {
      const uk = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(text);
      return uk ? [uk[0], uk[3], uk[2], uk[1]] : null;
    })();
  if (!match) return undefined;
  const [, year, month, day] = match;
  const iso = `${year}-${month}-${day}`;
  const date = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(iso) ? iso : undefined;
}

/** A practice's district from its postcode (`LS6 1AA` -> `LS6`), or the district itself (`LS6`). */
export function districtOf(text: string): string | undefined {
  const compact = text.replace(/\s+/g, '').toUpperCase();
  if (ukPostcodePattern.test(compact)) return postcodeDistrict(compact);
  return PostcodeDistrict.safeParse(compact).success ? compact : undefined;
}

/**
 * Reads the rows (header first) into PCNs and practices, or every problem; `today` is YYYY-MM-DD. `channels` is the
 * deployment's webhook channel policy an endpoint must pass (https-only unless said otherwise).
 */
export function practicesFromOds(
  rows: readonly CsvRow[],
  today: string,
  channels: ChannelPolicy = 'https-only',
): OdsImport {
  const problems: ImportProblem[] = [];
  const [headerRow, ...dataRows] = rows;
  if (!headerRow) return { ok: false, problems: [{ path: 'line 1', rule: 'the file is empty' }] };
  const header = headerRow.cells.map(normaliseHeader);
  if (OdsCode.safeParse(headerRow.cells[0]?.trim() ?? '').success) {
    return {
      ok: false,
      problems: [
        {
          path: `line ${headerRow.line}`,
          rule: `is data, not a header row (the ODS report's CSV comes without one): add a header line naming the columns, e.g. ${odsColumns.map((c) => c.headers[0]).join(',')}`,
        },
      ],
    };
  }
  const index = new Map<OdsField, { at: number; header: string }>();
  for (const column of odsColumns) {
    for (const name of column.headers) {
      const at = header.indexOf(normaliseHeader(name));
      if (at >= 0) {
        index.set(column.field, { at, header: headerRow.cells[at]?.trim() ?? name });
        break;
      }
    }
    if (column.required && !index.has(column.field)) {
      problems.push({
        path: `line ${headerRow.line}`,
        rule: `has no ${column.headers.map((h) => `"${h}"`).join(' or ')} column (${column.description})${column.field === 'postcode' ? "; ODS's PCN membership file has none: add the practices' postcodes" : ''}`,
      });
    }
  }
  if (problems.length > 0) return { ok: false, problems };

  const where = (line: number, field: OdsField): string => `line ${line}, "${index.get(field)?.header}"`;
  const pcns = new Map<string, { pcn: Pcn; line: number }>();
  const practices = new Map<string, { practice: Practice; line: number }>();
  const skipped: SkippedRow[] = [];

  for (const { line, cells } of dataRows) {
    const cell = (field: OdsField): string => {
      const at = index.get(field)?.at;
      return at === undefined ? '' : (cells[at] ?? '').trim();
    };
    if (cells.every((c) => c.trim() === '')) continue;
    const before = problems.length;
    const bad = (field: OdsField, rule: string): void => {
      problems.push({ path: where(line, field), rule, record: `practice ${cell('ods') || '(no code)'}` });
    };

    const ods = cell('ods').toUpperCase();
    if (!OdsCode.safeParse(ods).success)
      bad('ods', `"${ods.slice(0, 20)}" is not an ODS practice code (a capital letter and five digits)`);
    const name = cell('name');
    if (name === '' || name.length > 200) bad('name', 'a practice name of 1 to 200 characters');
    const pcnCode = cell('pcn').toUpperCase();
    if (!Pcn.shape.code.safeParse(pcnCode).success)
      bad('pcn', `"${pcnCode.slice(0, 20)}" is not a PCN code (U and five digits)`);
    const pcnName = cell('pcnName');
    if (pcnName === '' || pcnName.length > 200) bad('pcnName', 'a PCN name of 1 to 200 characters');
    const icb = cell('icb');
    if (icb === '' || icb.length > 200) bad('icb', 'an ICB name of 1 to 200 characters');
    const area = districtOf(cell('postcode'));
    if (area === undefined)
      bad('postcode', `"${cell('postcode').slice(0, 20)}" is not a postcode or a postcode district`);
    const dates: Partial<Record<'start' | 'end', string>> = {};
    for (const field of ['start', 'end'] as const) {
      const text = cell(field);
      if (text === '') continue;
      const iso = isoDateOf(text);
      if (iso === undefined)
        bad(field, `"${text.slice(0, 20)}" is not a date (YYYYMMDD, YYYY-MM-DD or DD/MM/YYYY)`);
      else dates[field] = iso;
    }
    const endpointText = cell('endpoint');
    let endpoint: WebhookChannel | undefined;
    if (endpointText !== '') {
      const parsed = WebhookChannel.safeParse({ kind: 'webhook', url: endpointText });
      const refused = parsed.success ? channelProblem(parsed.data.url, channels) : undefined;
      if (!parsed.success) bad('endpoint', `"${endpointText.slice(0, 60)}" is not an http(s) URL`);
      else if (refused !== undefined) bad('endpoint', refused);
      else endpoint = parsed.data;
    }
    if (problems.length > before || area === undefined) continue;

    if (dates.end !== undefined && dates.end < today) {
      skipped.push({ line, ods, pcn: pcnCode, reason: `left the PCN on ${dates.end}` });
      continue;
    }
    if (dates.start !== undefined && dates.start > today) {
      skipped.push({ line, ods, pcn: pcnCode, reason: `joins the PCN on ${dates.start}` });
      continue;
    }

    const pcn: Pcn = { code: pcnCode, name: pcnName, icb };
    const knownPcn = pcns.get(pcnCode);
    if (!knownPcn) pcns.set(pcnCode, { pcn, line });
    else if (knownPcn.pcn.name !== pcn.name || knownPcn.pcn.icb !== pcn.icb) {
      problems.push({
        path: where(line, knownPcn.pcn.name !== pcn.name ? 'pcnName' : 'icb'),
        rule: `PCN ${pcnCode} is "${knownPcn.pcn.name}" in ${knownPcn.pcn.icb} at line ${knownPcn.line}, but "${pcn.name}" in ${pcn.icb} here`,
        record: `practice ${ods}`,
      });
      continue;
    }

    const practice: Practice = { ods, name, pcn: pcnCode, area, ...(endpoint ? { endpoint } : {}) };
    const known = practices.get(ods);
    if (!known) practices.set(ods, { practice, line });
    else if (known.practice.pcn !== pcnCode) {
      problems.push({
        path: where(line, 'pcn'),
        rule: `practice ${ods} is also in PCN ${known.practice.pcn} (line ${known.line}): a practice is in one PCN at a time`,
        record: `practice ${ods}`,
      });
    } else if (
      known.practice.name !== name ||
      known.practice.area !== area ||
      known.practice.endpoint?.url !== endpoint?.url
    ) {
      problems.push({
        path: where(
          line,
          known.practice.name !== name ? 'name' : known.practice.area !== area ? 'postcode' : 'endpoint',
        ),
        rule: `practice ${ods} is given differently at line ${known.line}`,
        record: `practice ${ods}`,
      });
    }
  }

  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    pcns: [...pcns.values()].map(({ pcn }) => pcn),
    practices: [...practices.values()].map(({ practice }) => practice),
    skipped,
  };
}
