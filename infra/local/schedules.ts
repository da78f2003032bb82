import { functionNames, functions } from '#system/functions.ts';
import type { FunctionName } from '#system/names.ts';
import type { ScheduledRunInput } from '../constructs/schedules.ts';

/**
 * The stack's schedules on this machine: each scheduled function of the system description invoked on a timer, with
 * the input EventBridge Scheduler sends. `clockSpeed` shortens the interval (10: a 5-minute schedule runs every 30
 * s), for watching deadlines pass in a demo; the functions' own clock is not changed. A run still going when the
 * next is due is not overlapped here (the functions are safe to overlap, but a laptop need not pile them up).
 */

export interface LocalSchedulesOptions {
  invoke: (fn: FunctionName, event: ScheduledRunInput) => Promise<unknown>;
  log: (line: string) => void;
  clockSpeed?: number;
}

export interface LocalSchedules {
  /** Runs a scheduled function now (as `npm run deadlines -- run` does against the tables). */
  runNow(fn: FunctionName): Promise<unknown>;
  stop(): Promise<void>;
}

export function startLocalSchedules(options: LocalSchedulesOptions): LocalSchedules {
  const speed = options.clockSpeed ?? 1;
  const running = new Map<FunctionName, Promise<unknown>>();
  const run = (fn: FunctionName): Promise<unknown> => {
    const current = running.get(fn);
    if (current) return current;
    const started = options
      .invoke(fn, { schedule: fn })
      .catch((error: unknown) => {
        options.log(`schedule ${fn}: run failed: ${error instanceof Error ? error.message : String(error)}`);
      })
      .finally(() => running.delete(fn));
    running.set(fn, started);
    return started;
  };
  const timers = functionNames.flatMap((fn) => {
    const schedule = functions[fn].schedule;
    if (!schedule) return [];
    const timer = setInterval(() => void run(fn), (schedule.everyMinutes * 60_000) / speed);
    timer.unref();
    return [timer];
  });
  return {
    runNow: run,
    async stop() {
      for (const timer of timers) clearInterval(timer);
      await Promise.all(running.values());
    },
  };
}
