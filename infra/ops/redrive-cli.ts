import { defineCommand } from '../cli/args.ts';
import { queueNames } from '#system/queues.ts';

/**
 * `npm run redrive -- --queue notifications`: moves the queue's dead letters back for another try.
 *   --queue referrals|notifications   which queue (its DLQ is <queue>-dlq)
 *   --source URL --dlq URL            explicit queue URLs instead (e.g. the stack outputs in AWS)
 *   --dry-run                         say how many would move, move nothing
 *   --max N                           (local) move at most N messages
 *   --rate N                          (AWS) at most N messages a second
 * Against the local stack by default (SQS_PORT, 9324): the receive-and-send loop (redrive.ts), since its SQS server
 * has no move task. With AWS_ENDPOINT_URL_SQS='' and AWS credentials: SQS's StartMessageMoveTask (redrive-aws.ts),
 * its progress followed with ListMessageMoveTasks.
 */

const command = defineCommand({
  synopsis: [
    `npm run redrive -- --queue ${queueNames.join('|')} [--dry-run] [--max N]`,
    'npm run redrive -- --source <queue URL> --dlq <dead-letter queue URL> [--dry-run] [--max N | --rate N]',
  ],
  summary:
    "Moves a queue's dead letters (from <queue>-dlq) back onto the queue for another try: in AWS by SQS's own " +
    'message move task (StartMessageMoveTask, progress from ListMessageMoveTasks), locally by receiving and sending.',
  options: {
    queue: { type: 'string', choices: queueNames, placeholder: 'NAME', description: 'which queue' },
    source: {
      type: 'string',
      placeholder: 'URL',
      description: 'explicit queue URL (with --dlq), e.g. a stack output',
    },
    dlq: {
      type: 'string',
      placeholder: 'URL',
      description: 'explicit dead-letter queue URL (with --source)',
    },
    'dry-run': {
      type: 'boolean',
      description: 'say how many messages the dead-letter queue holds (what would move), and move none',
    },
    max: { type: 'string', placeholder: 'N', description: 'move at most N messages (local stack only)' },
    rate: {
      type: 'string',
      placeholder: 'N',
      description: 'at most N messages a second (AWS only: the move task; SQS allows up to 500)',
    },
  },
  environment: {
    SQS_PORT: 'local SQS port, when AWS_ENDPOINT_URL_SQS is unset (9324)',
    AWS_ENDPOINT_URL_SQS: "SQS endpoint (http://127.0.0.1:$SQS_PORT); set it to '' for AWS itself",
    AWS_REGION: 'region (eu-west-2)',
    'AWS_PROFILE, AWS_ACCESS_KEY_ID, ...': "the SDK's usual credentials, when against AWS",
  },
  examples: [
    'npm run redrive -- --queue notifications --dry-run',
    'npm run redrive -- --queue notifications',
    "AWS_ENDPOINT_URL_SQS='' npm run redrive -- --source https://sqs... --dlq https://sqs... --rate 50",
  ],
});
const values = command.parse();
if (!values.queue && !(values.source && values.dlq)) {
  command.fail('give --queue, or both --source and --dlq');
}
const positive = (name: string, raw: string | undefined): number | undefined => {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) command.fail(`--${name} must be a positive whole number, not "${raw}"`);
  return n;
};
const max = positive('max', values.max);
const rate = positive('rate', values.rate);
const endpoint = process.env.AWS_ENDPOINT_URL_SQS ?? `http://127.0.0.1:${process.env.SQS_PORT ?? '9324'}`;
const againstAws = endpoint === '';
// A move task moves the whole queue; the local loop has no rate to set.
if (againstAws && max !== undefined)
  command.fail('--max is for the local stack; in AWS a move task moves all');
if (!againstAws && rate !== undefined) command.fail('--rate is for AWS (the move task); locally use --max');
if (rate !== undefined && rate > 500) command.fail('--rate is at most 500 (SQS move task limit)');

// Loaded once the arguments are good, so --help and a mistyped flag answer at once, not after the SDK has loaded.
const [{ SQSClient }, { messageCount, queueUrlOf, redrive }, { moveDeadLetters, queueArnOf }] =
  await Promise.all([import('@aws-sdk/client-sqs'), import('./redrive.ts'), import('./redrive-aws.ts')]);

const client = new SQSClient({
  region: process.env.AWS_REGION ?? 'eu-west-2',
  ...(againstAws ? {} : { endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
});
const local = (url: string): string => (againstAws ? url : `${endpoint}${new URL(url).pathname}`);

try {
  const source = values.source ?? local(await queueUrlOf(client, values.queue ?? ''));
  const dlq = values.dlq ?? local(await queueUrlOf(client, `${values.queue ?? ''}-dlq`));
  if (values['dry-run']) {
    const { visible, inFlight } = await messageCount(client, dlq);
    const would = max === undefined ? visible : Math.min(max, visible);
    console.log(`Dry run: ${would} message(s) would move from ${dlq} back to ${source}.`);
    if (inFlight > 0) console.log(`  (${inFlight} more are in flight: being read by someone; not counted)`);
    process.exit(0);
  }
  console.log(`Moving dead letters from ${dlq} back to ${source}...`);
  if (againstAws) {
    const [dlqArn, sourceArn] = await Promise.all([queueArnOf(client, dlq), queueArnOf(client, source)]);
    const result = await moveDeadLetters(client, dlqArn, sourceArn, {
      ...(rate === undefined ? {} : { maxPerSecond: rate }),
      onProgress: ({ status, moved, toMove }) =>
        process.stdout.write(
          `\r  ${status.toLowerCase()}: ${moved}${toMove === undefined ? '' : ` of ~${toMove}`} moved`,
        ),
    });
    console.log(
      `\nDone: ${result.moved} message(s) back on the queue (move task ${result.taskHandle ?? '?'}).`,
    );
  } else {
    const { moved } = await redrive(client, source, dlq, {
      ...(max === undefined ? {} : { maxMessages: max }),
      onProgress: (n) => process.stdout.write(`\r  ${n} moved`),
    });
    console.log(`${moved > 0 ? '\n' : ''}Done: ${moved} message(s) back on the queue for another try.`);
  }
} catch (error) {
  console.error(`\nRedrive failed: ${(error as Error).message}`);
  process.exit(1);
}
