import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  type AttributeDefinition,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { queues } from '#system/queues.ts';
import { tables, type TableSpec } from '#system/tables.ts';
import { type QueueName, type TableName } from '#system/names.ts';

/**
 * Creates the topology's tables and queues on the local servers. Safe to run on every start: what exists is kept
 * (with its data). A table kept from before a change to its keys or indexes is refused, not altered: DynamoDB
 * cannot change a table's key schema either, and the data under DATA_DIR is a development store the developer
 * may still want to look at (docs/operations.md says how to start afresh). Queue URLs are returned addressed at
 * the local endpoint, so the SDK sends to it.
 */

const keySchema = (partitionKey: string, sortKey: string | undefined): KeySchemaElement[] => [
  { AttributeName: partitionKey, KeyType: 'HASH' },
  ...(sortKey === undefined ? [] : [{ AttributeName: sortKey, KeyType: 'RANGE' as const }]),
];

/** The CreateTable request for a table spec: its keys and its global secondary indexes. */
export function createTableInput(name: string, spec: TableSpec): CreateTableCommandInput {
  const keyNames = new Set([spec.partitionKey, ...(spec.sortKey === undefined ? [] : [spec.sortKey])]);
  const indexes: GlobalSecondaryIndex[] = (spec.indexes ?? []).map((index) => {
    keyNames.add(index.partitionKey);
    if (index.sortKey !== undefined) keyNames.add(index.sortKey);
    return {
      IndexName: index.name,
      KeySchema: keySchema(index.partitionKey, index.sortKey),
      Projection: { ProjectionType: index.projection === 'all' ? 'ALL' : 'KEYS_ONLY' },
    };
  });
  const attributes: AttributeDefinition[] = [...keyNames].map((key) => ({
    AttributeName: key,
    AttributeType: 'S',
  }));
  return {
    TableName: name,
    KeySchema: keySchema(spec.partitionKey, spec.sortKey),
    AttributeDefinitions: attributes,
    BillingMode: 'PAY_PER_REQUEST',
    ...(indexes.length === 0 ? {} : { GlobalSecondaryIndexes: indexes }),
  };
}

/** `referralId, sk; worklist(recipientKey, worklistSortKey)`: what a table's keys are, to compare and to show. */
const describeKeys = (
  keys: KeySchemaElement[] | undefined,
  indexes: Array<{ IndexName?: string; KeySchema?: KeySchemaElement[] }> = [],
): string =>
  [
    (keys ?? []).map((k) => k.AttributeName).join(', '),
    ...indexes
      .map((i) => `${i.IndexName}(${(i.KeySchema ?? []).map((k) => k.AttributeName).join(', ')})`)
      .sort(),
  ].join('; ');

async function refuseIfKeysDiffer(client: DynamoDBClient, name: string, spec: TableSpec): Promise<void> {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
  const wanted = createTableInput(name, spec);
  const found = describeKeys(Table?.KeySchema, Table?.GlobalSecondaryIndexes);
  const expected = describeKeys(wanted.KeySchema, wanted.GlobalSecondaryIndexes);
  if (found !== expected) {
    throw new Error(
      `The local table "${name}" was created with keys (${found}) but the system description now has ` +
        `(${expected}). It is a development store from an older version: delete the data directory ` +
        `(DATA_DIR, default .data) or start with --in-memory.`,
    );
  }
}

export async function createTables(client: DynamoDBClient): Promise<Record<TableName, string>> {
  const names = {} as Record<TableName, string>;
  for (const [name, spec] of Object.entries(tables) as Array<[TableName, TableSpec]>) {
    try {
      await client.send(new CreateTableCommand(createTableInput(name, spec)));
    } catch (error) {
      // dynalite's errors carry the name but are not instances of the SDK's class.
      if (!(error instanceof ResourceInUseException) && (error as Error).name !== 'ResourceInUseException')
        throw error;
      await refuseIfKeysDiffer(client, name, spec);
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
