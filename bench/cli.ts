import { defineCommand } from '../infra/cli/args.ts';
import { scenarioNames, type ScenarioName } from './types.ts';

/** `npm run bench -- [--quick] [--scenario NAME]...` */

export interface CliOptions {
  quick: boolean;
  scenarios: ScenarioName[];
}

const command = defineCommand({
  synopsis: ['npm run bench -- [--quick] [--scenario NAME]...'],
  summary:
    'Starts the whole system in this process (in memory, loopback ports), runs each scenario, prints a table and\n' +
    'writes bench/results/latest.json. Exits 1 if a correctness check fails.',
  options: {
    quick: { type: 'boolean', default: false, description: 'every request count divided by 5 (a smoke run)' },
    scenario: {
      type: 'string',
      multiple: true,
      choices: scenarioNames,
      placeholder: 'NAME',
      description: 'run only NAME',
    },
  },
  // Every port is chosen by the system (0), so none of npm start's settings apply.
  environment: {},
  examples: [
    'npm run bench -- --quick',
    'npm run bench -- --scenario intake-sequential --scenario end-to-end',
  ],
});

/** The options; on --help or bad arguments it prints and exits (0 or 2). */
export function parseCli(args: string[]): CliOptions {
  const values = command.parse(args);
  const chosen = values.scenario ?? [];
  // Keep the canonical order whatever order the flags came in: later scenarios are compared with earlier ones.
  const scenarios =
    chosen.length === 0 ? [...scenarioNames] : scenarioNames.filter((n) => chosen.includes(n));
  return { quick: values.quick, scenarios };
}
