import { SQSClient } from '@aws-sdk/client-sqs';
import { parseArgs } from 'node:util';
import { queueNames } from '../topology.ts';
import { queueUrlOf, redrive } from './redrive.ts';

/**
 * `npm run redrive -- --queue notifications`: moves the queue's dead letters back for another try.
 *   --queue referrals|notifications   which queue (its DLQ is <queue>-dlq)
 *   --source URL --dlq URL            explicit queue URLs instead (e.g. the stack outputs in AWS)
 *   --max N                           move at most N messages
 * Against the local stack by default (SQS_PORT, 9324); set AWS_ENDPOINT_URL_SQS='' and AWS credentials for AWS.
 */

const { values } = parseArgs({
  options: {
    queue: { type: 'string' },
    source: { type: 'string' },
    dlq: { type: 'string' },
    max: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

const usage = `Usage: npm run redrive -- --queue ${queueNames.join('|')} [--max N]
       npm run redrive -- --source <queue URL> --dlq <dead-letter queue URL> [--max N]`;
if (values.help) {
  console.log(usage);
  process.exit(0);
}
if (!values.queue && !(values.source && values.dlq)) {
  console.error(usage);
  process.exit(2);
}
if (values.queue && !(queueNames as string[]).includes(values.queue)) {
  console.error(`Unknown queue "${values.queue}": one of ${queueNames.join(', ')}`);
  process.exit(2);
}
const max = values.max === undefined ? undefined : Number(values.max);
if (max !== undefined && (!Number.isInteger(max) || max < 1)) {
  console.error('--max must be a positive whole number');
  process.exit(2);
}

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
