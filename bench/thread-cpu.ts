import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time by thread of this process, from Linux's /proc/self/task/<tid>/stat. Each function of the local stack
 * runs in a worker thread named after it (`local-router`, `local-notifier`: infra/local/function-workers.ts), and
 * the kernel keeps the name (cut to 15 characters), so a level's CPU splits into the main thread (gateway, dynalite,
 * fauxqs, pollers, webhook receiver and the bench's clients), each function, and V8's helper threads (GC,
 * compilation). A thread near 100% is a stage that one core caps, however many cores the machine has.
 * Elsewhere than Linux it reads nothing and the bench reports no split.
 */

/** Linux reports utime and stime in clock ticks of USER_HZ, which is 100 on every mainstream kernel build. */
const ticksPerSecond = 100;

export type ThreadTicks = Map<string, number>;

/** Clock ticks (user + system) so far, summed by thread name (several V8 helpers share one). */
export function threadTicks(): ThreadTicks {
  const ticks: ThreadTicks = new Map();
  let tasks: string[];
  try {
    tasks = readdirSync('/proc/self/task');
  } catch {
    return ticks;
  }
  for (const tid of tasks) {
    try {
      const parsed = parseStat(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8'));
      if (parsed) ticks.set(parsed.name, (ticks.get(parsed.name) ?? 0) + parsed.ticks);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return ticks;
}

/** The name (in parentheses, may hold spaces) and utime + stime (fields 14 and 15) of a stat line. */
export function parseStat(stat: string): { name: string; ticks: number } | undefined {
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const fields = stat.slice(close + 2).split(' ');
  // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12 here.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return { name: stat.slice(open + 1, close), ticks: utime + stime };
}

/** CPU % by thread name between two readings (100 = one core), busiest first; names under 1% are left out. */
export function threadCpuPercent(
  before: ThreadTicks,
  after: ThreadTicks,
  wallMs: number,
): Record<string, number> {
  if (wallMs <= 0) return {};
  return Object.fromEntries(
    [...after]
      .map(([name, ticks]): [string, number] => [
        name,
        ((ticks - (before.get(name) ?? 0)) / ticksPerSecond / (wallMs / 1000)) * 100,
      ])
      .filter(([, percent]) => percent >= 1)
      .sort((a, b) => b[1] - a[1]),
  );
}
