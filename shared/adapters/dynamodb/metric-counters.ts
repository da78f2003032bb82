import { createHash } from 'node:crypto';
import { QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { MetricCount, MetricCounters } from '#reporting/ports.ts';
import { appliedUnlessConditionFails } from '#adapters/dynamodb/conditional.ts';

/**
 * Metrics table: exact daily counters. Each counter item keeps the set of unit ids (referral or delivery ids) it
 * has counted, and the increment is conditional on the id not being in it: one atomic write, so a redelivered
 * message or a retried step can never count twice, with no transaction needed.
 *
 * Counters are keyed by name and dimensions (e.g. `referrals.unmet|category=food|area=LS6`) and by day and shard
 * (`2026-11-23#07`): each unit id always lands in the same one of `counterShards` items, so its set stays small
 * (an item holds ~7,000 ids; 16 shards give ~100,000 a day for one counter) and writes spread over 16 items.
 * A day's count is the sum of its shards (one Query, `dayCount`).
 */
export class DynamoMetricCounters implements MetricCounters {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async countOnce(counts: MetricCount[], day: string, unitId: string): Promise<void> {
    await Promise.all(
      counts.map((count) =>
        appliedUnlessConditionFails(() =>
          this.client.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: { metric: metricKey(count), day: `${day}#${shardOf(unitId)}` },
              UpdateExpression: 'ADD #count :one, #counted :unit SET #name = :name, dimensions = :dimensions',
              ConditionExpression: 'attribute_not_exists(#counted) OR NOT contains(#counted, :unitId)',
              ExpressionAttributeNames: { '#count': 'count', '#counted': 'counted', '#name': 'name' },
              ExpressionAttributeValues: {
                ':one': 1,
                ':unit': new Set([unitId]),
                ':unitId': unitId,
                ':name': count.name,
                ':dimensions': count.dimensions ?? {},
              },
            }),
          ),
        ),
      ),
    );
  }
}

export const counterShards = 16;

/** The shard a unit id is counted in: stable, so a repeat meets the set that already holds it. */
export function shardOf(unitId: string): string {
  const hash = createHash('sha256').update(unitId).digest();
  return String((hash[0] ?? 0) % counterShards).padStart(2, '0');
}

/** A counter's total for a day: the sum over its shards. */
export async function dayCount(
  client: DynamoDBDocumentClient,
  tableName: string,
  count: MetricCount,
  day: string,
): Promise<number> {
  const { Items = [] } = await client.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: 'metric = :metric AND begins_with(#day, :day)',
      ExpressionAttributeNames: { '#day': 'day', '#count': 'count' },
      ExpressionAttributeValues: { ':metric': metricKey(count), ':day': `${day}#` },
      ProjectionExpression: '#count',
      ConsistentRead: true,
    }),
  );
  return Items.reduce((sum, item) => sum + Number(item.count ?? 0), 0);
}

/** `name|key=value|...` with dimensions sorted, so the same counter always has the same key. */
export function metricKey(count: MetricCount): string {
  const dims = Object.entries(count.dimensions ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => `${key}=${value}`);
  return [count.name, ...dims].join('|');
}
