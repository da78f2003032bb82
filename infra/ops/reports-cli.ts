import { writeFileSync } from 'node:fs';
import { defineCommand, type Command, type OptionSpecs, splitWords } from '../cli/args.ts';
import { documentClientFromEnvironment } from '../cli/dynamodb-target.ts';
import { ValidationError } from '#kernel/errors.ts';
import { reportNames, type ReportName } from '#reporting/domain/report-shape.ts';
import { reportDefinitions } from '#reporting/domain/reports/catalogue.ts';
import { parseReportQuery } from '#reporting/domain/reports/query.ts';

/**
 * `npm run reports -- export <report> --from DAY --to DAY [--area CODE] [--format csv|json] [--out FILE]
 * [--as ops|commissioner] [--dry-run]`: one report (docs/reports.md), built from the figures in the metrics table as
 * the reports API builds it, written to a file or standard output. As a commissioner by default, so what is exported
 * to be shared has its small counts suppressed unless ops exact counts are asked for. Against the local stack by
 * default (DYNAMODB_PORT, 8000); AWS when AWS_ENDPOINT_URL_DYNAMODB=''.
 */

const environment = {
  DYNAMODB_PORT: 'local DynamoDB port, when AWS_ENDPOINT_URL_DYNAMODB is unset (8000, as npm start)',
  AWS_ENDPOINT_URL_DYNAMODB: "DynamoDB endpoint (http://127.0.0.1:$DYNAMODB_PORT); '' for AWS itself",
  METRICS_TABLE: 'the metrics table, where the figures are (metrics; in AWS the stack output)',
  AWS_REGION: 'region (eu-west-2)',
  'AWS_PROFILE, AWS_ACCESS_KEY_ID, ...': "the SDK's usual credentials, when against AWS",
};

const exportOptions = {
  from: { type: 'string', required: true, placeholder: 'YYYY-MM-DD', description: 'the first day (UTC)' },
  to: { type: 'string', required: true, placeholder: 'YYYY-MM-DD', description: 'the last day, included' },
  area: {
    type: 'string',
    placeholder: 'CODE',
    description: 'only figures of this postcode district, local authority or PCN code',
  },
  format: {
    type: 'string',
    choices: ['csv', 'json'],
    placeholder: 'FORMAT',
    description: "csv (the default, or with --out *.json: json) or json (the API's shape)",
  },
  out: {
    type: 'string',
    placeholder: 'FILE',
    description: 'write the report there (default: standard output)',
  },
  as: {
    type: 'string',
    choices: ['commissioner', 'ops'],
    default: 'commissioner',
    placeholder: 'AUDIENCE',
    description: 'commissioner: counts 1-4 as <5; ops: exact counts',
  },
  'dry-run': {
    type: 'boolean',
    default: false,
    description: 'say which reads the report would make, and read nothing',
  },
} as const satisfies OptionSpecs;

const synopsis =
  'npm run reports -- export <report> --from YYYY-MM-DD --to YYYY-MM-DD [--area CODE] [--format csv|json] ' +
  '[--out FILE] [--as commissioner|ops] [--dry-run]';
const reportsList = reportNames
  .map((name) => `  ${name.padEnd(12)} ${reportDefinitions[name].summary}`)
  .join('\n');
const examples = [
  'npm run reports -- export volumes --from 2026-11-01 --to 2026-11-30',
  'npm run reports -- export deprivation --from 2026-01-01 --to 2026-12-31 --out deprivation-2026.csv',
  'npm run reports -- export gaps --from 2026-11-01 --to 2026-11-30 --area LS6 --as ops --format json',
  'npm run reports -- export partners --from 2026-11-01 --to 2026-11-30 --dry-run',
];

const top: Command<OptionSpecs> = defineCommand({
  synopsis: [synopsis, 'npm run reports -- export --help'],
  summary: `Exports one of the observatory's reports (docs/reports.md) from the pre-aggregated figures:\n${reportsList}`,
  options: {},
  environment,
  examples,
});
const exportCommand = defineCommand({
  synopsis: [synopsis],
  summary:
    'Builds the report from the figures in the metrics table (one Query per family per month of the range, never a\n' +
    'scan) and writes it as CSV or JSON: the same columns as GET /reports/<report>. As a commissioner unless --as ops:\n' +
    `every count from 1 to 4 is then <5. Reports: ${reportNames.join(', ')}.`,
  options: exportOptions,
  environment,
  examples,
});

const { words, flags } = splitWords(process.argv.slice(2), exportOptions);
const [verb, name, ...extra] = words;
if (verb !== 'export') {
  top.parse(flags);
  top.fail(verb === undefined ? 'say what to do: export' : `unknown command "${verb}": export`);
}
const values = exportCommand.parse(flags);
if (name === undefined || extra.length > 0 || !(reportNames as readonly string[]).includes(name))
  exportCommand.fail(
    name === undefined
      ? `name the report: ${reportNames.join(', ')}`
      : `no report "${name}": ${reportNames.join(', ')}`,
  );
const report = name as ReportName;
const families = reportDefinitions[report].families;

// The API's rules, word for word: a bad day, a backward or over-long range, an area on a report without one.
let query: ReturnType<typeof parseReportQuery> = { from: '', to: '' };
try {
  query = parseReportQuery(
    report,
    families,
    { from: values.from, to: values.to, area: values.area },
    new Date().toISOString().slice(0, 10),
  );
} catch (error) {
  if (!(error instanceof ValidationError)) throw error;
  exportCommand.fail(error.problems.map((problem) => `--${problem.field} ${problem.rule}`).join('\n'));
}
const format = values.format ?? (values.out?.toLowerCase().endsWith('.json') ? 'json' : 'csv');

// Loaded once the arguments are good, so --help and a mistyped flag answer at once, not after the SDK has loaded.
const [{ DynamoFigures, monthsBetween }, { buildReport }, csv] = await Promise.all([
  import('#adapters/dynamodb/figures.ts'),
  import('#reporting/application/build-report.ts'),
  import('#reporting/domain/reports/csv.ts'),
]);

const table = process.env.METRICS_TABLE ?? 'metrics';
/** The month's last day (`YYYY-MM` -> `YYYY-MM-DD`): day 0 of the next month. */
const lastDayOf = (month: string): string =>
  new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)), 0)).toISOString().slice(0, 10);
const months = monthsBetween(query.from.slice(0, 7), query.to.slice(0, 7));
if (values['dry-run']) {
  console.log(`The ${report} report from ${query.from} to ${query.to} would read (dry run: nothing read):`);
  for (const family of families)
    for (const month of months)
      console.log(
        `  Query ${table}: metric = figure#${family}#${month}, days ${[query.from, `${month}-01`].sort()[1]} to ${[query.to, lastDayOf(month)].sort()[0]}`,
      );
  console.log(
    `${families.length * months.length} Queries (and their pages), no scan; then ${
      query.area === undefined ? '' : `only the cells of ${query.area}, `
    }${values.as === 'ops' ? 'exact counts' : 'counts 1-4 as <5'}, as ${format}${values.out ? ` to ${values.out}` : ''}.`,
  );
  process.exit(0);
}

const documentClient = await documentClientFromEnvironment();
try {
  process.stderr.write(`Reading ${families.join(' and ')} for ${months.length} month(s) from ${table}...\n`);
  const built = await buildReport(new DynamoFigures(documentClient, table), {
    report,
    from: query.from,
    to: query.to,
    ...(query.area === undefined ? {} : { area: query.area }),
    audience: values.as === 'ops' ? 'exact' : 'suppressed',
  });
  const text = format === 'csv' ? csv.reportCsv(built) : `${JSON.stringify(built, null, 2)}\n`;
  if (values.out === undefined) process.stdout.write(text);
  else writeFileSync(values.out, text);
  process.stderr.write(
    `${built.rows.length} row(s)${built.suppressedBelow === null ? ', exact counts' : `, counts below ${built.suppressedBelow} suppressed`}` +
      `${values.out === undefined ? '' : `, written to ${values.out}`}\n`,
  );
} catch (error) {
  console.error(`The export failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  documentClient.destroy();
}
