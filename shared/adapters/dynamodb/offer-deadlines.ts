import { QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { expiredDeadlineKey, offerSortKey, openDeadlineKey } from '#adapters/dynamodb/offer-store.ts';
import { appliedUnlessConditionFails } from '#adapters/dynamodb/conditional.ts';
import type { OfferDeadlines, OfferKey } from '#referral/ports.ts';

/**
 * The referrals table's sparse `deadlines` index (shared/system/tables.ts). An offer carries `deadlineKey` and
 * `deadlineAt` only while it waits for its partner (`open`), or once expired until its need has been offered on
 * (`expired`); offer-store.ts writes and removes the pair in the same write as each state change. So one Query finds
 * every overdue offer, and one more every expiry left half done, and nothing else: no scan.
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

  awaitingNextMatch(limit: number): Promise<OfferKey[]> {
    return this.query('deadlineKey = :key', { ':key': expiredDeadlineKey }, limit);
  }

  async followedUp(key: OfferKey): Promise<void> {
    await appliedUnlessConditionFails(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { referralId: key.referralId, sk: offerSortKey(key.offerId) },
          UpdateExpression: 'REMOVE deadlineKey, deadlineAt',
          // Only an expired offer's entry: never one that is (still, or again) waiting for its partner.
          ConditionExpression: 'deadlineKey = :key',
          ExpressionAttributeValues: { ':key': expiredDeadlineKey },
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
