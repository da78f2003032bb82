import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { ReferralStatusView } from '#referral/application/referral-status.ts';
import type { LocalStack } from '../infra/local/local-stack.ts';
import { startBenchStack } from './bench-stack.ts';
import { queueNames, queues } from '#system/queues.ts';
import { callsBetween, type CallCounts } from './aws-calls.ts';
import type { CliOptions } from './cli.ts';
import { DeliveryTracker } from './deliveries.ts';
import { HttpClient, jsonField } from './http-client.ts';
import { measureIntakeOverhead, type IntakeOverhead, type OverheadPlan } from './intake-overhead.ts';
import { runLoad, sleep } from './load.ts';
import { pipelineHealth, type PipelineHealth } from './pipeline.ts';
import { describeDepths, waitForIdleQueues } from './queues.ts';
import { profileIntake, type IntakeProfile } from './intake-profile.ts';
import { measureRawCapacity, rawWorkers, type RawCapacity } from './raw-capacity.ts';
import { loadTemplates, ReferralFactory } from './referrals.ts';
import { machine, writeJson } from './report.ts';
import { withResourceUsage, type ResourceUsage } from './resources.ts';
import { StackLog } from './stack-log.ts';
import { threadCpuPercent, threadTicks } from './thread-cpu.ts';
import {
  requestMix,
  scaleMix,
  serverShares,
  subtractMix,
  timesMix,
  dynamoDbCeiling,
  cpuMsPerReferral,
  windowFigures,
  type ReferralTiming,
  type RequestMix,
  type ServerShares,
  type WindowFigures,
} from './throughput-figures.ts';

/**
 * `npm run bench -- --only throughput`: referrals per second through the whole pipeline (POST to last webhook) at
 * 10, 50 and 200 concurrent clients, beside the raw capacity of the same local DynamoDB and SQS servers and the
 * intake handler's overhead over a minimal handler making the same calls, all in one run (docs/benchmarks.md,
 * "Throughput"). Writes bench/results/throughput-latest.json.
 *
 * Each client is a true closed loop: it POSTs a referral, waits until the referral's last webhook has arrived, then
 * POSTs the next. Posting without waiting would measure only how fast a queue grows (intake accepts several times
 * faster than the pipeline delivers), and the latency would depend on how long the run lasted; with the loop
 * closed at the last webhook, N clients keep N referrals in the pipeline, the latency is a steady figure, and
 * throughput is what the pipeline sustains at that depth (latency ~ N / throughput, Little's law).
 */

const resultsFile = new URL('./results/throughput-latest.json', import.meta.url);
const levels = [10, 50, 200] as const;
/** A referral not fully delivered by then counts as incomplete, and its client moves on. */
const referralTimeoutMs = 60_000;
const drainCapMs = 120_000;
/** A connection idle longer than this is not reused (the gateway's keep-alive timeout is Node's 5 s). */
const idleConnectionMs = 4_000;
const targets = { clients: 50, deliveredPerSec: 50, p95Ms: 2000, overheadRatio: 1.3 };

interface Timing {
  /** Ramp-up before the measured window (excluded from every figure but the counts per referral). */
  rampMs: number;
  windowMs: number;
}

interface Plan {
  timing: (clients: number) => Timing;
  rawTaskMs: number;
  overhead: OverheadPlan;
  warmUpReferrals: number;
  /** Sequential POSTs per handler under the CPU profile. */
  profileRequests: number;
  /** Statuses read back after each level, to check every delivery shows as delivered. */
  verifyPerLevel: number;
}

const fullPlan: Plan = {
  // Long enough at 200 clients for a few full cycles (a cycle there takes about 200 / throughput seconds).
  timing: (clients) =>
    clients >= 200 ? { rampMs: 12_000, windowMs: 30_000 } : { rampMs: 5_000, windowMs: 25_000 },
  rawTaskMs: 3_000,
  overhead: { concurrencies: [1, 16], rounds: 4, requestsPerBlock: 100 },
  warmUpReferrals: 20,
  profileRequests: 300,
  verifyPerLevel: 200,
};

const quickPlan: Plan = {
  timing: (clients) =>
    clients >= 200 ? { rampMs: 5_000, windowMs: 6_000 } : { rampMs: 2_000, windowMs: 5_000 },
  rawTaskMs: 1_000,
  overhead: { concurrencies: [1, 16], rounds: 2, requestsPerBlock: 30 },
  warmUpReferrals: 10,
  profileRequests: 60,
  verifyPerLevel: 30,
};

export interface LevelResult {
  clients: number;
  rampMs: number;
  windowMs: number;
  figures: WindowFigures;
  /** Every referral accepted in the level (ramp, window and tail), and its server-side requests over its life. */
  referralsAccepted: number;
  callsPerReferral: CallCounts;
  perReferral: RequestMix & { dynamoDbTotal: number };
  /** The same, less the bench's own GET /referrals/{id} per referral (it reads how many webhooks to wait for). */
  perReferralNetOfLookups: RequestMix & { dynamoDbTotal: number };
  /**
   * The most referrals/s the DynamoDB server could take at these requests per referral (net of lookups), had it
   * the whole machine to itself (raw capacity): an upper bound that nothing else in the pipeline can raise.
   */
  dynamoDbCeilingPerSec: number;
  /**
   * The process's CPU time (every thread: client, gateway, functions, servers) per referral delivered in the window:
   * at N referrals/s the pipeline needs N times this of CPU each second, and the machine has `nproc` seconds.
   */
  cpuMsPerReferral: number;
  /** Server-side requests per second inside the window, and the share of the raw capacity they make. */
  requestsPerSec: RequestMix;
  shares: ServerShares;
  postStatuses: Record<string, number>;
  statusLookups: number;
  resources: ResourceUsage;
  /**
   * CPU % by thread over the window (Linux; bench/thread-cpu.ts): MainThread holds the gateway, dynalite, fauxqs,
   * the pollers, the receiver and the bench's clients; `local-<function>` each function. One near 100% caps its stage.
   */
  threadCpuPercent: Record<string, number>;
  loadAverage: { start: number[]; end: number[] };
  tailMs: number;
  drainMs: number;
  /**
   * Messages on each queue (waiting plus in flight), the mean of one sample a second over the window: with N
   * referrals in the pipeline, where they wait shows which stage holds them up.
   */
  meanQueueDepths: Record<string, { waiting: number; inFlight: number }>;
  problems: string[];
}

interface Bench {
  stack: LocalStack;
  sqs: SQSClient;
  referrals: ReferralFactory;
  headers: Record<string, string>;
  accepted: Set<string>;
  /** Server-side requests one GET /referrals/{id} makes (measured after the warm-up). */
  lookupCalls: RequestMix;
}

export async function throughputBench(options: CliOptions): Promise<number> {
  const plan = options.quick ? quickPlan : fullPlan;
  const log = new StackLog();
  const about = machine();
  console.log(
    `throughput bench: ${options.quick ? 'quick' : 'full'}; ${about.nproc} CPU(s) ${about.cpuModel}, ` +
      `Node ${about.node}; load average ${about.loadAverageAtStart.map((l) => l.toFixed(1)).join(' ')}`,
  );
  const { stack, headers } = await startBenchStack('bench-gp-system', {
    // Each queue's consumer as Lambda would scale it under load, up to its maxConcurrency (shared/system/queues.ts),
    // rather than npm start's two poll loops: with two, the deliveries in flight were the first cap.
    pollerConcurrency: Object.fromEntries(queueNames.map((queue) => [queue, queues[queue].maxConcurrency])),
    log: log.write,
  });
  const sqs = new SQSClient({ endpoint: stack.aws.sqsEndpoint });
  const bench: Bench = {
    stack,
    sqs,
    referrals: new ReferralFactory(loadTemplates()),
    headers,
    accepted: new Set(),
    lookupCalls: requestMix({}),
  };
  try {
    console.log(`\n▶ warm-up: ${plan.warmUpReferrals} referrals, 5 clients, followed to their last webhook`);
    const warm = await closedLoop(bench, 5, { rampMs: 0, windowMs: 60_000 }, plan.warmUpReferrals);
    bench.lookupCalls = await lookupCost(bench, warm.referralIds);
    console.log(
      `  one GET /referrals/{id}: ${(bench.lookupCalls.dynamoDbReads + bench.lookupCalls.dynamoDbWrites).toFixed(1)} ` +
        'DynamoDB request(s) (the bench reads it once per referral; subtracted in "net")',
    );

    console.log(
      `\n▶ raw capacity of the same local servers (${plan.rawTaskMs / 1000} s per task, from ${rawWorkers} worker threads)`,
    );
    const rawBefore = await measureRawCapacity(stack, plan.rawTaskMs);
    printRaw(rawBefore);

    const results: LevelResult[] = [];
    for (const clients of levels) {
      const timing = plan.timing(clients);
      console.log(
        `\n▶ ${clients} clients: ${timing.rampMs / 1000} s ramp-up, ${timing.windowMs / 1000} s measured, ` +
          "each waiting for its referral's last webhook before the next POST",
      );
      const level = await runLevel(bench, clients, timing, plan.verifyPerLevel);
      printLevel(level);
      results.push(level);
    }

    console.log(
      `\n▶ intake overhead: full handler vs minimal (same calls), ${plan.overhead.concurrencies.join(' and ')} ` +
        `in flight, ${plan.overhead.rounds} rounds of ${plan.overhead.requestsPerBlock} requests each`,
    );
    // A phase that fails (a handler that no longer loads, say) is a problem in the report, not a lost run.
    const overhead = await measureIntakeOverhead(stack, bench.referrals, bench.headers, plan.overhead).catch(
      (error: unknown): IntakeOverhead => ({
        ...plan.overhead,
        runs: [],
        ratio: Number.NaN,
        callMismatches: [],
        problems: [`intake overhead not measured: ${String(error)}`],
      }),
    );
    printOverhead(overhead);

    console.log(
      `\n▶ where intake's time goes: both handlers in this one thread, ${plan.profileRequests} POSTs each, one at a ` +
        'time, under a CPU profile',
    );
    const unmeasured = { requests: 0, msPerRequest: Number.NaN, cpuMsPerRequest: {} };
    const profile = await profileIntake(stack, bench.referrals, bench.headers, plan.profileRequests).catch(
      (error: unknown): IntakeProfile => ({
        requests: plan.profileRequests,
        full: unmeasured,
        minimal: unmeasured,
        ratio: Number.NaN,
        addedMsPerRequest: {},
        problems: [`intake profile not taken: ${String(error)}`],
      }),
    );
    printProfile(profile);

    // Measured again at the end, because other work on the machine moves it: the shares use the mean of the two.
    console.log('\n▶ raw capacity again, now the levels are done');
    const rawAfter = await measureRawCapacity(stack, plan.rawTaskMs);
    printRaw(rawAfter);
    const raw = meanRaw(rawBefore, rawAfter);
    for (const level of results) {
      level.shares = serverShares(level.requestsPerSec, raw.rates);
      level.dynamoDbCeilingPerSec = dynamoDbCeiling(level.perReferralNetOfLookups, raw.rates);
    }

    const health = await pipelineHealth(stack, sqs, bench.accepted);
    const verdicts = targetVerdicts(results, overhead);
    const problems = [
      ...rawBefore.problems,
      ...rawAfter.problems,
      ...results.flatMap((r) => r.problems.map((p) => `${r.clients} clients: ${p}`)),
      ...overhead.problems,
      ...profile.problems,
      ...overhead.callMismatches.map((m) => `minimal handler's calls differ from intake's: ${m}`),
      ...health.problems,
    ];
    printSummary(results, raw, overhead, profile, verdicts, health, log, problems);
    const passed = problems.length === 0;
    writeJson(resultsFile, {
      generatedAt: new Date().toISOString(),
      command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      mode: options.quick ? 'quick' : 'full',
      machine: about,
      loadAverageAtEnd: os.loadavg(),
      method:
        "closed loop: each client POSTs, waits for the referral's last webhook, then POSTs again; figures from the " +
        'window after the ramp-up; raw capacity from a worker thread against the same servers, idle meanwhile',
      targets,
      verdicts,
      rawCapacity: {
        mean: {
          rates: raw.rates,
          dynamoDbBatchWriteItemsPerSec: raw.dynamoDbBatchWriteItemsPerSec,
          sqsMessagesPerSec: raw.sqsMessagesPerSec,
        },
        before: rawBefore,
        after: rawAfter,
      },
      statusLookupCalls: bench.lookupCalls,
      levels: results,
      intakeOverhead: overhead,
      intakeProfile: profile,
      pipeline: health,
      stackLog: log.summary(),
      problems,
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

/** What one GET /referrals/{id} costs the servers, so the per-referral figures can leave the bench's lookups out. */
async function lookupCost(bench: Bench, referralIds: readonly string[]): Promise<RequestMix> {
  const ids = referralIds.slice(0, 10);
  if (ids.length === 0) return requestMix({});
  const client = new HttpClient(bench.stack.apiUrl, bench.headers);
  try {
    await waitForIdleQueues(bench.stack, bench.sqs, drainCapMs);
    const before = bench.stack.aws.requestCounts();
    for (const id of ids) await client.get(`/referrals/${id}`);
    const calls = callsBetween(before, bench.stack.aws.requestCounts());
    // The pollers' long polls go on meanwhile; they are not the lookup's.
    delete calls['AmazonSQS.ReceiveMessage'];
    return scaleMix(requestMix(calls), ids.length);
  } finally {
    client.close();
  }
}

interface LoopOutcome {
  timings: ReferralTiming[];
  referralIds: string[];
  statuses: Record<string, number>;
  lookups: number;
  startedAt: number;
  problems: string[];
}

/**
 * Follows posted referrals to their last webhook for the waiting clients. The number of webhooks to wait for is read
 * once from GET /referrals/{id} when the first arrives (routing is recorded before any delivery is queued, so the
 * plan is final by then; it depends on the services' capacity, so it cannot be known from the template).
 */
class DeliveryWatch {
  private readonly tracker: DeliveryTracker;
  private readonly waiting = new Map<
    string,
    { postedAt: number; resolve: (arrivals?: { first: number; last: number }) => void }
  >();
  private readonly planned = new Map<string, number>();
  private readonly lookingUp = new Set<string>();
  private running = true;
  private readonly loop: Promise<void>;
  lookups = 0;
  overDelivered = 0;

  constructor(
    stack: LocalStack,
    private readonly statusClient: HttpClient,
  ) {
    this.tracker = new DeliveryTracker(stack.receiver.received);
    this.loop = this.watch();
  }

  /** Resolves with the first and last webhooks' receipt times (epoch ms), or undefined after the referral timeout. */
  delivered(referralId: string, postedAt: number): Promise<{ first: number; last: number } | undefined> {
    return new Promise((resolve) => this.waiting.set(referralId, { postedAt, resolve }));
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async watch(): Promise<void> {
    while (this.running) {
      this.tracker.scan();
      const now = Date.now();
      for (const [referralId, waiter] of this.waiting) {
        const delivered = this.tracker.delivered(referralId);
        const planned = this.planned.get(referralId);
        if (planned !== undefined && delivered >= planned) {
          if (delivered > planned) this.overDelivered++;
          this.waiting.delete(referralId);
          const first = this.tracker.firstArrival(referralId);
          const last = this.tracker.lastArrival(referralId);
          waiter.resolve(first === undefined || last === undefined ? undefined : { first, last });
        } else if (now - waiter.postedAt > referralTimeoutMs) {
          this.waiting.delete(referralId);
          waiter.resolve(undefined);
        } else if (delivered > 0 && planned === undefined) {
          this.lookUp(referralId);
        }
      }
      await sleep(5);
    }
  }

  private lookUp(referralId: string): void {
    if (this.lookingUp.has(referralId)) return;
    this.lookingUp.add(referralId);
    this.lookups++;
    void this.statusClient
      .get(`/referrals/${referralId}`)
      .then((response) => {
        if (response.status !== 200) return;
        const view = JSON.parse(response.body) as ReferralStatusView;
        if (view.status !== 'received') this.planned.set(referralId, view.deliveries.length);
      })
      // A failed lookup is retried on a later scan.
      .finally(() => this.lookingUp.delete(referralId));
  }
}

/**
 * `clients` closed-loop clients, each with its own connection, posting until the window ends (or, for the warm-up,
 * until `maxReferrals` have been posted); the referrals in flight then finish.
 */
async function closedLoop(
  bench: Bench,
  clients: number,
  timing: Timing,
  maxReferrals = Number.POSITIVE_INFINITY,
): Promise<LoopOutcome> {
  const statusClient = new HttpClient(bench.stack.apiUrl, bench.headers);
  const watch = new DeliveryWatch(bench.stack, statusClient);
  const outcome: LoopOutcome = {
    timings: [],
    referralIds: [],
    statuses: {},
    lookups: 0,
    startedAt: Date.now(),
    problems: [],
  };
  const postingEnds = performance.now() + timing.rampMs + timing.windowMs;
  let posted = 0;
  const client = async (): Promise<void> => {
    let http = new HttpClient(bench.stack.apiUrl, bench.headers);
    let lastAnswer = performance.now();
    try {
      while (performance.now() < postingEnds && posted < maxReferrals) {
        // The gateway closes a keep-alive connection idle for 5 s (Node's default), and a POST sent as it closes
        // is reset; a client whose wait for delivery took that long opens a fresh connection, as browsers and
        // HTTP libraries do for a connection idle past the server's timeout.
        if (performance.now() - lastAnswer > idleConnectionMs) {
          http.close();
          http = new HttpClient(bench.stack.apiUrl, bench.headers);
        }
        posted++;
        const body = JSON.stringify(bench.referrals.valid());
        const postedAt = Date.now();
        const response = await http.postJson('/referrals', body);
        lastAnswer = performance.now();
        outcome.statuses[String(response.status)] = (outcome.statuses[String(response.status)] ?? 0) + 1;
        const referralId = response.status === 202 ? jsonField(response.body, 'referralId') : undefined;
        if (!referralId) {
          if (!outcome.problems.some((p) => p.startsWith(`POST answered ${response.status}`)))
            outcome.problems.push(
              `POST answered ${response.status}: ${(response.error ?? response.body).slice(0, 200)}`,
            );
          // A refusal is answered at once; a pause keeps a failing system from being hammered in a tight loop.
          await sleep(100);
          continue;
        }
        bench.accepted.add(referralId);
        outcome.referralIds.push(referralId);
        const arrivals = await watch.delivered(referralId, postedAt);
        outcome.timings.push({
          postedAt,
          intakeMs: response.latencyMs,
          ...(arrivals === undefined ? {} : { deliveredAt: arrivals.last, firstWebhookAt: arrivals.first }),
        });
      }
    } finally {
      http.close();
    }
  };
  // Spread the clients' first POSTs over a second, as independent clients would start.
  await Promise.all(
    Array.from({ length: clients }, async (_, i) => {
      await sleep((i * 1000) / clients);
      await client();
    }),
  );
  await watch.stop();
  statusClient.close();
  outcome.lookups = watch.lookups;
  const timedOut = outcome.timings.filter((t) => t.deliveredAt === undefined).length;
  if (timedOut > 0)
    outcome.problems.push(`${timedOut} referral(s) not fully delivered within ${referralTimeoutMs / 1000} s`);
  if (watch.overDelivered > 0)
    outcome.problems.push(`${watch.overDelivered} referral(s) got more webhooks than planned`);
  return outcome;
}

async function runLevel(
  bench: Bench,
  clients: number,
  timing: Timing,
  verifyCount: number,
): Promise<LevelResult> {
  const { stack } = bench;
  const idle = await waitForIdleQueues(stack, bench.sqs, drainCapMs);
  const problems: string[] = idle.drained
    ? []
    : [`queues busy before the level: ${describeDepths(idle.depths)}`];
  const loadStart = os.loadavg();
  const countsAtStart = stack.aws.requestCounts();
  const started = Date.now();
  const window = { from: started + timing.rampMs, to: started + timing.rampMs + timing.windowMs };
  // Counts at the window's edges, taken on timers beside the clients.
  const edges: { from?: CallCounts; to?: CallCounts } = {};
  const atFrom = setTimeout(() => (edges.from = stack.aws.requestCounts()), timing.rampMs);
  const atTo = setTimeout(() => (edges.to = stack.aws.requestCounts()), timing.rampMs + timing.windowMs);
  const depths = sampleQueueDepths(bench, window);
  // CPU over the measured window only: from the ramp's end to the window's end.
  let resources: ResourceUsage | undefined;
  let threads: Record<string, number> = {};
  const resourcesDone = sleep(timing.rampMs).then(async () => {
    const ticksBefore = threadTicks();
    const started = performance.now();
    resources = (await withResourceUsage(() => sleep(timing.windowMs))).usage;
    threads = threadCpuPercent(ticksBefore, threadTicks(), performance.now() - started);
  });
  const loop = await closedLoop(bench, clients, timing);
  await resourcesDone;
  clearTimeout(atFrom);
  clearTimeout(atTo);
  const tailMs = Date.now() - window.to;
  const drain = await waitForIdleQueues(stack, bench.sqs, drainCapMs);
  if (!drain.drained) problems.push(`queues still busy after the level: ${describeDepths(drain.depths)}`);
  const lifeCalls = withoutBenchCalls(callsBetween(countsAtStart, stack.aws.requestCounts()));
  const meanQueueDepths = await depths;
  const loadEnd = os.loadavg();
  problems.push(...loop.problems);
  problems.push(...(await verifyStatuses(bench, loop.referralIds, verifyCount)));

  const accepted = loop.referralIds.length;
  const perReferral = scaleMix(requestMix(lifeCalls), Math.max(1, accepted));
  const lookupsPerReferral = accepted > 0 ? loop.lookups / accepted : 0;
  const dynamoDbTotal = perReferral.dynamoDbWrites + perReferral.dynamoDbReads + perReferral.dynamoDbOther;
  const net = subtractMix(perReferral, timesMix(bench.lookupCalls, lookupsPerReferral));
  const windowSeconds = timing.windowMs / 1000;
  const figures = windowFigures(loop.timings, window);
  const usage = resources ?? (await withResourceUsage(() => Promise.resolve())).usage;
  const requestsPerSec = scaleMix(
    requestMix(withoutBenchCalls(callsBetween(edges.from ?? {}, edges.to ?? {}))),
    windowSeconds,
  );
  return {
    clients,
    rampMs: timing.rampMs,
    windowMs: timing.windowMs,
    figures,
    referralsAccepted: accepted,
    callsPerReferral: Object.fromEntries(
      Object.entries(lifeCalls).map(([operation, count]) => [operation, count / Math.max(1, accepted)]),
    ),
    perReferral: { ...perReferral, dynamoDbTotal },
    perReferralNetOfLookups: {
      ...net,
      dynamoDbTotal: net.dynamoDbWrites + net.dynamoDbReads + net.dynamoDbOther,
    },
    // Filled in at the end, with the raw capacity.
    dynamoDbCeilingPerSec: Number.NaN,
    cpuMsPerReferral: cpuMsPerReferral(usage, figures.deliveredPerSec),
    requestsPerSec,
    // Filled in at the end, against the raw capacity measured before and after the levels.
    shares: serverShares(requestsPerSec, {
      dynamoDbPutItemPerSec: 0,
      dynamoDbGetItemPerSec: 0,
      sqsRequestsPerSec: 0,
    }),
    postStatuses: loop.statuses,
    statusLookups: loop.lookups,
    resources: usage,
    threadCpuPercent: threads,
    loadAverage: { start: loadStart, end: loadEnd },
    tailMs,
    drainMs: drain.drainMs,
    meanQueueDepths,
    problems,
  };
}

/** Queue depth requests are the bench's own (the drain waits and the sampler); the system never makes one. */
function withoutBenchCalls(calls: CallCounts): CallCounts {
  const { ['AmazonSQS.GetQueueAttributes']: _bench, ...system } = calls;
  return system;
}

/** One sample a second of every queue's depth over the window (main queues only: one request per queue). */
async function sampleQueueDepths(
  bench: Bench,
  window: { from: number; to: number },
): Promise<Record<string, { waiting: number; inFlight: number }>> {
  const totals = new Map<string, { waiting: number; inFlight: number; samples: number }>();
  await sleep(Math.max(0, window.from - Date.now()));
  while (Date.now() < window.to) {
    await Promise.all(
      Object.entries(bench.stack.aws.queues).map(async ([queue, urls]) => {
        const { Attributes = {} } = await bench.sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: urls.url,
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
          }),
        );
        const total = totals.get(queue) ?? { waiting: 0, inFlight: 0, samples: 0 };
        total.waiting += Number(Attributes.ApproximateNumberOfMessages ?? 0);
        total.inFlight += Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
        total.samples++;
        totals.set(queue, total);
      }),
    );
    await sleep(1000);
  }
  return Object.fromEntries(
    [...totals].map(([queue, t]) => [
      queue,
      { waiting: t.waiting / Math.max(1, t.samples), inFlight: t.inFlight / Math.max(1, t.samples) },
    ]),
  );
}

/**
 * A sample of the level's referrals read back once the queues are idle: each must show as routed with every
 * delivery delivered (the receiver saw the webhooks; this checks the pipeline finished its bookkeeping too).
 */
async function verifyStatuses(
  bench: Bench,
  referralIds: readonly string[],
  count: number,
): Promise<string[]> {
  const step = Math.max(1, Math.floor(referralIds.length / Math.max(1, count)));
  const sample = referralIds.filter((_, i) => i % step === 0).slice(0, count);
  const client = new HttpClient(bench.stack.apiUrl, bench.headers);
  try {
    const { results } = await runLoad(
      { label: 'verify', count: sample.length, concurrency: 16, timeCapMs: 60_000, quiet: true },
      async (index) => {
        const response = await client.get(`/referrals/${sample[index] ?? ''}`);
        return response.status === 200 ? (JSON.parse(response.body) as ReferralStatusView) : undefined;
      },
    );
    const disagreeing = results.filter(
      (view) => !view || view.status !== 'routed' || view.deliveries.some((d) => d.status !== 'delivered'),
    ).length;
    return disagreeing === 0
      ? []
      : [
          `${disagreeing} of ${sample.length} sampled referral(s) not shown as routed with every delivery delivered`,
        ];
  } finally {
    client.close();
  }
}

export interface Verdict {
  target: string;
  measured: string;
  met: boolean;
}

function targetVerdicts(results: readonly LevelResult[], overhead: IntakeOverhead): Verdict[] {
  const at = results.find((r) => r.clients === targets.clients);
  const verdicts: Verdict[] = [];
  if (at) {
    verdicts.push(
      {
        target: `>= ${targets.deliveredPerSec} referrals/s fully delivered at ${targets.clients} clients`,
        measured: `${at.figures.deliveredPerSec.toFixed(1)}/s`,
        met: at.figures.deliveredPerSec >= targets.deliveredPerSec,
      },
      {
        target: `p95 POST to last webhook < ${targets.p95Ms / 1000} s at ${targets.clients} clients`,
        measured: `${(at.figures.postToDeliveredMs.p95 / 1000).toFixed(2)} s`,
        met: at.figures.postToDeliveredMs.p95 < targets.p95Ms,
      },
    );
  }
  verdicts.push({
    target: `intake overhead (full / minimal handler, time per request) <= ${targets.overheadRatio}x`,
    measured: Number.isNaN(overhead.ratio) ? 'not measured' : `${overhead.ratio.toFixed(2)}x`,
    met: overhead.ratio <= targets.overheadRatio,
  });
  return verdicts;
}

const pct = (share: number): string => `${(share * 100).toFixed(0)}%`;
const ms = (value: number): string => (Number.isNaN(value) ? '-' : value.toFixed(0));

/** The two raw measurements' mean, for the shares; each is kept in the results beside it. */
function meanRaw(a: RawCapacity, b: RawCapacity): RawCapacity {
  const mean = (x: number, y: number): number => (x + y) / 2;
  return {
    rates: {
      dynamoDbPutItemPerSec: mean(a.rates.dynamoDbPutItemPerSec, b.rates.dynamoDbPutItemPerSec),
      dynamoDbGetItemPerSec: mean(a.rates.dynamoDbGetItemPerSec, b.rates.dynamoDbGetItemPerSec),
      sqsRequestsPerSec: mean(a.rates.sqsRequestsPerSec, b.rates.sqsRequestsPerSec),
    },
    dynamoDbBatchWriteItemsPerSec: mean(a.dynamoDbBatchWriteItemsPerSec, b.dynamoDbBatchWriteItemsPerSec),
    sqsMessagesPerSec: mean(a.sqsMessagesPerSec, b.sqsMessagesPerSec),
    tasks: [],
    resources: a.resources,
    problems: [],
  };
}

function printRaw(raw: RawCapacity): void {
  for (const t of raw.tasks) {
    console.log(
      `  ${t.kind} at ${t.concurrency} in flight: ${t.requestsPerSec.toFixed(0)} requests/s, ` +
        `${t.itemsPerSec.toFixed(0)} items/s${t.errors > 0 ? `, ${t.errors} errors` : ''}`,
    );
  }
}

function printLevel(level: LevelResult): void {
  const f = level.figures;
  console.log(
    `  ${f.deliveredPerSec.toFixed(1)} referrals/s fully delivered; POST to last webhook p50 ${ms(f.postToDeliveredMs.p50)} ms, ` +
      `p95 ${ms(f.postToDeliveredMs.p95)} ms, p99 ${ms(f.postToDeliveredMs.p99)} ms; intake 202 p50 ${ms(f.intakeMs.p50)} ms, ` +
      `p95 ${ms(f.intakeMs.p95)} ms; CPU ${level.resources.cpuPercent.toFixed(0)}%; ` +
      `load ${level.loadAverage.end[0]?.toFixed(1) ?? '-'}`,
  );
  console.log(
    `  per referral: ${level.perReferral.dynamoDbTotal.toFixed(1)} DynamoDB (${level.perReferralNetOfLookups.dynamoDbTotal.toFixed(1)} net of ` +
      `the bench's lookup), ${level.perReferral.sqs.toFixed(1)} SQS requests; the servers took ` +
      `${level.requestsPerSec.dynamoDbWrites.toFixed(0)} DynamoDB writes/s, ${level.requestsPerSec.dynamoDbReads.toFixed(0)} reads/s, ` +
      `${level.requestsPerSec.sqs.toFixed(0)} SQS requests/s`,
  );
  console.log(
    `  POST to first webhook p50 ${ms(f.postToFirstWebhookMs.p50)} ms, p95 ${ms(f.postToFirstWebhookMs.p95)} ms; ` +
      'mean queue depth (waiting + in flight): ' +
      Object.entries(level.meanQueueDepths)
        .map(([queue, d]) => `${queue} ${d.waiting.toFixed(1)} + ${d.inFlight.toFixed(1)}`)
        .join(', '),
  );
  const threads = Object.entries(level.threadCpuPercent);
  if (threads.length > 0) {
    console.log(
      `  CPU by thread (100 = one core): ${threads
        .slice(0, 7)
        .map(([name, percent]) => `${name} ${percent.toFixed(0)}%`)
        .join(', ')}`,
    );
  }
  for (const problem of level.problems) console.log(`  PROBLEM: ${problem}`);
}

function printOverhead(o: IntakeOverhead): void {
  for (const run of o.runs) {
    for (const [name, h] of [
      ['full   ', run.full],
      ['minimal', run.minimal],
    ] as const) {
      console.log(
        `  ${run.concurrency} in flight, ${name}: ${h.requests} requests, ${h.perSec.toFixed(1)}/s, ` +
          `${h.msPerRequest.toFixed(2)} ms each, p50 ${h.latencyMs.p50.toFixed(1)} ms, p95 ${h.latencyMs.p95.toFixed(1)} ms; ` +
          'calls per request: ' +
          Object.entries(h.callsPerRequest)
            .map(([op, n]) => `${op} ${n.toFixed(2)}`)
            .join(', '),
      );
    }
    console.log(
      `  ${run.concurrency} in flight: ratio (full / minimal, time per request) ${run.ratio.toFixed(2)}x`,
    );
  }
  for (const m of o.callMismatches) console.log(`  CALLS DIFFER: ${m}`);
}

function printProfile(p: IntakeProfile): void {
  const top = (groups: Record<string, number>): string =>
    Object.entries(groups)
      .slice(0, 8)
      .map(([group, ms]) => `${group} ${ms.toFixed(2)}`)
      .join(', ');
  console.log(
    `  full:    ${p.full.msPerRequest.toFixed(2)} ms per request; CPU ms per request: ${top(p.full.cpuMsPerRequest)}`,
  );
  console.log(
    `  minimal: ${p.minimal.msPerRequest.toFixed(2)} ms per request; CPU ms per request: ${top(p.minimal.cpuMsPerRequest)}`,
  );
  console.log(
    `  ratio in one thread ${p.ratio.toFixed(2)}x; the full handler adds, per request: ` +
      Object.entries(p.addedMsPerRequest)
        .map(([group, ms]) => `${group} ${ms >= 0 ? '+' : ''}${ms.toFixed(2)} ms`)
        .join(', '),
  );
}

function printSummary(
  results: readonly LevelResult[],
  raw: RawCapacity,
  overhead: IntakeOverhead,
  profile: IntakeProfile,
  verdicts: readonly Verdict[],
  health: PipelineHealth,
  log: StackLog,
  problems: readonly string[],
): void {
  const header = [
    'clients',
    'delivered/s',
    'e2e p50 ms',
    'p95 ms',
    'p99 ms',
    '202 p50 ms',
    '202 p95 ms',
    'DDB/ref',
    'SQS/ref',
    'DDB req/s',
    'DDB % raw',
    'SQS % raw',
    'DDB cap/s',
    'cpu %',
    'cpu ms/ref',
    'load',
  ];
  const rows = results.map((r) => [
    String(r.clients),
    r.figures.deliveredPerSec.toFixed(1),
    ms(r.figures.postToDeliveredMs.p50),
    ms(r.figures.postToDeliveredMs.p95),
    ms(r.figures.postToDeliveredMs.p99),
    ms(r.figures.intakeMs.p50),
    ms(r.figures.intakeMs.p95),
    r.perReferralNetOfLookups.dynamoDbTotal.toFixed(1),
    r.perReferralNetOfLookups.sqs.toFixed(1),
    (
      r.requestsPerSec.dynamoDbWrites +
      r.requestsPerSec.dynamoDbReads +
      r.requestsPerSec.dynamoDbOther
    ).toFixed(0),
    pct(r.shares.dynamoDb),
    pct(r.shares.sqs),
    r.dynamoDbCeilingPerSec.toFixed(0),
    r.resources.cpuPercent.toFixed(0),
    r.cpuMsPerReferral.toFixed(0),
    r.loadAverage.end[0]?.toFixed(1) ?? '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padStart(widths[i] ?? 0)).join('  ');
  console.log(`\n${line(header)}\n${line(widths.map((w) => '-'.repeat(w)))}\n${rows.map(line).join('\n')}`);
  console.log(
    `\nRaw capacity (same servers, idle; mean of before and after the levels): PutItem ${raw.rates.dynamoDbPutItemPerSec.toFixed(0)}/s, GetItem ` +
      `${raw.rates.dynamoDbGetItemPerSec.toFixed(0)}/s, BatchWriteItem ${raw.dynamoDbBatchWriteItemsPerSec.toFixed(0)} items/s; ` +
      `SQS ${raw.sqsMessagesPerSec.toFixed(0)} messages/s sent, received and deleted (${raw.rates.sqsRequestsPerSec.toFixed(0)} requests/s)`,
  );
  console.log(
    `Intake overhead (full / minimal handler, same calls): ` +
      overhead.runs
        .map(
          (r) =>
            `${r.ratio.toFixed(2)}x at ${r.concurrency} in flight (${r.full.msPerRequest.toFixed(2)} vs ` +
            `${r.minimal.msPerRequest.toFixed(2)} ms per request)`,
        )
        .join('; '),
  );
  console.log(
    `Intake in one thread (profiled): ${profile.ratio.toFixed(2)}x; the full handler's extra CPU per request: ` +
      Object.entries(profile.addedMsPerRequest)
        .filter(([, ms]) => ms > 0)
        .slice(0, 5)
        .map(([group, ms]) => `${group} ${ms.toFixed(2)} ms`)
        .join(', '),
  );
  console.log(
    "(DDB/ref, SQS/ref: requests per referral over its life, net of the bench's status lookup; % raw: the servers' " +
      'busy share at the raw rates; DDB cap/s: referrals/s the DynamoDB server alone could take at DDB/ref; ' +
      'cpu ms/ref: CPU time of the whole process per referral delivered)',
  );
  console.log('\nTargets:');
  for (const v of verdicts) console.log(`  ${v.met ? 'met    ' : 'NOT MET'}  ${v.target}: ${v.measured}`);
  console.log(
    `\nPipeline: ${health.acceptedReferrals} referrals accepted, ${health.webhooksReceived} webhooks received ` +
      `(${health.duplicateWebhooks} repeats); stack log: ${log.troubleLines} trouble line(s) of ${log.lines}`,
  );
  for (const problem of problems) console.log(`  PROBLEM: ${problem}`);
  for (const example of log.examples) console.log(`  log: ${example}`);
}
