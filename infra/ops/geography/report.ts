import { createWriteStream, existsSync, readFileSync, writeFileSync, type WriteStream } from 'node:fs';
import cliProgress from 'cli-progress';
import type {
  Checkpoint,
  ImportObserver,
  ImportProgress,
  ImportResult,
} from '#geography/application/import-geography.ts';
import type { RowError } from '#geography/domain/geography.ts';

/**
 * What an import shows while it runs: a progress bar (percentage of the file's bytes, rows, rows/s, ETA) on a
 * terminal, a plain line every few seconds otherwise (a CI log, a redirect); the first bad rows with their line and
 * rule (all of them counted, and all of them in `--errors FILE` as JSON lines); and the summary at the end.
 * Progress and bad rows go to stderr, the summary to stdout.
 */

export interface ReporterOptions {
  totalBytes: number;
  /** Draw a bar (stderr is a terminal) or print plain lines. */
  tty: boolean;
  /** Bad rows printed before the rest are only counted (default 20). */
  maxPrinted?: number;
  /** Every bad row and warning as JSON lines `{"line":..,"rule":..,"severity":..}`. */
  errorsFile?: string;
  plainEveryMs?: number;
  err?: NodeJS.WritableStream;
  now?: () => number;
}

const number = (n: number): string => Math.round(n).toLocaleString('en-GB');

export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export class ImportReporter implements ImportObserver {
  private readonly maxPrinted: number;
  private readonly plainEveryMs: number;
  private readonly err: NodeJS.WritableStream;
  private readonly now: () => number;
  private readonly startedAt: number;
  private printed = 0;
  private unprinted = 0;
  private errors: WriteStream | undefined;
  private resumedAt: Checkpoint | undefined;
  private multibar: cliProgress.MultiBar | undefined;
  private bar: cliProgress.SingleBar | undefined;
  private lastPlainAt: number;
  private startBytes = 0;

  constructor(private readonly options: ReporterOptions) {
    this.maxPrinted = options.maxPrinted ?? 20;
    this.plainEveryMs = options.plainEveryMs ?? 5_000;
    this.err = options.err ?? process.stderr;
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
    this.lastPlainAt = this.startedAt;
    if (options.tty) {
      this.multibar = new cliProgress.MultiBar(
        {
          format: '  {bar} {percentage}% | {rows} rows | {rate} rows/s | ETA {eta_formatted}',
          stream: this.err,
          fps: 5,
          etaBuffer: 100,
          hideCursor: true,
          clearOnComplete: false,
        },
        cliProgress.Presets.shades_classic,
      );
    }
  }

  resuming(checkpoint: Checkpoint): void {
    this.resumedAt = checkpoint;
    this.startBytes = checkpoint.bytes;
    this.line(
      `Resuming after line ${number(checkpoint.line)} (${number(checkpoint.counts.read)} rows already done; ` +
        '--restart to import the whole file again)',
    );
    // The errors file keeps what it said about rows up to the checkpoint; rows after it are read again.
    const file = this.options.errorsFile;
    if (file && existsSync(file)) {
      const kept = readFileSync(file, 'utf8')
        .split('\n')
        .filter((text) => text !== '' && (JSON.parse(text) as RowError).line <= checkpoint.line);
      writeFileSync(file, kept.map((text) => `${text}\n`).join(''));
    }
  }

  rowRefused(error: RowError): void {
    this.report(error, 'error');
  }

  rowWarning(warning: RowError): void {
    this.report(warning, 'warning');
  }

  progress(progress: ImportProgress): void {
    const seconds = (this.now() - this.startedAt) / 1000;
    const rate = seconds > 0 ? progress.readThisRun / seconds : 0;
    if (this.multibar) {
      const payload = { rows: number(progress.counts.read), rate: number(rate) };
      if (!this.bar) {
        this.bar = this.multibar.create(this.options.totalBytes, this.startBytes, payload);
      }
      this.bar.update(progress.bytes, payload);
      return;
    }
    if (this.now() - this.lastPlainAt < this.plainEveryMs) return;
    this.lastPlainAt = this.now();
    const bytesRate = seconds > 0 ? (progress.bytes - this.startBytes) / seconds : 0;
    const eta = bytesRate > 0 ? (this.options.totalBytes - progress.bytes) / bytesRate : Number.NaN;
    const percent = this.options.totalBytes > 0 ? (100 * progress.bytes) / this.options.totalBytes : 100;
    this.err.write(
      `  ${percent.toFixed(1)}% | ${number(progress.counts.read)} rows | ${number(rate)} rows/s | ETA ${duration(eta)}\n`,
    );
  }

  /** Stops the bar and closes the errors file; then `summary` can be printed. */
  async finish(): Promise<void> {
    if (this.bar) this.bar.update(this.options.totalBytes);
    // stop() does not print what is still in the log buffer; a last redraw does.
    if (this.bar) this.multibar?.update();
    this.multibar?.stop();
    if (this.options.errorsFile && !this.errors && !this.resumedAt)
      writeFileSync(this.options.errorsFile, '');
    if (this.errors) {
      const stream = this.errors;
      await new Promise<void>((resolve) => stream.end(resolve));
    }
    if (this.unprinted > 0) {
      this.err.write(
        `  ... and ${number(this.unprinted)} more not shown` +
          `${this.options.errorsFile ? ` (all in ${this.options.errorsFile})` : ' (--errors FILE lists them all)'}\n`,
      );
    }
  }

  private report(issue: RowError, severity: 'error' | 'warning'): void {
    if (this.options.errorsFile) {
      this.errors ??= createWriteStream(this.options.errorsFile, { flags: this.resumedAt ? 'a' : 'w' });
      this.errors.write(`${JSON.stringify({ line: issue.line, rule: issue.rule, severity })}\n`);
    }
    if (this.printed >= this.maxPrinted) {
      this.unprinted++;
      return;
    }
    this.printed++;
    this.line(`  ${severity === 'error' ? 'bad row' : 'warning'}, line ${issue.line}: ${issue.rule}`);
  }

  /** A line above the bar once there is one (cli-progress prints its log at the next redraw), else straight out. */
  private line(text: string): void {
    if (this.multibar && this.bar) this.multibar.log(`${text}\n`);
    else this.err.write(`${text}\n`);
  }
}

/** The closing lines: rows read, written, terminated, bad, warnings, elapsed, rows/s. */
export function summaryLines(result: ImportResult, what: string): string[] {
  const { counts } = result;
  const seconds = result.elapsedMs / 1000;
  if (result.alreadyComplete) {
    return [
      `${what}: already imported completely (checkpoint): ${number(counts.read)} rows read, ` +
        `${number(counts.written)} written, ${number(counts.bad)} bad. Use --restart to import it again.`,
    ];
  }
  const resumed =
    result.resumedAfter.line > 0
      ? ` (this run: ${number(result.readThisRun)}, resumed after line ${number(result.resumedAfter.line)})`
      : '';
  return [
    `${what}: done.`,
    `  rows read   ${number(counts.read)}${resumed}`,
    `  written     ${number(counts.written)}`,
    `  terminated  ${number(counts.terminated)}`,
    `  bad         ${number(counts.bad)}`,
    ...(counts.warnings > 0 ? [`  warnings    ${number(counts.warnings)}`] : []),
    `  elapsed     ${seconds.toFixed(1)} s, ${number(seconds > 0 ? result.readThisRun / seconds : 0)} rows/s`,
  ];
}
