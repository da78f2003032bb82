import { IdempotencyConfig } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { dynamoDb } from './clients.ts';
import { tableName } from './config.ts';

/** Powertools idempotency records live in the `idempotency` table; this builds the config for one use. */
export function idempotencyFor(options: {
  keyPath: string;
  payloadPath?: string;
  expiresAfterSeconds: number;
}) {
  return {
    persistenceStore: new DynamoDBPersistenceLayer({
      tableName: tableName('idempotency'),
      awsSdkV3Client: dynamoDb,
    }),
    config: new IdempotencyConfig({
      eventKeyJmesPath: options.keyPath,
      ...(options.payloadPath ? { payloadValidationJmesPath: options.payloadPath } : {}),
      expiresAfterSeconds: options.expiresAfterSeconds,
      throwOnNoIdempotencyKey: true,
    }),
  };
}
