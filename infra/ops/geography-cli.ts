import { existsSync, statSync } from 'node:fs';
import { defineCommand, type Command, type OptionSpecs, splitWords } from '../cli/args.ts';
import type { ImportRequest } from './geography/import-file.ts';

/**
 * `npm run geography -- ...`: the geography table's operator commands (docs/geography.md).
 *   import nspl FILE                        an NSPL or ONSPD CSV: postcode -> LSOA, local authority, country
 *   import imd FILE --edition 2019|2025     an English IoD File 1 or File 7 CSV: LSOA -> IMD rank and decile
 *   generate nspl OUT [--rows N]            a synthetic NSPL-layout file (deterministic), for the bench and tests
 *   locate POSTCODE                         what the table says about a postcode and its LSOA
 * Imports stream the file, write batches of 25 with several in flight, keep a checkpoint to resume from after a
 * crash, and report bad rows by line without stopping. Against the local stack by default (DYNAMODB_PORT, 8000).
 */

const options = {
  edition: {
    type: 'string',
    choices: ['2019', '2025'],
    placeholder: 'YEAR',
    description: 'the IMD edition of an imd file (2019: LSOA 2011 codes; 2025: LSOA 2021)',
  },
  restart: { type: 'boolean', default: false, description: 'ignore a checkpoint and import the whole file' },
  errors: {
    type: 'string',
    placeholder: 'FILE',
    description: 'write every bad row and warning there, as JSON lines (only the first 20 are printed)',
  },
  'state-dir': {
    type: 'string',
    placeholder: 'DIR',
    description: 'keep the checkpoint in DIR (default: <FILE>.checkpoint.json beside the file)',
  },
  concurrency: {
    type: 'string',
    placeholder: 'N',
    description: 'batches of 25 in flight at once (default 8)',
  },
  rows: { type: 'string', placeholder: 'N', description: 'generate: data rows (default 2,700,000)' },
  seed: { type: 'string', placeholder: 'N', description: 'generate: random seed (default 2025)' },
  'bad-rows': {
    type: 'string',
    placeholder: 'N',
    description: 'generate: rows that break a rule (default 6)',
  },
} as const satisfies OptionSpecs;

// Typed, so that the compiler knows `command.fail` never returns and narrows what follows it.
const command: Command<typeof options> = defineCommand({
  synopsis: [
    'npm run geography -- import nspl FILE [--restart] [--errors FILE] [--state-dir DIR] [--concurrency N]',
    'npm run geography -- import imd FILE --edition 2019|2025 [--restart] [--errors FILE] [--state-dir DIR]',
    'npm run geography -- generate nspl OUT [--rows N] [--seed N] [--bad-rows N]',
    'npm run geography -- locate POSTCODE',
  ],
  summary:
    'Loads the geography table: postcode -> LSOA, local authority and country from an ONS NSPL or ONSPD CSV (any\n' +
    'release; columns found by name stem), and LSOA -> IMD rank and decile from an English IoD File 1 or File 7\n' +
    'CSV. Streams the file, reports bad rows by line and goes on, and resumes after a crash from the checkpoint\n' +
    '(<FILE>.checkpoint.json) written as batches are stored. Terminated postcodes are kept, marked terminated.',
  options,
  environment: {
    DYNAMODB_PORT: 'local DynamoDB port, when AWS_ENDPOINT_URL_DYNAMODB is unset (8000, as npm start)',
    AWS_ENDPOINT_URL_DYNAMODB:
      "DynamoDB endpoint (http://127.0.0.1:$DYNAMODB_PORT); set it to '' for AWS itself",
    GEOGRAPHY_TABLE: "the table's name (geography; in AWS the stack output GeographyTableName)",
    AWS_REGION: 'region (eu-west-2)',
    'AWS_PROFILE, AWS_ACCESS_KEY_ID, ...': "the SDK's usual credentials, when against AWS",
  },
  examples: [
    'npm run geography -- import nspl NSPL_MAY_2025_UK.csv --errors nspl-errors.jsonl',
    'npm run geography -- import imd File_7_IoD2025.csv --edition 2025',
    'npm run geography -- generate nspl /tmp/nspl-full.csv --rows 2700000',
    "npm run geography -- locate 'LS6 1AA'",
    "AWS_ENDPOINT_URL_DYNAMODB='' GEOGRAPHY_TABLE=<stack output> npm run geography -- import nspl NSPL.csv",
  ],
});

const { words, flags } = splitWords(process.argv.slice(2), options);
const values = command.parse(flags);

function whole(name: string, raw: string | undefined, fallback: number, min = 1): number {
  if (raw === undefined) return fallback;
  const value = Number(raw.replace(/[,_]/g, ''));
  if (!Number.isInteger(value) || value < min)
    command.fail(`--${name} must be a whole number >= ${min}, not "${raw}"`);
  return value;
}

const [verb, ...rest] = words;
if (verb === undefined) command.fail('say what to do: import, generate or locate');

if (verb === 'generate') {
  const [kind, out, ...extra] = rest;
  if (kind !== 'nspl' || out === undefined || extra.length > 0)
    command.fail('usage: generate nspl OUT [--rows N]');
  const rows = whole('rows', values.rows, 2_700_000);
  const seed = whole('seed', values.seed, 2_025, 0);
  const badRows = whole('bad-rows', values['bad-rows'], 6, 0);
  const { generateNspl } = await import('./geography/generate-nspl.ts');
  const started = Date.now();
  const result = await generateNspl(out, { rows, seed, badRows });
  console.log(
    `Wrote ${out}: ${result.rows.toLocaleString('en-GB')} rows (${result.good.toLocaleString('en-GB')} good, ` +
      `${result.terminated.toLocaleString('en-GB')} of them terminated; ${result.bad} bad), ` +
      `${(result.bytes / 1e6).toFixed(1)} MB in ${((Date.now() - started) / 1000).toFixed(1)} s (seed ${seed})`,
  );
  process.exit(0);
}

if (verb !== 'import' && verb !== 'locate')
  command.fail(`unknown command "${verb}": import, generate or locate`);

// Every argument is checked before anything is loaded or contacted.
const [kind, file, ...extra] = verb === 'import' ? rest : [];
const [postcode, ...extraWords] = verb === 'locate' ? rest : [];
if (verb === 'locate' && (postcode === undefined || extraWords.length > 0))
  command.fail('usage: locate POSTCODE');
if (verb === 'import') {
  if ((kind !== 'nspl' && kind !== 'imd') || file === undefined || extra.length > 0) {
    command.fail('usage: import nspl FILE, or import imd FILE --edition 2019|2025');
  }
  if (kind === 'imd' && values.edition === undefined) command.fail('import imd needs --edition 2019 or 2025');
  if (kind === 'nspl' && values.edition !== undefined) command.fail('--edition is for imd files only');
  if (!existsSync(file)) {
    console.error(`No such file: ${file}`);
    process.exit(1);
  }
}
const concurrency = whole('concurrency', values.concurrency, 8);

// Loaded once the arguments are good, so --help and a mistyped flag answer at once, not after the SDK has loaded.
const { describeTarget, targetFromEnvironment, targetKey } = await import('./geography/target.ts');
const target = targetFromEnvironment();
const where = describeTarget(target);

if (verb === 'locate' && postcode !== undefined) {
  const [{ connect }, { DynamoGeography }, { imdEditions, lsoaFor }] = await Promise.all([
    import('./geography/target.ts'),
    import('#adapters/dynamodb/geography-store.ts'),
    import('#geography/domain/geography.ts'),
  ]);
  const { dynamoDb, client, unreachable } = await connect(target);
  const problem = await unreachable();
  if (problem) {
    console.error(problem);
    process.exit(1);
  }
  const store = new DynamoGeography(client, target.table);
  const location = await store.locate(postcode);
  const deprivation = location
    ? await Promise.all(
        imdEditions.map(async (edition) => {
          const lsoa = lsoaFor(location, edition);
          return lsoa ? await store.deprivation(lsoa, edition) : undefined;
        }),
      )
    : [];
  console.log(
    JSON.stringify({ location: location ?? null, deprivation: deprivation.filter(Boolean) }, null, 2),
  );
  dynamoDb.destroy();
  process.exit(location ? 0 : 1);
}

if ((kind !== 'nspl' && kind !== 'imd') || file === undefined)
  throw new Error('unreachable: arguments checked above');
const [{ checkpointPathFor }, { summaryLines }, { runImportInWorker }] = await Promise.all([
  import('./geography/checkpoint-file.ts'),
  import('./geography/report.ts'),
  import('./geography/import-worker.ts'),
]);
const request: ImportRequest =
  kind === 'imd' ? { kind: 'imd', file, edition: values.edition ?? '2019' } : { kind: 'nspl', file };
const checkpointPath = checkpointPathFor(file, values['state-dir']);
const totalBytes = statSync(file).size;
const what = `${kind}${kind === 'imd' ? ` ${values.edition}` : ''} ${file} -> ${where}`;

// In a worker thread with a capped heap (import-worker.ts): the import's memory is bounded whatever the file's size.
// The worker checks the table answers, then says what it imports.
const outcome = await runImportInWorker({
  request,
  target,
  checkpoint: { path: checkpointPath, target: targetKey(target) },
  restart: values.restart,
  concurrency,
  ...(values.errors ? { errorsFile: values.errors } : {}),
  totalBytes,
  announce:
    `Importing ${what} (${(totalBytes / 1e6).toFixed(1)} MB); checkpoint ${checkpointPath}` +
    `${values.restart ? ' (--restart: ignored)' : ''}`,
});
if (!outcome.ok) {
  console.error(outcome.unreachable ? outcome.message : `Import failed: ${outcome.message}`);
  process.exit(1);
}
console.log(summaryLines(outcome.result, what).join('\n'));
// The whole process's peak (the worker's heap included), and the CPU it took: the import's costs.
const cpu = process.cpuUsage();
console.log(`  cpu         ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s (user + system)`);
console.log(`  peak RSS    ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
process.exit(0);
