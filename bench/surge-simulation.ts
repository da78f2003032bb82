import { judgeSurge, surgeRule, type SurgeRule } from '#reporting/domain/surge-rule.ts';

/**
 * The surge rule (#reporting/domain/surge-rule.ts) on synthetic data: each trial is one category x area day with
 * `baselineWeeks` weeks of history, every count Poisson at a fixed mean. With no surge, the share flagged is the
 * false-alarm rate; with today's mean multiplied (2x, 3x), the share flagged is the detection rate. Deterministic: a
 * seeded PRNG, so the figures in docs/benchmarks.md are reproduced exactly by `npm run bench -- --only surges`.
 */

export interface SimulationOptions {
  means: readonly number[];
  /** Today's mean as a multiple of the baseline's, for the detection rates. */
  surgeFactors: readonly number[];
  /** Category x area days simulated per mean and per factor. */
  trials: number;
  seed: number;
  rule?: SurgeRule;
}

export interface SimulationRow {
  mean: number;
  /** Share of quiet days flagged. */
  falseAlarmRate: number;
  /** Share of days flagged at each surge factor (`"2"`, `"3"`). */
  detectionRate: Record<string, number>;
}

export const defaultSimulation: SimulationOptions = {
  means: [0.5, 2, 5, 20],
  surgeFactors: [2, 3],
  trials: 200_000,
  seed: 20_261_202,
};

export function simulateSurgeRule(options: SimulationOptions): SimulationRow[] {
  const rule = options.rule ?? surgeRule;
  const random = mulberry32(options.seed);
  return options.means.map((mean) => {
    const flaggedShare = (todayMean: number) => {
      let flagged = 0;
      for (let trial = 0; trial < options.trials; trial++) {
        const baseline = Array.from({ length: rule.baselineWeeks }, () => poisson(mean, random));
        if (judgeSurge(poisson(todayMean, random), baseline, rule).surge) flagged++;
      }
      return flagged / options.trials;
    };
    return {
      mean,
      falseAlarmRate: flaggedShare(mean),
      detectionRate: Object.fromEntries(
        options.surgeFactors.map((factor) => [String(factor), flaggedShare(mean * factor)]),
      ),
    };
  });
}

/** A small, fast, seeded PRNG (mulberry32): uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * A Poisson draw (Knuth: multiply uniforms until below e^-mean). O(mean) per draw, exact, and fine for the means
 * simulated here (at most 60: e^-60 is still far above the smallest double).
 */
export function poisson(mean: number, random: () => number): number {
  const limit = Math.exp(-mean);
  let count = 0;
  let product = random();
  while (product > limit) {
    count++;
    product *= random();
  }
  return count;
}
