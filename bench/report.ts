import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { round } from './stats.ts';
import type { ScenarioName, ScenarioResult } from './types.ts';

/** The end-of-run table, the ratios between scenarios of the same run, and the JSON written for later comparison. */

export interface Machine {
  nproc: number;
  cpuModel: string;
  totalMemoryMb: number;
  node: string;
  platform: string;
  /** 1, 5 and 15 minute load averages when the run started: other work on the machine skews every figure. */
  loadAverageAtStart: number[];
}

export function machine(): Machine {
  return {
    nproc: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    totalMemoryMb: Math.round(os.totalmem() / (1024 * 1024)),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    loadAverageAtStart: os.loadavg(),
  };
}

export interface Ratio {
  name: string;
  numerator: ScenarioName;
  denominator: ScenarioName;
  value: number;
}

/** Throughput ratios: the machine's speed cancels out, so these are comparable across runs and machines. */
const ratioSpecs: Array<Omit<Ratio, 'value'>> = [
  {
    name: 'rejects vs accepted (16 in flight)',
    numerator: 'intake-rejects',
    denominator: 'intake-concurrent',
  },
  {
    name: 'replay vs fresh (16 in flight)',
    numerator: 'idempotent-replay',
    denominator: 'intake-concurrent',
  },
  { name: '16 in flight vs sequential', numerator: 'intake-concurrent', denominator: 'intake-sequential' },
];

export function ratios(results: readonly ScenarioResult[]): Ratio[] {
  const throughput = (name: ScenarioName): number | undefined =>
    results.find((r) => r.name === name && r.throughputPerSec > 0)?.throughputPerSec;
  return ratioSpecs.flatMap((spec) => {
    const top = throughput(spec.numerator);
    const bottom = throughput(spec.denominator);
    return top === undefined || bottom === undefined ? [] : [{ ...spec, value: top / bottom }];
  });
}

const columns: Array<{ title: string; cell: (r: ScenarioResult) => string }> = [
  { title: 'scenario', cell: (r) => r.name },
  { title: 'done', cell: (r) => `${r.completed}/${r.count}` },
  { title: 'conc', cell: (r) => String(r.concurrency) },
  { title: 'time s', cell: (r) => (r.durationMs / 1000).toFixed(2) },
  { title: 'per s', cell: (r) => r.throughputPerSec.toFixed(1) },
  { title: 'p50 ms', cell: (r) => r.latencyMs.p50.toFixed(1) },
  { title: 'p95 ms', cell: (r) => r.latencyMs.p95.toFixed(1) },
  { title: 'p99 ms', cell: (r) => r.latencyMs.p99.toFixed(1) },
  { title: 'cpu %', cell: (r) => (r.resources ? r.resources.cpuPercent.toFixed(0) : '-') },
  { title: 'loop p99 ms', cell: (r) => (r.resources ? r.resources.eventLoopDelayP99Ms.toFixed(1) : '-') },
  {
    title: 'drain s',
    cell: (r) => (r.backlogDrainMs === undefined ? '-' : (r.backlogDrainMs / 1000).toFixed(1)),
  },
  { title: 'check', cell: (r) => (r.passed ? 'ok' : 'FAILED') },
];

export function table(results: readonly ScenarioResult[]): string {
  const rows = results.map((r) => columns.map((c) => c.cell(r)));
  const widths = columns.map((c, i) => Math.max(c.title.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ');
  return [line(columns.map((c) => c.title)), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join(
    '\n',
  );
}

export function ratioLines(list: readonly Ratio[]): string[] {
  return list.map((r) => `  ${r.name}: ${r.value.toFixed(2)}x (${r.numerator} / ${r.denominator})`);
}

/** Writes the report, rounding fractions to 2 places: the noise between runs is far larger than that. */
export function writeJson(file: URL, report: unknown): void {
  mkdirSync(new URL('.', file), { recursive: true });
  const text = JSON.stringify(
    report,
    (_, value: unknown) => (typeof value === 'number' && !Number.isInteger(value) ? round(value, 2) : value),
    2,
  );
  writeFileSync(file, `${text}\n`);
}
