import os from 'node:os';
import { SQSClient } from '@aws-sdk/client-sqs';
import { startBenchStack } from './bench-stack.ts';
import { callsBetween, totalCalls, type CallCounts } from './aws-calls.ts';
import type { CliOptions } from './cli.ts';
import { counterReport, type CounterReport } from './counters.ts';
import { endToEnd } from './end-to-end.ts';
import { HttpClient } from './http-client.ts';
import { idempotentReplay, intakeConcurrent, intakeRejects, intakeSequential } from './intake.ts';
import { pipelineHealth, type PipelineHealth } from './pipeline.ts';
import { describeDepths, waitForIdleQueues } from './queues.ts';
import { loadTemplates, ReferralFactory } from './referrals.ts';
import { machine, ratioLines, ratios, table, writeJson } from './report.ts';
import { StackLog } from './stack-log.ts';
import type { BenchContext, Scenario, ScenarioName, ScenarioResult } from './types.ts';

/**
 * The bench behind `npm run bench` (bench/run.ts): starts the whole system in this process (in memory, loopback
 * only), runs a fixed number of requests per scenario under a time cap, prints a table and writes
 * bench/results/latest.json.
 */

const scenarios: Record<ScenarioName, Scenario> = {
  'intake-sequential': intakeSequential,
  'intake-concurrent': intakeConcurrent,
  'intake-rejects': intakeRejects,
  'end-to-end': endToEnd,
  'idempotent-replay': idempotentReplay,
};

const resultsFile = new URL('./results/latest.json', import.meta.url);
/** How long the routing and delivery of a scenario's referrals may take once its requests are done. */
const drainCapMs = 180_000;
const warmUpRequests = 20;

/**
 * The first requests pay for lazy module initialisation, JIT and opening SDK connections; a few unmeasured ones
 * keep that out of whichever scenario happens to run first.
 */
async function warmUp(context: BenchContext): Promise<void> {
  const client = new HttpClient(context.stack.apiUrl, context.apiHeaders);
  try {
    for (let i = 0; i < warmUpRequests; i++) {
      const response = await client.postJson('/referrals', JSON.stringify(context.referrals.valid()));
      if (response.status !== 202) {
        throw new Error(`warm-up POST answered ${response.status}: ${response.error ?? response.body}`);
      }
      const { referralId } = JSON.parse(response.body) as { referralId: string };
      context.accepted.add(referralId);
    }
  } finally {
    client.close();
  }
  await waitForIdleQueues(context.stack, context.sqs, drainCapMs);
}

async function runScenario(context: BenchContext, scenario: Scenario): Promise<ScenarioResult> {
  console.log(`\n▶ ${scenario.name}: ${scenario.description}`);
  const callsBefore = context.stack.aws.requestCounts();
  const acceptedBefore = context.accepted.size;
  const result = await scenario.run(context);
  const drain = await waitForIdleQueues(context.stack, context.sqs, drainCapMs);
  result.backlogDrainMs = drain.drainMs;
  recordCalls(
    result,
    callsBetween(callsBefore, context.stack.aws.requestCounts()),
    context.accepted.size - acceptedBefore,
  );
  if (!drain.drained) {
    result.problems.push(
      `queues still busy ${drainCapMs / 1000} s after the scenario: ${describeDepths(drain.depths)}`,
    );
    result.passed = false;
  }
  const verdict = result.passed ? 'ok' : `FAILED: ${result.problems.join('; ')}`;
  console.log(
    `  ${result.completed}/${result.count} in ${(result.durationMs / 1000).toFixed(2)} s, ` +
      `${result.throughputPerSec.toFixed(1)}/s, p50 ${result.latencyMs.p50.toFixed(1)} ms, ` +
      `p95 ${result.latencyMs.p95.toFixed(1)} ms, p99 ${result.latencyMs.p99.toFixed(1)} ms; ` +
      `queues drained in ${(drain.drainMs / 1000).toFixed(1)} s; ${verdict}`,
  );
  const perReferral = callsPerReferral(result);
  if (perReferral) console.log(`  AWS calls per new referral: ${perReferral}`);
  return result;
}

/** Calls per new referral cover its whole life (intake, routing, every delivery), since the drain is included. */
function recordCalls(result: ScenarioResult, counts: CallCounts, newReferrals: number): void {
  result.awsCalls = counts;
  result.details.newReferrals = newReferrals;
  if (newReferrals === 0) return;
  result.details.dynamoDbCallsPerReferral = totalCalls(counts, 'DynamoDB.') / newReferrals;
  result.details.sqsSendAndDeleteCallsPerReferral =
    totalCalls(counts, 'AmazonSQS.Send') / newReferrals +
    totalCalls(counts, 'AmazonSQS.Delete') / newReferrals;
}

/** The calls behind each referral the scenario accepted, so a change in cost shows in the progress output. */
function callsPerReferral(result: ScenarioResult): string | undefined {
  const referrals = Number(result.details.newReferrals);
  if (!result.awsCalls || !(referrals > 0)) return undefined;
  return Object.entries(result.awsCalls)
    .map(([operation, count]) => `${operation} ${(count / referrals).toFixed(1)}`)
    .join(', ');
}

function printSummary(results: ScenarioResult[], health: PipelineHealth, log: StackLog): void {
  console.log(`\n${table(results)}`);
  const list = ratios(results);
  if (list.length > 0) console.log(`\nThroughput ratios (same run):\n${ratioLines(list).join('\n')}`);
  console.log(
    `\nPipeline: ${health.acceptedReferrals} referrals accepted, ${health.webhooksReceived} webhooks received ` +
      `(${health.duplicateWebhooks} repeats), ${health.referralsWithoutWebhook} referral(s) without a webhook; ` +
      `stack log: ${log.troubleLines} trouble line(s) of ${log.lines}`,
  );
  for (const problem of health.problems) console.log(`  PROBLEM: ${problem}`);
  for (const example of log.examples) console.log(`  log: ${example}`);
}

function printCounters(report: CounterReport): void {
  console.log('\nMetric counters (each item holds the ids it counted today):');
  for (const c of report.largest) {
    console.log(
      `  ${c.metric}: ${c.ids} ids, ~${(c.approxBytes / 1024).toFixed(0)} KB ` +
        `(400 KB item limit at ~${c.projectedIdLimit} ids)`,
    );
  }
  for (const p of report.updateProbe) {
    console.log(
      `  counter update with ${p.ids} ids (~${p.approxKb.toFixed(0)} KB): median ${p.medianMs.toFixed(1)} ms, ` +
        `p95 ${p.p95Ms.toFixed(1)} ms`,
    );
  }
  console.log(`  at the item limit: ${report.atItemLimit}`);
}

/** Runs the bench; the exit code: 0 if every check passed, else 1. */
export async function main(options: CliOptions): Promise<number> {
  if (options.only === 'routing') return (await import('./routing.ts')).routingBench(options);
  if (options.only === 'surges') return (await import('./surges.ts')).surgesBench(options);
  if (options.only === 'cold-start') return (await import('./cold-start.ts')).coldStartBench(options);
  if (options.only === 'throughput') return (await import('./throughput.ts')).throughputBench(options);
  if (options.only === 'requests')
    return (await import('./requests.ts')).requestsBench({ referrals: options.quick ? 5 : 20 });
  if (options.only === 'geography' && options.geography) {
    return (await import('./geography.ts')).geographyBench(options.geography);
  }
  const log = new StackLog();
  const about = machine();
  console.log(
    `bench: ${options.quick ? 'quick (counts / 5)' : 'full'}; ${about.nproc} CPU(s) ${about.cpuModel}, Node ${about.node}; ` +
      `load average ${about.loadAverageAtStart.map((l) => l.toFixed(1)).join(' ')}`,
  );
  const { stack, headers } = await startBenchStack('bench-gp-system', { log: log.write });
  const sqs = new SQSClient({ endpoint: stack.aws.sqsEndpoint });
  const context: BenchContext = {
    stack,
    sqs,
    apiHeaders: headers,
    referrals: new ReferralFactory(loadTemplates()),
    scale: options.quick ? 5 : 1,
    accepted: new Set(),
  };
  try {
    await warmUp(context);
    const results: ScenarioResult[] = [];
    for (const name of options.scenarios) results.push(await runScenario(context, scenarios[name]));
    const health = await pipelineHealth(stack, sqs, context.accepted);
    printSummary(results, health, log);
    const counters = await counterReport(stack);
    printCounters(counters);
    const passed = results.every((r) => r.passed) && health.passed;
    writeJson(resultsFile, {
      generatedAt: new Date().toISOString(),
      command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      mode: options.quick ? 'quick' : 'full',
      machine: about,
      loadAverageAtEnd: os.loadavg(),
      warmUpRequests,
      scenarios: results,
      ratios: ratios(results),
      pipeline: health,
      metricCounters: counters,
      stackLog: log.summary(),
      passed,
    });
    console.log(
      `\nResults written to ${resultsFile.pathname}; ${passed ? 'all checks passed' : 'CHECKS FAILED'}`,
    );
    return passed ? 0 : 1;
  } finally {
    sqs.destroy();
    await stack.stop();
  }
}
