import { defineCommand } from '../infra/cli/args.ts';
import { scenarioNames, type ScenarioName } from './types.ts';

/** The local DynamoDB the geography bench writes to: Amazon's DynamoDB Local in memory, or dynalite on disk. */
export const geographyBackends = ['dynamodb-local', 'dynalite'] as const;
export type GeographyBackend = (typeof geographyBackends)[number];

/**
 * `npm run bench -- [--quick] [--scenario NAME]...`, or `npm run bench -- --only routing [--quick]`, or
 * `npm run bench -- --only geography [--rows N] [--concurrency N] [--backend dynamodb-local|dynalite]`, or
 * `npm run bench -- --only surges [--quick]`, or `npm run bench -- --only throughput [--quick]`
 */

export interface CliOptions {
  quick: boolean;
  scenarios: ScenarioName[];
  /**
   * A bench of its own instead of the scenarios: `routing` (bench/routing.ts), `geography` (bench/geography.ts),
   * `surges` (bench/surges.ts), `cold-start` (bench/cold-start.ts), `throughput` (bench/throughput.ts).
   */
  only?: 'routing' | 'geography' | 'surges' | 'cold-start' | 'throughput' | 'requests';
  /** The geography bench's size and batches in flight. */
  geography?: { rows: number; concurrency: number; backend: GeographyBackend };
}

const command = defineCommand({
  synopsis: [
    'npm run bench -- [--quick] [--scenario NAME]...',
    'npm run bench -- --only routing [--quick]',
    'npm run bench -- --only geography [--rows N] [--concurrency N] [--backend dynamodb-local|dynalite]',
    'npm run bench -- --only surges [--quick]',
    'npm run bench -- --only cold-start [--quick]',
    'npm run bench -- --only throughput [--quick]',
    'npm run bench -- --only requests [--quick]',
  ],
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
      choices: ['routing', 'geography', 'surges', 'cold-start', 'throughput', 'requests'],
      placeholder: 'BENCH',
      description:
        'run only this bench instead of the scenarios: routing (matching with 1,000 and 50,000 services in the ' +
        'directory: the pure decision, and the router use case against local DynamoDB); geography (the NSPL ' +
        'import against the raw BatchWriteItem rate, its peak RSS, a kill -9 and resume; docs/geography.md); surges ' +
        '(the surge rule on synthetic Poisson data: false-alarm and detection rates; docs/surges.md); cold-start (each ' +
        "function's bundle size and import time against a hello-world creating the same SDK clients); throughput " +
        "(referrals/s from POST to last webhook at 10, 50 and 200 closed-loop clients, beside the local servers' " +
        "raw capacity and intake's overhead over a minimal handler making the same calls; about 3 minutes); requests (the " +
        'AWS requests, read and write units and list-price cost of one referral with a team and two partners, step by ' +
        "step, from the functions' own request accounting)",
    },
    rows: {
      type: 'string',
      placeholder: 'N',
      description: "geography: rows of the synthetic NSPL (default 2,700,000, the real file's size)",
    },
    concurrency: {
      type: 'string',
      placeholder: 'N',
      description: 'geography: batches of 25 in flight, for the import and the raw loop alike (default 8)',
    },
    backend: {
      type: 'string',
      choices: geographyBackends,
      placeholder: 'SERVER',
      description:
        "geography: the local DynamoDB for the import and the raw loop alike: dynamodb-local (Amazon's, in memory; " +
        'the default) or dynalite (on disk, as npm start keeps its data)',
    },
  },
  // Every port is chosen by the system (0), so none of npm start's settings apply.
  environment: {},
  examples: [
    'npm run bench -- --quick',
    'npm run bench -- --scenario intake-sequential --scenario end-to-end',
    'npm run bench -- --only routing',
    'npm run bench -- --only geography --rows 300000',
    'npm run bench -- --only surges',
    'npm run bench -- --only cold-start',
    'npm run bench -- --only throughput',
    'npm run bench -- --only requests',
  ],
});

/** The options; on --help or bad arguments it prints and exits (0 or 2). */
export function parseCli(args: string[]): CliOptions {
  const values = command.parse(args);
  const chosen = values.scenario ?? [];
  // Keep the canonical order whatever order the flags came in: later scenarios are compared with earlier ones.
  const scenarios =
    chosen.length === 0 ? [...scenarioNames] : scenarioNames.filter((n) => chosen.includes(n));
  if (
    values.only !== 'geography' &&
    (values.rows !== undefined || values.concurrency !== undefined || values.backend !== undefined)
  ) {
    command.fail('--rows, --concurrency and --backend are for --only geography');
  }
  return {
    quick: values.quick,
    scenarios,
    ...(values.only === undefined ? {} : { only: values.only }),
    ...(values.only === 'geography'
      ? {
          geography: {
            rows: whole('rows', values.rows, 2_700_000),
            concurrency: whole('concurrency', values.concurrency, 8),
            backend: values.backend ?? 'dynamodb-local',
          },
        }
      : {}),
  };
}

function whole(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw.replace(/[,_]/g, ''));
  if (!Number.isInteger(value) || value < 1)
    command.fail(`--${name} must be a whole number >= 1, not "${raw}"`);
  return value;
}
