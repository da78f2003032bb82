import {
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { moveDeadLetters, queueArnOf, type MoveProgress } from '../../infra/ops/redrive-aws.ts';

// The AWS side of `npm run redrive`: SQS's move task started once, followed by ListMessageMoveTasks to its end.
// (The local side, the receive-and-send loop, runs against fauxqs in test/integration/redrive.test.ts.)

const sqs = mockClient(SQSClient);
const client = new SQSClient({ region: 'eu-west-2' });
const dlqArn = 'arn:aws:sqs:eu-west-2:123456789012:Stack-NotificationsDeadLetters-abc';
const sourceArn = 'arn:aws:sqs:eu-west-2:123456789012:Stack-Notifications-def';
const noWait = { pollMilliseconds: 0, sleep: () => Promise.resolve() };
const task = (Status: string, moved: number, extra: Record<string, unknown> = {}) => ({
  TaskHandle: 'handle-1',
  Status,
  SourceArn: dlqArn,
  DestinationArn: sourceArn,
  ApproximateNumberOfMessagesMoved: moved,
  ApproximateNumberOfMessagesToMove: 3,
  ...extra,
});

beforeEach(() => sqs.reset());

describe('moveDeadLetters (StartMessageMoveTask)', () => {
  it('starts a move task from the DLQ to the queue and reports its progress until it completes', async () => {
    sqs
      .on(ListMessageMoveTasksCommand)
      .resolvesOnce({ Results: [] }) // none running before
      .resolvesOnce({ Results: [task('RUNNING', 1)] })
      .resolvesOnce({ Results: [task('RUNNING', 2)] })
      .resolves({ Results: [task('COMPLETED', 3)] });
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'handle-1' });
    const seen: MoveProgress[] = [];

    const result = await moveDeadLetters(client, dlqArn, sourceArn, {
      ...noWait,
      maxPerSecond: 50,
      onProgress: (progress) => seen.push(progress),
    });

    expect(sqs).toHaveReceivedCommandTimes(StartMessageMoveTaskCommand, 1);
    expect(sqs).toHaveReceivedCommandWith(StartMessageMoveTaskCommand, {
      SourceArn: dlqArn,
      DestinationArn: sourceArn,
      MaxNumberOfMessagesPerSecond: 50,
    });
    expect(sqs).toHaveReceivedCommandWith(ListMessageMoveTasksCommand, { SourceArn: dlqArn });
    expect(seen.map((p) => [p.status, p.moved, p.toMove])).toEqual([
      ['RUNNING', 1, 3],
      ['RUNNING', 2, 3],
      ['COMPLETED', 3, 3],
    ]);
    expect(result).toMatchObject({ status: 'COMPLETED', moved: 3, taskHandle: 'handle-1' });
  });

  it('follows a move task already running on the DLQ instead of starting a second', async () => {
    sqs
      .on(ListMessageMoveTasksCommand)
      .resolvesOnce({ Results: [task('RUNNING', 1)] })
      .resolves({ Results: [task('COMPLETED', 3)] });

    const result = await moveDeadLetters(client, dlqArn, sourceArn, noWait);

    expect(sqs).toHaveReceivedCommandTimes(StartMessageMoveTaskCommand, 0);
    expect(result.moved).toBe(3);
  });

  it('fails, naming the reason, when the move task fails or is cancelled', async () => {
    sqs
      .on(ListMessageMoveTasksCommand)
      .resolvesOnce({ Results: [] })
      .resolves({
        Results: [task('FAILED', 1, { FailureReason: 'AWS.SimpleQueueService.NonExistentQueue' })],
      });
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'handle-1' });

    await expect(moveDeadLetters(client, dlqArn, sourceArn, noWait)).rejects.toThrow(
      /failed after 1 message\(s\): AWS.SimpleQueueService.NonExistentQueue/,
    );
  });

  it('watches its own task, not an older one SQS still lists', async () => {
    const older = task('COMPLETED', 9, { TaskHandle: 'older' });
    sqs
      .on(ListMessageMoveTasksCommand)
      .resolvesOnce({ Results: [older] })
      .resolvesOnce({ Results: [task('RUNNING', 1), older] })
      .resolves({ Results: [task('COMPLETED', 3), older] });
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'handle-1' });

    const result = await moveDeadLetters(client, dlqArn, sourceArn, noWait);

    expect(sqs).toHaveReceivedCommandTimes(StartMessageMoveTaskCommand, 1);
    expect(result).toMatchObject({ moved: 3, taskHandle: 'handle-1' });
  });

  it('gives up on a task SQS never lists, rather than wait forever', async () => {
    sqs.on(ListMessageMoveTasksCommand).resolves({ Results: [] });
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'handle-1' });

    await expect(moveDeadLetters(client, dlqArn, sourceArn, noWait)).rejects.toThrow(/lists no move task/);
  });
});

describe('queueArnOf', () => {
  it('reads the ARN a move task needs from the queue URL the stack outputs give', async () => {
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { QueueArn: dlqArn } });
    await expect(queueArnOf(client, 'https://sqs.eu-west-2.amazonaws.com/123456789012/x')).resolves.toBe(
      dlqArn,
    );
    expect(sqs).toHaveReceivedCommandWith(GetQueueAttributesCommand, { AttributeNames: ['QueueArn'] });
  });
});
