import { defineCommand } from '../cli/args.ts';
import { documentClientFromEnvironment } from '../cli/dynamodb-target.ts';

/**
 * `npm run response-records -- [--dry-run]`: the response-record job, now (docs/directory.md). The stack runs it
 * daily on its own (EventBridge Scheduler; the local stack's timer); this runs the same use case once, for an
 * operator who wants partners' records up to date at once (after a drill, or in a demo). Against the local stack by
 * default (DYNAMODB_PORT); AWS when the endpoint is set to ''.
 */

const command = defineCommand({
  synopsis: ['npm run response-records -- [--dry-run]'],
  summary:
    "Recomputes every active partner's response record from its answers of the last 90 days and writes it to the directory.",
  options: {
    'dry-run': {
      type: 'boolean',
      default: false,
      description: 'say which records would change, and to what; write nothing',
    },
  },
  environment: {
    DYNAMODB_PORT: 'local DynamoDB port, when AWS_ENDPOINT_URL_DYNAMODB is unset (8000, as npm start)',
    AWS_ENDPOINT_URL_DYNAMODB: "DynamoDB endpoint (http://127.0.0.1:$DYNAMODB_PORT); '' for AWS itself",
    'METRICS_TABLE, DIRECTORY_TABLE': 'the tables (metrics, directory; in AWS the stack outputs)',
    AWS_REGION: 'region (eu-west-2)',
  },
  examples: ['npm run response-records -- --dry-run', 'npm run response-records'],
});
const values = command.parse();

// Loaded once the arguments are good, so --help and a mistyped flag answer at once, not after the SDK has loaded.
const [{ responseRecordDeps }, app, documentClient] = await Promise.all([
  import('../../functions/response-records/deps.ts'),
  import('#reporting/application/recompute-response-records.ts'),
  documentClientFromEnvironment(),
]);

try {
  const deps = responseRecordDeps({
    documentClient,
    tables: {
      metrics: process.env.METRICS_TABLE ?? 'metrics',
      directory: process.env.DIRECTORY_TABLE ?? 'directory',
    },
    clock: { now: () => new Date() },
  });
  const summary = await app.recomputeResponseRecords(deps, { dryRun: values['dry-run'] });
  console.log(
    `Response records for ${summary.window.from} to ${summary.window.to}` +
      `${values['dry-run'] ? ' (dry run: nothing written)' : ''}:`,
  );
  for (const step of summary.steps) {
    const record = step.record
      ? ` ${step.record.accepted}/${step.record.answered} accepted, median ${step.record.medianResponseHours ?? '-'} h, ${step.record.expired ?? 0} expired`
      : '';
    console.log(`  ${step.step.padEnd(12)} ${step.partnerId}${record}`);
  }
  console.log(
    `Done: ${summary.partners} active partners, ${summary.updated} ${values['dry-run'] ? 'would change' : 'updated'}, ` +
      `${summary.unchanged} unchanged, ${summary.conflicted} edited meanwhile (left to the next run)`,
  );
} catch (error) {
  console.error(`The response-record job failed: ${(error as Error).message}`);
  process.exit(1);
} finally {
  documentClient.destroy();
}
