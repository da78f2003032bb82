import { performance } from 'node:perf_hooks';
import type { ReferralStatusView } from '#referral/application/referral-status.ts';
import { DeliveryTracker } from './deliveries.ts';
import { HttpClient, jsonField, type HttpResponse } from './http-client.ts';
import { countStatuses, statusProblems } from './intake.ts';
import { progressPrinter, runLoad, sleep, type LoadOutcome } from './load.ts';
import { describeDepths, waitForIdleQueues } from './queues.ts';
import { withResourceUsage } from './resources.ts';
import { perSecond, summarise } from './stats.ts';
import type { BenchContext, Scenario, ScenarioResult } from './types.ts';

/**
 * End-to-end: POST referrals at 8 in flight and time each one from its POST to the receipt of its last webhook
 * (team and every matched partner). How many webhooks to wait for is read once from GET /referrals/{id} when the
 * first one arrives: routing is recorded before any delivery is queued, so by then the plan is final.
 */

const concurrency = 8;
const timeCapMs = 120_000;

/** Planned delivery counts, looked up once per referral, off the watch loop so lookups never delay a scan. */
class PlannedDeliveries {
  private readonly counts = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<void>>();
  failedLookups = 0;

  constructor(private readonly client: HttpClient) {}

  get(referralId: string): number | undefined {
    return this.counts.get(referralId);
  }

  /** Starts a lookup unless one is known or under way; a failed one is simply retried on a later scan. */
  request(referralId: string): void {
    if (this.counts.has(referralId) || this.inFlight.has(referralId)) return;
    const lookup = this.lookup(referralId).finally(() => this.inFlight.delete(referralId));
    this.inFlight.set(referralId, lookup);
  }

  async settle(): Promise<void> {
    await Promise.allSettled([...this.inFlight.values()]);
  }

  total(): number {
    return [...this.counts.values()].reduce((sum, n) => sum + n, 0);
  }

  private async lookup(referralId: string): Promise<void> {
    const view = await readStatus(this.client, referralId);
    if (view && view.status !== 'received') this.counts.set(referralId, view.deliveries.length);
    else this.failedLookups++;
  }
}

async function readStatus(client: HttpClient, referralId: string): Promise<ReferralStatusView | undefined> {
  const response = await client.get(`/referrals/${referralId}`);
  if (response.status !== 200) return undefined;
  return JSON.parse(response.body) as ReferralStatusView;
}

interface Watch {
  /** referralId -> POST start (epoch ms, the clock the receiver stamps deliveries with). */
  posted: Map<string, number>;
  tracker: DeliveryTracker;
  planned: PlannedDeliveries;
}

function isComplete(watch: Watch, referralId: string): boolean {
  const planned = watch.planned.get(referralId);
  return planned !== undefined && watch.tracker.delivered(referralId) >= planned;
}

/** Scans deliveries until every accepted referral is fully delivered and the POSTs are over, or the cap passes. */
async function watchDeliveries(
  watch: Watch,
  posts: Promise<unknown>,
  total: number,
  deadline: number,
  quiet: boolean,
): Promise<boolean> {
  let postsDone = false;
  void posts.then(() => (postsDone = true));
  const progress = quiet ? () => undefined : progressPrinter('end-to-end fully delivered', total);
  for (;;) {
    watch.tracker.scan();
    let complete = 0;
    for (const referralId of watch.posted.keys()) {
      if (isComplete(watch, referralId)) complete++;
      else if (watch.tracker.delivered(referralId) > 0) watch.planned.request(referralId);
    }
    progress(complete);
    if (postsDone && complete === watch.posted.size) return true;
    if (performance.now() > deadline) return false;
    await sleep(5);
  }
}

export const endToEnd: Scenario = {
  name: 'end-to-end',
  description: 'POST at 8 in flight; latency from POST until every webhook for the referral was received',
  async run(context) {
    const count = Math.max(1, Math.round(100 / context.scale));
    const bodies = Array.from({ length: count }, () => JSON.stringify(context.referrals.valid()));
    const client = new HttpClient(context.stack.apiUrl, context.apiHeaders);
    const statusClient = new HttpClient(context.stack.apiUrl, context.apiHeaders);
    try {
      const unloaded = await unloadedLatencies(context, client, statusClient);
      const watch = newWatch(context, statusClient);
      const { value, usage } = await withResourceUsage(() =>
        measure(context, watch, client, bodies, { concurrency, quiet: false }),
      );
      const result = buildResult(context, watch, value, count);
      result.resources = usage;
      addUnloaded(result, unloaded);
      await verifyStatuses(context, watch, statusClient, result);
      result.passed = result.problems.length === 0;
      return result;
    } finally {
      client.close();
      statusClient.close();
    }
  },
};

function newWatch(context: BenchContext, statusClient: HttpClient): Watch {
  return {
    posted: new Map(),
    tracker: new DeliveryTracker(context.stack.receiver.received),
    planned: new PlannedDeliveries(statusClient),
  };
}

const unloadedCount = 5;

/**
 * A few referrals one at a time, each followed to its last webhook before the next is sent: the latency with no
 * backlog, which the loaded figure is compared with.
 */
async function unloadedLatencies(
  context: BenchContext,
  client: HttpClient,
  statusClient: HttpClient,
): Promise<{ latencies: number[]; incomplete: number }> {
  const latencies: number[] = [];
  let incomplete = 0;
  for (let i = 0; i < unloadedCount; i++) {
    const watch = newWatch(context, statusClient);
    const body = JSON.stringify(context.referrals.valid());
    await measure(context, watch, client, [body], { concurrency: 1, quiet: true });
    for (const [referralId, postedAt] of watch.posted) {
      const arrival = watch.tracker.lastArrival(referralId);
      if (isComplete(watch, referralId) && arrival !== undefined) latencies.push(arrival - postedAt);
      else incomplete++;
    }
  }
  return { latencies, incomplete };
}

function addUnloaded(result: ScenarioResult, unloaded: { latencies: number[]; incomplete: number }): void {
  const summary = summarise(unloaded.latencies);
  result.details.unloadedReferrals = unloaded.latencies.length;
  result.details.unloadedP50Ms = summary.p50;
  result.details.unloadedMaxMs = summary.max;
  if (unloaded.incomplete > 0) {
    result.problems.push(`${unloaded.incomplete} unloaded referral(s) not fully delivered in time`);
  }
}

interface Measured {
  posts: LoadOutcome<HttpResponse>;
  startedAt: number;
  allDelivered: boolean;
}

async function measure(
  context: BenchContext,
  watch: Watch,
  client: HttpClient,
  bodies: readonly string[],
  load: { concurrency: number; quiet: boolean },
): Promise<Measured> {
  const startedAt = Date.now();
  const deadline = performance.now() + timeCapMs;
  const posts = runLoad(
    { label: 'end-to-end POST', count: bodies.length, timeCapMs, ...load },
    async (index) => {
      const postedAt = Date.now();
      const response = await client.postJson('/referrals', bodies[index] ?? '');
      const referralId = response.status === 202 ? jsonField(response.body, 'referralId') : undefined;
      if (referralId) {
        watch.posted.set(referralId, postedAt);
        context.accepted.add(referralId);
      }
      return response;
    },
  );
  const allDelivered = await watchDeliveries(watch, posts, bodies.length, deadline, load.quiet);
  await watch.planned.settle();
  return { posts: await posts, startedAt, allDelivered };
}

function buildResult(context: BenchContext, watch: Watch, measured: Measured, count: number): ScenarioResult {
  const latencies: number[] = [];
  // POST to first webhook is intake + queue + routing + one delivery; the rest is the fan-out to the others.
  const firstWebhook: number[] = [];
  let lastArrival = measured.startedAt;
  for (const [referralId, postedAt] of watch.posted) {
    const first = watch.tracker.firstArrival(referralId);
    const arrival = watch.tracker.lastArrival(referralId);
    if (!isComplete(watch, referralId) || arrival === undefined || first === undefined) continue;
    latencies.push(arrival - postedAt);
    firstWebhook.push(first - postedAt);
    lastArrival = Math.max(lastArrival, arrival);
  }
  const { posts } = measured;
  const problems = statusProblems(posts.results, 202);
  const incomplete = watch.posted.size - latencies.length;
  if (incomplete > 0) {
    problems.push(`${incomplete} accepted referral(s) not fully delivered within ${timeCapMs / 1000} s`);
  }
  if (posts.timedOut) problems.push(`time cap reached after ${posts.results.length} POSTs`);
  const spanMs = lastArrival - measured.startedAt;
  return {
    name: 'end-to-end',
    description: endToEnd.description,
    count,
    completed: latencies.length,
    concurrency,
    durationMs: spanMs,
    throughputPerSec: perSecond(latencies.length, spanMs),
    latencyMs: summarise(latencies),
    statuses: countStatuses(posts.results),
    timedOut: posts.timedOut || !measured.allDelivered,
    passed: problems.length === 0,
    problems,
    details: {
      postPhaseMs: Math.round(posts.durationMs),
      postThroughputPerSec: Math.round(perSecond(posts.results.length, posts.durationMs)),
      postLatencyP50Ms: Math.round(summarise(posts.results.map((r) => r.latencyMs)).p50),
      firstWebhookP50Ms: summarise(firstWebhook).p50,
      firstWebhookP95Ms: summarise(firstWebhook).p95,
      webhooksPlanned: watch.planned.total(),
      duplicateWebhooks: watch.tracker.duplicates,
      unreadableWebhooks: watch.tracker.unreadable,
      statusLookupsRetried: watch.planned.failedLookups,
      scale: context.scale,
    },
  };
}

/**
 * After the queues empty, each referral's status must agree with what the receiver saw: routed, every delivery
 * marked delivered. Not timed: it checks the pipeline finished its bookkeeping, not how fast.
 */
async function verifyStatuses(
  context: BenchContext,
  watch: Watch,
  client: HttpClient,
  result: ScenarioResult,
): Promise<void> {
  const drain = await waitForIdleQueues(context.stack, context.sqs, 60_000);
  if (!drain.drained) result.problems.push(`queues not idle after delivery: ${describeDepths(drain.depths)}`);
  const ids = [...watch.posted.keys()];
  const { results } = await runLoad(
    { label: 'end-to-end verify', count: ids.length, concurrency, timeCapMs: 60_000 },
    async (index) => readStatus(client, ids[index] ?? ''),
  );
  const disagreeing = results.filter(
    (view) => !view || view.status !== 'routed' || view.deliveries.some((d) => d.status !== 'delivered'),
  );
  if (disagreeing.length > 0) {
    result.problems.push(
      `${disagreeing.length} referral(s) not shown as routed with every delivery delivered`,
    );
  }
}
