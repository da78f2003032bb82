import { join } from 'node:path';
import { defineCommand } from '../cli/args.ts';

/**
 * `npm run evaluation -- export --from MONDAY --to SUNDAY [--out FILE] [--k N] [--dry-run]`: the evaluation extract
 * (docs/evaluation.md), the same use case as the ops route GET /evaluation/extract, for any number of whole weeks.
 * Against the local stack by default (DYNAMODB_PORT; the pseudonym key in $DATA_DIR/pseudonym-key, as `npm start`
 * keeps it); AWS when AWS_ENDPOINT_URL_DYNAMODB='' and PSEUDONYM_KEY names the stack's secret.
 */

const synopsis = 'npm run evaluation -- export --from MONDAY --to SUNDAY [--out FILE] [--k N] [--dry-run]';

const command = defineCommand({
  synopsis: [synopsis],
  summary:
    'Writes the evaluation extract: one pseudonymised row per referral received from --from to --to (whole ISO\n' +
    'weeks: --from a Monday, --to a Sunday, UTC, both included) as CSV, keyed by an HMAC of the NHS number;\n' +
    'codes, bands and ISO weeks only. Refused (exit 1) when a combination of IMD decile, age band, sex and PCN\n' +
    'holds fewer than k people, naming each such combination (never who is in it). The k check holds for one\n' +
    'extract: give evaluators extracts of weeks that do not overlap. Progress on stderr; the CSV to --out or\n' +
    'standard output. A bad argument (a day that is not a Monday or a Sunday, k below 5) exits 2.',
  options: {
    from: {
      type: 'string',
      placeholder: 'YYYY-MM-DD',
      required: true,
      description: 'the first day received: a Monday',
    },
    to: {
      type: 'string',
      placeholder: 'YYYY-MM-DD',
      required: true,
      description: 'the last day received: a Sunday',
    },
    out: {
      type: 'string',
      placeholder: 'FILE',
      description: 'write the CSV there (default: standard output)',
    },
    k: {
      type: 'string',
      placeholder: 'N',
      description:
        'the least number of people every combination must hold, 5 (the default and the floor) to 100',
    },
    'dry-run': {
      type: 'boolean',
      default: false,
      description: 'make the extract and run the k check, say how many rows and people; write no CSV',
    },
  },
  environment: {
    DYNAMODB_PORT: 'local DynamoDB port, when AWS_ENDPOINT_URL_DYNAMODB is unset (8000, as npm start)',
    AWS_ENDPOINT_URL_DYNAMODB: "DynamoDB endpoint (http://127.0.0.1:$DYNAMODB_PORT); '' for AWS itself",
    'REFERRALS_TABLE, DIRECTORY_TABLE': 'the tables (referrals, directory; in AWS the stack outputs)',
    PSEUDONYM_KEY:
      'the pseudonym key: file:<path> or secretsmanager:<name> (in AWS <stack name>/evaluation/pseudonym-key); default file:$DATA_DIR/pseudonym-key locally, required against AWS',
    DATA_DIR: "npm start's data directory, for the default key file (.data)",
    AWS_REGION: 'region (eu-west-2)',
  },
  examples: [
    'npm run evaluation -- export --from 2025-12-29 --to 2026-03-29 --out evaluation-2026-w01-w13.csv',
    'npm run evaluation -- export --from 2026-03-30 --to 2026-04-26 --k 10 --dry-run',
  ],
});

const args = process.argv.slice(2).filter((arg) => arg !== '--');
const verb = args[0];
if (verb === 'export') args.shift();
const values = command.parse(args);
if (verb !== 'export')
  command.fail(verb === undefined ? 'say what to do: export' : `unknown command "${verb}": export`);

const dynamoEndpoint =
  process.env.AWS_ENDPOINT_URL_DYNAMODB ?? `http://127.0.0.1:${process.env.DYNAMODB_PORT ?? '8000'}`;
const keyLocation =
  process.env.PSEUDONYM_KEY ??
  (dynamoEndpoint ? `file:${join(process.env.DATA_DIR ?? '.data', 'pseudonym-key')}` : '');
if (keyLocation === '')
  command.fail(
    "PSEUDONYM_KEY must name the stack's secret against AWS: secretsmanager:<stack name>/evaluation/pseudonym-key",
  );

// Loaded once the arguments are good, so --help and a mistyped flag answer at once, not after the SDK has loaded.
const [
  { DynamoDBClient },
  { DynamoDBDocumentClient },
  { writeFileSync },
  { evaluationDeps },
  { pseudonymKeyFrom },
  app,
  errors,
] = await Promise.all([
  import('@aws-sdk/client-dynamodb'),
  import('@aws-sdk/lib-dynamodb'),
  import('node:fs'),
  import('../../functions/evaluation/deps.ts'),
  import('#platform/secrets.ts'),
  import('#reporting/application/evaluation-extract.ts'),
  import('#kernel/errors.ts'),
]);

const region = process.env.AWS_REGION ?? 'eu-west-2';
const dynamoDb = new DynamoDBClient({
  region,
  ...(dynamoEndpoint
    ? { endpoint: dynamoEndpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
    : {}),
});
const documentClient = DynamoDBDocumentClient.from(dynamoDb);

/** A line on stderr every 250 referrals or 2 s (rewritten in place on a terminal). */
function progress(): { tick: (read: number) => void; done: () => void } {
  // The first line after 2 s or 250 referrals, not at the first one; the last one always (done).
  let last = Date.now();
  let shown = 0;
  let latest = 0;
  const tty = process.stderr.isTTY === true;
  const show = (read: number) =>
    process.stderr.write(`${tty ? '\r' : ''}  ${read} referrals read${tty ? '' : '\n'}`);
  return {
    tick(read) {
      latest = read;
      if (read - shown < 250 && Date.now() - last < 2000) return;
      shown = read;
      last = Date.now();
      show(read);
    },
    done() {
      if (latest !== shown) show(latest);
      if (tty) process.stderr.write('\n');
    },
  };
}

try {
  const deps = evaluationDeps({
    documentClient,
    tables: {
      referrals: process.env.REFERRALS_TABLE ?? 'referrals',
      directory: process.env.DIRECTORY_TABLE ?? 'directory',
    },
    pseudonymKey: pseudonymKeyFrom(keyLocation),
  });
  process.stderr.write(`Evaluation extract of referrals received ${values.from} to ${values.to}...\n`);
  const bar = progress();
  const extract = await app
    .evaluationExtract(
      deps,
      { from: values.from, to: values.to, ...(values.k === undefined ? {} : { k: values.k }) },
      { onProgress: bar.tick },
    )
    .finally(() => bar.done());
  const summary = `${extract.rows.length} rows, ${extract.people} people; every combination of the quasi-identifiers holds at least k=${extract.k}`;
  if (values['dry-run']) {
    process.stderr.write(`Dry run: ${summary}; no CSV written\n`);
  } else {
    const csv = app.evaluationCsv(extract.rows);
    if (values.out === undefined) process.stdout.write(csv);
    else writeFileSync(values.out, csv, { mode: 0o600 });
    process.stderr.write(`Done: ${summary}${values.out === undefined ? '' : `; written to ${values.out}`}\n`);
  }
} catch (error) {
  if (error instanceof errors.ValidationError) {
    process.stderr.write(
      `${error.problems.map((p) => `--${p.field} ${p.rule}`).join('\n')}\n\n${command.usage}\n`,
    );
    process.exitCode = 2;
  } else if (error instanceof errors.UnprocessableError) {
    process.stderr.write(`The extract is ${error.message}\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`The extract failed: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
} finally {
  dynamoDb.destroy();
}
