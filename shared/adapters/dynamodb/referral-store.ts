import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { DeliveryState, Referral, RoutingDecision } from '../../domain/referral.ts';
import type { ReferralStore } from '../../application/ports.ts';
import { appliedUnlessConditionFails } from './conditional.ts';

/** Referrals table: one item per referral, keyed by referralId; every state change is a conditional write. */
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
          Item: referral,
          ConditionExpression: 'attribute_not_exists(referralId)',
        }),
      ),
    );
  }

  async get(referralId: string): Promise<Referral | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { referralId }, ConsistentRead: true }),
    );
    return Item as Referral | undefined;
  }

  async recordRouting(referralId: string, decision: RoutingDecision): Promise<Referral | undefined> {
    const pending: Record<string, DeliveryState> = Object.fromEntries(
      decision.deliveries.map((d) => [d.deliveryId, { status: 'pending' }]),
    );
    await appliedUnlessConditionFails(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { referralId },
          UpdateExpression:
            'SET #status = :routed, routing = :decision, deliveryStatus = :pending, updatedAt = :at',
          ConditionExpression: '#status = :received',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':routed': 'routed',
            ':received': 'received',
            ':decision': decision,
            ':pending': pending,
            ':at': decision.decidedAt,
          },
        }),
      ),
    );
    // Whether this attempt or an earlier one recorded it, the stored decision is the one that stands.
    return this.get(referralId);
  }

  markDelivered(referralId: string, deliveryId: string, state: DeliveryState): Promise<boolean> {
    return appliedUnlessConditionFails(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { referralId },
          UpdateExpression: 'SET deliveryStatus.#delivery = :state, updatedAt = :at',
          ConditionExpression: 'deliveryStatus.#delivery.#status = :pending',
          ExpressionAttributeNames: { '#delivery': deliveryId, '#status': 'status' },
          ExpressionAttributeValues: { ':state': state, ':pending': 'pending', ':at': state.deliveredAt },
        }),
      ),
    );
  }

  async deleteUnacknowledged(referralId: string): Promise<void> {
    await appliedUnlessConditionFails(() =>
      this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { referralId },
          ConditionExpression: '#status = :received',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':received': 'received' },
        }),
      ),
    );
  }
}
