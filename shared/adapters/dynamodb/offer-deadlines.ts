import { QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { offerSortKey, openDeadlineKey, pendingDeadlineKeys } from '#adapters/dynamodb/offer-store.ts';
import { appliedUnlessConditionFails } from '#adapters/dynamodb/conditional.ts';
import type { DeadlineStep, OfferDeadlines, OfferKey } from '#referral/ports.ts';

/**
 * The referrals table's sparse `deadlines` index (shared/system/tables.ts). An offer carries `deadlineKey` and
 * `deadlineAt` only while it waits for its partner (`open`), or while a deadline step written for it is not yet
 * followed up (`reminded`, `expired`); offer-store.ts writes and removes the pair in the same write as each state
 * change. So one Query finds every overdue offer, and one per step every step left half done, and nothing else: no
 * scan.
 */
export class DynamoOfferDeadlines implements OfferDeadlines {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  due(now: string, limit: number): Promise<OfferKey[]> {
    return this.query(
      'deadlineKey = :key AND deadlineAt <= :now',
      { ':key': openDeadlineKey, ':now': now },
      limit,
    );
  }

  async awaitingFollowUp(limit: number): Promise<Array<OfferKey & { step: DeadlineStep }>> {
    const steps = Object.keys(pendingDeadlineKeys) as DeadlineStep[];
    const found: Array<OfferKey & { step: DeadlineStep }> = [];
    for (const step of steps) {
      if (found.length >= limit) break;
      const keys = await this.query(
        'deadlineKey = :key',
        { ':key': pendingDeadlineKeys[step] },
        limit - found.length,
      );
      found.push(...keys.map((key) => ({ ...key, step })));
    }
    return found;
  }

  async followedUp(key: OfferKey, step: DeadlineStep): Promise<void> {
    await appliedUnlessConditionFails(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { referralId: key.referralId, sk: offerSortKey(key.offerId) },
          // A reminded offer waits for its partner again (its deadlineAt is already the reminder's); an expired one
          // leaves the index.
          UpdateExpression:
            step === 'reminded' ? 'SET deadlineKey = :open' : 'REMOVE deadlineKey, deadlineAt',
          // Only from this step's pending partition: never an offer answered since, or already followed up.
          ConditionExpression: 'deadlineKey = :pending',
          ExpressionAttributeValues: {
            ':pending': pendingDeadlineKeys[step],
            ...(step === 'reminded' ? { ':open': openDeadlineKey } : {}),
          },
        }),
      ),
    );
  }

  private async query(condition: string, values: Record<string, string>, limit: number): Promise<OfferKey[]> {
    const keys: OfferKey[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: 'deadlines',
          KeyConditionExpression: condition,
          ExpressionAttributeValues: values,
          Limit: limit - keys.length,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        keys.push({ referralId: String(item.referralId), offerId: String(item.sk).slice('offer#'.length) });
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey && keys.length < limit);
    return keys;
  }
}
