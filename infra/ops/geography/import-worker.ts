import { isatty, WriteStream } from 'node:tty';
import { parentPort, Worker, workerData } from 'node:worker_threads';
import type { ImportResult } from '#geography/application/import-geography.ts';
import type { ImportRequest } from './import-file.ts';
import type { GeographyTarget } from './target.ts';

/**
 * `npm run geography -- import` does the import in a worker thread with a capped heap, so that its memory is bounded
 * by construction rather than by how lazily V8 collects: the AWS SDK's per-request garbage otherwise lets the heap
 * (the young generation above all) grow to ~300 MB over a 2.7-million-row file, where what is live stays under
 * ~60 MB. The worker is a thread of the same process: a `kill -9` of the command stops it too, and the checkpoint
 * is all that remains, as before.
 */

export interface ImportJob {
  request: ImportRequest;
  target: GeographyTarget;
  checkpoint: { path: string; target: string };
  restart: boolean;
  concurrency: number;
  errorsFile?: string;
  totalBytes: number;
  /** Printed (stderr) once the table answers, before the first row. */
  announce: string;
}

export type ImportOutcome =
  { ok: true; result: ImportResult } | { ok: false; message: string; unreachable?: boolean };

/** Young generation (both semi-spaces) and old generation caps, MB; live data is a few batches and a parser. */
export const importHeapLimits = { maxYoungGenerationSizeMb: 24, maxOldGenerationSizeMb: 160 } as const;

const entry = new URL(import.meta.url);
/** As the local stack's function workers: Node 24 runs the TypeScript itself (tsx's hooks are not needed). */
const execArgv = ['--experimental-transform-types', '--disable-warning=ExperimentalWarning'];

/** Runs the job in a worker with the heap caps; resolves with its outcome (an out-of-memory included). */
export function runImportInWorker(job: ImportJob): Promise<ImportOutcome> {
  return new Promise((resolve) => {
    const worker = new Worker(entry, { workerData: job, execArgv, resourceLimits: importHeapLimits });
    let outcome: ImportOutcome | undefined;
    worker.once('message', (message: ImportOutcome) => (outcome = message));
    worker.once('error', (error) => {
      const oom = (error as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
      outcome ??= {
        ok: false,
        message: oom
          ? `out of memory (heap capped at ${importHeapLimits.maxOldGenerationSizeMb} MB); rows up to the checkpoint are stored`
          : (error as Error).message,
      };
    });
    worker.once('exit', (code) =>
      resolve(outcome ?? { ok: false, message: `the import worker exited (${code})` }),
    );
  });
}

async function work(job: ImportJob): Promise<ImportOutcome> {
  const [{ connect }, { DynamoGeography }, { importFile }, { ImportReporter }] = await Promise.all([
    import('./target.ts'),
    import('#adapters/dynamodb/geography-store.ts'),
    import('./import-file.ts'),
    import('./report.ts'),
  ]);
  const { dynamoDb, client, unreachable } = await connect(job.target);
  const problem = await unreachable();
  if (problem) {
    dynamoDb.destroy();
    return { ok: false, message: problem, unreachable: true };
  }
  process.stderr.write(`${job.announce}\n`);
  // A worker's process.stderr is a pipe to the main thread; on a terminal the bar is drawn on the terminal itself.
  const tty = isatty(2);
  const reporter = new ImportReporter({
    totalBytes: job.totalBytes,
    tty,
    ...(tty ? { err: new WriteStream(2) } : {}),
    ...(job.errorsFile ? { errorsFile: job.errorsFile } : {}),
  });
  try {
    const result = await importFile(job.request, {
      writer: new DynamoGeography(client, job.target.table),
      checkpoint: job.checkpoint,
      restart: job.restart,
      concurrency: job.concurrency,
      observer: reporter,
    });
    await reporter.finish();
    return { ok: true, result };
  } catch (error) {
    await reporter.finish();
    return { ok: false, message: (error as Error).message };
  } finally {
    dynamoDb.destroy();
  }
}

if (parentPort && (workerData as ImportJob | undefined)?.request) {
  parentPort.postMessage(await work(workerData as ImportJob));
}
