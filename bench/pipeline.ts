import type { SQSClient } from '@aws-sdk/client-sqs';
import type { LocalStack } from '../infra/local/local-stack.ts';
import { describeDepths, pending, queueDepths, type QueueDepth } from './queues.ts';

/**
 * The end-of-run health of the pipeline behind intake: nothing left on the queues, nothing dead-lettered, and every
 * referral answered 202 reached at least one recipient (every sample practice has a link-worker team, so each
 * referral is delivered to its team at least).
 */

export interface PipelineHealth {
  passed: boolean;
  problems: string[];
  acceptedReferrals: number;
  referralsWithoutWebhook: number;
  webhooksReceived: number;
  duplicateWebhooks: number;
  queues: QueueDepth[];
}

export async function pipelineHealth(
  stack: LocalStack,
  sqs: SQSClient,
  accepted: ReadonlySet<string>,
): Promise<PipelineHealth> {
  const depths = await queueDepths(stack, sqs);
  const reached = new Set<string>();
  let duplicates = 0;
  for (const delivery of stack.receiver.received) {
    if (delivery.duplicate) duplicates++;
    const referralId = (delivery.payload as { data?: { referralId?: unknown } } | null)?.data?.referralId;
    if (typeof referralId === 'string') reached.add(referralId);
  }
  const missing = [...accepted].filter((id) => !reached.has(id));
  const problems: string[] = [];
  if (pending(depths) > 0) problems.push(`messages still on the queues: ${describeDepths(depths)}`);
  const dead = depths.reduce((sum, d) => sum + d.deadLetters, 0);
  if (dead > 0) problems.push(`${dead} message(s) dead-lettered: ${describeDepths(depths)}`);
  if (missing.length > 0) {
    problems.push(
      `${missing.length} accepted referral(s) reached no recipient, e.g. ${missing.slice(0, 3).join(', ')}`,
    );
  }
  return {
    passed: problems.length === 0,
    problems,
    acceptedReferrals: accepted.size,
    referralsWithoutWebhook: missing.length,
    webhooksReceived: stack.receiver.received.length,
    duplicateWebhooks: duplicates,
    queues: depths,
  };
}
