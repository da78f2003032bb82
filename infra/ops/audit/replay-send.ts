import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SqsQueue } from '#adapters/sqs/sqs-queue.ts';
import { queueMessages, type Queue } from '#messages/queue.ts';
import type { QueueName } from '#system/names.ts';
import type { ReplayStep } from './replay-plan.ts';

/**
 * Sends a replay plan's messages through the queues' own adapter (SqsQueue, which checks each body against the
 * queue's schema before it goes), one step at a time so the operator sees each go. A queue's URL is the one given
 * (REFERRALS_QUEUE_URL, NOTIFICATIONS_QUEUE_URL; in AWS the stack outputs), else found by name, as on the local stack.
 */

export interface ReplayTarget {
  /** The SQS endpoint; '' for AWS itself. */
  endpoint: string;
  region: string;
  queueUrls: Partial<Record<QueueName, string>>;
}

export async function sendSteps(
  steps: readonly ReplayStep[],
  target: ReplayTarget,
  onSent: (step: ReplayStep) => void,
): Promise<void> {
  const sqs = new SQSClient({
    region: target.region,
    ...(target.endpoint
      ? { endpoint: target.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
  });
  try {
    const urls = new Map<QueueName, string>();
    const urlOf = async (name: QueueName): Promise<string> => {
      const known = urls.get(name) ?? target.queueUrls[name];
      if (known) return known;
      const { QueueUrl = '' } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
      // fauxqs names a host that does not resolve: its queues are at its own address.
      const url = target.endpoint ? `${target.endpoint}${new URL(QueueUrl).pathname}` : QueueUrl;
      urls.set(name, url);
      return url;
    };
    for (const step of steps) {
      if (step.queue === 'referrals') {
        const queue: Queue<typeof step.body> = new SqsQueue(
          sqs,
          await urlOf('referrals'),
          queueMessages.referrals,
        );
        await queue.send([{ id: step.id, body: step.body }]);
      } else {
        const queue: Queue<typeof step.body> = new SqsQueue(
          sqs,
          await urlOf('notifications'),
          queueMessages.notifications,
        );
        await queue.send([{ id: step.id, body: step.body }]);
      }
      onSent(step);
    }
  } finally {
    sqs.destroy();
  }
}
