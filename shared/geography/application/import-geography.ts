import {
  deprivationFromFields,
  imdColumns,
  locationFromFields,
  postcodeColumns,
  type Deprivation,
  type HeaderResult,
  type ImdEdition,
  type PostcodeLocation,
  type RowError,
  type RowResult,
} from '#geography/domain/geography.ts';
import type { GeographyWriter } from '#geography/ports.ts';

/**
 * Importing an NSPL/ONSPD file (postcode -> LSOA, local authority, country) or an English IoD file (LSOA -> IMD
 * rank and decile) through the ports: rows come from a `RowSource` (a streaming CSV reader in the CLI), go through
 * the pure row mappers, and are written in batches by a `GeographyWriter`, several batches in flight at once.
 *
 * - Bad rows are counted and reported (`rowRefused`, with their line and rule) and the import goes on.
 * - Memory is bounded: at most `concurrency` batches are in flight, and reading waits for a free slot.
 * - Resumable: a `Checkpoint` records the last line below which every row is durably written (batches can finish
 *   out of order, so it is the end of the longest run of finished batches) and the counts up to it. It is saved
 *   every `checkpointEveryMs` and at the end (`complete`). A run given a checkpoint starts after its line with its
 *   counts, so it ends with the same counts as a run never interrupted; rows written after the checkpoint and
 *   before a crash are simply written again (puts are idempotent).
 * - The header is checked before anything is written: a file that is not the kind asked for, or an IoD file of
 *   the other edition, is refused (`ImportHeaderError`).
 */

export interface SourceRow {
  /** The row's fields; absent when the CSV reader could not read the row (`problem` says why). */
  fields?: readonly string[];
  problem?: string;
  /** The row's (last) line in the file, the header being line 1. */
  line: number;
  /** The file's bytes up to the end of this row (its line break included): for progress, and to resume after it. */
  bytes: number;
}

/** Where a file was left: after this line, which ends at this byte offset. `{ line: 0, bytes: 0 }`: the start. */
export interface Position {
  line: number;
  bytes: number;
}

export interface RowSource {
  /** Opens the file: its header, then its rows after `after` (the start: every row). */
  open(
    after: Position,
  ): Promise<{ header: readonly string[]; rows: AsyncIterable<SourceRow> | Iterable<SourceRow> }>;
}

export interface ImportCounts {
  /** Rows read (good and bad), header excluded. */
  read: number;
  written: number;
  /** Of those written, postcodes marked terminated (NSPL/ONSPD only). */
  terminated: number;
  /** Rows refused (not written). */
  bad: number;
  /** Rows written with a note (e.g. an IMD decile that disagrees with the rank). */
  warnings: number;
}

export interface Checkpoint extends Position {
  /** Every row up to `line` (ending at byte `bytes`) is accounted for in `counts` and, if good, durably written. */
  counts: ImportCounts;
  /** The whole file was imported. */
  complete: boolean;
}

export interface CheckpointStore {
  load(): Promise<Checkpoint | undefined>;
  save(checkpoint: Checkpoint): Promise<void>;
}

export interface ImportProgress {
  bytes: number;
  counts: ImportCounts;
  /** Rows read by this run (a resumed run starts at 0), for a rate. */
  readThisRun: number;
}

export interface ImportObserver {
  rowRefused?(error: RowError): void;
  rowWarning?(warning: RowError): void;
  /** Called every few hundred rows; throttle any display. */
  progress?(progress: ImportProgress): void;
  /** The run starts after a checkpoint (called before the first row). */
  resuming?(checkpoint: Checkpoint): void;
}

export interface ImportOptions {
  /** Batches in flight at once (default 8). */
  concurrency?: number;
  /** How often the checkpoint is saved while importing (default 1,000 ms). */
  checkpointEveryMs?: number;
  /** Ignore any checkpoint and import the whole file. */
  restart?: boolean;
  now?: () => number;
}

export interface ImportDeps {
  source: RowSource;
  writer: GeographyWriter;
  /** Where progress is kept between runs; none: every run imports the whole file. */
  checkpoints?: CheckpointStore;
  observer?: ImportObserver;
  options?: ImportOptions;
}

export interface ImportResult {
  counts: ImportCounts;
  /** The checkpoint this run started after (line 0: from the start). */
  resumedAfter: Position;
  /** A checkpoint said the file was already imported completely; nothing was read. */
  alreadyComplete: boolean;
  /** Rows read by this run. */
  readThisRun: number;
  elapsedMs: number;
}

/** The file cannot be imported as asked: not the kind of file, or the wrong IMD edition. Nothing was written. */
export class ImportHeaderError extends Error {
  override readonly name = 'ImportHeaderError';
}

/** Writing failed after the writer's own retries; the checkpoint holds what is durably written. */
export class ImportWriteError extends Error {
  override readonly name = 'ImportWriteError';
  constructor(
    message: string,
    readonly checkpoint: Checkpoint,
    options?: { cause: unknown },
  ) {
    super(message, options);
  }
}

interface Plan<T> {
  columns(header: readonly string[]): HeaderResult<(fields: readonly string[], line: number) => RowResult<T>>;
  write(writer: GeographyWriter, batch: readonly T[]): Promise<void>;
  terminated(item: T): boolean;
}

const postcodePlan: Plan<PostcodeLocation> = {
  columns(header) {
    const found = postcodeColumns(header);
    if (!found.ok) return found;
    return { ok: true, columns: (fields, line) => locationFromFields(fields, found.columns, line) };
  },
  write: (writer, batch) => writer.putLocations(batch),
  terminated: (location) => location.terminated,
};

const deprivationPlan = (edition: ImdEdition): Plan<Deprivation> => ({
  columns(header) {
    const found = imdColumns(header, edition);
    if (!found.ok) return found;
    return { ok: true, columns: (fields, line) => deprivationFromFields(fields, found.columns, line) };
  },
  write: (writer, batch) => writer.putDeprivation(batch),
  terminated: () => false,
});

/** Imports an NSPL or ONSPD file (any release: columns are found by stem). */
export function importPostcodes(deps: ImportDeps): Promise<ImportResult> {
  return runImport(deps, postcodePlan);
}

/** Imports an English IoD File 1 or File 7 CSV of the given edition. */
export function importDeprivation(deps: ImportDeps, edition: ImdEdition): Promise<ImportResult> {
  return runImport(deps, deprivationPlan(edition));
}

const noCounts = (): ImportCounts => ({ read: 0, written: 0, terminated: 0, bad: 0, warnings: 0 });
const progressEveryRows = 500;

interface InFlight extends Position {
  counts: ImportCounts;
  done: boolean;
}

async function runImport<T>(deps: ImportDeps, plan: Plan<T>): Promise<ImportResult> {
  const { source, writer, checkpoints, observer = {}, options = {} } = deps;
  const now = options.now ?? Date.now;
  const concurrency = Math.max(1, options.concurrency ?? 8);
  const checkpointEveryMs = options.checkpointEveryMs ?? 1_000;
  const startedAt = now();

  const previous = options.restart ? undefined : await checkpoints?.load();
  if (previous?.complete) {
    return {
      counts: previous.counts,
      resumedAfter: { line: previous.line, bytes: previous.bytes },
      alreadyComplete: true,
      readThisRun: 0,
      elapsedMs: now() - startedAt,
    };
  }
  const after: Position = previous ? { line: previous.line, bytes: previous.bytes } : { line: 0, bytes: 0 };
  const { header, rows } = await source.open(after);
  const columns = plan.columns(header);
  if (!columns.ok) throw new ImportHeaderError(columns.problem);
  const map = columns.columns;
  if (previous) observer.resuming?.(previous);

  const counts = previous ? { ...previous.counts } : noCounts();
  let readThisRun = 0;
  let last: Position = after;
  let batch: T[] = [];
  let batchTerminated = 0;

  // Batches in the order they were sent; the checkpoint advances over the finished ones at the front.
  const order: InFlight[] = [];
  const active = new Set<Promise<void>>();
  let durable: Checkpoint = { ...after, counts: { ...counts }, complete: false };
  let failure: { error: unknown } | undefined;
  let saving: Promise<void> | undefined;
  let lastSavedAt = now();

  const saveNow = (checkpoint: Checkpoint): Promise<void> => {
    lastSavedAt = now();
    const save = (saving ?? Promise.resolve())
      .then(() => checkpoints?.save(checkpoint))
      .finally(() => {
        if (saving === save) saving = undefined;
      });
    saving = save;
    return save;
  };

  const advance = (): void => {
    while (order[0]?.done) {
      const head = order.shift() as InFlight;
      durable = { line: head.line, bytes: head.bytes, counts: head.counts, complete: false };
    }
    if (checkpoints && !saving && now() - lastSavedAt >= checkpointEveryMs) {
      saveNow(durable).catch((error: unknown) => (failure ??= { error }));
    }
  };

  const send = async (): Promise<void> => {
    counts.written += batch.length;
    counts.terminated += batchTerminated;
    const entry: InFlight = { ...last, counts: { ...counts }, done: false };
    order.push(entry);
    const items = batch;
    batch = [];
    batchTerminated = 0;
    const write = plan.write(writer, items).then(
      () => {
        entry.done = true;
        advance();
      },
      (error: unknown) => {
        failure ??= { error };
      },
    );
    const tracked: Promise<void> = write.finally(() => active.delete(tracked));
    active.add(tracked);
    if (active.size >= concurrency) await Promise.race(active);
  };

  try {
    await readRows();
  } catch (error) {
    // The file could not be read on (a parser or disk error): keep what is durably written for a resume.
    await Promise.allSettled(active);
    await saving?.catch(() => undefined);
    await checkpoints?.save(durable).catch(() => undefined);
    throw error;
  }

  async function readRows(): Promise<void> {
    for await (const row of rows) {
      if (failure) break;
      if (row.line <= after.line) continue;
      counts.read++;
      readThisRun++;
      last = { line: row.line, bytes: row.bytes };
      if (readThisRun % progressEveryRows === 0) {
        observer.progress?.({ bytes: row.bytes, counts: { ...counts }, readThisRun });
      }
      if (row.fields === undefined) {
        counts.bad++;
        observer.rowRefused?.({ line: row.line, rule: row.problem ?? 'unreadable row' });
        continue;
      }
      const result = map(row.fields, row.line);
      if (!result.ok) {
        counts.bad++;
        observer.rowRefused?.(result.error);
        continue;
      }
      if (result.warning !== undefined) {
        counts.warnings++;
        observer.rowWarning?.({ line: row.line, rule: result.warning });
      }
      batch.push(result.value);
      if (plan.terminated(result.value)) batchTerminated++;
      if (batch.length >= writer.batchSize) await send();
    }
    if (!failure && batch.length > 0) await send();
  }
  await Promise.allSettled(active);
  await saving?.catch(() => undefined);

  if (failure) {
    await checkpoints?.save(durable).catch(() => undefined);
    const reason = failure.error instanceof Error ? failure.error.message : String(failure.error);
    throw new ImportWriteError(
      `Import stopped: a write failed (${reason}). Rows up to line ${durable.line} are stored; run the same command again to resume there.`,
      durable,
      { cause: failure.error },
    );
  }
  // Every row is accounted for: the bad rows after the last batch too.
  const final: Checkpoint = { ...last, counts: { ...counts }, complete: true };
  await checkpoints?.save(final);
  return {
    counts,
    resumedAfter: after,
    alreadyComplete: false,
    readThisRun,
    elapsedMs: now() - startedAt,
  };
}
