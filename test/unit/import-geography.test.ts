import { describe, expect, it } from 'vitest';
import {
  importDeprivation,
  importPostcodes,
  ImportHeaderError,
  ImportWriteError,
  type Checkpoint,
  type ImportCounts,
  type Position,
  type RowSource,
  type SourceRow,
} from '#geography/application/import-geography.ts';
import type { RowError } from '#geography/domain/geography.ts';
import { InMemoryCheckpoints, InMemoryGeography } from './fakes-geography.ts';

// The import use case through its ports: a source of rows in memory, the in-memory store, checkpoints in memory.

const header = ['pcd', 'pcds', 'dointr', 'doterm', 'laua', 'ctry', 'lsoa21'];
const letters = 'ABDEFGHJLNPQRSTUWXYZ';

/** Row n (from 0) of a synthetic file: every third terminated; the rows at `bad` break one rule. */
function fields(n: number, bad: ReadonlySet<number>): string[] {
  const postcode = `LS${(n % 9) + 1} ${Math.floor(n / 9) % 10}${letters[Math.floor(n / 90) % 20]}${letters[Math.floor(n / 1800) % 20]}`;
  const doterm = bad.has(n) ? 'soon' : n % 3 === 0 ? '201906' : '';
  return [postcode, postcode, '198001', doterm, 'E08000035', 'E92000001', 'E01011331'];
}

/** An in-memory file of `rows` data rows (lines 2...), with a byte offset per row, honouring `open(after)`. */
function sourceOf(rows: number, bad: readonly number[] = [], opened: Position[] = []): RowSource {
  const badSet = new Set(bad);
  return {
    async open(after) {
      opened.push(after);
      async function* generate(): AsyncGenerator<SourceRow> {
        for (let n = 0; n < rows; n++) {
          const line = n + 2;
          if (line <= after.line) continue;
          yield { fields: fields(n, badSet), line, bytes: line * 100 };
        }
      }
      return { header, rows: generate() };
    },
  };
}

const uninterrupted = (rows: number, bad: number[]): ImportCounts => ({
  read: rows,
  written: rows - bad.length,
  terminated: Array.from({ length: rows }, (_, n) => n).filter((n) => n % 3 === 0 && !bad.includes(n)).length,
  bad: bad.length,
  warnings: 0,
});

describe('importPostcodes', () => {
  it('writes every good row, keeps terminated ones marked, and reports bad rows by line without stopping', async () => {
    const store = new InMemoryGeography();
    const refused: RowError[] = [];
    const result = await importPostcodes({
      source: sourceOf(1_000, [10, 500]),
      writer: store,
      observer: { rowRefused: (error) => refused.push(error) },
    });
    expect(result.counts).toEqual(uninterrupted(1_000, [10, 500]));
    expect(store.locations.size).toBe(998);
    expect(refused).toEqual([
      { line: 12, rule: 'doterm "soon" is not a month as YYYYMM' },
      { line: 502, rule: 'doterm "soon" is not a month as YYYYMM' },
    ]);
    await expect(store.locate(fields(3, new Set())[1] ?? '')).resolves.toMatchObject({
      terminated: true,
      terminatedOn: '201906',
    });
    expect(store.writes).toBe(Math.ceil(998 / 25));
  });

  it('refuses a file that is not a postcode file before writing anything', async () => {
    const store = new InMemoryGeography();
    const source: RowSource = {
      open: async () => ({
        header: ['LSOA code (2011)', 'Index of Multiple Deprivation (IMD) Rank'],
        rows: [],
      }),
    };
    await expect(importPostcodes({ source, writer: store })).rejects.toThrow(ImportHeaderError);
    expect(store.writes).toBe(0);
  });

  it('never has more batches in flight than asked', async () => {
    let inFlight = 0;
    let most = 0;
    const store = new InMemoryGeography();
    const writer = {
      batchSize: 25,
      putDeprivation: store.putDeprivation.bind(store),
      async putLocations(batch: Parameters<InMemoryGeography['putLocations']>[0]) {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 2));
        await store.putLocations(batch);
        inFlight--;
      },
    };
    await importPostcodes({ source: sourceOf(2_000), writer, options: { concurrency: 4 } });
    expect(most).toBe(4);
    expect(store.locations.size).toBe(2_000);
  });

  it('saves checkpoints only for rows durably written: every good row up to a checkpoint is in the store', async () => {
    const store = new InMemoryGeography();
    const bad = [7, 333];
    const problems: string[] = [];
    const checkpoints = {
      load: async () => undefined,
      async save(checkpoint: Checkpoint) {
        for (let n = 0; n + 2 <= checkpoint.line; n++) {
          if (bad.includes(n)) continue;
          const postcode = fields(n, new Set()).at(1) ?? '';
          if (!(await store.locate(postcode)))
            problems.push(`line ${n + 2} missing at checkpoint ${checkpoint.line}`);
        }
        if (checkpoint.bytes !== checkpoint.line * 100)
          problems.push(`offset ${checkpoint.bytes} is not line ${checkpoint.line}'s`);
      },
    };
    // Every write call is slow and they finish out of order; checkpoints are taken as often as possible.
    await importPostcodes({
      source: sourceOf(3_000, bad),
      writer: store,
      checkpoints,
      options: { concurrency: 6, checkpointEveryMs: 0 },
    });
    expect(problems).toEqual([]);
  });

  it('a run stopped by a failing write resumes from its checkpoint and ends with the counts of an uninterrupted run', async () => {
    const rows = 5_000;
    const bad = [99, 2_500, 4_998];
    const checkpoints = new InMemoryCheckpoints();
    const store = new InMemoryGeography();
    store.failFromWrite = 80;
    const failed = await importPostcodes({
      source: sourceOf(rows, bad),
      writer: store,
      checkpoints,
      options: { concurrency: 5, checkpointEveryMs: 0 },
    }).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(ImportWriteError);
    const stoppedAt = (failed as ImportWriteError).checkpoint;
    expect(checkpoints.last).toEqual(stoppedAt);
    expect(stoppedAt.line).toBeGreaterThan(1);
    expect(stoppedAt.line).toBeLessThan(80 * 25 + 2);
    expect(stoppedAt.complete).toBe(false);

    store.failFromWrite = undefined;
    const opened: Position[] = [];
    let resumedFrom: Checkpoint | undefined;
    const result = await importPostcodes({
      source: sourceOf(rows, bad, opened),
      writer: store,
      checkpoints,
      observer: { resuming: (checkpoint) => (resumedFrom = checkpoint) },
    });
    // Straight to the checkpoint's offset, not from the top.
    expect(opened).toEqual([{ line: stoppedAt.line, bytes: stoppedAt.bytes }]);
    expect(resumedFrom).toEqual(stoppedAt);
    expect(result.resumedAfter.line).toBe(stoppedAt.line);
    expect(result.readThisRun).toBe(rows - (stoppedAt.line - 1));
    expect(result.counts).toEqual(uninterrupted(rows, bad));
    expect(store.locations.size).toBe(rows - bad.length);
    expect(checkpoints.last).toMatchObject({
      complete: true,
      line: rows + 1,
      counts: uninterrupted(rows, bad),
    });
  });

  it('a complete checkpoint means the file is imported: nothing is read; --restart imports it again', async () => {
    const checkpoints = new InMemoryCheckpoints({
      line: 11,
      bytes: 1_100,
      counts: uninterrupted(10, []),
      complete: true,
    });
    const store = new InMemoryGeography();
    const opened: Position[] = [];
    const again = await importPostcodes({ source: sourceOf(10, [], opened), writer: store, checkpoints });
    expect(again).toMatchObject({ alreadyComplete: true, counts: uninterrupted(10, []), readThisRun: 0 });
    expect(opened).toEqual([]);

    const restarted = await importPostcodes({
      source: sourceOf(10, [], opened),
      writer: store,
      checkpoints,
      options: { restart: true },
    });
    expect(restarted).toMatchObject({ alreadyComplete: false, readThisRun: 10 });
    expect(opened).toEqual([{ line: 0, bytes: 0 }]);
    expect(store.locations.size).toBe(10);
  });

  it('counts a row the reader could not read as bad, with its line', async () => {
    const store = new InMemoryGeography();
    const refused: RowError[] = [];
    const source: RowSource = {
      open: async () => ({
        header,
        rows: [
          { fields: fields(0, new Set()), line: 2, bytes: 200 },
          { problem: 'a quote is not closed on this line', line: 3, bytes: 300 },
          { fields: fields(1, new Set()), line: 4, bytes: 400 },
        ],
      }),
    };
    const result = await importPostcodes({
      source,
      writer: store,
      observer: { rowRefused: (error) => refused.push(error) },
    });
    expect(result.counts).toMatchObject({ read: 3, written: 2, bad: 1 });
    expect(refused).toEqual([{ line: 3, rule: 'a quote is not closed on this line' }]);
  });
});

describe('importDeprivation', () => {
  const imd2019 = [
    'LSOA code (2011)',
    'LSOA name (2011)',
    'Index of Multiple Deprivation (IMD) Rank',
    'Index of Multiple Deprivation (IMD) Decile',
  ];
  const source = (head: string[], rows: string[][]): RowSource => ({
    open: async () => ({
      header: head,
      rows: rows.map((fields, i) => ({ fields, line: i + 2, bytes: (i + 2) * 50 })),
    }),
  });

  it('loads ranks and deciles, counting a decile that disagrees with its rank as a warning', async () => {
    const store = new InMemoryGeography();
    const warnings: RowError[] = [];
    const result = await importDeprivation(
      {
        source: source(imd2019, [
          ['E01012670', 'Blackpool 010A', '12', '1'],
          ['E01011331', 'Leeds 047A', '3,285', '1'],
          ['W01001900', 'Cardiff 032B', '100', '1'],
        ]),
        writer: store,
        observer: { rowWarning: (warning) => warnings.push(warning) },
      },
      '2019',
    );
    expect(result.counts).toEqual({ read: 3, written: 2, terminated: 0, bad: 1, warnings: 1 });
    expect(warnings.map((w) => w.line)).toEqual([3]);
    await expect(store.deprivation('E01012670', '2019')).resolves.toEqual({
      edition: '2019',
      lsoa: 'E01012670',
      rank: 12,
      decile: 1,
    });
    await expect(store.deprivation('E01011331', '2019')).resolves.toMatchObject({ rank: 3_285, decile: 1 });
  });

  it('refuses a file of the other edition before writing anything', async () => {
    const store = new InMemoryGeography();
    await expect(
      importDeprivation(
        { source: source(imd2019, [['E01012670', 'Blackpool 010A', '12', '1']]), writer: store },
        '2025',
      ),
    ).rejects.toThrow(/edition 2025 is keyed on 2021 LSOAs/);
    expect(store.writes).toBe(0);
    expect(store.deprivations.size).toBe(0);
  });
});
