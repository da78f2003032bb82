import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { ReferralFactory, loadTemplates, samplePractices } from '../../bench/referrals.ts';
import { FaultInjector, startFaultyRecipients, type FaultProxy } from '../../infra/local/fault-injector.ts';
import { startLocalStack, type LocalStackWithoutReceiver } from '../../infra/local/local-stack.ts';
import { redrive } from '../../infra/ops/redrive.ts';
import { readDirectory, sampleDirectoryFile } from '../../infra/local/seed.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../../infra/local/webhook-receiver.ts';
import { DynamoAuditLog, auditChainIds } from '#adapters/dynamodb/audit-log.ts';
import { DynamoFigures } from '#adapters/dynamodb/figures.ts';
import { metricKey } from '#adapters/dynamodb/metric-counters.ts';
import { referralItem, referralOf } from '#adapters/dynamodb/referral-store.ts';
import { verifyChain } from '#audit/domain/chain.ts';
import { routingCounts, weeklyCounts } from '#matching/application/route-referral.ts';
import { isoWeekOf } from '#matching/domain/week.ts';
import type { Referral } from '#referral/domain/referral.ts';
import { entryFor } from '#referral/domain/lifecycle.ts';
import type { Offer } from '#referral/domain/offer.ts';
import { familyDimensions, unknownValue, type Figure, type FigureFamily } from '#reporting/domain/figures.ts';
import { routingFigures } from '#reporting/domain/referral-figures.ts';
import type { MetricCount } from '#reporting/ports.ts';
import { queueNames } from '#system/queues.ts';
import type { QueueName } from '#system/names.ts';

/**
 * Issue 11 item 1, the at-least-once torture suite (`npm run test:soak`): SOAK_REFERRALS referrals (2,000 by
 * default) through the whole local stack while the fault injector (infra/local/fault-injector.ts, seeded by
 * SOAK_SEED) hands every queued message over twice and reorders batches, fails DynamoDB requests before and after
 * their writes (now and then on every attempt, so the step itself fails: the notifier's delivered mark after its
 * webhook went out among them), terminates functions' workers mid-invocation, and has the recipients answer 500 or
 * answer too late. The whole stack is stopped and started again on its on-disk data once, about half way; the
 * webhook receiver outlives it, so it sees every delivery. Clients retry 5xx, 409, 429 and lost connections with
 * the same Idempotency-Key. Then the queues are drained, any dead letters redriven, and with the faults off:
 * - every acknowledged referral exists exactly once (no other referral in the table, one per patient), routed, with
 *   every planned delivery delivered;
 * - every webhook delivery reached its recipient; repeats only with the same webhook-id;
 * - the metric counters and the observatory's figures equal the counts computed from the stored referrals and
 *   offers;
 * - every audit chain verifies, each step in it once.
 */

const total = Number(process.env['SOAK_REFERRALS'] ?? 2_000);
const seed = Number(process.env['SOAK_SEED'] ?? 20261202);
/** SOAK_FAULTS=off runs the same load and checks with no fault injected: the baseline a run's time compares with. */
const injecting = process.env['SOAK_FAULTS'] !== 'off';
/** Clients posting at once. */
const inFlight = 16;
/**
 * Short, so a crashed batch is back in seconds, yet longer than a batch takes on a busy machine: a batch still being
 * worked on when it reappears is handled again and again (the injector duplicates every message already), and the
 * extra load makes the next batches slower still.
 */
const visibilityTimeoutSeconds = 20;
const retryBackoff = { baseSeconds: 1, capSeconds: 4 };
/** The notifier waits on recipients (some answer only after its timeout): more of its batches at once. */
const pollerConcurrency = { referrals: 2, notifications: 4 };
/** How long the queues may take to drain after the last POST: generous (a loaded machine took five minutes). */
const drainBudgetMs = Number(process.env['SOAK_DRAIN_SECONDS'] ?? 600) * 1000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** A line now and then, so a run of minutes shows where it is. */
const progress = (line: string): void => void process.stdout.write(`soak: ${line}\n`);

interface Submission {
  key: string;
  body: string;
  nhsNumber: string;
  referralId?: string;
  /** Attempts beyond the first (5xx, 409, 429, lost connection), each with the same Idempotency-Key. */
  retries: number;
}

const dataDir = mkdtempSync(join(tmpdir(), 'sp-soak-'));
const faults = new FaultInjector({ seed });
let receiver: WebhookReceiver | undefined;
let recipients: FaultProxy | undefined;
let stack: LocalStackWithoutReceiver | undefined;
/** The stacks' own log lines (failed batches, sandboxes restarted), shown if the run fails to drain. */
const stackLog: string[] = [];

afterAll(async () => {
  faults.enabled = false;
  await stack?.stop();
  await recipients?.stop();
  await receiver?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function start(): Promise<{ stack: LocalStackWithoutReceiver; token: string }> {
  const started = (await startLocalStack({
    dataDir,
    webhookUrl: recipients?.endpoint ?? '',
    faults,
    visibilityTimeoutSeconds,
    retryBackoff,
    // The load is one client's: the gateway's per-client limit would only add 429s to retry.
    throttle: { ratePerSecond: 100_000, burst: 100_000 },
    pollerConcurrency,
    log: (line) => stackLog.push(`${new Date().toISOString()} ${line}`),
  })) as LocalStackWithoutReceiver;
  const token = await started.issuer.mint({ role: 'gp-system', ods: samplePractices, subject: 'soak-gp' });
  return { stack: started, token };
}

async function scanAll(client: DynamoDBDocumentClient, table: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({ TableName: table, ExclusiveStartKey, ConsistentRead: true }),
    );
    items.push(...(page.Items ?? []));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return items;
}

interface Stored {
  referrals: Referral[];
  offers: Offer[];
}

async function stored(client: DynamoDBDocumentClient, table: string): Promise<Stored> {
  const items = await scanAll(client, table);
  return {
    referrals: items
      .filter((item) => item.sk === referralItem)
      .map((item) => referralOf(item))
      .filter((r): r is Referral => r !== undefined),
    offers: items.filter((item) => String(item.sk).startsWith('offer#')) as unknown as Offer[],
  };
}

/** Routed, and every planned delivery (and any message back to the practice) delivered. */
function settled(referral: Referral): boolean {
  if (referral.status !== 'routed' || !referral.routing) return false;
  const deliveries = referral.routing.deliveries;
  if (deliveries.some((d) => referral.deliveryStatus?.[d.deliveryId]?.status !== 'delivered')) return false;
  return Object.values(referral.practiceMessages ?? {}).every((m) => m.status === 'delivered');
}

async function queueDepths(
  live: LocalStackWithoutReceiver,
): Promise<Record<QueueName, { waiting: number; deadLetters: number }>> {
  const depth = async (url: string) => {
    const { Attributes = {} } = await live.aws.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }),
    );
    return (
      Number(Attributes.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
      Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0)
    );
  };
  const entries = await Promise.all(
    queueNames.map(async (queue) => {
      const { url, deadLetterUrl } = live.aws.queues[queue];
      return [queue, { waiting: await depth(url), deadLetters: await depth(deadLetterUrl) }] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<QueueName, { waiting: number; deadLetters: number }>;
}

/** What the poller did with a referral's messages (fault-injector.ts `deliveries`), for a failure's message. */
function messagesOf(referralId: string): string {
  return [...faults.deliveries.entries()]
    .filter(([, d]) => d.body.includes(referralId))
    .map(([id, d]) => `  ${id} ${d.body}\n${d.receipts.map((r) => `    ${r}`).join('\n')}`)
    .join('\n');
}

/** Every attempt of a unit's count writes as the DynamoDB proxy saw them (fault-injector.ts `countWrites`). */
function countWritesOf(unitId: string): string {
  return (faults.countWrites.get(unitId) ?? ['(no count write seen)'])
    .map((line) => `    ${line}`)
    .join('\n');
}

/** `<metric key>@<day or ISO week>`: a counter's total over its shards. */
const counterKey = (count: MetricCount, day: string): string => `${metricKey(count)}@${day}`;

/** A figure's cell with every dimension of its family, in its family's order (as the adapter stores it). */
function cellKey(figure: { family: FigureFamily; day: string; dimensions: Record<string, string> }): string {
  const names: readonly string[] = familyDimensions[figure.family];
  return JSON.stringify([
    figure.family,
    figure.day,
    ...names.map((name) => figure.dimensions[name] ?? unknownValue),
  ]);
}

function add(map: Map<string, number>, key: string, n = 1): void {
  map.set(key, (map.get(key) ?? 0) + n);
}

/** Where two tallies differ, for the failure message (empty when they agree). */
function differences(expected: Map<string, number>, actual: Map<string, number>): string[] {
  const keys = new Set([...expected.keys(), ...actual.keys()]);
  return [...keys]
    .filter((key) => (expected.get(key) ?? 0) !== (actual.get(key) ?? 0))
    .map((key) => `${key}: expected ${expected.get(key) ?? 0}, counted ${actual.get(key) ?? 0}`);
}

describe('at-least-once torture: duplicates, reordering, crashes before and after writes, a restart', () => {
  it(`${total} referrals: each exactly once, delivered, counted exactly, every audit chain intact`, async () => {
    const startedAt = Date.now();
    receiver = await startWebhookReceiver({
      port: 0,
      directory: readDirectory(sampleDirectoryFile, 'http://127.0.0.1'),
    });
    recipients = await startFaultyRecipients(receiver.url, faults);
    let live = await start();
    stack = live.stack;
    faults.enabled = injecting;

    const factory = new ReferralFactory(loadTemplates());
    const submissions: Submission[] = Array.from({ length: total }, () => {
      const body = factory.valid();
      return { key: randomUUID(), body: JSON.stringify(body), nhsNumber: body.patient.nhsNumber, retries: 0 };
    });
    const answers = new Map<string, number>();
    let restarting: Promise<void> | undefined;
    let restarts = 0;
    let restartMs = 0;
    const acknowledged = () => submissions.filter((s) => s.referralId !== undefined).length;

    /** The whole stack stopped and started again on the same data directory, once, with requests in flight. */
    let restartedAt = '';
    const restart = async (): Promise<void> => {
      const stoppingAt = Date.now();
      restartedAt = new Date(stoppingAt).toISOString();
      const old = live.stack;
      await old.stop();
      live = await start();
      stack = live.stack;
      restarts += 1;
      restartMs = Date.now() - stoppingAt;
      progress(`stack stopped and started again on its data in ${Math.round(restartMs / 100) / 10} s`);
    };

    const post = async (submission: Submission): Promise<void> => {
      for (let attempt = 0; ; attempt++) {
        if (attempt > 0) submission.retries += 1;
        if (attempt > 200) throw new Error(`POST gave up after ${attempt} attempts`);
        if (restarting) await restarting;
        let response: Response;
        try {
          response = await fetch(`${live.stack.apiUrl}/referrals`, {
            method: 'POST',
            headers: {
              'Content-Type': 'application/json',
              Authorization: `Bearer ${live.token}`,
              'Idempotency-Key': submission.key,
            },
            body: submission.body,
          });
        } catch {
          // The connection was lost (a restart): the client cannot know whether it was taken, so it asks again.
          await sleep(100);
          continue;
        }
        add(answers, String(response.status));
        if (response.status === 202 || response.status === 200) {
          const { referralId } = (await response.json()) as { referralId: string };
          // A retry with the same key must answer with the same referral.
          if (submission.referralId !== undefined && submission.referralId !== referralId)
            throw new Error(`key ${submission.key} answered ${submission.referralId}, then ${referralId}`);
          submission.referralId = referralId;
          return;
        }
        const text = await response.text();
        if (response.status >= 500 || [409, 429].includes(response.status)) {
          const retryAfter = Number(response.headers.get('retry-after') ?? 0);
          await sleep(Math.min(Math.max(retryAfter, 0.2), 1) * 1000);
          continue;
        }
        throw new Error(`POST answered ${response.status}: ${text}`);
      }
    };

    // 1. The load, with the restart once about half the referrals are acknowledged.
    const queue = [...submissions];
    const client = async (): Promise<void> => {
      for (;;) {
        const next = queue.shift();
        if (!next) return;
        await post(next);
        if (acknowledged() % 250 === 0)
          progress(`${acknowledged()} acknowledged, ${Math.round((Date.now() - startedAt) / 1000)} s`);
        if (restarts === 0 && !restarting && acknowledged() >= total / 2) {
          restarting = restart().finally(() => (restarting = undefined));
        }
      }
    };
    await Promise.all(Array.from({ length: inFlight }, client));
    if (restarting) await restarting;
    const postedMs = Date.now() - startedAt;
    expect(acknowledged()).toBe(total);

    // 2. Drain: every acknowledged referral settled and the queues empty; dead letters redriven (the project's own
    // redrive, as `npm run redrive` does locally), then drained again. The faults stay on throughout.
    const ids = new Set(submissions.map((s) => s.referralId ?? ''));
    const documentClient = () => live.stack.aws.documentClient;
    const tables = () => live.stack.aws.tables;
    const redriven: Record<QueueName, number> = { referrals: 0, notifications: 0 };
    const drainDeadline = Date.now() + drainBudgetMs;
    let unsettled: Referral[] = [];
    let polls = 0;
    for (;;) {
      const depths = await queueDepths(live.stack);
      const waiting = queueNames.some((q) => depths[q].waiting > 0);
      for (const q of queueNames) {
        if (depths[q].deadLetters === 0) continue;
        const { url, deadLetterUrl } = live.stack.aws.queues[q];
        redriven[q] += (await redrive(live.stack.aws.sqs, url, deadLetterUrl)).moved;
      }
      const deadLetters = queueNames.some((q) => depths[q].deadLetters > 0);
      // The table is read only once the queues are empty: a Scan a second would compete with the pipeline.
      if (!waiting && !deadLetters) {
        const { referrals } = await stored(documentClient(), tables().referrals);
        unsettled = referrals.filter((r) => ids.has(r.referralId) && !settled(r));
        if (unsettled.length === 0 && referrals.length >= ids.size) break;
      } else unsettled = [];
      if (++polls % 10 === 0)
        progress(
          `draining, ${Math.round((Date.now() - startedAt) / 1000)} s: queues ${JSON.stringify(depths)}` +
            (waiting ? '' : `, ${unsettled.length} referral(s) unsettled`),
        );
      if (Date.now() > drainDeadline)
        throw new Error(
          `not drained ${drainBudgetMs / 1000} s after the last POST (seed ${seed}, restart at ${restartedAt}): ` +
            `${unsettled.length} referral(s) unsettled, queues ${JSON.stringify(depths)}:\n` +
            unsettled
              .slice(0, 5)
              .map((r) => `  ${r.referralId} ${r.status} ${JSON.stringify(r.deliveryStatus ?? {})}`)
              .join('\n') +
            `\nthe messages of the first:\n${messagesOf(unsettled[0]?.referralId ?? '-')}` +
            `\nits webhooks: ${JSON.stringify(receiver?.attempts.filter((a) => a.webhookId.startsWith(unsettled[0]?.referralId ?? '-')))}` +
            `\nlast lines of the stack's log:\n${stackLog
              .filter((l) => !l.includes('POST /referrals'))
              .slice(-40)
              .join('\n')}`,
        );
      await sleep(1000);
    }
    const drainedMs = Date.now() - startedAt;
    faults.enabled = false;
    const injected = faults.counts();

    // 3. Every acknowledged referral exactly once: the table holds those and no other, one per patient.
    const { referrals, offers } = await stored(documentClient(), tables().referrals);
    expect(new Set(submissions.map((s) => s.referralId)).size, 'one referral id per Idempotency-Key').toBe(
      total,
    );
    expect(referrals.map((r) => r.referralId).sort()).toEqual([...ids].sort());
    const perPatient = new Map<string, number>();
    for (const r of referrals) add(perPatient, r.patient.nhsNumber);
    expect(
      [...perPatient.values()].filter((n) => n !== 1),
      'referrals per patient',
    ).toEqual([]);
    expect(perPatient.size).toBe(total);
    // ...and reached its final state: routed, every planned delivery delivered.
    expect(referrals.filter((r) => !settled(r)).map((r) => r.referralId)).toEqual([]);

    // 4. Every webhook delivery reached its recipient; a repeat only ever with the same webhook-id.
    const planned = referrals.flatMap((r) =>
      (r.routing?.deliveries ?? []).map((d) => ({
        referral: r,
        delivery: d,
        state: r.deliveryStatus?.[d.deliveryId],
      })),
    );
    const webhooks = planned.filter((p) => p.state?.channel === 'webhook');
    const arrived = new Map<string, number>();
    for (const r of receiver.received) add(arrived, r.webhookId);
    expect(
      webhooks.filter((p) => !arrived.has(p.delivery.deliveryId)).map((p) => p.delivery.deliveryId),
    ).toEqual([]);
    const idsPerNotice = new Map<string, Set<string>>();
    for (const r of receiver.received) {
      const payload = r.payload as { type?: string; data?: { referralId?: string } };
      const notice = `${r.path} ${payload.type ?? ''} ${payload.data?.referralId ?? ''}`;
      idsPerNotice.set(notice, (idsPerNotice.get(notice) ?? new Set()).add(r.webhookId));
    }
    expect([...idsPerNotice].filter(([, set]) => set.size !== 1).map(([notice]) => notice)).toEqual([]);
    const knownDeliveries = new Set(planned.map((p) => p.delivery.deliveryId));
    const practiceMessageIds = new Set(
      referrals.flatMap((r) =>
        Object.values(r.practiceMessages ?? {}).flatMap((m) =>
          m.status === 'delivered' ? [m.messageId] : [],
        ),
      ),
    );
    expect(
      [...arrived.keys()].filter((id) => !knownDeliveries.has(id) && !practiceMessageIds.has(id)),
      'webhooks nobody planned',
    ).toEqual([]);
    const repeats = receiver.received.filter((r) => r.duplicate).length;

    // 5. The counters equal the true counts, computed from what is stored: each routed referral's counts on the day
    // it was received (its services' weekly counts in its ISO week), each delivery on the day it was delivered,
    // each offer on the day it was made.
    const expectedCounts = new Map<string, number>();
    for (const r of referrals) {
      for (const count of routingCounts(r)) add(expectedCounts, counterKey(count, r.receivedAt.slice(0, 10)));
      for (const count of weeklyCounts(r)) add(expectedCounts, counterKey(count, isoWeekOf(r.receivedAt)));
    }
    for (const { delivery, state } of planned) {
      const count = {
        name: 'deliveries.delivered',
        dimensions: { recipient: delivery.recipient.kind, content: delivery.content },
      };
      add(expectedCounts, counterKey(count, (state?.deliveredAt ?? '').slice(0, 10)));
    }
    const offerCounts = entryFor('offer', null, 'offer')?.counts ?? [];
    for (const offer of offers)
      for (const name of offerCounts)
        add(
          expectedCounts,
          counterKey(
            { name, dimensions: { partner: offer.partnerId, category: offer.category } },
            offer.offeredAt.slice(0, 10),
          ),
        );
    const metricItems = await scanAll(documentClient(), tables().metrics);
    const counted = new Map<string, number>();
    const countedUnits = new Set<string>();
    let countedSetsMismatched = 0;
    for (const item of metricItems) {
      const metric = String(item.metric);
      const day = /^(.+)#\d{2}$/.exec(String(item.day))?.[1];
      if (metric.startsWith('figure#') || day === undefined || !(item.counted instanceof Set)) continue;
      add(counted, `${metric}@${day}`, Number(item.count ?? 0));
      for (const unit of item.counted as Set<string>) countedUnits.add(`${metric}@${day} ${unit}`);
      // The count and the set of units counted are one write: they can never disagree.
      if (item.counted.size !== Number(item.count ?? 0)) countedSetsMismatched += 1;
    }
    // A delivery not counted: what became of it, for the failure's message.
    const uncounted = planned.filter(
      ({ delivery, state }) =>
        !countedUnits.has(
          `${counterKey(
            {
              name: 'deliveries.delivered',
              dimensions: { recipient: delivery.recipient.kind, content: delivery.content },
            },
            (state?.deliveredAt ?? '').slice(0, 10),
          )} ${delivery.deliveryId}`,
        ),
    );
    const trail = new DynamoAuditLog(documentClient(), tables().audit);
    const explained = await Promise.all(
      uncounted.slice(0, 3).map(async ({ delivery, state }) => {
        const keys = (await trail.chainOf(delivery.deliveryId.split('.')[0] ?? '')).map((l) => l.eventKey);
        return (
          `${delivery.deliveryId} ${JSON.stringify(state)}\n  audit: ${keys.join(', ')}\n` +
          `${countWritesOf(delivery.deliveryId)}\n${messagesOf(delivery.deliveryId)}`
        );
      }),
    );
    expect(
      differences(expectedCounts, counted),
      `metric counters (${uncounted.length} deliveries uncounted):\n${explained.join('\n')}`,
    ).toEqual([]);
    expect(countedSetsMismatched).toBe(0);

    // 6. The observatory's figures equal the true counts too: each routed referral's cells, one per unit.
    const days = referrals.map((r) => r.receivedAt.slice(0, 10)).sort();
    const from = days[0] ?? '';
    const to = days.at(-1) ?? '';
    const expectedCells = new Map<string, number>();
    for (const r of referrals)
      for (const { figures } of routingFigures(r))
        for (const figure of figures as Figure[])
          add(
            expectedCells,
            cellKey(figure as { family: FigureFamily; day: string; dimensions: Record<string, string> }),
          );
    const families = [...new Set([...expectedCells.keys()].map((key) => (JSON.parse(key) as string[])[0]))];
    const figureStore = new DynamoFigures(documentClient(), tables().metrics);
    const cells = new Map<string, number>();
    for (const family of families as FigureFamily[])
      for (const cell of await figureStore.cells(family, from, to))
        add(
          cells,
          cellKey(cell as { family: FigureFamily; day: string; dimensions: Record<string, string> }),
          cell.count,
        );
    // A unit in fewer cells than its figures: which, and what became of its writes, for the failure's message.
    const cellsHolding = new Map<string, number>();
    for (const item of metricItems)
      if (String(item.metric).startsWith('figure#') && item.counted instanceof Set)
        for (const unit of item.counted as Set<string>) add(cellsHolding, unit);
    const shortUnits = referrals
      .flatMap((r) => routingFigures(r))
      .filter(({ figures, unitId }) => (cellsHolding.get(unitId) ?? 0) < figures.length);
    const shortExplained = shortUnits
      .slice(0, 3)
      .map(({ unitId }) => `${unitId}\n${countWritesOf(unitId)}\n${messagesOf(unitId.split('#')[0] ?? '')}`);
    expect(
      differences(expectedCells, cells),
      `figures (${shortUnits.length} units short):\n${shortExplained.join('\n')}`,
    ).toEqual([]);
    const figureTotals = Object.fromEntries(
      families.map((family) => [
        family,
        [...cells].filter(([key]) => key.startsWith(`["${family}"`)).reduce((sum, [, n]) => sum + n, 0),
      ]),
    );

    // 7. Every audit chain verifies, each step in it once, with the referral's routing and every delivery; and
    // there is a chain for every referral and for nothing else.
    const chainIds: string[] = [];
    for await (const page of auditChainIds(documentClient(), tables().audit)) chainIds.push(...page.ids);
    expect(chainIds.sort()).toEqual([...ids].sort());
    const broken: string[] = [];
    let links = 0;
    const chains = new Map<string, Awaited<ReturnType<typeof trail.chainOf>>>();
    const pending = [...referrals];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let r = pending.shift(); r; r = pending.shift())
          chains.set(r.referralId, await trail.chainOf(r.referralId));
      }),
    );
    for (const r of referrals) {
      const chain = chains.get(r.referralId) ?? [];
      links += chain.length;
      const verdict = verifyChain(r.referralId, chain);
      const keys = chain.map((link) => link.eventKey);
      const missing = [
        'routed',
        ...(r.routing?.deliveries ?? []).map((d) => `delivered.${d.deliveryId}`),
      ].filter((key) => !keys.includes(key));
      if (!verdict.ok || new Set(keys).size !== keys.length || missing.length > 0)
        broken.push(`${r.referralId}: ${JSON.stringify(verdict)} missing ${missing.join(', ')}`);
    }
    expect(broken).toEqual([]);

    // Every poison message was dead-lettered and redriven (others may have been, after too many receives).
    expect(redriven.referrals + redriven.notifications).toBeGreaterThanOrEqual(injected['sqs.poisoned']);

    const injectedTotal = Object.values(injected).reduce((sum, n) => sum + n, 0);
    const retries = submissions.reduce((sum, s) => sum + s.retries, 0);
    console.log(
      [
        `soak (seed ${seed}): ${total} referrals acknowledged in ${Math.round(postedMs / 1000)} s, drained at ` +
          `${Math.round(drainedMs / 1000)} s; ${restarts} restart of the whole stack on its data ` +
          `(${Math.round(restartMs / 100) / 10} s, at ${Math.round(total / 2)} acknowledged)`,
        `  POST answers: ${JSON.stringify(Object.fromEntries(answers))}; client retries with the same key: ${retries}`,
        `  faults injected: ${injectedTotal}`,
        ...Object.entries(injected).map(([kind, n]) => `    ${kind}: ${n}`),
        `  messages duplicated by the injector: ${injected['sqs.duplicate']}; webhook repeats received (same ` +
          `webhook-id, dropped by the receiver): ${repeats}`,
        `  dead letters redriven: ${JSON.stringify(redriven)}`,
        `  checked: ${referrals.length} referrals exactly once (${perPatient.size} patients), all routed and ` +
          `delivered; ${planned.length} deliveries (${webhooks.length} webhooks, ${receiver.received.length} ` +
          `received); ${offers.length} offers`,
        `  metric counters: ${expectedCounts.size} counters equal their true counts ` +
          `(${[...expectedCounts.values()].reduce((s, n) => s + n, 0)} units)`,
        `  figures: ${expectedCells.size} cells equal their true counts ${JSON.stringify(figureTotals)}`,
        `  audit: ${referrals.length} chains verified, ${links} links, each step once`,
      ].join('\n'),
    );
  });
});
