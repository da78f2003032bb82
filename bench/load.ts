import { performance } from 'node:perf_hooks';

/**
 * Closed-loop load: `concurrency` workers each send their next request as soon as the previous one answers, until
 * `count` requests are done or the time cap passes. The cap stops new requests only; those in flight finish (each
 * has its own client timeout), so a run is bounded by cap + request timeout.
 */

export interface LoadPlan {
  label: string;
  count: number;
  concurrency: number;
  timeCapMs: number;
  /** No progress lines (for runs of one request). */
  quiet?: boolean;
}

export interface LoadOutcome<T> {
  /** By send order (results[i] answers request i); dense, since every request sent is awaited. */
  results: T[];
  durationMs: number;
  timedOut: boolean;
}

export async function runLoad<T>(
  plan: LoadPlan,
  task: (index: number) => Promise<T>,
): Promise<LoadOutcome<T>> {
  const results: T[] = [];
  const progress = plan.quiet ? () => undefined : progressPrinter(plan.label, plan.count);
  const started = performance.now();
  const deadline = started + plan.timeCapMs;
  let next = 0;
  let done = 0;
  let timedOut = false;

  const worker = async (): Promise<void> => {
    while (next < plan.count) {
      if (performance.now() > deadline) {
        timedOut = true;
        return;
      }
      const index = next++;
      results[index] = await task(index);
      progress(++done);
    }
  };
  const workers = Math.max(1, Math.min(plan.concurrency, plan.count));
  await Promise.all(Array.from({ length: workers }, worker));
  const durationMs = performance.now() - started;
  progress(done, true);
  return { results, durationMs, timedOut };
}

/** Prints "label: done/total" at most once a second, so a slow run shows it is alive without flooding the log. */
export function progressPrinter(label: string, total: number): (done: number, final?: boolean) => void {
  const started = performance.now();
  let lastPrinted = started;
  return (done, final = false) => {
    const now = performance.now();
    if (!final && now - lastPrinted < 1000) return;
    lastPrinted = now;
    const seconds = ((now - started) / 1000).toFixed(1);
    console.log(`  ${label}: ${done}/${total} in ${seconds} s${final ? ' (done)' : ''}`);
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
