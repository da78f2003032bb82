import { defineCommand } from '../cli/args.ts';
import { queueNames } from '#system/queues.ts';

/**
 * `npm run redrive -- --queue notifications`: moves the queue's dead letters back for another try.
 *   --queue referrals|notifications   which queue (its DLQ is <queue>-dlq)
 *   --source URL --dlq URL            explicit queue URLs instead (e.g. the stack outputs in AWS)
 *   --max N                           move at most N messages
 * Against the local stack by default (SQS_PORT, 9324); set AWS_ENDPOINT_URL_SQS='' and AWS credentials for AWS.
 */

const command = defineCommand({
  synopsis: [
    `npm run redrive -- --queue ${queueNames.join('|')} [--max N]`,
    'npm run redrive -- --source <queue URL> --dlq <dead-letter queue URL> [--max N]',
  ],
  summary: "Moves a queue's dead letters (from <queue>-dlq) back onto the queue for another try.",
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
    max: { type: 'string', placeholder: 'N', description: 'move at most N messages' },
  },
  environment: {
    SQS_PORT: 'local SQS port, when AWS_ENDPOINT_URL_SQS is unset (9324)',
    AWS_ENDPOINT_URL_SQS: "SQS endpoint (http://127.0.0.1:$SQS_PORT); set it to '' for AWS itself",
    AWS_REGION: 'region (eu-west-2)',
    'AWS_PROFILE, AWS_ACCESS_KEY_ID, ...': "the SDK's usual credentials, when against AWS",
  },
  examples: [
    'npm run redrive -- --queue notifications',
    "AWS_ENDPOINT_URL_SQS='' npm run redrive -- --source https://sqs... --dlq https://sqs... --max 10",
  ],
});
const values = command.parse();
if (!values.queue && !(values.source && values.dlq)) {
  command.fail('give --queue, or both --source and --dlq');
}
const max = values.max === undefined ? undefined : Number(values.max);
if (max !== undefined && (!Number.isInteger(max) || max < 1)) {
  command.fail(`--max must be a positive whole number, not "${values.max}"`);
}

// Loaded once the arguments are good, so --help and a mistyped flag answer at once, not after the SDK has loaded.
const [{ SQSClient }, { queueUrlOf, redrive }] = await Promise.all([
  import('@aws-sdk/client-sqs'),
  import('./redrive.ts'),
]);

const endpoint = process.env.AWS_ENDPOINT_URL_SQS ?? `http://127.0.0.1:${process.env.SQS_PORT ?? '9324'}`;
const client = new SQSClient({
  region: process.env.AWS_REGION ?? 'eu-west-2',
  ...(endpoint ? { endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
});
const local = (url: string): string => (endpoint ? `${endpoint}${new URL(url).pathname}` : url);

try {
  const source = values.source ?? local(await queueUrlOf(client, values.queue ?? ''));
  const dlq = values.dlq ?? local(await queueUrlOf(client, `${values.queue ?? ''}-dlq`));
  console.log(`Moving dead letters from ${dlq} back to ${source}...`);
  const { moved } = await redrive(client, source, dlq, {
    ...(max === undefined ? {} : { maxMessages: max }),
    onProgress: (n) => process.stdout.write(`\r  ${n} moved`),
  });
  console.log(`${moved > 0 ? '\n' : ''}Done: ${moved} message(s) back on the queue for another try.`);
} catch (error) {
  console.error(`Redrive failed: ${(error as Error).message}`);
  process.exit(1);
}
