import type { SQSClient } from '@aws-sdk/client-sqs';
import type { LocalStack } from '../infra/local/local-stack.ts';
import type { ReferralFactory } from './referrals.ts';
import type { ResourceUsage } from './resources.ts';
import type { LatencySummary } from './stats.ts';

export const scenarioNames = [
  'intake-sequential',
  'intake-concurrent',
  'intake-rejects',
  'end-to-end',
  'idempotent-replay',
] as const;
export type ScenarioName = (typeof scenarioNames)[number];

/** What every scenario shares: the running stack, the body factory and the referrals accepted so far. */
export interface BenchContext {
  stack: LocalStack;
  /** A client for the local SQS server, to watch queue depths. */
  sqs: SQSClient;
  referrals: ReferralFactory;
  /** Headers every API request carries: a GP system's bearer token for the sample practices. */
  apiHeaders: Record<string, string>;
  /** Divides every request count (1 normally, 5 with --quick). */
  scale: number;
  /** Every referral id answered with 202, so the final check can confirm each one reached a recipient. */
  accepted: Set<string>;
}

export interface ScenarioResult {
  name: ScenarioName;
  description: string;
  /** Requests (or referrals) planned and actually completed. */
  count: number;
  completed: number;
  concurrency: number;
  durationMs: number;
  /** Completed requests per second; for end-to-end, referrals fully delivered per second. */
  throughputPerSec: number;
  latencyMs: LatencySummary;
  statuses: Record<string, number>;
  timedOut: boolean;
  passed: boolean;
  problems: string[];
  /** Scenario-specific figures (e.g. distinct referral ids, deliveries seen). */
  details: Record<string, number | string>;
  resources?: ResourceUsage;
  /** AWS API calls the system made during the scenario and its drain, by operation. */
  awsCalls?: Record<string, number>;
  /** Time for the queues to empty after the scenario (routing and delivery of what it accepted). */
  backlogDrainMs?: number;
}

export interface Scenario {
  name: ScenarioName;
  description: string;
  run(context: BenchContext): Promise<ScenarioResult>;
}
