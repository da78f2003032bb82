import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { MeasureSetRecord } from '#outcomes/domain/measure-set.ts';
import type { AddOutcome, OutcomeStore } from '#outcomes/ports.ts';
import { appliedUnlessConditionFails } from '#adapters/dynamodb/conditional.ts';

/**
 * Measure sets in the referrals table, beside the referral in its partition (shared/system/tables.ts):
 * sk `outcome#baseline` for the one baseline, `outcome#follow-up#<takenOn>#<id>` for each follow-up. The key is the
 * rule: a second baseline or a retried follow-up lands on an item that exists, so a put conditional on
 * `attribute_not_exists` refuses it without a transaction (dynalite has none) or a guard item. The `outcome#`
 * prefix keeps them apart from the referral item (`referral`) and they set no `recipientKey`, so the sparse worklist
 * index never lists them. The sort key orders a referral's sets as a reader wants them: baseline, then follow-ups
 * by day.
 */
export const outcomePrefix = 'outcome#';

export const outcomeSortKey = (set: Pick<MeasureSetRecord, 'timepoint' | 'takenOn' | 'id'>): string =>
  set.timepoint === 'baseline'
    ? `${outcomePrefix}baseline`
    : `${outcomePrefix}follow-up#${set.takenOn}#${set.id}`;

export class DynamoOutcomeStore implements OutcomeStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async add(set: MeasureSetRecord): Promise<AddOutcome> {
    const key = { referralId: set.referralId, sk: outcomeSortKey(set) };
    const added = await appliedUnlessConditionFails(() =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...set, ...key },
          ConditionExpression: 'attribute_not_exists(sk)',
        }),
      ),
    );
    if (added) return { added: true };
    // Only a put that lost to an existing item gets here, and sets are never deleted: the item is there to read.
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    return { added: false, existing: MeasureSetRecord.parse(Item) };
  }

  async list(referralId: string): Promise<MeasureSetRecord[]> {
    const sets: MeasureSetRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'referralId = :id AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':id': referralId, ':prefix': outcomePrefix },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      // The schema drops the table's own attribute (sk) and refuses an item that is not a measure set.
      for (const item of page.Items ?? []) sets.push(MeasureSetRecord.parse(item));
      start = page.LastEvaluatedKey;
    } while (start);
    return sets;
  }
}
