import { defineCommand, type Command, type OptionSpecs, splitWords } from '../cli/args.ts';
import { dynamoEndpointFromEnvironment } from '../cli/dynamodb-target.ts';

/**
 * `npm run audit -- ...`: the audit trail's operator commands (docs/audit.md).
 *   verify [--referral ID] [--json]              check one referral's hash chain, or every chain (read-only)
 *   replay --referral ID [--dry-run] [--json]    one referral's trail as a verified timeline, then the messages that
 *                                                finish the steps it never completed, re-sent (--dry-run: named only)
 * Exit 0 when every chain checked verifies, 1 naming the first broken link of each chain that does not, 2 for bad
 * arguments. Against the local stack by default (DYNAMODB_PORT 8000, SQS_PORT 9324); AWS when the endpoints are ''.
 */

const readEnvironment = {
  DYNAMODB_PORT: 'local DynamoDB port, when AWS_ENDPOINT_URL_DYNAMODB is unset (8000, as npm start)',
  AWS_ENDPOINT_URL_DYNAMODB:
    "DynamoDB endpoint (http://127.0.0.1:$DYNAMODB_PORT); set it to '' for AWS itself",
  AUDIT_TABLE: 'the audit table (audit; in AWS the stack output)',
  AWS_REGION: 'region (eu-west-2)',
  'AWS_PROFILE, AWS_ACCESS_KEY_ID, ...': "the SDK's usual credentials, when against AWS",
};
/** Replay sends too. */
const environment = {
  ...readEnvironment,
  SQS_PORT: 'replay: local SQS port, when AWS_ENDPOINT_URL_SQS is unset (9324, as npm start)',
  AWS_ENDPOINT_URL_SQS: "replay: SQS endpoint (http://127.0.0.1:$SQS_PORT); set it to '' for AWS itself",
  REFERRALS_QUEUE_URL: 'replay: the referrals queue (found by name locally; in AWS the stack output)',
  NOTIFICATIONS_QUEUE_URL: 'replay: the notifications queue (found by name locally; in AWS the stack output)',
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
  'dry-run': {
    type: 'boolean',
    default: false,
    description: 'print the timeline and the steps it would re-send; send nothing',
  },
  json,
} as const satisfies OptionSpecs;

const synopsis = {
  verify: 'npm run audit -- verify [--referral ID] [--json]',
  replay: 'npm run audit -- replay --referral ID [--dry-run] [--json]',
};
const verdicts =
  'Exit 0 when the chain (every chain) verifies, 1 when one does not, naming its first broken link: the referral,\n' +
  'the sequence number and why (tampered, missing, reordered, fork).';
const readOnly = `Read-only: it writes nothing, so there is no --dry-run. ${verdicts}`;

const top: Command<OptionSpecs> = defineCommand({
  synopsis: [...Object.values(synopsis), 'npm run audit -- <command> --help'],
  summary:
    "The audit trail's operator commands (docs/audit.md): each referral's records are a hash chain.\n" +
    '  verify   check one chain, or every chain (streamed page by page, with progress); read-only\n' +
    "  replay   print one referral's trail as a verified timeline, then re-send the messages that finish the\n" +
    '           steps it never completed (routing, deliveries); --dry-run names them and sends nothing\n' +
    verdicts,
  options: {},
  environment,
  examples: [
    'npm run audit -- verify',
    'npm run audit -- verify --referral 3f2b8a0e-9c1d-4e5f-8a7b-6c5d4e3f2a1b',
    'npm run audit -- replay --referral 3f2b8a0e-9c1d-4e5f-8a7b-6c5d4e3f2a1b --dry-run',
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
    environment: readEnvironment,
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
      'break marked where it is. Then it works out from the trail which steps of the flow never completed and\n' +
      're-sends the message that does each, so the real functions finish them: received but never routed, the\n' +
      'routing message (referrals queue); each delivery planned at routing neither delivered nor failed, its\n' +
      'assigned notice (notifications queue). The functions are idempotent: a step done meanwhile stays as it is.\n' +
      'A cancelled or withdrawn referral gets nothing re-sent; a broken chain gets nothing re-sent and exits 1 (a\n' +
      'trail that cannot be trusted is not acted on). --dry-run prints the plan and sends nothing; --json gives\n' +
      'the links, the verdict, the plan and how many were sent.\n' +
      'Exit 0 when the chain verifies and every message went (or, with --dry-run, would go); 1 when there is no\n' +
      'trail, the chain is broken (its first broken link named), or a message could not be sent.',
    options: replayOptions,
    environment,
    examples: [
      'npm run audit -- replay --referral 3f2b8a0e-9c1d-4e5f-8a7b-6c5d4e3f2a1b --dry-run',
      'npm run audit -- replay --referral 3f2b8a0e-9c1d-4e5f-8a7b-6c5d4e3f2a1b',
      'npm run audit -- replay --referral 3f2b8a0e-9c1d-4e5f-8a7b-6c5d4e3f2a1b --dry-run --json',
      "AWS_ENDPOINT_URL_DYNAMODB='' AWS_ENDPOINT_URL_SQS='' AUDIT_TABLE=... REFERRALS_QUEUE_URL=... NOTIFICATIONS_QUEUE_URL=... npm run audit -- replay --referral <id>",
    ],
  }),
};
type CommandName = keyof typeof commands;

const { words, flags } = splitWords(process.argv.slice(2), verifyOptions, replayOptions);
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
    dryRun: (values['dry-run'] as unknown) === true,
    sqs: {
      endpoint: process.env.AWS_ENDPOINT_URL_SQS ?? `http://127.0.0.1:${process.env.SQS_PORT ?? '9324'}`,
      region: process.env.AWS_REGION ?? 'eu-west-2',
      queueUrls: {
        ...(process.env.REFERRALS_QUEUE_URL ? { referrals: process.env.REFERRALS_QUEUE_URL } : {}),
        ...(process.env.NOTIFICATIONS_QUEUE_URL
          ? { notifications: process.env.NOTIFICATIONS_QUEUE_URL }
          : {}),
      },
    },
    tableName: process.env.AUDIT_TABLE ?? 'audit',
    endpoint: dynamoEndpointFromEnvironment(),
    region: process.env.AWS_REGION ?? 'eu-west-2',
  }),
);
