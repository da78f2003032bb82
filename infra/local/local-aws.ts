import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { loadDirectory } from '#adapters/dynamodb/directory-store.ts';
import { FileRecipientSecrets } from '#adapters/secrets/file-recipient-secrets.ts';
import type { DirectorySnapshot } from '#directory/domain/directory.ts';
import { functionEnvironment, retryBackoffEnvVar } from '#system/environment.ts';
import { functionNames, functions, type SettingName } from '#system/functions.ts';
import { type FunctionName } from '#system/names.ts';
import { type QueueName, type TableName } from '#system/names.ts';
import { startDynamoDbFaultProxy, type FaultInjector } from './fault-injector.ts';
import { createQueues, createTables, type LocalQueue } from './provision.ts';
import { readDirectory, sampleDirectoryFile } from './seed.ts';
import { seedGeography, type GeographySeed } from './seed-geography.ts';
import { startLocalDynamoDb, startLocalSes, startLocalSqs, type LocalSes } from './servers.ts';

/**
 * The AWS part of the local stack: DynamoDB and SQS servers on loopback with the topology's tables and queues,
 * and the environment Lambda would give the functions, pointed at them. Integration tests use this directly;
 * `npm start` adds the gateway, pollers and webhook receiver (local-stack.ts).
 */

export interface LocalAwsOptions {
  dynamoDbPort?: number;
  sqsPort?: number;
  /** Where DynamoDB and SQS keep their data; undefined keeps everything in memory. */
  dataDir?: string;
  /**
   * Overrides every queue's visibility timeout (tests use a short one to see redelivery quickly), and with it the
   * backoff of a consumer that holds failed records back itself (base and cap both this long), unless
   * `retryBackoff` says otherwise.
   */
  visibilityTimeoutSeconds?: number;
  /** Overrides the backoff of queues with `retryBackoff` (shared/system/queues.ts), e.g. seconds for a test. */
  retryBackoff?: { baseSeconds: number; capSeconds: number };
  /** Log level for the functions' Powertools logger (default WARN, so the console stays readable). */
  functionLogLevel?: string;
  /** Deployment settings (the JWT issuer and audience); the local stack takes them from its development issuer. */
  settings?: Partial<Record<SettingName, string>>;
  /**
   * The torture suite's faults (fault-injector.ts): the functions reach DynamoDB through a proxy that fails
   * requests before or after the server applies them. This process's own clients (`dynamoDb`, `documentClient`:
   * seeding, and a test's checks) go to the server directly.
   */
  faults?: FaultInjector;
}

export interface LocalAws {
  dynamoDbEndpoint: string;
  sqsEndpoint: string;
  /** The SES v2 emulator the notifier's emails go to; `ses.mailbox()` lists what it accepted. */
  ses: LocalSes;
  /**
   * Sets deployment settings for functions started from now on (the local stack learns its inbox page's URL only
   * once its gateway listens); handlers already loaded in this process keep what they read at load.
   */
  setSettings(settings: Partial<Record<SettingName, string>>): void;
  dynamoDb: DynamoDBClient;
  documentClient: DynamoDBDocumentClient;
  sqs: SQSClient;
  tables: Record<TableName, string>;
  queues: Record<QueueName, LocalQueue>;
  /**
   * Exactly the environment Lambda would give `fn`: its own variables from the topology (its grants and settings),
   * the runtime's, and the endpoints of the local servers; nothing of another function's. The local stack starts
   * each function's worker with it.
   */
  environmentOf(fn: FunctionName): Record<string, string>;
  /** The recipients' signing secrets (the local stand-in for Secrets Manager): a file in the data directory. */
  recipientSecrets: FileRecipientSecrets;
  /** Where the evaluation extract's pseudonym key is kept (`file:<path>`, PSEUDONYM_KEY's value). */
  pseudonymKeyLocation: string;
  /** Loads the sample directory with its webhook channels pointed at `webhookBase`, and its secrets. */
  seedDirectory(webhookBase: string): Promise<DirectorySnapshot>;
  /** Loads the sample geography (events/geography/): postcode locations and IMD 2019 and 2025 deprivation. */
  seedGeography(): Promise<GeographySeed>;
  /**
   * Requests both servers have received, by `X-Amz-Target` (DynamoDB's and SQS's names never collide), from every
   * caller: this process, the function workers, the pollers. Since start or the last `resetRequestCounts`.
   */
  requestCounts(): Record<string, number>;
  resetRequestCounts(): void;
  stop(): Promise<void>;
}

export async function startLocalAws(options: LocalAwsOptions = {}): Promise<LocalAws> {
  const dynamo = await startLocalDynamoDb({
    port: options.dynamoDbPort ?? 0,
    ...(options.dataDir ? { dataDir: join(options.dataDir, 'dynamodb') } : {}),
  });
  const sqsServer = await startLocalSqs({
    port: options.sqsPort ?? 0,
    ...(options.dataDir ? { dataDir: join(options.dataDir, 'sqs') } : {}),
  });
  const ses = await startLocalSes({ port: 0 });
  const faultProxy = options.faults
    ? await startDynamoDbFaultProxy(dynamo.endpoint, options.faults)
    : undefined;

  // The same variables Lambda would see, pointed at the local servers. Set before any handler is imported,
  // because handlers create their SDK clients and read their configuration at module load, as in Lambda.
  const runtime = {
    AWS_REGION: process.env.AWS_REGION ?? 'eu-west-2',
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'local',
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
    AWS_ENDPOINT_URL_DYNAMODB: faultProxy?.endpoint ?? dynamo.endpoint,
    AWS_ENDPOINT_URL_SQS: sqsServer.endpoint,
    AWS_ENDPOINT_URL_SESV2: ses.endpoint,
    POWERTOOLS_LOG_LEVEL: options.functionLogLevel ?? 'WARN',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  // Handlers loaded in this process (integration tests) see every function's variables at once; the local stack's
  // workers each get only their own (environmentOf).
  Object.assign(process.env, runtime);
  const dynamoDb = new DynamoDBClient({ endpoint: dynamo.endpoint });
  const documentClient = DynamoDBDocumentClient.from(dynamoDb, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const sqs = new SQSClient({ endpoint: sqsServer.endpoint });
  const tables = await createTables(dynamoDb);
  const queues = await createQueues(
    sqs,
    sqsServer.endpoint,
    options.visibilityTimeoutSeconds === undefined
      ? {}
      : { visibilityTimeoutSeconds: options.visibilityTimeoutSeconds },
  );
  // Secrets Manager's local stand-in: a file beside the data (kept with it), or in a fresh temporary directory.
  const secretsDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'sp-secrets-'));
  const secretsFile = join(secretsDir, 'recipient-secrets.json');
  // The evaluation extract's pseudonym key, in the same store (made on first use: FilePseudonymKey).
  const pseudonymKeyFile = join(secretsDir, 'pseudonym-key');
  const recipientSecrets = new FileRecipientSecrets(secretsFile);
  const backoff =
    options.retryBackoff ??
    (options.visibilityTimeoutSeconds === undefined
      ? undefined
      : { baseSeconds: options.visibilityTimeoutSeconds, capSeconds: options.visibilityTimeoutSeconds });
  // The email channel works locally out of the box: mail from a local address, linking to the local inbox page (the
  // local stack sets the real URL once its gateway listens).
  const settings: Partial<Record<SettingName, string>> = {
    EMAIL_FROM: 'referrals@social-prescribing.localhost',
    INBOX_URL: 'http://127.0.0.1:3000/inbox',
    ...options.settings,
  };
  const ownEnvironment = (fn: FunctionName): Record<string, string> => {
    const env = functionEnvironment(
      fn,
      (table) => tables[table],
      (queue) => queues[queue].url,
      (setting) => settings[setting] ?? '',
      () => `file:${secretsFile}`,
      // The local receivers (infra/local/webhook-receiver.ts) and the tests' are plain http on 127.0.0.1.
      'allow-loopback-http',
      () => `file:${pseudonymKeyFile}`,
    );
    if (backoff && env[retryBackoffEnvVar] !== undefined)
      env[retryBackoffEnvVar] = `${backoff.baseSeconds},${backoff.capSeconds}`;
    return env;
  };
  for (const fn of functionNames) Object.assign(process.env, ownEnvironment(fn));

  return {
    dynamoDbEndpoint: dynamo.endpoint,
    sqsEndpoint: sqsServer.endpoint,
    ses,
    setSettings(changed) {
      Object.assign(settings, changed);
    },
    dynamoDb,
    documentClient,
    sqs,
    tables,
    queues,
    environmentOf: (fn) => ({
      ...runtime,
      // Lambda's own: Powertools idempotency, for one, keys its records by the function's name.
      AWS_LAMBDA_FUNCTION_NAME: `local-${fn}`,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(functions[fn].memoryMb),
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      ...ownEnvironment(fn),
    }),
    recipientSecrets,
    pseudonymKeyLocation: `file:${pseudonymKeyFile}`,
    async seedDirectory(webhookBase) {
      const directory = readDirectory(sampleDirectoryFile, webhookBase);
      await loadDirectory(documentClient, tables.directory, directory);
      await recipientSecrets.putSecrets(directory.secrets ?? {});
      return directory;
    },
    seedGeography: () => seedGeography(documentClient, tables.geography),
    requestCounts: () => ({ ...dynamo.requestCounts(), ...sqsServer.requestCounts() }),
    resetRequestCounts() {
      dynamo.resetRequestCounts();
      sqsServer.resetRequestCounts();
    },
    async stop() {
      dynamoDb.destroy();
      sqs.destroy();
      await ses.stop();
      await sqsServer.stop();
      await faultProxy?.stop();
      await dynamo.stop();
    },
  };
}
