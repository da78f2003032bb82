import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { countGeographyItems, DynamoGeography } from '#adapters/dynamodb/geography-store.ts';
import type { PostcodeLocation } from '#geography/domain/geography.ts';
import {
  generatedLocations,
  generateNspl,
  type GenerateResult,
} from '../infra/ops/geography/generate-nspl.ts';
import { createTables } from '../infra/local/provision.ts';
import { startDynamoDbLocal } from '../infra/local/dynamodb-local.ts';
import type { GeographyBackend } from './cli.ts';
import { machine, writeJson } from './report.ts';

/**
 * `npm run bench -- --only geography [--rows N] [--concurrency N] [--backend dynamodb-local|dynalite]`: the NSPL
 * import at full size (2.7 million rows by default) against a local DynamoDB in a process of its own, fresh for each
 * phase: Amazon's DynamoDB Local in memory (the default), or dynalite on disk as `npm start` keeps its data. The
 * client cannot write faster than its server: on disk here dynalite takes 1,600-2,500 items/s and DynamoDB Local 735,
 * in memory DynamoDB Local about 7,500, so only the last can show the 5,000 rows/s target. Phases:
 *
 * 1. raw (before): a bare loop writing the same items (the generator's own, no file, no parsing) in BatchWriteItem
 *    calls of 25 through the same adapter, with the same number in flight: the most the import could reach here;
 * 2. import: `npm run geography -- import nspl FILE` as an operator runs it (a child process), its rows/s, its
 *    peak RSS and CPU, and the rows stored counted by a Scan;
 * 3. raw (after): the bare loop again, so that the import is compared with the raw rate on either side of it (this
 *    machine's load moves: every phase's mean load average is reported). All the items again, not a sample: on disk
 *    dynalite slows as the table grows (~220 ms of its CPU per 1,000 items into an empty table, ~340 ms on average
 *    over 2.7 million), so only the same number of items compares;
 * 4. kill and resume: the same import killed with SIGKILL half way (after a checkpoint), run again, and the rows
 *    stored counted: they must be the uninterrupted import's.
 * CPU per 1,000 rows (the loop's or the import's own, and the server's) is reported beside the rates: it depends far
 * less on what else the machine is doing.
 *
 * Targets (issue 8.3): import >= 80% of the raw rate and >= 5,000 rows/s, peak RSS < 300 MB. Exits 1 only if a
 * correctness check fails (rows stored differ), as the other benches do; a missed target is reported.
 */

export interface GeographyBenchOptions {
  rows: number;
  concurrency: number;
  backend: GeographyBackend;
  seed?: number;
}

const root = fileURLToPath(new URL('../', import.meta.url));
const resultsFile = new URL('./results/geography-latest.json', import.meta.url);

interface Server {
  endpoint: string;
  table: string;
  pid: number;
  stop(): Promise<void>;
}

/** Resident memory of a process now, from /proc (Linux), in MB; undefined elsewhere. */
function rssMb(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] ? Math.round(Number(match[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

/** A fresh local DynamoDB of the chosen kind, with the system description's tables. */
async function startServer(backend: GeographyBackend): Promise<Server> {
  return backend === 'dynamodb-local' ? startDynamoDbLocalServer() : startDynalite();
}

/**
 * Amazon's DynamoDB Local in memory (a Java process of its own, so it has a core to itself as DynamoDB would be
 * elsewhere). In memory because on disk its SQLite store takes 735 items/s here, a tenth of its in-memory rate; 2.7
 * million geography items fit in its 3 GB heap.
 */
async function startDynamoDbLocalServer(): Promise<Server> {
  const server = await startDynamoDbLocal({ heapMb: 3_072 });
  const dynamoDb = new DynamoDBClient({
    endpoint: server.endpoint,
    region: 'eu-west-2',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const tables = await createTables(dynamoDb);
  dynamoDb.destroy();
  return { endpoint: server.endpoint, table: tables.geography, pid: server.pid, stop: () => server.stop() };
}

/** A fresh dynalite, on disk in a temporary directory (as `npm start` keeps its data; 2.7M items in memory would take ~6 GB). */
async function startDynalite(): Promise<Server> {
  const dataDir = mkdtempSync(join(os.tmpdir(), 'geography-bench-dynalite-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/geography-dynalite.ts', dataDir], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const ready = await new Promise<{ endpoint: string; table: string; pid: number }>((resolve, reject) => {
    let text = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const line = text.split('\n')[0];
      if (text.includes('\n') && line)
        resolve(JSON.parse(line) as { endpoint: string; table: string; pid: number });
    });
    child.once('exit', (code) => reject(new Error(`dynalite exited (${code}) before it was ready`)));
  });
  return {
    ...ready,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => {
          rmSync(dataDir, { recursive: true, force: true });
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

function clientFor(server: Server): DynamoDBDocumentClient {
  const dynamoDb = new DynamoDBClient({
    endpoint: server.endpoint,
    region: 'eu-west-2',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return DynamoDBDocumentClient.from(dynamoDb, { marshallOptions: { removeUndefinedValues: true } });
}

interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  wallMs: number;
}

/** `npm run geography -- ...` as a child process; its progress lines are shown indented. */
function startCli(args: string[], server: Server): { child: ChildProcess; done: Promise<CliRun> } {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'infra/ops/geography-cli.ts', ...args], {
    cwd: root,
    env: { ...process.env, AWS_ENDPOINT_URL_DYNAMODB: server.endpoint, GEOGRAPHY_TABLE: server.table },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => process.stdout.write(indent(chunk.toString())));
  const done = new Promise<CliRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ code, signal, stdout, wallMs: performance.now() - started }),
    );
  });
  return { child, done };
}

const indent = (text: string): string =>
  text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => `    | ${line.trim()}\n`)
    .join('');

/** A figure from the import's summary: `rows read   2,700,000` -> 2700000. */
function summaryFigure(stdout: string, pattern: RegExp): number {
  const match = pattern.exec(stdout);
  if (!match?.[1]) throw new Error(`the import's summary has no ${String(pattern)}:\n${stdout}`);
  return Number(match[1].replaceAll(',', ''));
}

interface ImportFigures {
  rowsRead: number;
  written: number;
  elapsedSeconds: number;
  rowsPerSecond: number;
  peakRssMb: number;
  /** The import's own CPU (user + system), from its summary. */
  cpuSeconds: number;
  wallSeconds: number;
}

function figuresOf(run: CliRun): ImportFigures {
  if (run.code !== 0) throw new Error(`the import failed (exit ${run.code}, ${run.signal}):\n${run.stdout}`);
  return {
    rowsRead: summaryFigure(run.stdout, /rows read\s+([\d,]+)/),
    written: summaryFigure(run.stdout, /written\s+([\d,]+)/),
    elapsedSeconds: summaryFigure(run.stdout, /elapsed\s+([\d.]+) s/),
    rowsPerSecond: summaryFigure(run.stdout, /elapsed\s+[\d.]+ s, ([\d,]+) rows\/s/),
    peakRssMb: summaryFigure(run.stdout, /peak RSS\s+([\d,]+) MB/),
    cpuSeconds: summaryFigure(run.stdout, /cpu\s+([\d.]+) s/),
    wallSeconds: run.wallMs / 1000,
  };
}

/** The file for these rows and seed, generated once and kept (deterministic, so a kept one is the same file). */
async function benchFile(
  rows: number,
  seed: number,
): Promise<{ file: string; generated: GenerateResult; ms?: number }> {
  const dir = join(os.tmpdir(), 'geography-bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `nspl-${rows}-${seed}.csv`);
  const done = `${file}.generated.json`;
  if (existsSync(done)) return { file, generated: JSON.parse(readFileSync(done, 'utf8')) as GenerateResult };
  const started = performance.now();
  const generated = await generateNspl(file, { rows, seed });
  writeFileSync(done, JSON.stringify(generated));
  return { file, generated, ms: performance.now() - started };
}

interface RawRun {
  items: number;
  ms: number;
  /** CPU of this process (the loop and the SDK), and of dynalite, in seconds. */
  clientCpuSeconds: number;
  serverCpuSeconds: number | undefined;
  meanLoad: number;
}

/** The bare loop: the first `items` of the same items, in batches of 25 through the adapter, `concurrency` in flight. */
async function rawWrites(
  server: Server,
  options: Required<GeographyBenchOptions>,
  limit: number,
): Promise<RawRun> {
  const client = clientFor(server);
  const store = new DynamoGeography(client, server.table);
  const inFlight = new Set<Promise<void>>();
  let batch: PostcodeLocation[] = [];
  let items = 0;
  let lastShown = performance.now();
  const load = sampleLoad();
  const serverCpu = cpuSecondsOf(server.pid);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const send = async (): Promise<void> => {
    const write: Promise<void> = store.putLocations(batch).finally(() => inFlight.delete(write));
    inFlight.add(write);
    items += batch.length;
    batch = [];
    if (inFlight.size >= options.concurrency) await Promise.race(inFlight);
    if (performance.now() - lastShown > 10_000) {
      lastShown = performance.now();
      const seconds = (lastShown - started) / 1000;
      process.stdout.write(
        indent(`raw: ${items.toLocaleString('en-GB')} items, ${Math.round(items / seconds)} items/s`),
      );
    }
  };
  let taken = 0;
  for (const location of generatedLocations({ rows: options.rows, seed: options.seed })) {
    if (taken++ >= limit) break;
    batch.push(location);
    if (batch.length === store.batchSize) await send();
  }
  if (batch.length > 0) await send();
  await Promise.all(inFlight);
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const serverCpuAfter = cpuSecondsOf(server.pid);
  client.destroy();
  return {
    items,
    ms,
    clientCpuSeconds: (used.user + used.system) / 1e6,
    serverCpuSeconds:
      serverCpu === undefined || serverCpuAfter === undefined ? undefined : serverCpuAfter - serverCpu,
    meanLoad: load.stop(),
  };
}

/** CPU seconds a process has used (user + system), from /proc (Linux); undefined elsewhere. */
function cpuSecondsOf(pid: number): number | undefined {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th, in ticks.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** The machine's 1-minute load average, sampled every 5 s until stopped: other work skews every figure. */
function sampleLoad(): { stop(): number } {
  const samples = [os.loadavg()[0] ?? 0];
  const timer = setInterval(() => samples.push(os.loadavg()[0] ?? 0), 5_000);
  return {
    stop() {
      clearInterval(timer);
      return samples.reduce((a, b) => a + b, 0) / samples.length;
    },
  };
}

/** What iterating the generator alone costs: part of the raw loop's time that is not writing. */
function generationOnlyMs(options: Required<GeographyBenchOptions>): number {
  const started = performance.now();
  let n = 0;
  for (const _ of generatedLocations({ rows: options.rows, seed: options.seed })) n++;
  return n >= 0 ? performance.now() - started : 0;
}

async function storedLocations(server: Server): Promise<number> {
  const client = clientFor(server);
  try {
    return await countGeographyItems(client, server.table, 'PC#', 8);
  } finally {
    client.destroy();
  }
}

/** Runs the import, kills it with SIGKILL once a checkpoint is past half the file, then runs it again. */
async function killAndResume(
  server: Server,
  file: string,
  rows: number,
  concurrency: number,
): Promise<{ killedAtLine: number; resumed: ImportFigures; resumedAfterLine: number }> {
  const stateDir = mkdtempSync(join(os.tmpdir(), 'geography-bench-resume-'));
  const checkpoint = join(stateDir, `${file.split('/').at(-1)}.checkpoint.json`);
  const args = ['import', 'nspl', file, '--state-dir', stateDir, '--concurrency', String(concurrency)];
  try {
    const first = startCli(args, server);
    const killedAtLine = await new Promise<number>((resolve, reject) => {
      const timer = setInterval(() => {
        if (!existsSync(checkpoint)) return;
        const { line } = JSON.parse(readFileSync(checkpoint, 'utf8')) as { line: number };
        if (line >= rows / 2) {
          clearInterval(timer);
          first.child.kill('SIGKILL');
          resolve(line);
        }
      }, 200);
      void first.done.then(() => {
        clearInterval(timer);
        reject(new Error('the import finished before it could be killed'));
      });
    });
    const killed = await first.done;
    if (killed.signal !== 'SIGKILL') throw new Error(`the first run ended with ${killed.code}, not SIGKILL`);
    console.log(
      `  killed with SIGKILL after a checkpoint at line ${killedAtLine.toLocaleString('en-GB')}; running it again`,
    );
    const second = await startCli(args, server).done;
    const resumedAfterLine = summaryFigure(second.stdout, /resumed after line ([\d,]+)/);
    return { killedAtLine, resumed: figuresOf(second), resumedAfterLine };
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}

const mb = (n: number | undefined): string => (n === undefined ? '?' : `${n} MB`);
const perSecond = (n: number): string => `${Math.round(n).toLocaleString('en-GB')}/s`;

export async function geographyBench(options: GeographyBenchOptions): Promise<number> {
  const full: Required<GeographyBenchOptions> = { seed: 2_025, ...options };
  const about = machine();
  console.log(
    `geography bench: ${full.rows.toLocaleString('en-GB')} rows, ${full.concurrency} batches of 25 in flight, ` +
      `against ${full.backend}; ` +
      `${about.nproc} CPU(s) ${about.cpuModel}, Node ${about.node}; load average ` +
      `${about.loadAverageAtStart.map((l) => l.toFixed(1)).join(' ')}`,
  );
  const { file, generated, ms: generationMs } = await benchFile(full.rows, full.seed);
  console.log(
    `\n▶ file: ${file} (${(generated.bytes / 1e6).toFixed(0)} MB, ${generated.good.toLocaleString('en-GB')} good rows, ` +
      `${generated.terminated.toLocaleString('en-GB')} terminated, ${generated.bad} bad)` +
      (generationMs === undefined
        ? ', kept from an earlier run'
        : `, generated in ${(generationMs / 1000).toFixed(1)} s`),
  );

  console.log('\n▶ raw (before): the same items in BatchWriteItem calls, no file, no parsing');
  let server = await startServer(full.backend);
  const rawBefore = await rawWrites(server, full, Number.POSITIVE_INFINITY);
  const rawServerRss = rssMb(server.pid);
  await server.stop();
  const generationOnly = generationOnlyMs(full);
  console.log(
    `  ${describeRaw(rawBefore)} (generating the items alone: ${(generationOnly / 1000).toFixed(1)} s); ` +
      `server ${mb(rawServerRss)}`,
  );

  console.log('\n▶ import: npm run geography -- import nspl FILE');
  server = await startServer(full.backend);
  const stateDir = mkdtempSync(join(os.tmpdir(), 'geography-bench-import-'));
  const importLoad = sampleLoad();
  const importServerCpu = cpuSecondsOf(server.pid);
  const imported = figuresOf(
    await startCli(
      [
        'import',
        'nspl',
        file,
        '--restart',
        '--state-dir',
        stateDir,
        '--concurrency',
        String(full.concurrency),
      ],
      server,
    ).done,
  );
  const importServerCpuAfter = cpuSecondsOf(server.pid);
  const importMeanLoad = importLoad.stop();
  rmSync(stateDir, { recursive: true, force: true });
  const importStored = await storedLocations(server);
  const importServerRss = rssMb(server.pid);
  await server.stop();
  const importServerCpuSeconds =
    importServerCpu === undefined || importServerCpuAfter === undefined
      ? undefined
      : importServerCpuAfter - importServerCpu;
  console.log(
    `  ${imported.rowsRead.toLocaleString('en-GB')} rows in ${imported.elapsedSeconds.toFixed(1)} s: ` +
      `${perSecond(imported.rowsPerSecond)}; peak RSS ${imported.peakRssMb} MB; CPU ${perThousand(imported.cpuSeconds, imported.rowsRead)} ` +
      `(server ${perThousand(importServerCpuSeconds, imported.written)}); mean load ${importMeanLoad.toFixed(1)}; ` +
      `${importStored.toLocaleString('en-GB')} stored; server ${mb(importServerRss)}`,
  );

  console.log(
    "\n▶ raw (after): the same items again, for the machine's load now (a server may slow as the table grows, so all of them)",
  );
  server = await startServer(full.backend);
  const rawAfter = await rawWrites(server, full, Number.POSITIVE_INFINITY);
  await server.stop();
  console.log(`  ${describeRaw(rawAfter)}`);
  const rawRate = (rateOf(rawBefore) + rateOf(rawAfter)) / 2;
  const ratio = imported.rowsPerSecond / rawRate;

  console.log('\n▶ kill and resume: the same import, SIGKILL half way, then run again');
  server = await startServer(full.backend);
  const resume = await killAndResume(server, file, full.rows, full.concurrency);
  const resumeStored = await storedLocations(server);
  await server.stop();
  console.log(
    `  resumed after line ${resume.resumedAfterLine.toLocaleString('en-GB')}: ${resume.resumed.rowsRead.toLocaleString('en-GB')} rows ` +
      `read in all, ${resume.resumed.written.toLocaleString('en-GB')} written; ${resumeStored.toLocaleString('en-GB')} stored`,
  );

  const checks = {
    importStoredEveryGoodRow: importStored === generated.good,
    resumedStoredTheSame: resumeStored === importStored,
    resumedCountsTheSame:
      resume.resumed.rowsRead === imported.rowsRead && resume.resumed.written === imported.written,
  };
  const targets = {
    importAtLeast80PercentOfRaw: ratio >= 0.8,
    importAtLeast5000RowsPerSecond: imported.rowsPerSecond >= 5_000,
    peakRssUnder300Mb: imported.peakRssMb < 300 && resume.resumed.peakRssMb < 300,
  };
  const passed = Object.values(checks).every(Boolean);
  console.log(`
Geography import, ${full.rows.toLocaleString('en-GB')} rows, ${full.concurrency} batches of 25 in flight, against ${full.backend}
  raw BatchWriteItem      ${perSecond(rateOf(rawBefore))} items before (mean load ${rawBefore.meanLoad.toFixed(1)}), ${perSecond(rateOf(rawAfter))} after (load ${rawAfter.meanLoad.toFixed(1)}); mean ${perSecond(rawRate)}
  import                  ${perSecond(imported.rowsPerSecond)} rows (load ${importMeanLoad.toFixed(1)}): ${(100 * ratio).toFixed(0)}% of the mean raw rate (targets >= 80%, >= 5,000/s)
  client CPU per 1,000    raw loop ${perThousand(rawBefore.clientCpuSeconds, rawBefore.items)}, import ${perThousand(imported.cpuSeconds, imported.rowsRead)} (parse, map, write, checkpoint)
  server CPU per 1,000    raw ${perThousand(rawBefore.serverCpuSeconds, rawBefore.items)}, import ${perThousand(importServerCpuSeconds, imported.written)}
  import peak RSS         ${imported.peakRssMb} MB (resumed run ${resume.resumed.peakRssMb} MB; target < 300 MB)
  rows stored             ${importStored.toLocaleString('en-GB')} uninterrupted, ${resumeStored.toLocaleString('en-GB')} killed and resumed (${generated.good.toLocaleString('en-GB')} good rows in the file)
  checks                  ${Object.entries(checks)
    .map(([name, ok]) => `${name} ${ok ? 'ok' : 'FAILED'}`)
    .join(', ')}
  targets                 ${Object.entries(targets)
    .map(([name, ok]) => `${name} ${ok ? 'met' : 'MISSED'}`)
    .join(', ')}`);

  writeJson(resultsFile, {
    generatedAt: new Date().toISOString(),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    machine: about,
    loadAverageAtEnd: os.loadavg(),
    rows: full.rows,
    concurrency: full.concurrency,
    backend: full.backend,
    file: { ...generated, generationMs },
    rawBefore: {
      ...rawBefore,
      itemsPerSecond: rateOf(rawBefore),
      generationOnlySeconds: generationOnly / 1000,
      serverRssMb: rawServerRss,
    },
    rawAfter: { ...rawAfter, itemsPerSecond: rateOf(rawAfter) },
    rawMeanItemsPerSecond: rawRate,
    import: {
      ...imported,
      meanLoad: importMeanLoad,
      serverCpuSeconds: importServerCpuSeconds,
      stored: importStored,
      ratioToRaw: ratio,
      serverRssMb: importServerRss,
    },
    killAndResume: { ...resume, stored: resumeStored },
    checks,
    targets,
    passed,
  });
  console.log(
    `\nResults written to ${resultsFile.pathname}; ${passed ? 'all checks passed' : 'CHECKS FAILED'}`,
  );
  return passed ? 0 : 1;
}

const rateOf = (run: RawRun): number => run.items / (run.ms / 1000);

function describeRaw(run: RawRun): string {
  return (
    `${run.items.toLocaleString('en-GB')} items in ${(run.ms / 1000).toFixed(1)} s: ${perSecond(rateOf(run))}; ` +
    `CPU ${perThousand(run.clientCpuSeconds, run.items)} (server ${perThousand(run.serverCpuSeconds, run.items)}); ` +
    `mean load ${run.meanLoad.toFixed(1)}`
  );
}

/** CPU milliseconds per 1,000 rows or items. */
function perThousand(seconds: number | undefined, count: number): string {
  return seconds === undefined || count === 0 ? '?' : `${((seconds * 1e6) / count).toFixed(0)} ms/1,000`;
}
