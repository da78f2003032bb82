import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createTables } from '../infra/local/provision.ts';
import { startLocalDynamoDb } from '../infra/local/servers.ts';

/**
 * The geography bench's DynamoDB: dynalite in a process of its own (so that it has a core to itself, as DynamoDB
 * would be elsewhere), on disk under the directory given (else in memory), with the system description's tables. Prints `{"endpoint": ...}` once ready and
 * runs until it is sent SIGTERM or its stdin closes.
 */

// On disk when given a directory (as `npm start` keeps its data), else in memory.
const dataDir = process.argv[2];
const server = await startLocalDynamoDb({ port: 0, ...(dataDir ? { dataDir } : {}) });
const dynamoDb = new DynamoDBClient({
  endpoint: server.endpoint,
  region: 'eu-west-2',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
const tables = await createTables(dynamoDb);
dynamoDb.destroy();
process.stdout.write(
  `${JSON.stringify({ endpoint: server.endpoint, table: tables.geography, pid: process.pid })}\n`,
);

const stop = async (): Promise<void> => {
  await server.stop();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.stdin.on('end', () => void stop());
process.stdin.resume();
