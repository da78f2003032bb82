import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dayCount } from '#adapters/dynamodb/metric-counters.ts';
import { weeklyMatchCount, type ServiceLoad } from '#matching/ports.ts';

/**
 * Services' weekly match counts, read from the metrics table the router counts them in: one consistent Query per
 * service (the sum over the counter's shards for that week).
 */
export class DynamoServiceLoad implements ServiceLoad {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async matchedInWeek(serviceIds: readonly string[], week: string): Promise<Record<string, number>> {
    const counts = await Promise.all(
      serviceIds.map(
        async (id) => [id, await dayCount(this.client, this.tableName, weeklyMatchCount(id), week)] as const,
      ),
    );
    return Object.fromEntries(counts);
  }
}
