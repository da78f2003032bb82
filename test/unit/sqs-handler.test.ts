import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { lambdaContext } from '../../infra/local/lambda-context.ts';
import { sqsHandler } from '#platform/handlers.ts';

// Found by the at-least-once torture suite (test/soak/): the local stack runs a function's concurrent invocations on
// one worker, and SQS hands a message to two consumers at once. A batch processor shared by every invocation of the
// module kept one batch of failures for all of them: an invocation that started meanwhile cleared another's
// failures, which then reported its failed records as processed, and the poller deleted them (a delivery lost).

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function event(ids: string[]): SQSEvent {
  return {
    Records: ids.map((id): SQSRecord => ({
      messageId: id,
      receiptHandle: `receipt-${id}`,
      body: JSON.stringify({ id }),
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: '0',
        SenderId: 'test',
        ApproximateFirstReceiveTimestamp: '0',
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-west-2:000000000000:notifications',
      awsRegion: 'eu-west-2',
    })),
  };
}

describe('sqsHandler', () => {
  it('reports each invocation its own failed records when invocations overlap', async () => {
    const handler = sqsHandler(z.object({ id: z.string() }), async ({ id }) => {
      if (id === 'fails-fast') {
        await sleep(5);
        throw new Error('refused');
      }
      await sleep(id === 'slow' ? 60 : 5);
    });
    const context = lambdaContext('notifier') as Context;
    // The first invocation's failure lands, then a second invocation starts while the first is still running.
    const first = handler(event(['fails-fast', 'slow']), context);
    await sleep(20);
    const second = handler(event(['quick']), context);
    const [one, two] = await Promise.all([first, second]);
    expect(one?.batchItemFailures).toEqual([{ itemIdentifier: 'fails-fast' }]);
    expect(two?.batchItemFailures).toEqual([]);
  });
});
