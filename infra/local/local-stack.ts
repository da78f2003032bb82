import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { loadDirectory } from '../../shared/adapters/dynamodb/directory-store.ts';
import {
  functionEnvironment,
  functionNames,
  functions,
  queueNames,
  queues,
  type FunctionName,
} from '../topology.ts';
import { startLocalGateway } from './gateway.ts';
import { createQueues, createTables, type LocalQueue } from './provision.ts';
import { readDirectory, sampleDirectoryFile } from './seed.ts';
import { startLocalDynamoDb, startLocalSqs } from './servers.ts';
import { startPoller, type SqsConsumer } from './sqs-poller.ts';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.ts';

/**
 * The whole system on one machine, built from the same topology as the CDK stack: local DynamoDB and SQS servers,
 * the topology's tables and queues, the sample directory, the HTTP gateway in front of the same handlers Lambda
 * runs, an SQS poller per queue, and a webhook receiver standing in for the recipients.
 */

export interface LocalStackOptions {
  /** API port (0: any free port). */
  port?: number;
  dynamoDbPort?: number;
  sqsPort?: number;
  webhookPort?: number;
  /** Where DynamoDB and SQS keep their data; undefined keeps everything in memory. */
  dataDir?: string;
  /** Overrides every queue's visibility timeout (tests use a short one to see redelivery quickly). */
  visibilityTimeoutSeconds?: number;
  /** Log level for the functions' Powertools logger (default WARN, so the console stays readable). */
  functionLogLevel?: string;
  log?: (line: string) => void;
}

export interface LocalStack {
  apiUrl: string;
  dynamoDbEndpoint: string;
  sqsEndpoint: string;
  queues: Record<(typeof queueNames)[number], LocalQueue>;
  receiver: WebhookReceiver;
  stop(): Promise<void>;
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const log = options.log ?? (() => undefined);
  const dynamo = await startLocalDynamoDb({
    port: options.dynamoDbPort ?? 0,
    ...(options.dataDir ? { dataDir: join(options.dataDir, 'dynamodb') } : {}),
  });
  const sqsServer = await startLocalSqs({
    port: options.sqsPort ?? 0,
    ...(options.dataDir ? { dataDir: join(options.dataDir, 'sqs') } : {}),
  });

  // The same variables Lambda would see, pointed at the local servers. Set before the handlers are imported,
  // because they create their SDK clients and read their configuration at module load, as in Lambda.
  Object.assign(process.env, {
    AWS_REGION: process.env.AWS_REGION ?? 'eu-west-2',
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'local',
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_SQS: sqsServer.endpoint,
    POWERTOOLS_LOG_LEVEL: options.functionLogLevel ?? 'WARN',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  const dynamoClient = new DynamoDBClient({ endpoint: dynamo.endpoint });
  const sqsClient = new SQSClient({ endpoint: sqsServer.endpoint });
  const tableNames = await createTables(dynamoClient);
  const localQueues = await createQueues(
    sqsClient,
    sqsServer.endpoint,
    options.visibilityTimeoutSeconds === undefined
      ? {}
      : { visibilityTimeoutSeconds: options.visibilityTimeoutSeconds },
  );
  for (const fn of functionNames) {
    Object.assign(
      process.env,
      functionEnvironment(
        fn,
        (table) => tableNames[table],
        (queue) => localQueues[queue].url,
      ),
    );
  }

  const receiver = await startWebhookReceiver({
    port: options.webhookPort ?? 0,
    // The receiver looks secrets up by path, which does not depend on its port.
    directory: readDirectory(sampleDirectoryFile, 'http://127.0.0.1'),
    log,
  });
  const directory = readDirectory(sampleDirectoryFile, receiver.url);
  const items = await loadDirectory(
    DynamoDBDocumentClient.from(dynamoClient),
    tableNames.directory,
    directory,
  );
  log(
    `directory: ${directory.practices.length} practices, ${directory.teams.length} link-worker teams, ` +
      `${directory.partners.length} VCSE partners, ${directory.services.length} services (${items} items)`,
  );

  const handlers = await importHandlers();
  const gateway = await startLocalGateway({ port: options.port ?? 0, handlers, log });
  const pollers = queueNames.map((queue) =>
    startPoller({
      client: sqsClient,
      queue,
      queueUrl: localQueues[queue].url,
      consumer: handlers[queues[queue].consumer] as SqsConsumer,
      log,
    }),
  );

  return {
    apiUrl: gateway.url,
    dynamoDbEndpoint: dynamo.endpoint,
    sqsEndpoint: sqsServer.endpoint,
    queues: localQueues,
    receiver: receiver,
    async stop() {
      await gateway.stop();
      await Promise.all(pollers.map((p) => p.stop()));
      await receiver.stop();
      await sqsServer.stop();
      await dynamo.stop();
      dynamoClient.destroy();
      sqsClient.destroy();
    },
  };
}

async function importHandlers(): Promise<Record<FunctionName, unknown>> {
  const entries = await Promise.all(
    functionNames.map(async (fn) => {
      const module = (await import(`../../${functions[fn].entry}`)) as { handler: unknown };
      return [fn, module.handler] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<FunctionName, unknown>;
}
