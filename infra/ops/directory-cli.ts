import { defineCommand, type Command, type OptionSpecs, splitWords } from '../cli/args.ts';

/**
 * `npm run directory -- ...`: the directory's operator commands (docs/directory.md).
 *   import FILE [--dry-run]              an Open Referral UK 3.0 JSON file of services -> partners and services
 *   export [--out FILE]                  partners and services as an ORUK 3.0 page (stdout by default)
 *   import-practices FILE [--dry-run]    an ODS PCN core partner CSV (+ postcodes) -> PCNs and practices
 * Imports are all or nothing: the whole file is checked first, every bad record is listed with its path (or line)
 * and rule, and nothing is written unless there is none. Against the local stack by default (DYNAMODB_PORT, 8000;
 * secrets in $DATA_DIR/recipient-secrets.json, as `npm start` keeps them); AWS when AWS_ENDPOINT_URL_DYNAMODB=''.
 */

const environment = {
  DYNAMODB_PORT: 'local DynamoDB port, when AWS_ENDPOINT_URL_DYNAMODB is unset (8000, as npm start)',
  AWS_ENDPOINT_URL_DYNAMODB:
    "DynamoDB endpoint (http://127.0.0.1:$DYNAMODB_PORT); set it to '' for AWS itself",
  DIRECTORY_TABLE: 'the directory table (directory; in AWS the stack output DirectoryTableName)',
  RECIPIENT_SECRETS:
    "where new partners' signing secrets go: file:<path> or secretsmanager:<prefix> (in AWS <stack name>/recipients); default file:$DATA_DIR/recipient-secrets.json locally, required against AWS",
  AUDIT_TABLE: 'the audit table, where the import audits each change (audit; in AWS the stack output)',
  WEBHOOK_BASE:
    'what {{WEBHOOK_BASE}} in an imported file stands for, as in events/directory.json (default http://127.0.0.1:$WEBHOOK_PORT)',
  WEBHOOK_PORT: "npm start's webhook receiver port, for the default WEBHOOK_BASE (3001)",
  DATA_DIR: "npm start's data directory, for the default secrets file (.data)",
  AWS_REGION: 'region (eu-west-2)',
  'AWS_PROFILE, AWS_ACCESS_KEY_ID, ...': "the SDK's usual credentials, when against AWS",
};

const dryRun = {
  type: 'boolean',
  default: false,
  description: 'check the file against the directory and say what would change; write nothing',
} as const;
const secrets = {
  type: 'string',
  placeholder: 'LOCATION',
  description:
    'the secret store for new partners: file:<path> or secretsmanager:<prefix> (overrides RECIPIENT_SECRETS)',
} as const;

const importOptions = { 'dry-run': dryRun, secrets } as const satisfies OptionSpecs;
const exportOptions = {
  out: {
    type: 'string',
    placeholder: 'FILE',
    description: 'write the file there (default: standard output)',
  },
} as const satisfies OptionSpecs;
const practicesOptions = {
  'dry-run': dryRun,
  today: {
    type: 'string',
    placeholder: 'YYYY-MM-DD',
    description: 'the day relationships are current on (default: today, UTC)',
  },
} as const satisfies OptionSpecs;

const synopsis = {
  import: 'npm run directory -- import FILE [--dry-run] [--secrets LOCATION]',
  export: 'npm run directory -- export [--out FILE]',
  'import-practices': 'npm run directory -- import-practices FILE [--dry-run] [--today YYYY-MM-DD]',
};

const top: Command<OptionSpecs> = defineCommand({
  synopsis: [...Object.values(synopsis), 'npm run directory -- <command> --help'],
  summary:
    "The directory's operator commands (docs/directory.md):\n" +
    '  import            an Open Referral UK 3.0 JSON file (an array of services, or a page { "contents": [...] })\n' +
    '                    into partners and services: all or nothing, every bad record listed with its path and rule;\n' +
    '                    records are created, replaced at the version read, or left alone when unchanged; new\n' +
    '                    partners get a signing secret in the secret store (its value is never printed)\n' +
    '  export            every partner and service as one ORUK 3.0 page (what import reads back unchanged)\n' +
    '  import-practices  PCNs and practices from an ODS "PCN Core Partner Details" CSV with a Postcode column',
  options: {},
  environment,
  examples: [
    'npm run directory -- import events/oruk/sample-services.json --dry-run',
    'npm run directory -- export --out directory-oruk.json',
    'npm run directory -- import-practices events/ods/practice-pcn-sample.csv',
  ],
});

const commands = {
  import: defineCommand({
    synopsis: [synopsis.import],
    summary:
      'Imports an Open Referral UK 3.0 JSON file (an array of services, or a page { "contents": [...] }; ORUK 1.0\n' +
      '"content" too) into the directory, all or nothing: every bad record is listed with its JSON path and rule\n' +
      'and nothing is written unless there is none. Each partner and service is created, replaced at the version\n' +
      'read, or left alone when unchanged. A new partner gets a signing secret in the secret store, generated\n' +
      'before the partner is written; its value is never printed. Progress on stderr, the summary on stdout.',
    options: importOptions,
    environment,
    examples: [
      'npm run directory -- import events/oruk/sample-services.json --dry-run',
      'npm run directory -- import events/oruk/sample-services.json',
      "AWS_ENDPOINT_URL_DYNAMODB='' DIRECTORY_TABLE=<stack output> RECIPIENT_SECRETS=secretsmanager:<stack>/recipients npm run directory -- import feed.json",
    ],
  }),
  export: defineCommand({
    synopsis: [synopsis.export],
    summary:
      'Writes every partner and service (retired ones too) as one Open Referral UK 3.0 page of services, in id\n' +
      'order, with what ORUK has no field for in x_social_prescribing. Importing it changes nothing.',
    options: exportOptions,
    environment,
    examples: [
      'npm run directory -- export > directory-oruk.json',
      'npm run directory -- export --out directory-oruk.json',
    ],
  }),
  'import-practices': defineCommand({
    synopsis: [synopsis['import-practices']],
    summary:
      'Puts PCNs and practices from a CSV in the shape of the NHS ODS "PCN Core Partner Details" report, plus a\n' +
      "Postcode column (ODS leaves it out; the practice's district is taken from it). Headers are matched\n" +
      'case-insensitively (docs/directory.md lists them). Relationships that ended before today or start after it\n' +
      'are skipped and listed; every bad row is listed by line, and nothing is written unless there is none.\n' +
      "An optional Endpoint column sets a practice's endpoint for the messages back to it (a row without one\n" +
      'keeps the endpoint the directory has).\n' +
      "Practices no active link-worker team serves are listed: their referrals are unmet ('no link-worker team').",
    options: practicesOptions,
    environment,
    examples: [
      'npm run directory -- import-practices events/ods/practice-pcn-sample.csv',
      'npm run directory -- import-practices epcn-with-postcodes.csv --dry-run --today 2026-04-01',
    ],
  }),
};
type CommandName = keyof typeof commands;

const { words, flags } = splitWords(process.argv.slice(2), importOptions, exportOptions, practicesOptions);
const [verb, ...positionals] = words;
if (verb === undefined || !(verb in commands)) {
  top.parse(flags);
  top.fail(
    verb === undefined
      ? 'say what to do: import, export or import-practices'
      : `unknown command "${verb}": import, export or import-practices`,
  );
}
const name = verb as CommandName;
const command = commands[name] as Command<OptionSpecs>;
const values = command.parse(flags);
const [file, ...extra] = positionals;
if (name === 'export' ? positionals.length > 0 : file === undefined || extra.length > 0)
  command.fail(`usage: ${synopsis[name]}`);

const today = (values.today as string | undefined) ?? new Date().toISOString().slice(0, 10);
/** A real calendar day: 2026-13-45 has the pattern but is no day (Date would roll it over). */
const isCalendarDay = (day: string): boolean =>
  /^\d{4}-\d{2}-\d{2}$/.test(day) &&
  !Number.isNaN(Date.parse(`${day}T00:00:00Z`)) &&
  new Date(`${day}T00:00:00Z`).toISOString().slice(0, 10) === day;
if (name === 'import-practices' && !isCalendarDay(today))
  command.fail(`--today must be a date such as 2026-04-01, not "${today}"`);

// Loaded once the arguments are good, so --help and a mistyped flag answer at once, not after the SDK has loaded.
const { run } = await import('./directory/run.ts');
process.exit(
  await run({
    command: name,
    ...(file === undefined ? {} : { file }),
    dryRun: (values['dry-run'] as unknown) === true,
    ...(typeof values.out === 'string' ? { out: values.out } : {}),
    ...(typeof values.secrets === 'string' ? { secrets: values.secrets } : {}),
    today,
  }),
);
