import { surgeRule } from '#reporting/domain/surge-rule.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { defaultSimulation, simulateSurgeRule, type SimulationRow } from './surge-simulation.ts';

/**
 * `npm run bench -- --only surges [--quick]`: the surge rule's false-alarm and detection rates on synthetic Poisson
 * data (bench/surge-simulation.ts), at means 0.5, 2, 5 and 20 a day, 200,000 category x area days each (40,000 with
 * --quick). No servers: the rule is pure. Writes bench/results/surges.json; the figures are in docs/surges.md.
 * Exits 1 if any false-alarm rate reaches `falseAlarmBound` (the bound the unit test also holds).
 */

/** The most quiet category x area days the rule may flag, at any mean simulated. */
export const falseAlarmBound = 0.005;

const resultsFile = new URL('./results/surges.json', import.meta.url);

export function surgesBench(options: { quick: boolean }): number {
  const simulation = { ...defaultSimulation, trials: defaultSimulation.trials / (options.quick ? 5 : 1) };
  console.log(
    `surge rule: observed >= max(${surgeRule.minimumCount}, ceil(mean + ${surgeRule.k} * sqrt(max(mean, variance, 1)))) ` +
      `over ${surgeRule.baselineWeeks} same weekdays; ${simulation.trials.toLocaleString('en-GB')} days per row, ` +
      `seed ${simulation.seed}`,
  );
  const started = performance.now();
  const rows = simulateSurgeRule(simulation);
  const seconds = (performance.now() - started) / 1000;
  console.log(lines(rows).join('\n'));
  const over = rows.filter((row) => row.falseAlarmRate >= falseAlarmBound);
  for (const row of over)
    console.log(
      `FAILED: false-alarm rate ${percent(row.falseAlarmRate)} at mean ${row.mean} >= ${percent(falseAlarmBound)}`,
    );
  // Not report.ts's writeJson: it rounds to 2 places, and these rates are fractions of a percent.
  mkdirSync(new URL('.', resultsFile), { recursive: true });
  const report = {
    rule: surgeRule,
    simulation,
    falseAlarmBound,
    seconds: Math.round(seconds * 10) / 10,
    rows,
  };
  writeFileSync(resultsFile, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`(${seconds.toFixed(1)} s) wrote ${resultsFile.pathname}`);
  return over.length === 0 ? 0 : 1;
}

function lines(rows: readonly SimulationRow[]): string[] {
  const factors = Object.keys(rows[0]?.detectionRate ?? {});
  const header = ['mean/day', 'false alarms', ...factors.map((f) => `detected at ${f}x`)];
  const body = rows.map((row) => [
    String(row.mean),
    percent(row.falseAlarmRate),
    ...factors.map((f) => percent(row.detectionRate[f] ?? 0)),
  ]);
  return [header, ...body].map((cells) => cells.map((cell) => cell.padStart(17)).join(''));
}

function percent(share: number): string {
  return `${(share * 100).toFixed(share < 0.01 ? 3 : 1)}%`;
}
