import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type UpdateCommandInput,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { LifecycleConflictError } from '#referral/domain/lifecycle.ts';
import type { PracticeMessageState, Referral } from '#referral/domain/referral.ts';
import { refusalOf } from '#referral/domain/transition-refusal.ts';
import type {
  DeliveredState,
  ReferralStore,
  ReferralTransition,
  TransitionContext,
} from '#referral/ports.ts';
import { appliedUnlessConditionFails } from '#adapters/dynamodb/conditional.ts';

/**
 * The referral's own item in its partition. Its deliveries stay inside it, not as items of their own: a delivery's
 * sending mark is refused once the referral is cancelled, and the delivered mark hands back the referral with any
 * cancellation that raced the POST, both in one single-item conditional write. Across items that would need a
 * transaction, which the local DynamoDB (dynalite) cannot run. Responses and outcomes, which no write of the
 * referral has to see atomically, get items of their own (`response#...`, `outcome#...`) when they arrive.
 */
export const referralItem = 'referral';

/** The key of a referral's item in the referrals table. */
export const referralKey = (referralId: string): { referralId: string; sk: string } => ({
  referralId,
  sk: referralItem,
});

/** The worklist index's partition of a recipient (shared/system/tables.ts `worklist`). */
export const teamWorklistKey = (teamId: string): string => `team#${teamId}`;
export const partnerWorklistKey = (partnerId: string): string => `partner#${partnerId}`;
/** `<status>#<ISO time>`: one status's entries are contiguous, newest last (a Query reads them backwards). */
export const worklistSortKey = (status: string, listedAt: string): string => `${status}#${listedAt}`;

/**
 * The received index's partition of a referral (shared/system/tables.ts `received`): the UTC month it was received
 * in, `YYYY-MM`, so a date range is one Query per month.
 */
export const receivedMonthOf = (receivedAt: string): string => receivedAt.slice(0, 7);

/** The referral an item holds: the keys are the table's business, not the referral's. */
export function referralOf(item: Record<string, unknown> | undefined): Referral | undefined {
  if (item === undefined) return undefined;
  const {
    sk: _sk,
    recipientKey: _recipient,
    worklistSortKey: _sort,
    receivedMonth: _month,
    ...referral
  } = item;
  return referral as unknown as Referral;
}

/** Referrals table: the referral's item at sk `referral`; every state change is a conditional write. */
export class DynamoReferralStore implements ReferralStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  create(referral: Referral): Promise<boolean> {
    return appliedUnlessConditionFails(() =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          // receivedMonth lists it in the sparse received index (the evaluation extract's date range).
          Item: {
            ...referral,
            ...referralKey(referral.referralId),
            receivedMonth: receivedMonthOf(referral.receivedAt),
          },
          ConditionExpression: 'attribute_not_exists(referralId)',
        }),
      ),
    );
  }

  async get(referralId: string): Promise<Referral | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: referralKey(referralId), ConsistentRead: true }),
    );
    return referralOf(Item);
  }

  /**
   * `ReturnValues: ALL_NEW` hands back the referral this write produced, so the notifier needs no GetItem before
   * the POST: the sending mark is the read.
   */
  async markSending(
    referralId: string,
    deliveryId: string,
    attemptedAt: string,
    claimsLapseBefore: string,
  ): Promise<Referral | undefined> {
    return this.updateReturningReferral({
      Key: referralKey(referralId),
      UpdateExpression:
        'SET deliveryStatus.#delivery.#status = :sending, deliveryStatus.#delivery.attemptedAt = :at ' +
        'ADD deliveryStatus.#delivery.attempts :one',
      ConditionExpression:
        'attribute_exists(deliveryStatus.#delivery) AND deliveryStatus.#delivery.#status <> :delivered ' +
        'AND deliveryStatus.#delivery.#status <> :failed AND #status <> :cancelled ' +
        // ISO timestamps of one format compare as strings in time order.
        'AND (deliveryStatus.#delivery.#status <> :sending OR deliveryStatus.#delivery.attemptedAt < :lapsed)',
      ExpressionAttributeNames: { '#delivery': deliveryId, '#status': 'status' },
      ExpressionAttributeValues: {
        ':sending': 'sending',
        ':delivered': 'delivered',
        ':failed': 'failed',
        ':cancelled': 'cancelled',
        ':at': attemptedAt,
        ':lapsed': claimsLapseBefore,
        ':one': 1,
      },
    });
  }

  /** Returns the referral as written (ALL_NEW): a cancellation that raced the POST shows without another read. */
  async markDelivered(
    referralId: string,
    deliveryId: string,
    state: DeliveredState,
  ): Promise<Referral | undefined> {
    const sets = [
      'deliveryStatus.#delivery.#status = :delivered',
      'deliveryStatus.#delivery.deliveredAt = :at',
    ];
    const values: Record<string, unknown> = { ':delivered': state.status, ':at': state.deliveredAt };
    if (state.responseStatus !== undefined) {
      sets.push('deliveryStatus.#delivery.responseStatus = :response');
      values[':response'] = state.responseStatus;
    }
    if (state.channel !== undefined) {
      sets.push('deliveryStatus.#delivery.#channel = :channel');
      values[':channel'] = state.channel;
    }
    return this.updateReturningReferral({
      Key: referralKey(referralId),
      UpdateExpression: `SET ${sets.join(', ')}, updatedAt = :at REMOVE deliveryStatus.#delivery.lastFailure`,
      ConditionExpression:
        'attribute_exists(deliveryStatus.#delivery) AND deliveryStatus.#delivery.#status <> :delivered',
      ExpressionAttributeNames: {
        '#delivery': deliveryId,
        '#status': 'status',
        ...(state.channel === undefined ? {} : { '#channel': 'channel' }),
      },
      ExpressionAttributeValues: values,
    });
  }

  /**
   * One conditional UpdateItem on a referral's item that hands back the referral as written (ALL_NEW), or
   * undefined when its condition refused it: the write is also the read.
   */
  private async updateReturningReferral(
    input: Omit<UpdateCommandInput, 'TableName' | 'ReturnValues'>,
  ): Promise<Referral | undefined> {
    let written: Referral | undefined;
    await appliedUnlessConditionFails(async () => {
      const { Attributes } = await this.client.send(
        new UpdateCommand({ ...input, TableName: this.tableName, ReturnValues: 'ALL_NEW' }),
      );
      written = referralOf(Attributes);
    });
    return written;
  }

  markAttemptFailed(referralId: string, deliveryId: string, reason: string): Promise<boolean> {
    return appliedUnlessConditionFails(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: referralKey(referralId),
          UpdateExpression:
            'SET deliveryStatus.#delivery.#status = :retrying, deliveryStatus.#delivery.lastFailure = :reason',
          ConditionExpression: 'deliveryStatus.#delivery.#status = :sending',
          ExpressionAttributeNames: { '#delivery': deliveryId, '#status': 'status' },
          ExpressionAttributeValues: { ':retrying': 'retrying', ':sending': 'sending', ':reason': reason },
        }),
      ),
    );
  }

  markFailed(
    referralId: string,
    deliveryId: string,
    failure: { reason: string; failedAt: string },
  ): Promise<boolean> {
    return appliedUnlessConditionFails(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: referralKey(referralId),
          UpdateExpression:
            'SET deliveryStatus.#delivery.#status = :failed, deliveryStatus.#delivery.lastFailure = :reason, ' +
            'deliveryStatus.#delivery.failedAt = :at',
          ConditionExpression: 'deliveryStatus.#delivery.#status = :sending',
          ExpressionAttributeNames: { '#delivery': deliveryId, '#status': 'status' },
          ExpressionAttributeValues: {
            ':failed': 'failed',
            ':sending': 'sending',
            ':reason': failure.reason,
            ':at': failure.failedAt,
          },
        }),
      ),
    );
  }

  async deleteUnacknowledged(referralId: string): Promise<void> {
    await appliedUnlessConditionFails(() =>
      this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: referralKey(referralId),
          ConditionExpression: '#status = :received',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':received': 'received' },
        }),
      ),
    );
  }

  async apply(
    referralId: string,
    transition: ReferralTransition,
    context: TransitionContext,
  ): Promise<Referral> {
    const names: Record<string, string> = { '#status': 'status', '#version': 'version' };
    const values: Record<string, unknown> = {
      ':from': transition.from,
      ':to': transition.to,
      ':expected': transition.expectedVersion,
      ':next': transition.nextVersion,
      ':at': context.at,
    };
    const conditions = ['#status = :from', '#version = :expected'];
    const sets = ['#status = :to', '#version = :next', 'updatedAt = :at'];
    if (transition.owner !== null) {
      const path = ownerPaths[transition.owner];
      if (path === undefined || context.ownerId === undefined)
        throw new Error(
          `apply: a ${transition.owner}'s ${transition.event} needs the owner's id on the referral`,
        );
      path.forEach((part, i) => (names[`#o${i}`] = part));
      values[':owner'] = context.ownerId;
      conditions.push(`${path.map((_, i) => `#o${i}`).join('.')} = :owner`);
    }
    if (context.messageAt !== undefined) {
      values[':messageAt'] = context.messageAt;
      sets.push('lastMessageAt = :messageAt');
    }
    if (context.messageId !== undefined) {
      values[':messageId'] = context.messageId;
      sets.push('lastMessageId = :messageId');
    }
    if (transition.guard === 'newer-message') {
      if (context.messageAt === undefined) throw new Error('apply: the newer-message guard needs messageAt');
      conditions.push('(attribute_not_exists(lastMessageAt) OR lastMessageAt < :messageAt)');
    } else if (transition.guard !== null) {
      // Deadline guards read attributes the referral does not have yet; decide() checks them against the caller's now.
      throw new Error(`apply: the store cannot hold guard ${transition.guard} in a condition yet`);
    }
    // The team's worklist entry: listed once routed to a team, its sort key following the status.
    const team = context.changes?.routing?.team;
    if (team) {
      values[':recipientKey'] = teamWorklistKey(team.id);
      sets.push('recipientKey = :recipientKey');
    }
    if (context.listedAt !== undefined) {
      values[':worklistSortKey'] = worklistSortKey(transition.to, context.listedAt);
      sets.push('worklistSortKey = :worklistSortKey');
    }
    if (context.routingRevision !== undefined) {
      // Case work replacing the recorded decision: only the decision it was made on may be replaced.
      if (context.routingRevision === 0) conditions.push('attribute_not_exists(routing.revision)');
      else {
        values[':revision'] = context.routingRevision;
        conditions.push('routing.revision = :revision');
      }
    }
    // The transition's data goes into the same write, so it lands only where the guard held.
    const removes: string[] = [];
    const { addedDeliveries, ...replaced } = context.changes ?? {};
    if (addedDeliveries !== undefined && 'deliveryStatus' in replaced)
      throw new Error('apply: addedDeliveries and deliveryStatus cannot be written together');
    Object.entries(replaced).forEach(([field, value], i) => {
      names[`#c${i}`] = field;
      if (value === undefined) {
        removes.push(`#c${i}`);
      } else {
        values[`:c${i}`] = value;
        sets.push(`#c${i} = :c${i}`);
      }
    });
    // One path per delivery, set only where it has no state: the notifier's marks do not move the version, so the
    // version condition alone cannot keep a whole-map write from undoing a `sending` or `delivered` landed meanwhile.
    Object.entries(addedDeliveries ?? {}).forEach(([deliveryId, state], i) => {
      names[`#d${i}`] = deliveryId;
      values[`:d${i}`] = state;
      sets.push(`deliveryStatus.#d${i} = if_not_exists(deliveryStatus.#d${i}, :d${i})`);
    });
    let written: Referral | undefined;
    const applied = await appliedUnlessConditionFails(async () => {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: referralKey(referralId),
          UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      written = referralOf(Attributes);
    });
    if (applied && written) return written;
    throw new LifecycleConflictError(refusalOf(await this.get(referralId), transition, context.ownerId));
  }

  /**
   * A referral stored before the first message back to its practice has no `practiceMessages` map, and one update
   * cannot both make the map and set an entry in it: so the entry is set where the map exists, else the map is made
   * with it where it does not; a writer that made the map first meanwhile sends us back to the first write.
   */
  async recordPracticeMessage(
    referralId: string,
    event: string,
    state: PracticeMessageState,
  ): Promise<boolean> {
    const update = (input: Omit<UpdateCommandInput, 'TableName' | 'Key'>) =>
      appliedUnlessConditionFails(() =>
        this.client.send(
          new UpdateCommand({ ...input, TableName: this.tableName, Key: referralKey(referralId) }),
        ),
      );
    const intoMap = () =>
      update({
        UpdateExpression: 'SET practiceMessages.#event = :state',
        ConditionExpression:
          'attribute_exists(practiceMessages) AND attribute_not_exists(practiceMessages.#event)',
        ExpressionAttributeNames: { '#event': event },
        ExpressionAttributeValues: { ':state': state },
      });
    if (await intoMap()) return true;
    const withMap = await update({
      UpdateExpression: 'SET practiceMessages = :messages',
      ConditionExpression: 'attribute_exists(referralId) AND attribute_not_exists(practiceMessages)',
      ExpressionAttributeValues: { ':messages': { [event]: state } },
    });
    if (withMap) return true;
    // The map exists now (made by another writer between the two) or the referral does not: once more, for the map.
    return intoMap();
  }

  recordNotice(
    referralId: string,
    deliveryId: string,
    notice: { cancellationNoticeAt: string } | { updateNoticeVersion: number },
  ): Promise<boolean> {
    const cancellation = 'cancellationNoticeAt' in notice;
    return appliedUnlessConditionFails(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: referralKey(referralId),
          UpdateExpression: cancellation
            ? 'SET deliveryStatus.#delivery.cancellationNoticeAt = :value'
            : 'SET deliveryStatus.#delivery.updateNoticeVersion = :value',
          ConditionExpression: cancellation
            ? 'attribute_exists(deliveryStatus.#delivery) AND attribute_not_exists(deliveryStatus.#delivery.cancellationNoticeAt)'
            : 'attribute_exists(deliveryStatus.#delivery) AND (attribute_not_exists(deliveryStatus.#delivery.updateNoticeVersion) OR deliveryStatus.#delivery.updateNoticeVersion < :value)',
          ExpressionAttributeNames: { '#delivery': deliveryId },
          ExpressionAttributeValues: {
            ':value': cancellation ? notice.cancellationNoticeAt : notice.updateNoticeVersion,
          },
        }),
      ),
    );
  }
}

/** Where on the referral item the organisation a transition's owner must be is kept (a partner's is on its offer). */
const ownerPaths: Record<NonNullable<ReferralTransition['owner']>, readonly string[] | undefined> = {
  practice: ['practiceOds'],
  team: ['routing', 'team', 'id'],
  partner: undefined,
};
