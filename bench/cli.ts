import { parseArgs } from 'node:util';
import { scenarioNames, type ScenarioName } from './types.ts';

/** `npm run bench -- [--quick] [--scenario NAME]...` */

export interface CliOptions {
  quick: boolean;
  scenarios: ScenarioName[];
}

export const usage = `Usage: npm run bench -- [--quick] [--scenario NAME]...
  --quick           every request count divided by 5 (a smoke run)
  --scenario NAME   run only NAME (repeatable); one of: ${scenarioNames.join(', ')}`;

const isScenarioName = (name: string): name is ScenarioName =>
  (scenarioNames as readonly string[]).includes(name);

/** The options, or a message explaining what is wrong with the arguments. */
export function parseCli(args: string[]): CliOptions | { error: string } | { help: true } {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        quick: { type: 'boolean', default: false },
        scenario: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    return { error: (error as Error).message };
  }
  if (values.help) return { help: true };
  const requested = values.scenario ?? [];
  const unknown = requested.filter((name) => !isScenarioName(name));
  if (unknown.length > 0) return { error: `unknown scenario(s): ${unknown.join(', ')}` };
  const chosen = requested.filter(isScenarioName);
  // Keep the canonical order whatever order the flags came in: later scenarios are compared with earlier ones.
  const scenarios =
    chosen.length === 0 ? [...scenarioNames] : scenarioNames.filter((n) => chosen.includes(n));
  return { quick: values.quick, scenarios };
}
