import { QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { declineReasons, type DeclineReason } from '#referral/domain/lifecycle.ts';
import { bandOf, responseBands, type ResponseBand } from '#reporting/domain/response-record.ts';
import type { DailyResponseFigures, PartnerAnswer, PartnerResponses } from '#reporting/ports.ts';
import { appliedUnlessConditionFails } from '#adapters/dynamodb/conditional.ts';

/**
 * Partners' answers in the metrics table, for their response records: ONE item per partner per day
 * (`metric = partner-responses|partner=<id>`, `day = YYYY-MM-DD`) holding all of that day's counters, and the set
 * of offer ids it has counted.
 *
 *   accepted, expired                 answers accepted; offers left to expire (silence, counted apart)
 *   declined_<reason>                 declines by coded reason
 *   band_<band>                       answers (accepted or declined) by response-time band (response-record.ts)
 *   counted                           the offer ids counted
 *
 * One answer is ONE conditional UpdateItem that ADDs to several attributes at once (its outcome, its reason, its
 * band, and its offer id to `counted`), on condition `NOT contains(counted, :offerId)`. That is cheaper than the
 * metric counters' item per counter (metric-counters.ts), which would take three or four conditional writes per
 * answer, each a write unit and each a chance of a partial count should the caller crash between them; here an
 * answer is counted whole or not at all, and a retry is refused by the condition, adding nothing.
 *
 * Per day rather than per month: a write costs the same (one item, a few hundred bytes), a Query is charged by the
 * bytes it reads rather than the items, so 90 small day items cost what three month items would, and the window is
 * exactly 90 days instead of whole months. A day's `counted` set stays small (a partner answers a handful a day),
 * far from the 400 KB item limit, so no sharding is needed.
 *
 * One outcome per offer per day: an offer counted accepted is not counted again as declined the same day. The
 * lifecycle lets an offer have one answer only (accepted, declined or expired), so that is never needed.
 */

const metricOf = (partnerId: string): string => `partner-responses|partner=${partnerId}`;
const declinedAttribute = (reason: DeclineReason): string => `declined_${reason}`;
const bandAttribute = (band: ResponseBand): string => `band_${band}`;

export class DynamoPartnerResponses implements PartnerResponses {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async recordOnce(answer: PartnerAnswer): Promise<void> {
    const added =
      answer.outcome === 'expired'
        ? ['expired']
        : [
            answer.outcome === 'accepted' ? 'accepted' : declinedAttribute(answer.reason),
            bandAttribute(bandOf(answer.responseHours)),
          ];
    const names = Object.fromEntries(added.map((attribute, i) => [`#c${i}`, attribute]));
    await appliedUnlessConditionFails(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { metric: metricOf(answer.partnerId), day: answer.at.slice(0, 10) },
          UpdateExpression: `ADD ${added.map((_, i) => `#c${i} :one`).join(', ')}, #counted :unit SET partnerId = :partner`,
          ConditionExpression: 'attribute_not_exists(#counted) OR NOT contains(#counted, :offerId)',
          ExpressionAttributeNames: { ...names, '#counted': 'counted' },
          ExpressionAttributeValues: {
            ':one': 1,
            ':unit': new Set([answer.offerId]),
            ':offerId': answer.offerId,
            ':partner': answer.partnerId,
          },
        }),
      ),
    );
  }

  async figures(partnerId: string, from: string, to: string): Promise<DailyResponseFigures[]> {
    const days: DailyResponseFigures[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'metric = :metric AND #day BETWEEN :from AND :to',
          ExpressionAttributeNames: { '#day': 'day' },
          ExpressionAttributeValues: { ':metric': metricOf(partnerId), ':from': from, ':to': to },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) days.push(figuresOf(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return days;
  }
}

function figuresOf(item: Record<string, unknown>): DailyResponseFigures {
  const number = (attribute: string): number => Number(item[attribute] ?? 0);
  const declined: DailyResponseFigures['declined'] = {};
  for (const reason of declineReasons) {
    const n = number(declinedAttribute(reason));
    if (n > 0) declined[reason] = n;
  }
  const bands: DailyResponseFigures['bands'] = {};
  for (const band of responseBands) {
    const n = number(bandAttribute(band));
    if (n > 0) bands[band] = n;
  }
  return {
    day: String(item.day),
    accepted: number('accepted'),
    declined,
    expired: number('expired'),
    bands,
  };
}
