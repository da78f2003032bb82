import {
  IdempotencyAlreadyInProgressError,
  IdempotencyValidationError,
} from '@aws-lambda-powertools/idempotency';
import { ConflictError } from '#kernel/errors.ts';

/** Powertools idempotency's refusals, as the domain's typed conflict (mapped to 409 with the other errors). */
export async function mapIdempotencyErrors<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof IdempotencyValidationError) {
      throw new ConflictError(
        'This Idempotency-Key / X-Request-ID was already used with a different request body',
      );
    }
    if (error instanceof IdempotencyAlreadyInProgressError) {
      throw new ConflictError(
        'A request with this Idempotency-Key / X-Request-ID is still being processed and nothing is acknowledged yet; retry with the same key after Retry-After',
        false,
        1,
      );
    }
    throw error;
  }
}
