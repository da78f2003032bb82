import { defineCommand } from '../cli/args.ts';

/**
 * `npm run deadlines -- [--at ISO] [--dry-run] [--limit N]`: the deadline job, now (docs/operations.md). The
 * stack runs it every 5 minutes on its own (EventBridge Scheduler; the local stack's timer); this runs the same use
 * case once, for an operator who wants it now, or, with --at, as if it were later (a drill, or a demo of deadlines
 * passing without waiting a week). Against the local stack by default (DYNAMODB_PORT, SQS_PORT); AWS when the
 * endpoints are set to ''.
 */

const command = defineCommand({
  synopsis: ['npm run deadlines -- [--at ISO-DATE-TIME] [--dry-run] [--limit N]'],
  summary:
    'Runs the deadline job once: offers past their deadline get one reminder, then expire and go to the next match.',
  options: {
    at: {
      type: 'string',
      placeholder: 'ISO',
      description:
        'act as if it were this time (default: now), e.g. 2026-12-10T09:00:00Z: a drill on the local stack only, never earlier than now',
    },
    'dry-run': {
      type: 'boolean',
      default: false,
      description: 'say what would be done; write and send nothing',
    },
    limit: {
      type: 'string',
      placeholder: 'N',
      description: 'at most N due offers (default 200, as each scheduled run)',
    },
  },
  environment: {
    DYNAMODB_PORT: 'local DynamoDB port, when AWS_ENDPOINT_URL_DYNAMODB is unset (8000, as npm start)',
    AWS_ENDPOINT_URL_DYNAMODB: "DynamoDB endpoint (http://127.0.0.1:$DYNAMODB_PORT); '' for AWS itself",
    SQS_PORT: 'local SQS port, when AWS_ENDPOINT_URL_SQS is unset (9324)',
    AWS_ENDPOINT_URL_SQS: "SQS endpoint (http://127.0.0.1:$SQS_PORT); '' for AWS itself",
    'REFERRALS_TABLE, AUDIT_TABLE, METRICS_TABLE, DIRECTORY_TABLE':
      'the tables (referrals, audit, metrics, directory; in AWS the stack outputs)',
    NOTIFICATIONS_QUEUE_URL: 'the notifications queue (found by name locally; in AWS the stack output)',
    AWS_REGION: 'region (eu-west-2)',
  },
  examples: ['npm run deadlines -- --dry-run', 'npm run deadlines -- --at 2026-12-20T09:00:00Z'],
});
const values = command.parse();
const at = values.at === undefined ? new Date() : new Date(values.at);
if (values.at !== undefined && (Number.isNaN(at.getTime()) || !/^\d{4}-\d{2}-\d{2}T/.test(values.at))) {
  command.fail(`--at must be an ISO date-time such as 2026-12-10T09:00:00Z, not "${values.at}"`);
}
if (at.getTime() < Date.now() - 60_000)
  command.fail('--at must not be in the past: deadlines only move forward');
const limit = values.limit === undefined ? 200 : Number(values.limit);
if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
  command.fail(`--limit must be a whole number from 1 to 10000, not "${values.limit}"`);
}

// Loaded once the arguments are good, so --help and a mistyped flag answer at once, not after the SDK has loaded.
const [
  { DynamoDBClient },
  { DynamoDBDocumentClient },
  { SQSClient, GetQueueUrlCommand },
  { deadlineDeps },
  app,
] = await Promise.all([
  import('@aws-sdk/client-dynamodb'),
  import('@aws-sdk/lib-dynamodb'),
  import('@aws-sdk/client-sqs'),
  import('../../functions/deadlines/deps.ts'),
  import('#referral/application/offer-deadlines.ts'),
]);

// Acting as if later chases real partners early and dates audit entries and counts in the future: a local drill
// only. Against AWS the job runs at the real time.
if (values.at !== undefined && (dynamoEndpointFor() === '' || sqsEndpointFor() === '')) {
  command.fail('--at is for the local stack only: against AWS the deadline job runs at the real time');
}

const region = process.env.AWS_REGION ?? 'eu-west-2';
const local = { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
const dynamoEndpoint = dynamoEndpointFor();
const sqsEndpoint = sqsEndpointFor();
const dynamoDb = new DynamoDBClient({
  region,
  ...(dynamoEndpoint ? { endpoint: dynamoEndpoint, ...local } : {}),
});
const documentClient = DynamoDBDocumentClient.from(dynamoDb, {
  marshallOptions: { removeUndefinedValues: true },
});
const sqs = new SQSClient({ region, ...(sqsEndpoint ? { endpoint: sqsEndpoint, ...local } : {}) });

try {
  const notificationsQueueUrl =
    process.env.NOTIFICATIONS_QUEUE_URL ??
    (await (async () => {
      const { QueueUrl = '' } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'notifications' }));
      // fauxqs names a host that does not resolve: its queues are at its own address.
      return sqsEndpoint ? `${sqsEndpoint}${new URL(QueueUrl).pathname}` : QueueUrl;
    })());
  const deps = deadlineDeps({
    documentClient,
    sqs,
    tables: {
      referrals: process.env.REFERRALS_TABLE ?? 'referrals',
      audit: process.env.AUDIT_TABLE ?? 'audit',
      metrics: process.env.METRICS_TABLE ?? 'metrics',
      directory: process.env.DIRECTORY_TABLE ?? 'directory',
    },
    notificationsQueueUrl,
    clock: { now: () => new Date(at) },
  });
  console.log(
    `Deadline job as at ${at.toISOString()}${values['dry-run'] ? ' (dry run: nothing written or sent)' : ''}...`,
  );
  const summary = await app.runOfferDeadlines(deps, { limit, dryRun: values['dry-run'] });
  for (const step of summary.steps)
    console.log(
      `  ${step.step.padEnd(18)} ${step.offerId}${step.next ? ` -> ${step.next}` : ''}${step.reason ? `: ${step.reason}` : ''}`,
    );
  console.log(
    `Done: ${summary.due} due, ${summary.reminded} reminded, ${summary.expired} expired ` +
      `(${summary.reoffered} offered to the next match, ${summary.returned} returned to the link worker), ` +
      `${summary.skipped} answered meanwhile, ${summary.finished} left half done by an earlier run finished` +
      (summary.failed > 0 ? `, ${summary.failed} failed (the next run tries again)` : '') +
      (summary.more ? `; more are waiting: run again` : ''),
  );
  if (summary.failed > 0) process.exitCode = 1;
} catch (error) {
  console.error(`The deadline job failed: ${(error as Error).message}`);
  process.exit(1);
} finally {
  dynamoDb.destroy();
  sqs.destroy();
}

/** The endpoints, local by default; '' means AWS itself. */
function dynamoEndpointFor(): string {
  return process.env.AWS_ENDPOINT_URL_DYNAMODB ?? `http://127.0.0.1:${process.env.DYNAMODB_PORT ?? '8000'}`;
}
function sqsEndpointFor(): string {
  return process.env.AWS_ENDPOINT_URL_SQS ?? `http://127.0.0.1:${process.env.SQS_PORT ?? '9324'}`;
}
