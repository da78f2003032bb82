import type { CallCounts } from './aws-calls.ts';
import { perSecond, summarise, type LatencySummary } from './stats.ts';

/**
 * The throughput bench's arithmetic, kept pure so it is unit-tested (test/unit/throughput-figures.test.ts): what
 * counts inside a level's measurement window, how DynamoDB requests split into writes and reads, and what share of
 * a local server's raw capacity a level used.
 */

/** One referral of a closed-loop client, on the receiver's clock (epoch ms). */
export interface ReferralTiming {
  postedAt: number;
  /** How long the POST took to be answered 202. */
  intakeMs: number;
  /** When its last planned webhook arrived; undefined if it never completed. */
  deliveredAt?: number;
  /** When its first webhook arrived (routing was done by then); set whenever deliveredAt is. */
  firstWebhookAt?: number;
}

export interface WindowFigures {
  /** Referrals whose last webhook arrived inside the window, per second of window. */
  deliveredPerSec: number;
  delivered: number;
  /** POST to last webhook, for referrals posted inside the window (so a ramp-up's burst is left out). */
  postToDeliveredMs: LatencySummary;
  /** POST to the first webhook: intake, the routing queue, routing and one delivery; the rest is the fan-out. */
  postToFirstWebhookMs: LatencySummary;
  /** POST answered 202, for the same referrals. */
  intakeMs: LatencySummary;
  /** Posted inside the window but never completed. */
  incomplete: number;
  postedInWindow: number;
}

/**
 * Steady-state figures of one level: the window starts after the ramp-up, when every client has had time to send
 * its first referrals, and ends when the clients stop posting; completions after it are not counted as throughput,
 * but a referral posted inside it is followed to its last webhook for its latency.
 */
export function windowFigures(
  timings: readonly ReferralTiming[],
  window: { from: number; to: number },
): WindowFigures {
  const inWindow = timings.filter((t) => t.postedAt >= window.from && t.postedAt < window.to);
  const completed = inWindow.filter((t) => t.deliveredAt !== undefined);
  const delivered = timings.filter(
    (t) => t.deliveredAt !== undefined && t.deliveredAt >= window.from && t.deliveredAt < window.to,
  ).length;
  return {
    deliveredPerSec: perSecond(delivered, window.to - window.from),
    delivered,
    postToDeliveredMs: summarise(completed.map((t) => (t.deliveredAt ?? 0) - t.postedAt)),
    postToFirstWebhookMs: summarise(
      completed.flatMap((t) => (t.firstWebhookAt === undefined ? [] : [t.firstWebhookAt - t.postedAt])),
    ),
    intakeMs: summarise(inWindow.map((t) => t.intakeMs)),
    incomplete: inWindow.length - completed.length,
    postedInWindow: inWindow.length,
  };
}

/** DynamoDB operations by whether they write: a write costs the server more than a read (a put, index upkeep). */
const writeOperations = new Set([
  'DynamoDB.PutItem',
  'DynamoDB.UpdateItem',
  'DynamoDB.DeleteItem',
  'DynamoDB.BatchWriteItem',
  'DynamoDB.TransactWriteItems',
]);
const readOperations = new Set([
  'DynamoDB.GetItem',
  'DynamoDB.Query',
  'DynamoDB.Scan',
  'DynamoDB.BatchGetItem',
  'DynamoDB.TransactGetItems',
]);

export interface RequestMix {
  dynamoDbWrites: number;
  dynamoDbReads: number;
  /** DescribeTable and the like: counted in the total, in neither share. */
  dynamoDbOther: number;
  sqs: number;
}

/** Splits server-side request counts (bench/aws-calls.ts names) into the kinds the raw capacity is measured for. */
export function requestMix(counts: CallCounts): RequestMix {
  const mix: RequestMix = { dynamoDbWrites: 0, dynamoDbReads: 0, dynamoDbOther: 0, sqs: 0 };
  for (const [operation, count] of Object.entries(counts)) {
    if (writeOperations.has(operation)) mix.dynamoDbWrites += count;
    else if (readOperations.has(operation)) mix.dynamoDbReads += count;
    else if (operation.startsWith('DynamoDB.')) mix.dynamoDbOther += count;
    else if (operation.startsWith('AmazonSQS.')) mix.sqs += count;
  }
  return mix;
}

export const timesMix = (mix: RequestMix, factor: number): RequestMix => ({
  dynamoDbWrites: mix.dynamoDbWrites * factor,
  dynamoDbReads: mix.dynamoDbReads * factor,
  dynamoDbOther: mix.dynamoDbOther * factor,
  sqs: mix.sqs * factor,
});

export const scaleMix = (mix: RequestMix, divisor: number): RequestMix => timesMix(mix, 1 / divisor);

export const subtractMix = (a: RequestMix, b: RequestMix): RequestMix => ({
  dynamoDbWrites: a.dynamoDbWrites - b.dynamoDbWrites,
  dynamoDbReads: a.dynamoDbReads - b.dynamoDbReads,
  dynamoDbOther: a.dynamoDbOther - b.dynamoDbOther,
  sqs: a.sqs - b.sqs,
});

/** What the local servers took when nothing else ran: requests per second at the bench's concurrency. */
export interface RawRates {
  dynamoDbPutItemPerSec: number;
  dynamoDbGetItemPerSec: number;
  sqsRequestsPerSec: number;
}

export interface ServerShares {
  /**
   * The DynamoDB server's busy share: each write as a raw PutItem's time, each read as a raw GetItem's, so 1.0
   * means the level asked as much as the server managed when nothing else ran (a Query costs more than a GetItem,
   * an UpdateItem more than a PutItem: a lower bound, to read as an order of magnitude).
   */
  dynamoDb: number;
  dynamoDbWrites: number;
  dynamoDbReads: number;
  sqs: number;
}

/** Shares of raw capacity used, from requests per second during the level. */
export function serverShares(usedPerSec: RequestMix, raw: RawRates): ServerShares {
  const share = (used: number, capacity: number): number => (capacity > 0 ? used / capacity : Number.NaN);
  const dynamoDbWrites = share(usedPerSec.dynamoDbWrites, raw.dynamoDbPutItemPerSec);
  const dynamoDbReads = share(usedPerSec.dynamoDbReads, raw.dynamoDbGetItemPerSec);
  return {
    dynamoDb: dynamoDbWrites + dynamoDbReads,
    dynamoDbWrites,
    dynamoDbReads,
    sqs: share(usedPerSec.sqs, raw.sqsRequestsPerSec),
  };
}

/**
 * Referrals per second the DynamoDB server alone could serve at `perReferral` requests each: one second of the
 * server's time divided by the time a referral's writes and reads take at the raw rates.
 */
export function dynamoDbCeiling(perReferral: RequestMix, raw: RawRates): number {
  const seconds =
    perReferral.dynamoDbWrites / raw.dynamoDbPutItemPerSec +
    perReferral.dynamoDbReads / raw.dynamoDbGetItemPerSec;
  return seconds > 0 && Number.isFinite(seconds) ? 1 / seconds : Number.NaN;
}

/** CPU ms per referral: cpuPercent is CPU time over wall time (100 = one core busy), so 10 x it is ms per second. */
export function cpuMsPerReferral(usage: { cpuPercent: number }, referralsPerSec: number): number {
  return referralsPerSec > 0 ? (usage.cpuPercent * 10) / referralsPerSec : Number.NaN;
}

/**
 * Full handler over minimal handler, both timed as wall time per request at the same concurrency (wall time over
 * requests answered), so the ratio is what the full handler's own work costs on top of the same AWS calls.
 */
export function overheadRatio(
  full: { requests: number; wallMs: number },
  minimal: { requests: number; wallMs: number },
): number {
  if (full.requests === 0 || minimal.requests === 0 || minimal.wallMs <= 0) return Number.NaN;
  return full.wallMs / full.requests / (minimal.wallMs / minimal.requests);
}

/** Whether two call mixes per request agree (within a tenth of a call per kind): otherwise the minimal is stale. */
export function sameCalls(a: CallCounts, b: CallCounts, tolerance = 0.1): string[] {
  const operations = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...operations]
    .filter((op) => Math.abs((a[op] ?? 0) - (b[op] ?? 0)) > tolerance)
    .map((op) => `${op}: full ${(a[op] ?? 0).toFixed(2)}, minimal ${(b[op] ?? 0).toFixed(2)} per request`);
}
