import {
  IdempotencyConfig,
  IdempotencyPersistenceLayerError,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Context } from 'aws-lambda';
import { DependencyUnavailableError } from '#kernel/errors.ts';
import { dynamoDb } from '#platform/clients.ts';
import { tableName } from '#platform/config.ts';
import { mapIdempotencyErrors } from '#platform/idempotency-errors.ts';
import { logger } from '#platform/observability.ts';

interface IdempotencyOptions {
  keyPath: string;
  payloadPath?: string;
  expiresAfterSeconds: number;
}

/** Powertools idempotency records live in the `idempotency` table; this builds the config for one use. */
export function idempotencyFor(options: IdempotencyOptions) {
  return { persistenceStore: idempotencyStore(), config: idempotencyConfig(options) };
}

const idempotencyStore = (): BasePersistenceLayer =>
  new DynamoDBPersistenceLayer({ tableName: tableName('idempotency'), awsSdkV3Client: dynamoDb });

const idempotencyConfig = (options: IdempotencyOptions): IdempotencyConfig =>
  new IdempotencyConfig({
    eventKeyJmesPath: options.keyPath,
    ...(options.payloadPath ? { payloadValidationJmesPath: options.payloadPath } : {}),
    expiresAfterSeconds: options.expiresAfterSeconds,
    throwOnNoIdempotencyKey: true,
  });

/** One request to a `decideOnce` function: the client's key in its scope, the request's fingerprint, the command. */
export interface OnceRequest<C> {
  /** The scoped key (shared/domain/ids.ts scopedKey); Powertools hashes it into the record's id. */
  key: string;
  /**
   * The request's fingerprint, the only payload Powertools validates: the same key with another fingerprint is a
   * 409 conflict. A short string, so nothing Powertools does with it scales with the body.
   */
  fingerprint: string;
  command: C;
}

export interface OnceAnswer<R> {
  result: R;
  /** True when the function ran for this request; false when Powertools answered from its record (a replay). */
  executed: boolean;
}

interface Attempt<C, R> extends OnceRequest<C> {
  /** What the function did in this attempt (set inside it; Powertools passes the same object through). */
  outcome?: { returned: R } | { threw: unknown };
}

/**
 * `fn` made idempotent on the request's key (Powertools, records in the `idempotency` table), such that a decision
 * taken is never lost: if the function ran and returned but Powertools then fails to record that (the success
 * write throws IdempotencyPersistenceLayerError), the answer is still the function's result; the record stays in
 * progress and a retry after it expires runs the function again, which finds its own earlier work. If the function
 * threw and the record could not be cleared, the function's error is the answer. Only when the store fails before
 * the function ran is it a 503 (nothing was done). Refusals (changed body, in progress) become ConflictError.
 */
export function decideOnce<C, R>(
  fn: (command: C) => Promise<R>,
  options: { expiresAfterSeconds: number; persistenceStore?: BasePersistenceLayer },
): (request: OnceRequest<C>, context?: Context) => Promise<OnceAnswer<R>> {
  const config = idempotencyConfig({
    keyPath: 'key',
    payloadPath: 'fingerprint',
    expiresAfterSeconds: options.expiresAfterSeconds,
  });
  const persistenceStore = options.persistenceStore ?? idempotencyStore();
  const once = makeIdempotent(
    async (attempt: Attempt<C, R>): Promise<string> => {
      try {
        const returned = await fn(attempt.command);
        attempt.outcome = { returned };
        // Recorded as JSON text, not as a DynamoDB map: DynamoDB keeps a map's keys in no order (DynamoDB Local
        // hands them back shuffled), and a replay must be the first answer byte for byte.
        return JSON.stringify(returned);
      } catch (error) {
        attempt.outcome = { threw: error };
        throw error;
      }
    },
    { persistenceStore, config },
  );

  return async (request, context) => {
    if (context) config.registerLambdaContext(context);
    const attempt: Attempt<C, R> = {
      key: request.key,
      fingerprint: request.fingerprint,
      command: request.command,
    };
    try {
      const recorded: unknown = await mapIdempotencyErrors(() => once(attempt));
      const { outcome } = attempt;
      if (outcome && 'returned' in outcome) return { result: outcome.returned, executed: true };
      return { result: replayed<R>(recorded), executed: false };
    } catch (error) {
      if (!(error instanceof IdempotencyPersistenceLayerError)) throw error;
      const { outcome } = attempt;
      logger.warn('Idempotency record could not be written', {
        stage: outcome === undefined ? 'before' : 'after',
        cause: error.cause instanceof Error ? error.cause.name : 'unknown',
      });
      if (outcome === undefined) {
        throw new DependencyUnavailableError('the idempotency store is unavailable; nothing was done');
      }
      if ('returned' in outcome) return { result: outcome.returned, executed: true };
      throw outcome.threw;
    }
  };
}

/**
 * The first answer from its record: JSON text (what decideOnce records), or a map from a record written before it
 * recorded text, which expires within the key's window. The record holds what this function returned, so it is R.
 */
function replayed<R>(recorded: unknown): R {
  return (typeof recorded === 'string' ? JSON.parse(recorded) : recorded) as R;
}
