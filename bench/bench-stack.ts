import { startLocalStack, type LocalStack, type LocalStackOptions } from '../infra/local/local-stack.ts';
import { samplePractices } from './referrals.ts';

/**
 * The local stack as every bench that drives referrals through it starts it: in this process, every port chosen by
 * the system (so none of npm start's settings apply), and the per-client limit lifted. The load comes from one GP
 * system; its limit (a usage plan in AWS) would answer most of it with 429, and a bench measures what the system can
 * process, not the limiter. With one token for the sample practices, reused as a GP system reuses its token (the
 * gateway caches the authorizer's answer per token, as AWS does).
 */

/** Per-client rate limit high enough never to answer a bench's load. */
export const unthrottled = { ratePerSecond: 1_000_000, burst: 1_000_000 };

export interface BenchStack {
  stack: LocalStack;
  /** `Authorization: Bearer <token>` of a `gp-system` client for every sample practice. */
  headers: Record<string, string>;
}

export async function startBenchStack(
  subject: string,
  options: Pick<LocalStackOptions, 'log' | 'functionLogLevel' | 'pollerConcurrency'> = {},
): Promise<BenchStack> {
  const stack = await startLocalStack({
    port: 0,
    webhookPort: 0,
    dynamoDbPort: 0,
    sqsPort: 0,
    issuerPort: 0,
    throttle: unthrottled,
    ...options,
  });
  const token = await stack.issuer.mint({ role: 'gp-system', ods: samplePractices, subject });
  return { stack, headers: { Authorization: `Bearer ${token}` } };
}
