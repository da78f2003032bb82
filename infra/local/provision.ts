import {
  CreateTableCommand,
  ResourceInUseException,
  type AttributeDefinition,
  type DynamoDBClient,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { queues, tables, type QueueName, type TableName } from '#system/resources.ts';

/**
 * Creates the topology's tables and queues on the local servers. Safe to run on every start: what exists is kept
 * (with its data). Queue URLs are returned addressed at the local endpoint, so the SDK sends to it.
 */

export async function createTables(client: DynamoDBClient): Promise<Record<TableName, string>> {
  const names = {} as Record<TableName, string>;
  for (const [name, spec] of Object.entries(tables) as Array<[TableName, (typeof tables)[TableName]]>) {
    const keys: KeySchemaElement[] = [{ AttributeName: spec.partitionKey, KeyType: 'HASH' }];
    const attributes: AttributeDefinition[] = [{ AttributeName: spec.partitionKey, AttributeType: 'S' }];
    if (spec.sortKey) {
      keys.push({ AttributeName: spec.sortKey, KeyType: 'RANGE' });
      attributes.push({ AttributeName: spec.sortKey, AttributeType: 'S' });
    }
    try {
      await client.send(
        new CreateTableCommand({
          TableName: name,
          KeySchema: keys,
          AttributeDefinitions: attributes,
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
    } catch (error) {
      // dynalite's errors carry the name but are not instances of the SDK's class.
      if (!(error instanceof ResourceInUseException) && (error as Error).name !== 'ResourceInUseException')
        throw error;
    }
    // dynalite cannot set TTL (UpdateTimeToLive); expired records are harmless here, and DynamoDB's TTL is
    // itself only eventual, so nothing relies on prompt deletion.
    names[name] = name;
  }
  return names;
}

export interface LocalQueue {
  url: string;
  deadLetterUrl: string;
}

export async function createQueues(
  client: SQSClient,
  endpoint: string,
  overrides: { visibilityTimeoutSeconds?: number } = {},
): Promise<Record<QueueName, LocalQueue>> {
  const local = (url: string): string => `${endpoint}${new URL(url).pathname}`;
  const result = {} as Record<QueueName, LocalQueue>;
  for (const [name, spec] of Object.entries(queues) as Array<[QueueName, (typeof queues)[QueueName]]>) {
    const retention = String(spec.retentionDays * 24 * 3600);
    const dlq = await client.send(
      new CreateQueueCommand({ QueueName: `${name}-dlq`, Attributes: { MessageRetentionPeriod: retention } }),
    );
    const deadLetterUrl = local(dlq.QueueUrl ?? '');
    const { Attributes } = await client.send(
      new GetQueueAttributesCommand({ QueueUrl: deadLetterUrl, AttributeNames: ['QueueArn'] }),
    );
    const attributes = {
      VisibilityTimeout: String(overrides.visibilityTimeoutSeconds ?? spec.visibilityTimeoutSeconds),
      MessageRetentionPeriod: retention,
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: Attributes?.QueueArn,
        maxReceiveCount: spec.maxReceiveCount,
      }),
    };
    const queue = await client
      .send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))
      .catch(async (error: unknown) => {
        // A queue kept in DATA_DIR from before a topology change (e.g. a new visibility timeout): bring it up to
        // date, as a CloudFormation update would, keeping its messages.
        // fauxqs names the error AWS.SimpleQueueService.QueueNameExists, the SDK's own class QueueNameExists.
        if (!(error instanceof Error) || !/(^|\.)QueueNameExists$/.test(error.name)) throw error;
        const existing = await client.send(new GetQueueUrlCommand({ QueueName: name }));
        const url = local(existing.QueueUrl ?? '');
        await client.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: attributes }));
        return { QueueUrl: url };
      });
    result[name] = { url: local(queue.QueueUrl ?? ''), deadLetterUrl };
  }
  return result;
}
