import {
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  StartMessageMoveTaskCommand,
  type ListMessageMoveTasksResultEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/**
 * DLQ redrive in AWS: SQS's own message move task (StartMessageMoveTask), which moves the messages server-side back
 * to the queue they came from, followed with ListMessageMoveTasks until it ends. The local stack's SQS server
 * (fauxqs) has no move task, so there the receive-and-send loop of redrive.ts does the same work.
 */

export interface MoveProgress {
  status: string;
  moved: number;
  /** How many the task set out to move (SQS's approximate count when it started). */
  toMove: number | undefined;
}

export interface MoveTaskResult extends MoveProgress {
  taskHandle: string | undefined;
}

export interface MoveTaskOptions {
  /** Messages per second; SQS's default (and maximum) is 500. */
  maxPerSecond?: number;
  onProgress?: (progress: MoveProgress) => void;
  /** How often to ask for progress. */
  pollMilliseconds?: number;
  sleep?: (milliseconds: number) => Promise<void>;
}

const finished = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

/** A queue's ARN (a move task is named by ARNs, the stack outputs give URLs). */
export async function queueArnOf(client: SQSClient, queueUrl: string): Promise<string> {
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  const arn = Attributes?.QueueArn;
  if (!arn) throw new Error(`SQS gave no ARN for ${queueUrl}`);
  return arn;
}

/**
 * Starts a move task from the dead-letter queue back to `destinationArn` (by default the queue each message came
 * from) and follows it to its end. A task already running on the DLQ is followed instead of starting a second
 * (SQS allows one per queue). Resolves when the task completes; rejects when it fails or is cancelled.
 */
export async function moveDeadLetters(
  client: SQSClient,
  deadLetterArn: string,
  destinationArn: string | undefined,
  options: MoveTaskOptions = {},
): Promise<MoveTaskResult> {
  const sleep = options.sleep ?? ((ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const running = (await tasksOf(client, deadLetterArn)).find((task) => task.Status === 'RUNNING');
  let taskHandle = running?.TaskHandle;
  if (running === undefined) {
    const started = await client.send(
      new StartMessageMoveTaskCommand({
        SourceArn: deadLetterArn,
        ...(destinationArn === undefined ? {} : { DestinationArn: destinationArn }),
        ...(options.maxPerSecond === undefined ? {} : { MaxNumberOfMessagesPerSecond: options.maxPerSecond }),
      }),
    );
    taskHandle = started.TaskHandle;
  }
  for (let unlisted = 0; ;) {
    const tasks = await tasksOf(client, deadLetterArn);
    // The most recent task first; ours is the one with our handle (or the newest, if SQS gives none back).
    const task = tasks.find((each) => taskHandle !== undefined && each.TaskHandle === taskHandle) ?? tasks[0];
    if (task === undefined) {
      // The list may lag the start by a moment; a task never listed is not one to wait for forever.
      unlisted += 1;
      if (unlisted >= 5) throw new Error(`SQS lists no move task on ${deadLetterArn}`);
      await sleep(options.pollMilliseconds ?? 2000);
      continue;
    }
    const progress = progressOf(task);
    options.onProgress?.(progress);
    if (finished.has(progress.status)) {
      if (progress.status !== 'COMPLETED') {
        const reason = task.FailureReason ? `: ${task.FailureReason}` : '';
        throw new Error(
          `The move task ${progress.status.toLowerCase()} after ${progress.moved} message(s)${reason}`,
        );
      }
      return { ...progress, taskHandle };
    }
    await sleep(options.pollMilliseconds ?? 2000);
  }
}

async function tasksOf(client: SQSClient, deadLetterArn: string): Promise<ListMessageMoveTasksResultEntry[]> {
  const { Results = [] } = await client.send(
    new ListMessageMoveTasksCommand({ SourceArn: deadLetterArn, MaxResults: 10 }),
  );
  return Results;
}

function progressOf(task: ListMessageMoveTasksResultEntry): MoveProgress {
  return {
    status: task.Status ?? 'UNKNOWN',
    moved: task.ApproximateNumberOfMessagesMoved ?? 0,
    toMove: task.ApproximateNumberOfMessagesToMove,
  };
}
