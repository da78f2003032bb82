import {
  DynamoDBClient,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { performance } from 'node:perf_hooks';
import type { LocalStack } from '../infra/local/local-stack.ts';
import { percentile } from './stats.ts';

/**
 * The metrics table keeps, in each daily counter item, the set of ids it has counted (so a repeat counts once).
 * That set grows with every referral or delivery of the day, and DynamoDB caps an item at 400 KB and bills an
 * update by the item's whole size. This reads how big the counters grew during the run, and times the same
 * conditional update the system makes on synthetic counters of growing size (bench-only keys, not the system's).
 */

const maxItemBytes = 400 * 1024;

export interface CounterSize {
  metric: string;
  day: string;
  ids: number;
  approxBytes: number;
  /** Ids of the same average length that would fill the 400 KB item limit. */
  projectedIdLimit: number;
}

export interface UpdateProbe {
  ids: number;
  approxKb: number;
  medianMs: number;
  p95Ms: number;
}

export interface CounterReport {
  largest: CounterSize[];
  updateProbe: UpdateProbe[];
  /** What an update did once the set reached the item limit. */
  atItemLimit: string;
}

/** DynamoDB's item size: attribute names plus values; for a string set, the sum of its strings. */
function approxItemBytes(item: Record<string, AttributeValue>): number {
  return Object.entries(item).reduce((sum, [name, value]) => {
    const strings = value.SS ?? [value.S ?? value.N ?? JSON.stringify(value.M ?? '')];
    return sum + Buffer.byteLength(name) + strings.reduce((s, v) => s + Buffer.byteLength(v ?? ''), 0);
  }, 0);
}

async function largestCounters(client: DynamoDBClient, table: string, top: number): Promise<CounterSize[]> {
  const sizes: CounterSize[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: table, ExclusiveStartKey: startKey }));
    for (const item of page.Items ?? []) {
      const metric = item.metric?.S ?? '';
      if (metric.startsWith('bench-probe')) continue;
      const ids = item.counted?.SS?.length ?? 0;
      const approxBytes = approxItemBytes(item);
      const perId = ids > 0 ? (item.counted?.SS ?? []).reduce((s, v) => s + v.length, 0) / ids : 1;
      sizes.push({
        metric,
        day: item.day?.S ?? '',
        ids,
        approxBytes,
        projectedIdLimit: Math.floor(maxItemBytes / perId),
      });
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return sizes.sort((a, b) => b.approxBytes - a.approxBytes).slice(0, top);
}

/** A delivery-id-shaped id (uuid.kind.recipient), the longest kind the counters hold. */
const probeId = (i: number): string =>
  `${i.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000.partner.blackpool-moves`;

/** The system's own counter update (DynamoMetricCounters.countOnce), on a bench-only key. */
function countOnce(table: string, metric: string, unitId: string): UpdateItemCommand {
  return new UpdateItemCommand({
    TableName: table,
    Key: { metric: { S: metric }, day: { S: 'probe' } },
    UpdateExpression: 'ADD #count :one, #counted :unit SET #name = :name',
    ConditionExpression: 'attribute_not_exists(#counted) OR NOT contains(#counted, :unitId)',
    ExpressionAttributeNames: { '#count': 'count', '#counted': 'counted', '#name': 'name' },
    ExpressionAttributeValues: {
      ':one': { N: '1' },
      ':unit': { SS: [unitId] },
      ':unitId': { S: unitId },
      ':name': { S: metric },
    },
  });
}

async function seedCounter(
  client: DynamoDBClient,
  table: string,
  metric: string,
  ids: number,
): Promise<void> {
  const item: Record<string, AttributeValue> = {
    metric: { S: metric },
    day: { S: 'probe' },
    count: { N: String(ids) },
  };
  if (ids > 0) item.counted = { SS: Array.from({ length: ids }, (_, i) => probeId(i)) };
  await client.send(new PutItemCommand({ TableName: table, Item: item }));
}

async function probeUpdates(client: DynamoDBClient, table: string, ids: number): Promise<UpdateProbe> {
  const metric = `bench-probe|ids=${ids}`;
  await seedCounter(client, table, metric, ids);
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const started = performance.now();
    await client.send(countOnce(table, metric, probeId(ids + i)));
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const approxKb = (ids * probeId(0).length) / 1024;
  return { ids, approxKb, medianMs: percentile(times, 50), p95Ms: percentile(times, 95) };
}

/** Fills a counter to just under 400 KB, then counts new ids until DynamoDB (and dynalite) refuse the write. */
async function updateAtItemLimit(client: DynamoDBClient, table: string): Promise<string> {
  const metric = 'bench-probe|at-limit';
  const seeded = Math.floor((maxItemBytes - 2000) / probeId(0).length);
  await seedCounter(client, table, metric, seeded);
  for (let extra = 0; extra < 100; extra++) {
    try {
      await client.send(countOnce(table, metric, probeId(seeded + extra)));
    } catch (error) {
      const ids = seeded + extra;
      return `refused when adding id ${ids + 1} (${(error as Error).name}: ${(error as Error).message})`;
    }
  }
  return `still accepted after ${seeded + 100} ids`;
}

export async function counterReport(stack: LocalStack): Promise<CounterReport> {
  const client = new DynamoDBClient({ endpoint: stack.aws.dynamoDbEndpoint });
  const table = stack.aws.tables.metrics;
  try {
    const largest = await largestCounters(client, table, 3);
    const updateProbe: UpdateProbe[] = [];
    for (const ids of [0, 1000, 3000, 6000]) updateProbe.push(await probeUpdates(client, table, ids));
    return { largest, updateProbe, atItemLimit: await updateAtItemLimit(client, table) };
  } finally {
    client.destroy();
  }
}
