import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

/**
 * What the one process spent while a scenario ran. Client, gateway, handlers, dynalite and fauxqs all share one
 * event loop, so CPU near 100% of a core and a growing event-loop delay say the process itself is the bottleneck.
 */

export interface ResourceUsage {
  /** User + system CPU time over wall time; 100 means one core fully busy (a few libraries use worker threads). */
  cpuPercent: number;
  /** How late the event loop ran a timer: time the process had work queued that it could not get to. */
  eventLoopDelayP50Ms: number;
  eventLoopDelayP99Ms: number;
  eventLoopDelayMaxMs: number;
  rssMb: number;
}

const resolutionMs = 10;

export async function withResourceUsage<T>(
  run: () => Promise<T>,
): Promise<{ value: T; usage: ResourceUsage }> {
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  try {
    const value = await run();
    const wallMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    // The histogram records the whole interval between its timer's runs; the delay is what exceeds the interval.
    const nsToMs = (ns: number): number => Math.max(0, ns / 1e6 - resolutionMs);
    return {
      value,
      usage: {
        cpuPercent: wallMs > 0 ? ((cpu.user + cpu.system) / 1000 / wallMs) * 100 : 0,
        eventLoopDelayP50Ms: nsToMs(histogram.percentile(50)),
        eventLoopDelayP99Ms: nsToMs(histogram.percentile(99)),
        eventLoopDelayMaxMs: nsToMs(histogram.max),
        rssMb: process.memoryUsage().rss / (1024 * 1024),
      },
    };
  } finally {
    histogram.disable();
  }
}
