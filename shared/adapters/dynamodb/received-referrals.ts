import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { MeasureSetRecord } from '#outcomes/domain/measure-set.ts';
import type { Offer } from '#referral/domain/offer.ts';
import { referralItem, referralOf } from '#adapters/dynamodb/referral-store.ts';
import { outcomePrefix } from '#adapters/dynamodb/outcome-store.ts';
import { offerSortKey } from '#adapters/dynamodb/offer-store.ts';
import type { ReferralPartition } from '#reporting/domain/evaluation-rows.ts';
import type { ReceivedReferrals } from '#reporting/evaluation-ports.ts';

/** The referrals table's sparse index of referrals by month and time received (shared/system/tables.ts). */
export const receivedIndex = 'received';

/**
 * Referrals by when they were received, for the evaluation extract: one Query of the `received` index per month
 * (keys only), then one Query of each referral's partition, which holds the referral's item (sk `referral`), its
 * offers (`offer#...`) and its measure sets (`outcome#...`) side by side. Nothing scans the table.
 */
export class DynamoReceivedReferrals implements ReceivedReferrals {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async *idsReceived(month: string, from: string, to: string): AsyncIterable<string> {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: receivedIndex,
          KeyConditionExpression: 'receivedMonth = :month AND receivedAt BETWEEN :from AND :to',
          // `<to>U` sorts after every ISO instant of day `to` (`<to>T...`) and before the next day's.
          ExpressionAttributeValues: { ':month': month, ':from': from, ':to': `${to}U` },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        if (typeof item['referralId'] === 'string') yield item['referralId'];
      }
      start = page.LastEvaluatedKey;
    } while (start);
  }

  async partition(referralId: string): Promise<ReferralPartition | undefined> {
    let referral: ReferralPartition['referral'] | undefined;
    const offers: Offer[] = [];
    const outcomes: MeasureSetRecord[] = [];
    const offerPrefix = offerSortKey('');
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'referralId = :id',
          ExpressionAttributeValues: { ':id': referralId },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        const sk = String(item['sk']);
        if (sk === referralItem) referral = referralOf(item);
        else if (sk.startsWith(offerPrefix)) offers.push(item as unknown as Offer);
        else if (sk.startsWith(outcomePrefix)) outcomes.push(MeasureSetRecord.parse(item));
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return referral === undefined ? undefined : { referral, offers, outcomes };
  }
}
