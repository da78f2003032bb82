import { surgeRule } from '#reporting/domain/surge-rule.ts';
import { defineCommand } from '../cli/args.ts';
import { documentClientFromEnvironment } from '../cli/dynamodb-target.ts';

/**
 * `npm run surges -- [--day YYYY-MM-DD] [--dry-run]`: the surge job, now (docs/surges.md). The stack runs it daily
 * on its own (EventBridge Scheduler; the local stack's timer) for yesterday; this runs the same use case once, for
 * an operator who wants a day looked at again (after late figures, or in a demo) or a dry run of what it would
 * find. Against the local stack by default (DYNAMODB_PORT); AWS when the endpoint is set to ''. It records surge
 * rows but emits no metric: only the scheduled function's SurgesFound pages anyone.
 */

const command = defineCommand({
  synopsis: ['npm run surges -- [--day YYYY-MM-DD] [--dry-run]'],
  summary:
    "Finds a day's surges: each intervention category x area's needs against the same weekday over the 8 weeks\n" +
    'before (docs/surges.md), and records each surge once for the surges report.',
  options: {
    day: {
      type: 'string',
      placeholder: 'YYYY-MM-DD',
      description: 'the UTC day to look at (default: yesterday, the last whole day); never today or later',
    },
    'dry-run': {
      type: 'boolean',
      default: false,
      description: 'say which surges would be recorded; write nothing',
    },
  },
  environment: {
    DYNAMODB_PORT: 'local DynamoDB port, when AWS_ENDPOINT_URL_DYNAMODB is unset (8000, as npm start)',
    AWS_ENDPOINT_URL_DYNAMODB: "DynamoDB endpoint (http://127.0.0.1:$DYNAMODB_PORT); '' for AWS itself",
    METRICS_TABLE:
      'the metrics table, where the figures and surge rows are (metrics; in AWS the stack output)',
    AWS_REGION: 'region (eu-west-2)',
  },
  examples: ['npm run surges -- --dry-run', 'npm run surges -- --day 2026-11-30'],
});
const values = command.parse();
const today = new Date().toISOString().slice(0, 10);
if (values.day !== undefined) {
  const parsed = new Date(`${values.day}T00:00:00Z`);
  const valid =
    /^\d{4}-\d{2}-\d{2}$/.test(values.day) &&
    !Number.isNaN(parsed.getTime()) &&
    parsed.toISOString().slice(0, 10) === values.day;
  if (!valid) command.fail(`--day must be a date such as 2026-11-30, not "${values.day}"`);
  // A day still going on is not yet counted: a surge recorded on part of it would not be looked at again.
  if (values.day >= today)
    command.fail(`--day must be before today (${today}, UTC): that day is not over yet`);
}

// Loaded once the arguments are good, so --help and a mistyped flag answer at once, not after the SDK has loaded.
const [{ surgeDeps }, app, documentClient] = await Promise.all([
  import('../../functions/surges/deps.ts'),
  import('#reporting/application/detect-surges.ts'),
  documentClientFromEnvironment(),
]);

try {
  const deps = surgeDeps({
    documentClient,
    tables: { metrics: process.env.METRICS_TABLE ?? 'metrics' },
    clock: { now: () => new Date() },
  });
  const day = values.day ?? app.yesterday(new Date());
  console.log(
    `Surges on ${day}: reading the needs figures of it and the 8 same weekdays before` +
      `${values['dry-run'] ? ' (dry run: nothing written)' : ''}...`,
  );
  const summary = await app.detectSurges(deps, { day, dryRun: values['dry-run'] });
  for (const surge of summary.surges)
    console.log(
      `  ${surge.step.padEnd(12)} ${surge.category} in ${surge.area}: ${surge.observed} needs, ` +
        `expected ${surge.expected}, threshold ${surge.threshold}`,
    );
  const wouldOrDid = values['dry-run'] ? 'would be recorded' : 'recorded';
  console.log(
    summary.judged
      ? `Done: ${summary.compared} category x area pairs compared (baseline ${summary.baseline.at(-1)} to ` +
          `${summary.baseline[0]}), ${summary.surges.length} surges: ` +
          `${values['dry-run'] ? summary.surges.length - summary.alreadyRecorded : summary.recorded} ${wouldOrDid}, ` +
          `${summary.alreadyRecorded} already recorded`
      : `Done: not judged: the service has needs figures in ${summary.baseline.length} of the ` +
          `${surgeRule.baselineWeeks} baseline weeks, and a day is judged from ${surgeRule.minimumLiveWeeks} on`,
  );
} catch (error) {
  console.error(`The surge job failed: ${(error as Error).message}`);
  process.exit(1);
} finally {
  documentClient.destroy();
}
