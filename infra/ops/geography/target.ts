import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * Which geography table `npm run geography` talks to: the local stack's by default (DYNAMODB_PORT, 8000, as `npm
 * start`), AWS when AWS_ENDPOINT_URL_DYNAMODB is '' (then GEOGRAPHY_TABLE is the stack output GeographyTableName).
 * The SDK is loaded only by `connect`, so that a command that does not talk to DynamoDB (or not from this thread)
 * does not pay for it.
 */

export interface GeographyTarget {
  /** '' for AWS's regional endpoint. */
  endpoint: string;
  region: string;
  table: string;
}

export function targetFromEnvironment(env: NodeJS.ProcessEnv = process.env): GeographyTarget {
  return {
    endpoint: env.AWS_ENDPOINT_URL_DYNAMODB ?? `http://127.0.0.1:${env.DYNAMODB_PORT ?? '8000'}`,
    region: env.AWS_REGION ?? 'eu-west-2',
    table: env.GEOGRAPHY_TABLE ?? 'geography',
  };
}

export const describeTarget = (target: GeographyTarget): string =>
  `table ${target.table} at ${target.endpoint || `AWS ${target.region}`}`;

/** What a checkpoint records as the place it was written to. */
export const targetKey = (target: GeographyTarget): string =>
  `${target.endpoint || `aws:${target.region}`}/${target.table}`;

export interface Connection {
  dynamoDb: DynamoDBClient;
  client: DynamoDBDocumentClient;
  /** Why the table cannot be used (no such table, nothing listening, ...), or undefined when it answers. */
  unreachable(): Promise<string | undefined>;
}

export async function connect(target: GeographyTarget): Promise<Connection> {
  const [{ DescribeTableCommand, DynamoDBClient }, { DynamoDBDocumentClient }] = await Promise.all([
    import('@aws-sdk/client-dynamodb'),
    import('@aws-sdk/lib-dynamodb'),
  ]);
  const dynamoDb = new DynamoDBClient({
    region: target.region,
    ...(target.endpoint
      ? { endpoint: target.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
  });
  return {
    dynamoDb,
    client: DynamoDBDocumentClient.from(dynamoDb, { marshallOptions: { removeUndefinedValues: true } }),
    async unreachable() {
      try {
        await dynamoDb.send(new DescribeTableCommand({ TableName: target.table }));
        return undefined;
      } catch (error) {
        const { name, code } = error as { name?: string; code?: string };
        const reason =
          name === 'ResourceNotFoundException'
            ? `there is no ${describeTarget(target)}`
            : code === 'ECONNREFUSED'
              ? `nothing answers at ${target.endpoint}: is "npm start" running? (or set DYNAMODB_PORT / AWS_ENDPOINT_URL_DYNAMODB)`
              : `${describeTarget(target)}: ${(error as Error).message}`;
        return `Cannot reach the geography table: ${reason}`;
      }
    },
  };
}
