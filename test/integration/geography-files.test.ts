import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointFile, checkpointPathFor } from '../../infra/ops/geography/checkpoint-file.ts';
import { CsvFileSource } from '../../infra/ops/geography/csv-source.ts';
import { generatedLocations, generateNspl } from '../../infra/ops/geography/generate-nspl.ts';
import type { Checkpoint, Position, SourceRow } from '#geography/application/import-geography.ts';
import {
  deprivationFromFields,
  imdColumns,
  locationFromFields,
  lsoaFor,
  postcodeColumns,
  type Deprivation,
  type ImdEdition,
  type PostcodeLocation,
} from '#geography/domain/geography.ts';

// The importer's file side: the streaming CSV source (byte offsets to resume at, a broken quote costing one line),
// the checkpoint file, the generator, and the samples in events/geography, checked against the sample directory.

let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'geography-files-'));
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

async function readAll(
  file: string,
  after: Position = { line: 0, bytes: 0 },
): Promise<{ header: readonly string[]; rows: SourceRow[] }> {
  const { header, rows } = await new CsvFileSource(file).open(after);
  const all: SourceRow[] = [];
  for await (const row of rows) all.push(row);
  return { header, rows: all };
}

function write(name: string, content: string | Buffer): string {
  const file = join(work, name);
  writeFileSync(file, content);
  return file;
}

describe('CsvFileSource', () => {
  it('drops a byte-order mark, numbers lines from the header (1), and gives each row its end offset', async () => {
    const file = write('bom.csv', '\uFEFFa,b\n"1","x"\n2,y\n');
    const { header, rows } = await readAll(file);
    expect(header).toEqual(['a', 'b']);
    expect(rows).toEqual([
      { fields: ['1', 'x'], line: 2, bytes: 15 },
      { fields: ['2', 'y'], line: 3, bytes: 19 },
    ]);
    // The byte-order mark counts: 3 + 4 + 8 + 4.
    expect(readFileSync(file).length).toBe(19);
  });

  it('skips empty lines, keeps their line numbers, and reads CRLF files', async () => {
    const file = write('crlf.csv', 'a,b\r\n1,x\r\n\r\n2,y\r\n');
    const { rows } = await readAll(file);
    expect(rows.map((r) => [r.fields, r.line])).toEqual([
      [['1', 'x'], 2],
      [['2', 'y'], 4],
    ]);
  });

  it('from a row end offset, reads exactly the rows after it', async () => {
    const file = join(work, 'resume.csv');
    await generateNspl(file, { rows: 3_000, seed: 3 });
    const whole = await readAll(file);
    for (const index of [0, 1, 1_234, 2_998]) {
      const at = whole.rows[index] as SourceRow;
      const after = await readAll(file, { line: at.line, bytes: at.bytes });
      expect(after.header).toEqual(whole.header);
      expect(after.rows).toEqual(whole.rows.slice(index + 1));
    }
  });

  it('refuses an offset that is not a line end of the file (it has changed)', async () => {
    const file = write('changed.csv', 'a,b\n1,x\n2,y\n');
    await expect(new CsvFileSource(file).open({ line: 2, bytes: 7 })).rejects.toThrow(
      /not the end of a line/,
    );
    await expect(new CsvFileSource(file).open({ line: 9, bytes: 999 })).rejects.toThrow(
      /not the end of a line/,
    );
  });

  it('an unclosed quote costs its own line only, reported as unreadable, wherever it is', async () => {
    const file = write('quote.csv', 'a,b\n1,x\n"2,y\n3,z\n"4",w\n5,v\n');
    const { rows } = await readAll(file);
    expect(rows.map((r) => [r.line, r.fields ?? r.problem])).toEqual([
      [2, ['1', 'x']],
      [3, 'a quote is not closed on this line'],
      [4, ['3', 'z']],
      [5, ['4', 'w']],
      [6, ['5', 'v']],
    ]);
    const last = write('quote-last.csv', 'a,b\n1,x\n"2,y\n');
    expect((await readAll(last)).rows.map((r) => [r.line, r.fields ?? r.problem])).toEqual([
      [2, ['1', 'x']],
      [3, expect.stringMatching(/cannot be read here|quote is not closed/)],
    ]);
  });

  it('a quote left open over a huge stretch is refused at the record size limit, not buffered', async () => {
    const file = write('runaway.csv', `a,b\n"1,${'x'.repeat(200_000)}\n2,y\n`);
    const { rows } = await readAll(file);
    expect(rows.map((r) => [r.line, r.fields ?? r.problem])).toEqual([
      [2, expect.stringMatching(/CSV_MAX_RECORD_SIZE/)],
      [3, ['2', 'y']],
    ]);
  });
});

describe('CheckpointFile', () => {
  const checkpoint: Checkpoint = {
    line: 1_201,
    bytes: 420_000,
    counts: { read: 1_200, written: 1_199, terminated: 400, bad: 1, warnings: 0 },
    complete: false,
  };

  it('is <FILE>.checkpoint.json by default, or under --state-dir', () => {
    expect(checkpointPathFor('/data/NSPL.csv')).toBe('/data/NSPL.csv.checkpoint.json');
    expect(checkpointPathFor('/data/NSPL.csv', '/state')).toBe('/state/NSPL.csv.checkpoint.json');
  });

  it('saves and loads a checkpoint for the same file, kind and target', async () => {
    const file = write('data.csv', 'a\n1\n');
    const store = new CheckpointFile(join(work, 'state', 'data.json'), file, 'nspl', 'local/geography');
    await expect(store.load()).resolves.toBeUndefined();
    await store.save(checkpoint);
    await expect(new CheckpointFile(store.path, file, 'nspl', 'local/geography').load()).resolves.toEqual(
      checkpoint,
    );
  });

  it('refuses a checkpoint of another kind, target or version of the file', async () => {
    const file = write('other.csv', 'a\n1\n');
    const path = join(work, 'other.json');
    await new CheckpointFile(path, file, 'imd-2019', 'local/geography').save(checkpoint);
    await expect(new CheckpointFile(path, file, 'imd-2025', 'local/geography').load()).rejects.toThrow(
      /it is for a "imd-2019" import.*--restart/,
    );
    await expect(new CheckpointFile(path, file, 'imd-2019', 'aws:eu-west-2/geo').load()).rejects.toThrow(
      /it is for local\/geography/,
    );
    utimesSync(file, new Date(), new Date(Date.now() + 5_000));
    await expect(new CheckpointFile(path, file, 'imd-2019', 'local/geography').load()).rejects.toThrow(
      /the file has changed since/,
    );
    writeFileSync(path, '{"half": ');
    await expect(new CheckpointFile(path, file, 'imd-2019', 'local/geography').load()).rejects.toThrow(
      /not a checkpoint this version can read/,
    );
  });
});

describe('generateNspl', () => {
  const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

  it('is deterministic for a seed, and another seed gives another file', async () => {
    const [a, b, c] = ['a.csv', 'b.csv', 'c.csv'].map((name) => join(work, name)) as [string, string, string];
    const first = await generateNspl(a, { rows: 5_000, seed: 11 });
    await generateNspl(b, { rows: 5_000, seed: 11 });
    await generateNspl(c, { rows: 5_000, seed: 12 });
    expect(sha(a)).toBe(sha(b));
    expect(sha(a)).not.toBe(sha(c));
    expect(first.bytes).toBe(readFileSync(a).length);
  });

  it('writes the NSPL layout: unique well-formed postcodes, a third terminated, the bad rows it says', async () => {
    const file = join(work, 'layout.csv');
    const generated = await generateNspl(file, { rows: 20_000, seed: 5, badRows: 8 });
    const { header, rows } = await readAll(file);
    expect(header).toHaveLength(35);
    const columns = postcodeColumns(header);
    if (!columns.ok) throw new Error(columns.problem);
    const postcodes = new Set<string>();
    let bad = 0;
    let terminated = 0;
    for (const row of rows) {
      const result = locationFromFields(row.fields ?? [], columns.columns, row.line);
      if (!result.ok) {
        bad++;
        continue;
      }
      postcodes.add(result.value.postcode);
      if (result.value.terminated) terminated++;
    }
    expect(rows).toHaveLength(20_000);
    expect([bad, postcodes.size, terminated]).toEqual([8, generated.good, generated.terminated]);
    expect(generated.good).toBe(19_992);
    // The bench's bare write loop writes exactly what an import of the file stores.
    const mapped = rows.flatMap((row) => {
      const result = locationFromFields(row.fields ?? [], columns.columns, row.line);
      return result.ok ? [result.value] : [];
    });
    expect([...generatedLocations({ rows: 20_000, seed: 5, badRows: 8 })]).toEqual(mapped);
    expect(terminated / generated.good).toBeGreaterThan(0.3);
    expect(terminated / generated.good).toBeLessThan(0.37);
  });
});

describe('the samples in events/geography', () => {
  const events = new URL('../../events/', import.meta.url);
  const locations: PostcodeLocation[] = [];
  const deprivation = new Map<string, Deprivation>();

  beforeAll(async () => {
    const nspl = await readAll(new URL('geography/nspl-sample.csv', events).pathname);
    const columns = postcodeColumns(nspl.header);
    if (!columns.ok) throw new Error(columns.problem);
    for (const row of nspl.rows) {
      const result = locationFromFields(row.fields ?? [], columns.columns, row.line);
      if (!result.ok) throw new Error(`nspl-sample.csv line ${row.line}: ${result.error.rule}`);
      locations.push(result.value);
    }
    for (const edition of ['2019', '2025'] as const) {
      const imd = await readAll(new URL(`geography/imd${edition}-sample.csv`, events).pathname);
      const found = imdColumns(imd.header, edition);
      if (!found.ok) throw new Error(found.problem);
      for (const row of imd.rows) {
        const result = deprivationFromFields(row.fields ?? [], found.columns, row.line);
        if (!result.ok || result.warning)
          throw new Error(`imd${edition} line ${row.line}: ${JSON.stringify(result)}`);
        deprivation.set(`${result.value.lsoa}|${edition}`, result.value);
      }
    }
  });

  /**
   * Every district, LSOA and local authority the sample directory names, whatever shape its areas take
   * (`area`, `areas`, or `coverage: { districts, lsoas, localAuthorities }`).
   */
  function directoryAreas(): { districts: Set<string>; lsoas: Set<string>; localAuthorities: Set<string> } {
    const directory = JSON.parse(readFileSync(new URL('directory.json', events), 'utf8')) as {
      practices: Array<{ area?: string }>;
      services: Array<{
        areas?: string[];
        coverage?: { districts?: string[]; lsoas?: string[]; localAuthorities?: string[] };
      }>;
    };
    const districts = new Set<string>();
    const lsoas = new Set<string>();
    const localAuthorities = new Set<string>();
    for (const practice of directory.practices) if (practice.area) districts.add(practice.area);
    for (const service of directory.services) {
      for (const area of service.areas ?? []) districts.add(area);
      for (const area of service.coverage?.districts ?? []) districts.add(area);
      for (const area of service.coverage?.lsoas ?? []) lsoas.add(area);
      for (const area of service.coverage?.localAuthorities ?? []) localAuthorities.add(area);
    }
    return { districts, lsoas, localAuthorities };
  }

  const deprivationOf = (location: PostcodeLocation, edition: ImdEdition) => {
    const lsoa = lsoaFor(location, edition);
    return lsoa ? deprivation.get(`${lsoa}|${edition}`) : undefined;
  };

  it('has several postcodes, live and terminated, in every district the sample directory names', () => {
    const { districts } = directoryAreas();
    expect([...districts]).toEqual(expect.arrayContaining(['LS6', 'LS2', 'FY1', 'FY3', 'TN34']));
    for (const district of districts) {
      const here = locations.filter((l) => l.district === district);
      expect(here.length, district).toBeGreaterThanOrEqual(3);
      expect(
        here.some((l) => !l.terminated),
        district,
      ).toBe(true);
    }
    expect(locations.filter((l) => l.terminated).length).toBeGreaterThan(10);
  });

  it("places the directory's LSOAs and local authorities, and the sample referrals' postcodes", () => {
    const { lsoas, localAuthorities } = directoryAreas();
    for (const lsoa of lsoas)
      expect(
        locations.some((l) => l.lsoa21 === lsoa),
        lsoa,
      ).toBe(true);
    for (const lad of ['E08000035', 'E06000009', 'E07000062', ...localAuthorities]) {
      expect(
        locations.some((l) => l.localAuthority === lad),
        lad,
      ).toBe(true);
    }
    for (const postcode of ['LS6 1AA', 'LS1 4AP', 'FY1 4AB']) {
      expect(locations.map((l) => l.postcode)).toContain(postcode);
    }
  });

  it('ranks every English sample postcode in IMD 2025 and, but for the LSOAs split in 2021, in IMD 2019', () => {
    const english = locations.filter((l) => l.country === 'E92000001' && l.lsoa21);
    for (const location of english) expect(deprivationOf(location, '2025'), location.postcode).toBeDefined();
    const unranked2019 = english.filter((l) => !deprivationOf(l, '2019')).map((l) => l.lsoa21);
    expect(new Set(unranked2019)).toEqual(new Set(['E01035001', 'E01035002']));
  });

  it('spans deciles 1 to 10 in both editions, Blackpool FY1 in decile 1', () => {
    for (const edition of ['2019', '2025']) {
      const deciles = new Set(
        [...deprivation.values()].filter((d) => d.edition === edition).map((d) => d.decile),
      );
      expect([...deciles].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    }
    const fy1 = locations.filter((l) => l.district === 'FY1');
    for (const location of fy1) {
      expect(deprivationOf(location, '2019')?.decile).toBe(1);
      expect(deprivationOf(location, '2025')?.decile).toBe(1);
    }
  });
});
