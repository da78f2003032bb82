import {
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { LifecycleConflictError, type LifecycleTransition } from '#referral/domain/lifecycle.ts';
import { offerRefusalOf, type Offer } from '#referral/domain/offer.ts';
import type { Referral } from '#referral/domain/referral.ts';
import type { OfferChanges, OfferStore, WorklistPage, WorklistQuery, Worklists } from '#referral/ports.ts';
import { ValidationError } from '#kernel/errors.ts';
import { appliedUnlessConditionFails } from '#adapters/dynamodb/conditional.ts';
import {
  partnerWorklistKey,
  referralOf,
  teamWorklistKey,
  worklistSortKey,
} from '#adapters/dynamodb/referral-store.ts';

/**
 * Offers in the referrals table, each an item beside its referral at sk `offer#<offerId>`: created with
 * attribute_not_exists (a retried routing or decline adds nothing), changed by one version-conditional UpdateItem
 * per transition. Each is listed on its partner's worklist (recipientKey `partner#<id>`, worklistSortKey
 * `<state>#<offeredAt>`), and while it waits for an answer it carries `deadlineKey` = `open` and `deadlineAt`, a
 * sparse pair for a deadline index (the deadline job's: Query deadlineKey = open AND deadlineAt <= now).
 */

export const offerSortKey = (offerId: string): string => `offer#${offerId}`;
const offerKey = (referralId: string, offerId: string) => ({ referralId, sk: offerSortKey(offerId) });
/** The sparse deadline pair's partition while an offer waits for its partner's answer. */
export const openDeadlineKey = 'open';
/**
 * The partitions of offers whose deadline step is written but not yet followed up (audit, count, notices, next
 * match): `reminded` (back to `open` once the reminder is sent) and `expired` (removed once the need is offered on).
 */
export const pendingDeadlineKeys = { reminded: 'reminded', expired: 'expired' } as const;

function offerOf(item: Record<string, unknown> | undefined): Offer | undefined {
  if (item === undefined) return undefined;
  const {
    sk: _sk,
    recipientKey: _recipient,
    worklistSortKey: _sort,
    deadlineKey: _deadline,
    deadlineAt: _at,
    ...offer
  } = item;
  return offer as unknown as Offer;
}

export class DynamoOfferStore implements OfferStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  create(offer: Offer): Promise<boolean> {
    return appliedUnlessConditionFails(() =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...offer,
            ...offerKey(offer.referralId, offer.offerId),
            recipientKey: partnerWorklistKey(offer.partnerId),
            worklistSortKey: worklistSortKey(offer.state, offer.offeredAt),
            ...(offer.state === 'offered'
              ? { deadlineKey: openDeadlineKey, deadlineAt: offer.deadline }
              : {}),
          },
          ConditionExpression: 'attribute_not_exists(referralId)',
        }),
      ),
    );
  }

  async get(referralId: string, offerId: string): Promise<Offer | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: offerKey(referralId, offerId), ConsistentRead: true }),
    );
    return offerOf(Item);
  }

  async ofReferral(referralId: string): Promise<Offer[]> {
    const offers: Offer[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'referralId = :id AND begins_with(sk, :offer)',
          ExpressionAttributeValues: { ':id': referralId, ':offer': 'offer#' },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        const offer = offerOf(item);
        if (offer) offers.push(offer);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return offers.sort(
      (a, b) => a.offeredAt.localeCompare(b.offeredAt) || a.offerId.localeCompare(b.offerId),
    );
  }

  async apply(
    offer: Pick<Offer, 'referralId' | 'offerId' | 'offeredAt'>,
    transition: LifecycleTransition<'offer'>,
    context: { at: string; ownerId?: string; changes?: OfferChanges },
  ): Promise<Offer> {
    if (transition.from === null) throw new Error('apply: an offer is created with create(), not apply()');
    if (transition.guard === 'newer-message') throw new Error('apply: an offer has no messages to order');
    const names: Record<string, string> = { '#state': 'state', '#version': 'version' };
    const values: Record<string, unknown> = {
      ':from': transition.from,
      ':to': transition.to,
      ':expected': transition.expectedVersion,
      ':next': transition.nextVersion,
      ':at': context.at,
      ':sort': worklistSortKey(transition.to, offer.offeredAt),
    };
    const conditions = ['#state = :from', '#version = :expected'];
    const sets = ['#state = :to', '#version = :next', 'updatedAt = :at', 'worklistSortKey = :sort'];
    const removes: string[] = [];
    if (transition.owner === 'partner') {
      if (context.ownerId === undefined)
        throw new Error("apply: a partner's transition needs the partner's id");
      values[':owner'] = context.ownerId;
      conditions.push('partnerId = :owner');
    } else if (transition.owner === 'practice') {
      throw new Error('apply: a practice has no offer transitions');
    }
    // The deadline guards (the deadline job's nudge and escalation), held against `at` as the job's now.
    if (transition.guard !== null) {
      values[':now'] = context.at;
      conditions.push('deadline <= :now');
      if (transition.guard === 'deadline-passed-not-nudged')
        conditions.push('attribute_not_exists(nudgedAt)');
      if (transition.guard === 'deadline-passed-after-nudge') conditions.push('attribute_exists(nudgedAt)');
    }
    // Out of `offered`, nothing is waiting on the partner: the offer leaves the deadline index, except that an
    // expired one moves to its `expired` partition until the deadline job has offered its need on (so a crash
    // between the two cannot strand the need: offer-deadlines.ts). A new deadline (the reminder's) moves its place
    // in the index with it.
    if (transition.to === 'expired') {
      values[':pendingKey'] = pendingDeadlineKeys.expired;
      sets.push('deadlineKey = :pendingKey');
    } else if (transition.to !== 'offered') removes.push('deadlineKey', 'deadlineAt');
    else if (context.changes?.deadline !== undefined) {
      values[':deadlineAt'] = context.changes.deadline;
      sets.push('deadlineAt = :deadlineAt');
      // A reminder: pending until it is sent (offer-deadlines.ts), then waiting again by its new deadline.
      if (context.changes.nudgedAt !== undefined) {
        values[':pendingKey'] = pendingDeadlineKeys.reminded;
        sets.push('deadlineKey = :pendingKey');
      }
    }
    Object.entries(context.changes ?? {}).forEach(([field, value], i) => {
      names[`#c${i}`] = field;
      values[`:c${i}`] = value;
      sets.push(`#c${i} = :c${i}`);
    });
    let written: Offer | undefined;
    const applied = await appliedUnlessConditionFails(async () => {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: offerKey(offer.referralId, offer.offerId),
          UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      written = offerOf(Attributes);
    });
    if (applied && written) return written;
    const stored = await this.get(offer.referralId, offer.offerId);
    throw new LifecycleConflictError(offerRefusalOf(stored, transition, context.ownerId));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Worklists

/** The index's last key, as a cursor carries it: the table's keys and the index's. */
const WorklistKey = z.strictObject({
  referralId: z.string().max(200),
  sk: z.string().max(300),
  recipientKey: z.string().max(200),
  worklistSortKey: z.string().max(200),
});
export type WorklistKey = z.infer<typeof WorklistKey>;

const badCursor = () =>
  new ValidationError([
    {
      field: 'cursor',
      rule: 'must be a cursor this worklist returned (opaque; pass it back as given)',
      kind: 'value',
    },
  ]);

export function encodeCursor(key: WorklistKey): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/**
 * The key a cursor stands for, if it is one of this recipient's (and status's) pages: a cursor of another worklist
 * would start the Query somewhere it does not belong, so it is refused rather than followed.
 */
export function decodeCursor(cursor: string, recipientKey: string, status?: string): WorklistKey {
  if (cursor.length > 1000 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw badCursor();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badCursor();
  }
  const key = WorklistKey.safeParse(parsed);
  if (!key.success || key.data.recipientKey !== recipientKey) throw badCursor();
  if (status !== undefined && !key.data.worklistSortKey.startsWith(`${status}#`)) throw badCursor();
  return key.data;
}

export const worklistIndex = 'worklist';

export class DynamoWorklists implements Worklists {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async teamReferrals(
    teamId: string,
    query: WorklistQuery<Referral['status']>,
  ): Promise<WorklistPage<Referral>> {
    const page = await this.page(teamWorklistKey(teamId), query);
    return { items: page.items.flatMap((item) => referralOf(item) ?? []), ...cursorOf(page) };
  }

  async partnerOffers(partnerId: string, query: WorklistQuery<Offer['state']>): Promise<WorklistPage<Offer>> {
    const page = await this.page(partnerWorklistKey(partnerId), query);
    return { items: page.items.flatMap((item) => offerOf(item) ?? []), ...cursorOf(page) };
  }

  /** One Query of the index, newest first; a status is a prefix of the sort key. */
  private async page(
    recipientKey: string,
    query: WorklistQuery<string>,
  ): Promise<{ items: Record<string, unknown>[]; cursor?: string }> {
    const start =
      query.cursor === undefined ? undefined : decodeCursor(query.cursor, recipientKey, query.status);
    const { Items = [], LastEvaluatedKey } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: worklistIndex,
        KeyConditionExpression:
          query.status === undefined
            ? 'recipientKey = :r'
            : 'recipientKey = :r AND begins_with(worklistSortKey, :s)',
        ExpressionAttributeValues: {
          ':r': recipientKey,
          ...(query.status === undefined ? {} : { ':s': `${query.status}#` }),
        },
        ScanIndexForward: false,
        Limit: query.limit,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    const last = LastEvaluatedKey === undefined ? undefined : WorklistKey.safeParse(LastEvaluatedKey);
    return { items: Items, ...(last?.success ? { cursor: encodeCursor(last.data) } : {}) };
  }
}

const cursorOf = (page: { cursor?: string }): { cursor?: string } =>
  page.cursor === undefined ? {} : { cursor: page.cursor };
