import { defineCommand, type Command, type OptionSpecs } from '../cli/args.ts';
import { dynamoEndpointFromEnvironment } from '../cli/dynamodb-target.ts';

/**
 * `npm run audit -- ...`: the audit trail's operator commands (docs/audit.md), both read-only.
 *   verify [--referral ID] [--json]   check one referral's hash chain, or every chain (a streamed Scan, progress)
 *   replay --referral ID [--json]     one referral's trail as a timeline, verified
 * Exit 0 when every chain checked verifies, 1 naming the first broken link of each chain that does not, 2 for bad
 * arguments. Against the local stack by default (DYNAMODB_PORT, 8000); AWS when AWS_ENDPOINT_URL_DYNAMODB=''.
 */

const environment = {
  DYNAMODB_PORT: 'local DynamoDB port, when AWS_ENDPOINT_URL_DYNAMODB is unset (8000, as npm start)',
  AWS_ENDPOINT_URL_DYNAMODB:
    "DynamoDB endpoint (http://127.0.0.1:$DYNAMODB_PORT); set it to '' for AWS itself",
  AUDIT_TABLE: 'the audit table (audit; in AWS the stack output)',
  AWS_REGION: 'region (eu-west-2)',
  'AWS_PROFILE, AWS_ACCESS_KEY_ID, ...': "the SDK's usual credentials, when against AWS",
};

const json = { type: 'boolean', default: false, description: 'machine output: JSON on stdout' } as const;
const verifyOptions = {
  referral: {
    type: 'string',
    placeholder: 'ID',
    description: "only this referral's chain (default: every chain in the table)",
  },
  json,
} as const satisfies OptionSpecs;
const replayOptions = {
  referral: { type: 'string', placeholder: 'ID', required: true, description: 'the referral to replay' },
  json,
} as const satisfies OptionSpecs;

const synopsis = {
  verify: 'npm run audit -- verify [--referral ID] [--json]',
  replay: 'npm run audit -- replay --referral ID [--json]',
};
const readOnly =
  'Read-only: it writes nothing, so there is no --dry-run. Exit 0 when the chain (every chain) verifies, 1 when\n' +
  'one does not, naming its first broken link: the referral, the sequence number and why (tampered, missing,\n' +
  'reordered, fork).';

const top: Command<OptionSpecs> = defineCommand({
  synopsis: [...Object.values(synopsis), 'npm run audit -- <command> --help'],
  summary:
    "The audit trail's operator commands (docs/audit.md): each referral's records are a hash chain.\n" +
    '  verify   check one chain, or every chain (streamed page by page, with progress)\n' +
    "  replay   print one referral's trail as a verified timeline\n" +
    readOnly,
  options: {},
  environment,
  examples: [
    'npm run audit -- verify',
    'npm run audit -- verify --referral 3f2b8a0e-9c1d-4e5f-8a7b-6c5d4e3f2a1b',
    'npm run audit -- replay --referral 3f2b8a0e-9c1d-4e5f-8a7b-6c5d4e3f2a1b',
  ],
});

const commands = {
  verify: defineCommand({
    synopsis: [synopsis.verify],
    summary:
      "Checks referrals' audit chains: each link's hash over the previous hash and its canonical JSON, its\n" +
      'sequence number and its previous link. Without --referral, every chain in the table: a Scan of referral ids\n' +
      'page by page (a progress bar on a terminal, a line a page otherwise), each chain read consistently.\n' +
      readOnly,
    options: verifyOptions,
    environment,
    examples: [
      'npm run audit -- verify',
      'npm run audit -- verify --referral 3f2b8a0e-9c1d-4e5f-8a7b-6c5d4e3f2a1b --json',
      "AWS_ENDPOINT_URL_DYNAMODB='' AUDIT_TABLE=<stack output> npm run audit -- verify",
    ],
  }),
  replay: defineCommand({
    synopsis: [synopsis.replay],
    summary:
      "Prints one referral's audit trail as a timeline: each step and read in order, when, by whom (principal,\n" +
      'role, organisation), the request id, and the detail recorded; then whether the chain verifies, with the\n' +
      'break marked where it is. --json gives the links and the verdict.\n' +
      readOnly,
    options: replayOptions,
    environment,
    examples: [
      'npm run audit -- replay --referral 3f2b8a0e-9c1d-4e5f-8a7b-6c5d4e3f2a1b',
      'npm run audit -- replay --referral 3f2b8a0e-9c1d-4e5f-8a7b-6c5d4e3f2a1b --json',
    ],
  }),
};
type CommandName = keyof typeof commands;

/** util.parseArgs takes no positionals here, so the command word is taken out first (a value stays with its option). */
function split(args: readonly string[]): { words: string[]; flags: string[] } {
  const words: string[] = [];
  const flags: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--') continue;
    if (!arg.startsWith('-') || arg === '-') {
      words.push(arg);
      continue;
    }
    flags.push(arg);
    if (arg === '--referral' && i + 1 < args.length) flags.push(args[++i] ?? '');
  }
  return { words, flags };
}

const { words, flags } = split(process.argv.slice(2));
const [verb, ...extra] = words;
if (verb === undefined || !(verb in commands)) {
  top.parse(flags);
  top.fail(
    verb === undefined ? 'say what to do: verify or replay' : `unknown command "${verb}": verify or replay`,
  );
}
const name = verb as CommandName;
const command = commands[name] as Command<OptionSpecs>;
const values = command.parse(flags);
if (extra.length > 0) command.fail(`usage: ${synopsis[name]}`);
const referral = values.referral as string | undefined;
if (referral !== undefined && !/^[\w#.:-]{1,200}$/.test(referral))
  command.fail(`--referral must be a referral id (or a directory record's trail id), not "${referral}"`);

// Loaded once the arguments are good, so --help and a mistyped flag answer at once, not after the SDK has loaded.
const { run } = await import('./audit/run.ts');
process.exit(
  await run({
    command: name,
    ...(referral === undefined ? {} : { referral }),
    json: (values.json as unknown) === true,
    tableName: process.env.AUDIT_TABLE ?? 'audit',
    endpoint: dynamoEndpointFromEnvironment(),
    region: process.env.AWS_REGION ?? 'eu-west-2',
  }),
);
