import { describe, expect, it } from 'vitest';
import {
  addDays,
  baselineDays,
  judgeSurge,
  surgeRule,
  surgeThreshold,
} from '#reporting/domain/surge-rule.ts';
import { falseAlarmBound } from '../../bench/surges.ts';
import { mulberry32, poisson, simulateSurgeRule } from '../../bench/surge-simulation.ts';

// The surge rule at its edges, and its false-alarm rate on synthetic Poisson data (the bench's simulation, smaller).

describe('the surge rule', () => {
  it('with no history at all, the minimum count decides: 4 is not a surge, 5 is', () => {
    expect(judgeSurge(4, [])).toEqual({ surge: false, observed: 4, expected: 0, threshold: 5 });
    expect(judgeSurge(5, [])).toMatchObject({ surge: true, threshold: 5 });
  });

  it('an all-zero baseline is the same as none: the spread floor of 1 stops a single referral being a surge', () => {
    const zeros = [0, 0, 0, 0, 0, 0, 0, 0];
    expect(judgeSurge(1, zeros).surge).toBe(false);
    expect(judgeSurge(4, zeros).surge).toBe(false);
    expect(judgeSurge(5, zeros)).toMatchObject({ surge: true, expected: 0, threshold: 5 });
  });

  it('missing weeks count 0: a short baseline is padded, a long one cut to 8 weeks', () => {
    expect(judgeSurge(9, [8])).toEqual(judgeSurge(9, [8, 0, 0, 0, 0, 0, 0, 0]));
    expect(judgeSurge(9, [1, 1, 1, 1, 1, 1, 1, 1, 500]).expected).toBe(1);
  });

  it('the minimum holds even when the baseline alone would allow less', () => {
    // mean 0.25, spread 1: 0.25 + 4 = 4.25 -> 5 anyway.
    expect(surgeThreshold([1, 1, 0, 0, 0, 0, 0, 0])).toBe(surgeRule.minimumCount);
  });

  it('a steady baseline is judged with Poisson spread, not its own zero variance', () => {
    // mean 4, variance 0 -> spread sqrt(4) = 2: 4 + 4 * 2 = 12.
    const steady = [4, 4, 4, 4, 4, 4, 4, 4];
    expect(judgeSurge(11, steady)).toEqual({ surge: false, observed: 11, expected: 4, threshold: 12 });
    expect(judgeSurge(12, steady).surge).toBe(true);
  });

  it('just below and just above the threshold of a busy baseline', () => {
    // mean 25, variance 0 -> spread 5: 25 + 20 = 45 exactly (no float drift lifts it to 46).
    const busy = [25, 25, 25, 25, 25, 25, 25, 25];
    expect(surgeThreshold(busy)).toBe(45);
    expect(judgeSurge(44, busy).surge).toBe(false);
    expect(judgeSurge(45, busy).surge).toBe(true);
  });

  it('a baseline that varies more than Poisson widens the band', () => {
    const jumpy = [0, 20, 0, 20, 0, 20, 0, 20];
    // mean 10, sample variance 800/7 ~ 114.3 -> spread ~10.69: 10 + 42.76 -> 53.
    expect(surgeThreshold(jumpy)).toBe(53);
    expect(judgeSurge(30, jumpy).surge).toBe(false);
  });

  it('the baseline days are the same weekday in each of the 8 weeks before', () => {
    expect(baselineDays('2026-12-02')).toEqual([
      '2026-11-25',
      '2026-11-18',
      '2026-11-11',
      '2026-11-04',
      '2026-10-28',
      '2026-10-21',
      '2026-10-14',
      '2026-10-07',
    ]);
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(addDays('2026-03-29', -7)).toBe('2026-03-22');
  });
});

describe('the false-alarm rate on synthetic data', () => {
  it(`flags fewer than ${falseAlarmBound * 100}% of quiet category x area days at every mean, and catches a tripling of 20 a day`, () => {
    const rows = simulateSurgeRule({ means: [0.5, 2, 5, 20], surgeFactors: [3], trials: 20_000, seed: 7 });
    for (const row of rows) expect(row.falseAlarmRate, `mean ${row.mean}`).toBeLessThan(falseAlarmBound);
    expect(rows.find((row) => row.mean === 20)?.detectionRate['3']).toBeGreaterThan(0.95);
  });

  it('the rule at k = 3 would break the bound: the test can fail', () => {
    const rows = simulateSurgeRule({
      means: [2],
      surgeFactors: [],
      trials: 20_000,
      seed: 7,
      rule: { ...surgeRule, k: 3 },
    });
    expect(rows[0]?.falseAlarmRate).toBeGreaterThan(falseAlarmBound);
  });

  it('the simulation is deterministic and its Poisson draws have the mean asked for', () => {
    const once = simulateSurgeRule({ means: [2], surgeFactors: [2], trials: 2_000, seed: 1 });
    expect(simulateSurgeRule({ means: [2], surgeFactors: [2], trials: 2_000, seed: 1 })).toEqual(once);
    const random = mulberry32(3);
    const draws = Array.from({ length: 20_000 }, () => poisson(5, random));
    const average = draws.reduce((sum, d) => sum + d, 0) / draws.length;
    expect(average).toBeGreaterThan(4.9);
    expect(average).toBeLessThan(5.1);
  });
});
