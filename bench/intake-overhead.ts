import { DeleteQueueCommand } from '@aws-sdk/client-sqs';
import { functions } from '#system/functions.ts';
import { queueEnvVar } from '#system/environment.ts';
import type { FunctionName } from '#system/names.ts';
import { startFunctionWorkers, type FunctionWorkers } from '../infra/local/function-workers.ts';
import { startLocalGateway, type LocalGateway } from '../infra/local/gateway.ts';
import type { LocalStack } from '../infra/local/local-stack.ts';
import { callsBetween, type CallCounts } from './aws-calls.ts';
import { HttpClient, type HttpResponse } from './http-client.ts';
import { statusProblems } from './intake.ts';
import { runLoad } from './load.ts';
import { createBenchQueue } from './raw-capacity.ts';
import type { ReferralFactory } from './referrals.ts';
import { summarise, type LatencySummary } from './stats.ts';
import { overheadRatio, sameCalls } from './throughput-figures.ts';
import { unthrottled } from './bench-stack.ts';

/**
 * Intake overhead: the real intake handler against bench/minimal-intake.ts, a handler making the same DynamoDB and
 * SQS requests and nothing else. Each runs in its own worker sandbox (as the stack runs every function) behind its
 * own local gateway with the real authorizer, so the HTTP path, the servers (the stack's dynalite and fauxqs), the
 * concurrency and the bodies are the same; only the handler differs. Both send to a bench-only queue that nothing
 * consumes, so no routing runs meanwhile. Blocks alternate (full, minimal, minimal, full, ...) so a drift in the
 * machine's load falls on both.
 *
 * ratio = full wall time per request / minimal wall time per request, at each concurrency: 1 in flight (a request's
 * own latency, to which every millisecond of the handler's adds) and more in flight (throughput, where the handler's
 * thread works beside the servers' on the other core). The verdict takes the larger.
 */

export interface HandlerFigures {
  requests: number;
  wallMs: number;
  perSec: number;
  msPerRequest: number;
  latencyMs: LatencySummary;
  /** Server-side requests per POST (the pollers' long polls left out: they run whichever handler is measured). */
  callsPerRequest: CallCounts;
}

export interface OverheadAt {
  concurrency: number;
  full: HandlerFigures;
  minimal: HandlerFigures;
  ratio: number;
}

export interface OverheadPlan {
  concurrencies: number[];
  rounds: number;
  requestsPerBlock: number;
}

export interface IntakeOverhead extends OverheadPlan {
  runs: OverheadAt[];
  /** The largest of the runs' ratios. */
  ratio: number;
  /** Differences in calls per request: should be empty, else bench/minimal-intake.ts needs updating. */
  callMismatches: string[];
  problems: string[];
}

const queueName = 'bench-intake-overhead';
const projectRoot = new URL('../', import.meta.url);
const minimalEntry = new URL('./minimal-intake.ts', import.meta.url).href;
const warmUpRequests = 20;
/** Requests the stack's own pollers make whatever is measured: long polls of their queues. */
const background = /^AmazonSQS\.(ReceiveMessage|GetQueueAttributes)$/;

interface Measured {
  responses: HttpResponse[];
  wallMs: number;
  calls: CallCounts;
}

const nothing: Measured = { responses: [], wallMs: 0, calls: {} };

interface Variant {
  name: 'full' | 'minimal';
  workers: FunctionWorkers;
  gateway: LocalGateway;
  client: HttpClient;
  /** What was measured, by concurrency. */
  measured: Map<number, Measured>;
}

export async function measureIntakeOverhead(
  stack: LocalStack,
  referrals: ReferralFactory,
  headers: Record<string, string>,
  plan: OverheadPlan,
): Promise<IntakeOverhead> {
  const QueueUrl = await createBenchQueue(stack, queueName);
  const environmentOf = (fn: FunctionName): Record<string, string> => ({
    ...stack.aws.environmentOf(fn),
    [queueEnvVar('referrals')]: QueueUrl,
  });
  const variants: Variant[] = [];
  try {
    for (const name of ['full', 'minimal'] as const) {
      const workers = await startFunctionWorkers({
        environmentOf,
        only: ['authorizer', 'intake'],
        specOf: (fn) => ({
          entry:
            name === 'minimal' && fn === 'intake'
              ? minimalEntry
              : new URL(functions[fn].entry, projectRoot).href,
          timeoutSeconds: functions[fn].timeoutSeconds,
        }),
      });
      const gateway = await startLocalGateway({ port: 0, invoke: workers.invoke, throttle: unthrottled });
      variants.push({
        name,
        workers,
        gateway,
        client: new HttpClient(gateway.url, headers),
        measured: new Map(),
      });
    }
    const bodies = (n: number): string[] =>
      Array.from({ length: n }, () => JSON.stringify(referrals.valid()));
    const top = Math.max(...plan.concurrencies);
    for (const variant of variants) await block(stack, variant, bodies(warmUpRequests), top, false);
    for (let round = 0; round < plan.rounds; round++) {
      // ABBA: full first in even rounds, minimal first in odd ones.
      const order = round % 2 === 0 ? variants : [...variants].reverse();
      for (const concurrency of plan.concurrencies) {
        for (const variant of order) {
          await block(stack, variant, bodies(plan.requestsPerBlock), concurrency, true);
        }
      }
    }
    const of = (name: Variant['name']): Variant => variants.find((v) => v.name === name) as Variant;
    const runs = plan.concurrencies.map((concurrency): OverheadAt => {
      const full = figures(of('full').measured.get(concurrency));
      const minimal = figures(of('minimal').measured.get(concurrency));
      return { concurrency, full, minimal, ratio: overheadRatio(full, minimal) };
    });
    const everything = (name: Variant['name']): Measured => merge([...of(name).measured.values()]);
    const problems = variants.flatMap((v) =>
      statusProblems(everything(v.name).responses, 202).map((p) => `${v.name} handler: ${p}`),
    );
    return {
      ...plan,
      runs,
      ratio: Math.max(...runs.map((r) => r.ratio)),
      callMismatches: sameCalls(
        figures(everything('full')).callsPerRequest,
        figures(everything('minimal')).callsPerRequest,
      ),
      problems,
    };
  } finally {
    for (const variant of variants) {
      variant.client.close();
      await variant.gateway.stop();
      await variant.workers.stop();
    }
    await stack.aws.sqs.send(new DeleteQueueCommand({ QueueUrl }));
  }
}

async function block(
  stack: LocalStack,
  variant: Variant,
  bodies: string[],
  concurrency: number,
  measured: boolean,
): Promise<void> {
  const before = stack.aws.requestCounts();
  const outcome = await runLoad(
    {
      label: `intake overhead, ${variant.name}`,
      count: bodies.length,
      concurrency,
      timeCapMs: 60_000,
      quiet: true,
    },
    (index) => variant.client.postJson('/referrals', bodies[index] ?? ''),
  );
  if (!measured) return;
  const calls: CallCounts = {};
  for (const [operation, count] of Object.entries(callsBetween(before, stack.aws.requestCounts()))) {
    if (!background.test(operation)) calls[operation] = count;
  }
  const earlier = variant.measured.get(concurrency) ?? nothing;
  variant.measured.set(
    concurrency,
    merge([earlier, { responses: outcome.results, wallMs: outcome.durationMs, calls }]),
  );
}

function merge(parts: readonly Measured[]): Measured {
  const calls: CallCounts = {};
  for (const part of parts) {
    for (const [operation, count] of Object.entries(part.calls))
      calls[operation] = (calls[operation] ?? 0) + count;
  }
  return {
    responses: parts.flatMap((p) => p.responses),
    wallMs: parts.reduce((sum, p) => sum + p.wallMs, 0),
    calls,
  };
}

function figures(measured: Measured = nothing): HandlerFigures {
  const requests = measured.responses.length;
  return {
    requests,
    wallMs: measured.wallMs,
    perSec: measured.wallMs > 0 ? (requests * 1000) / measured.wallMs : 0,
    msPerRequest: requests > 0 ? measured.wallMs / requests : Number.NaN,
    latencyMs: summarise(measured.responses.map((r) => r.latencyMs)),
    callsPerRequest: Object.fromEntries(
      Object.entries(measured.calls).map(([operation, count]) => [
        operation,
        requests > 0 ? count / requests : 0,
      ]),
    ),
  };
}
