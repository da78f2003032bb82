import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { SqsQueue } from '#adapters/sqs/sqs-queue.ts';
import type { NoticeMessage } from '#messages/notice-message.ts';
import { InvalidMessageError, queueMessages, type OutboundMessage } from '#messages/queue.ts';
import { DependencyUnavailableError } from '#kernel/errors.ts';

const sqsMock = mockClient(SQSClient);
const queueUrl = 'https://sqs.eu-west-2.amazonaws.com/123456789012/notifications';
const queue = new SqsQueue(new SQSClient({ region: 'eu-west-2' }), queueUrl, queueMessages.notifications);
const referralId = '11111111-1111-4111-8111-111111111111';

const messages = (count: number): Array<OutboundMessage<NoticeMessage>> =>
  Array.from({ length: count }, (_, i) => ({
    id: `${referralId}.partner.p${i}`,
    body: { referralId, deliveryId: `${referralId}.partner.p${i}`, kind: 'assigned' },
  }));

beforeEach(() => {
  sqsMock.reset();
});

afterAll(() => {
  sqsMock.restore();
});

describe('SqsQueue', () => {
  it('splits 23 messages into batches of 10, 10 and 3, in order, with valid unique entry ids', async () => {
    sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    await queue.send(messages(23));

    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 3);
    const batches = sqsMock.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input);
    expect(batches.map((b) => b.Entries?.length)).toEqual([10, 10, 3]);
    expect(batches.every((b) => b.QueueUrl === queueUrl)).toBe(true);

    const entries = batches.flatMap((b) => b.Entries ?? []);
    expect(entries.map((e) => JSON.parse(e.MessageBody ?? 'null') as unknown)).toEqual(
      messages(23).map((m) => m.body),
    );
    const ids = entries.map((e) => e.Id ?? '');
    expect(new Set(ids).size).toBe(23);
    // SQS batch entry ids: up to 80 of letters, digits, hyphen and underscore.
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
  });

  it('sends nothing for no messages', async () => {
    await queue.send([]);
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 0);
  });

  it('throws DependencyUnavailableError when SQS reports failed entries, and sends no further batch', async () => {
    sqsMock.on(SendMessageBatchCommand).resolves({
      Successful: [],
      Failed: [{ Id: 'm3', SenderFault: false, Code: 'InternalError', Message: 'try again' }],
    });
    const error = await queue.send(messages(23)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect((error as Error).message).toBe('SQS refused 1 message(s): InternalError: try again');
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 1);
  });

  it('a failure in a later batch is reported too', async () => {
    sqsMock
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Successful: [], Failed: [] })
      .resolvesOnce({ Successful: [], Failed: [{ Id: 'm12', SenderFault: true, Code: undefined }] });
    await expect(queue.send(messages(23))).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 2);
  });

  it("refuses a body its queue's schema does not accept, and sends nothing, not even the valid ones", async () => {
    sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    // A body that escaped the compiler (built from untyped data): caught here, at the producer.
    const renamed = JSON.parse(
      `{"referralId": "${referralId}", "delivery": "${referralId}.partner.p1"}`,
    ) as NoticeMessage;
    const batch = [...messages(12), { id: 'renamed', body: renamed }];
    const error = await queue.send(batch).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidMessageError);
    expect((error as Error).message).toContain('message renamed does not match');
    expect((error as Error).message).toContain('deliveryId');
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 0);
  });

  it('passes on a client error (the caller maps it)', async () => {
    sqsMock.on(SendMessageBatchCommand).rejects(new Error('connect ECONNREFUSED'));
    await expect(queue.send(messages(1))).rejects.toThrow('ECONNREFUSED');
  });
});
