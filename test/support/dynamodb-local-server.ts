import { startDynamoDbLocal } from '../../infra/local/dynamodb-local.ts';
import { sharedDynamoDbLocalVariable } from '../../infra/local/servers.ts';

/**
 * Global setup of the `integration-dynamodb-local` project: ONE DynamoDB Local for the whole run, one database per
 * access key (no -sharedDb), which each in-memory local DynamoDB of a test file picks for itself (servers.ts). A
 * JVM per file would cost its start and run cold; the test workers find the server by the variable set here.
 */
export default async function startSharedDynamoDbLocal(): Promise<() => Promise<void>> {
  const server = await startDynamoDbLocal({ heapMb: 1024, sharedDb: false });
  process.env[sharedDynamoDbLocalVariable] = server.endpoint;
  return () => server.stop();
}
