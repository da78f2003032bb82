import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { createTables } from '../../infra/local/provision.ts';
import { startLocalDynamoDb, type LocalServer } from '../../infra/local/servers.ts';
import type { TableName } from '#system/names.ts';

/**
 * The DynamoDB side of a contract suite: a local DynamoDB (the one LOCAL_DYNAMODB picks: dynalite, or DynamoDB Local) on a free port with the system description's
 * tables and indexes, started before the file's tests and stopped after, and the document client the adapters use
 * (undefined values removed, as the functions' client does). Read `client` and `tables` inside tests and the
 * factories they call, once the servers are up.
 */
export interface LocalTables {
  readonly client: DynamoDBDocumentClient;
  readonly tables: Record<TableName, string>;
}

export function useLocalTables(): LocalTables {
  let server: LocalServer | undefined;
  let client: DynamoDBDocumentClient | undefined;
  let tables: Record<TableName, string> | undefined;

  beforeAll(async () => {
    server = await startLocalDynamoDb({ port: 0 });
    const dynamoDb = new DynamoDBClient({
      endpoint: server.endpoint,
      region: 'eu-west-2',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    client = DynamoDBDocumentClient.from(dynamoDb, { marshallOptions: { removeUndefinedValues: true } });
    tables = await createTables(dynamoDb);
  });

  afterAll(async () => {
    client?.destroy();
    await server?.stop();
  });

  const started = <T>(value: T | undefined): T => {
    if (value === undefined)
      throw new Error('useLocalTables: the local tables start in beforeAll; use them in tests');
    return value;
  };
  return {
    get client() {
      return started(client);
    },
    get tables() {
      return started(tables);
    },
  };
}
