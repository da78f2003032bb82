import { defineCommand } from '../infra/cli/args.ts';
import { scenarioNames, type ScenarioName } from './types.ts';

/** `npm run bench -- [--quick] [--scenario NAME]...`, or `npm run bench -- --only routing [--quick]` */

export interface CliOptions {
  quick: boolean;
  scenarios: ScenarioName[];
  /** A bench of its own instead of the scenarios: `routing` (bench/routing.ts). */
  only?: 'routing';
}

const command = defineCommand({
  synopsis: ['npm run bench -- [--quick] [--scenario NAME]...', 'npm run bench -- --only routing [--quick]'],
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
    only: {
      type: 'string',
      choices: ['routing'],
      placeholder: 'BENCH',
      description:
        'run only this bench instead of the scenarios: routing (matching with 1,000 and 50,000 services in the ' +
        'directory: the pure decision, and the router use case against local DynamoDB)',
    },
  },
  // Every port is chosen by the system (0), so none of npm start's settings apply.
  environment: {},
  examples: [
    'npm run bench -- --quick',
    'npm run bench -- --scenario intake-sequential --scenario end-to-end',
    'npm run bench -- --only routing',
  ],
});

/** The options; on --help or bad arguments it prints and exits (0 or 2). */
export function parseCli(args: string[]): CliOptions {
  const values = command.parse(args);
  const chosen = values.scenario ?? [];
  // Keep the canonical order whatever order the flags came in: later scenarios are compared with earlier ones.
  const scenarios =
    chosen.length === 0 ? [...scenarioNames] : scenarioNames.filter((n) => chosen.includes(n));
  return {
    quick: values.quick,
    scenarios,
    ...(values.only === 'routing' ? { only: 'routing' as const } : {}),
  };
}
