import { resolve } from 'node:path';
import { defineCommand } from '../cli/args.ts';
import type { LocalStack, LocalStackWithoutReceiver } from './local-stack.ts';

/**
 * `npm start`: the whole system on this machine, no AWS account needed.
 *   --in-memory   keep nothing (default: data kept under .data/, so a restart keeps referrals and queues)
 *   --verbose     show the functions' own JSON logs (INFO); default WARN
 *   --clock-speed N   run the schedules' timers N times faster (the deadline job every 300/N s)
 * Ports: PORT (API, default 3000), WEBHOOK_PORT (3001), ISSUER_PORT (3002), DYNAMODB_PORT (8000), SQS_PORT (9324).
 * WEBHOOK_URL: send the webhooks to a receiver already running there instead of starting one (WEBHOOK_PORT is then
 * unused); the crash test keeps its receiver alive across a kill -9 of the stack this way.
 */

const values = defineCommand({
  synopsis: ['npm start -- [--in-memory] [--verbose] [--clock-speed N]'],
  summary:
    'Runs the API, queues, functions, tables, a webhook receiver, a token issuer and a sample directory locally.',
  options: {
    'in-memory': {
      type: 'boolean',
      default: false,
      description: 'keep nothing (default: data kept under DATA_DIR)',
    },
    verbose: {
      type: 'boolean',
      default: false,
      description: "show the functions' own JSON logs (INFO; default WARN)",
    },
    'clock-speed': {
      type: 'string',
      placeholder: 'N',
      description:
        "run the scheduled functions' timers N times faster (1-3600; default 1): with 60, the deadline job runs " +
        'every 5 s instead of every 5 minutes. Deadlines themselves are real dates: `npm run deadlines -- --at` ' +
        'acts as if later',
    },
  },
  environment: {
    PORT: 'API port (3000)',
    WEBHOOK_PORT: 'local webhook receiver port (3001)',
    ISSUER_PORT: 'development token issuer port (3002)',
    DYNAMODB_PORT: 'local DynamoDB port (8000)',
    SQS_PORT: 'local SQS port (9324)',
    DATA_DIR: 'where data is kept between starts (.data)',
    WEBHOOK_URL: 'send webhooks to a receiver already running there; none is started (unset)',
  },
  examples: ['npm start', 'PORT=4000 npm start -- --in-memory --verbose'],
}).parse();
// Loaded once the arguments are good, so --help and a mistyped flag answer at once, not after the stack has loaded.
const { startLocalStack } = await import('./local-stack.ts');

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    console.error(`${name} must be a port number (0-65535), not "${raw}"`);
    process.exit(2);
  }
  return value;
}

function clockSpeed(raw: string | undefined): number {
  if (raw === undefined) return 1;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 1 || value > 3600) {
    console.error(`--clock-speed must be a number from 1 to 3600, not "${raw}"`);
    process.exit(2);
  }
  return value;
}

const time = (): string => new Date().toISOString().slice(11, 19);
const log = (line: string): void => console.log(`${time()} ${line}`);
const dataDir = values['in-memory'] ? undefined : resolve(process.env.DATA_DIR ?? '.data');

log(`starting local stack (${dataDir ? `data in ${dataDir}` : 'in memory, nothing kept'})`);
let stack: LocalStack | LocalStackWithoutReceiver;
try {
  stack = await startLocalStack({
    port: port('PORT', 3000),
    webhookPort: port('WEBHOOK_PORT', 3001),
    ...(process.env.WEBHOOK_URL ? { webhookUrl: process.env.WEBHOOK_URL } : {}),
    issuerPort: port('ISSUER_PORT', 3002),
    dynamoDbPort: port('DYNAMODB_PORT', 8000),
    sqsPort: port('SQS_PORT', 9324),
    ...(dataDir ? { dataDir } : {}),
    functionLogLevel: values.verbose ? 'INFO' : 'WARN',
    clockSpeed: clockSpeed(values['clock-speed']),
    log,
  });
} catch (error) {
  const message =
    (error as NodeJS.ErrnoException).code === 'EADDRINUSE'
      ? `a port is already in use (${(error as Error).message}); is another "npm start" running? Set PORT etc. to move.`
      : String(error);
  console.error(`Could not start the local stack: ${message}`);
  process.exit(1);
}

console.log(`
Ready: API ${stack.apiUrl}   (DynamoDB ${stack.aws.dynamoDbEndpoint}, SQS ${stack.aws.sqsEndpoint}, webhooks ${stack.webhookUrl}, token issuer ${stack.issuer.issuer})

Try it:
  TOKEN=$(npm run -s token -- --role gp-system --ods A81001)
  curl -s -X POST ${stack.apiUrl}/referrals -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
    --data @events/referrals/leeds-arts-and-mental-health.json
  curl -s -H "Authorization: Bearer $TOKEN" ${stack.apiUrl}/referrals/<referralId from the answer>
Or, in another terminal: npm run demo
Partners' and link workers' inbox: ${stack.apiUrl}/inbox   (sign in with: npm run -s token -- --role partner --partner arts-for-all)
Commissioners' observatory (charts of the reports; npm run demo fills them): ${stack.apiUrl}/observatory   (sign in with: npm run -s token -- --role commissioner)
Email sent to partners on the email channel (no patient data): ${stack.aws.ses.endpoint}/ (GET /store as JSON)
Ctrl-C stops it${dataDir ? '; data is kept for the next start' : ''}.
`);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log(`${signal}: stopping (finishing in-flight batches)...`);
  await stack.stop();
  log('stopped');
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
