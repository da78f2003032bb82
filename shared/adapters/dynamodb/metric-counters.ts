import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { MetricCount, MetricCounters } from '../../application/ports.ts';
import { appliedUnlessConditionFails } from './conditional.ts';

/**
 * Metrics table: exact daily counters. Each counter item keeps the set of unit ids (referral or delivery ids) it
 * has counted, and the increment is conditional on the id not being in it: one atomic write, so a redelivered
 * message or a retried step can never count twice, with no transaction needed.
 *
 * Counters are keyed by name and dimensions (e.g. `referrals.unmet|category=food|area=LS6`) and day, which keeps
 * each set small: a set of ~10,000 ids fits in one item, far above a day's referrals for any one dimension value.
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
              Key: { metric: metricKey(count), day },
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

/** `name|key=value|...` with dimensions sorted, so the same counter always has the same key. */
export function metricKey(count: MetricCount): string {
  const dims = Object.entries(count.dimensions ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => `${key}=${value}`);
  return [count.name, ...dims].join('|');
}
