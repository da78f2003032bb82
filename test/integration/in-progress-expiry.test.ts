import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IdempotencyAlreadyInProgressError, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from '../../infra/local/lambda-context.ts';
import { startLocalAws, type LocalAws } from '../../infra/local/local-aws.ts';
import { functions } from '#system/functions.ts';
import { type FunctionName } from '#system/names.ts';
import { queues } from '#system/queues.ts';
import type { idempotencyFor as IdempotencyFor } from '#platform/idempotency.ts';

// A crashed invocation leaves its Powertools idempotency record "in progress". Powertools gives that record an
// expiry of its own (in_progress_expiration) from the Lambda context's remaining time, so a retry is refused only
// until the crashed invocation's timeout would have passed, never for the record's whole lifetime. That needs
// registerLambdaContext on every use; without it the record blocks retries until it expires (an hour or a day).

const projectRoot = new URL('../../', import.meta.url).pathname;
let aws: LocalAws;
let idempotencyFor: typeof IdempotencyFor;

beforeAll(async () => {
  aws = await startLocalAws();
  // After the environment points at the local servers, as the handlers are loaded.
  ({ idempotencyFor } = await import('#platform/idempotency.ts'));
});
afterAll(() => aws.stop());
afterEach(() => {
  vi.useRealTimers();
});

function sourcesUnder(dir: string): string[] {
  return readdirSync(join(projectRoot, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => join(dir, file));
}

describe('in-progress idempotency records of a crashed invocation', () => {
  it('every makeIdempotent use registers the Lambda context', () => {
    const users = [...sourcesUnder('functions'), ...sourcesUnder('shared')].filter((file) =>
      readFileSync(join(projectRoot, file), 'utf8').includes('makeIdempotent('),
    );
    expect(users.length).toBeGreaterThan(0);
    for (const file of users) {
      expect(readFileSync(join(projectRoot, file), 'utf8'), file).toContain('registerLambdaContext(');
    }
  });

  it.each<FunctionName>(['intake', 'router', 'notifier'])(
    '%s: a record left by a crash blocks a retry only until the function timeout has passed',
    async (fn) => {
      const timeoutMs = functions[fn].timeoutSeconds * 1000;
      const idempotency = idempotencyFor({ keyPath: 'key', expiresAfterSeconds: 3600 });
      let runs = 0;
      let crashed = true;
      const work = makeIdempotent(async (_: { key: string }) => {
        runs++;
        // The first invocation "dies" mid-work: it never returns, so its record stays in progress.
        if (crashed) return new Promise<never>(() => undefined);
        return 'done';
      }, idempotency);
      const key = `${fn}-${Date.now()}`;

      const startedAt = Date.now();
      idempotency.config.registerLambdaContext(lambdaContext(fn));
      void work({ key });
      const record = await waitForRecord(key);
      expect(record.status).toBe('INPROGRESS');
      // The in-progress expiry is the crashed invocation's deadline: start + the function's timeout.
      expect(Number(record.in_progress_expiration)).toBeGreaterThanOrEqual(startedAt + timeoutMs - 1000);
      expect(Number(record.in_progress_expiration)).toBeLessThanOrEqual(Date.now() + timeoutMs);

      crashed = false;
      idempotency.config.registerLambdaContext(lambdaContext(fn));
      await expect(work({ key })).rejects.toBeInstanceOf(IdempotencyAlreadyInProgressError);

      // Once the function's timeout has passed (Lambda would have ended the crashed invocation), a retry runs.
      vi.useFakeTimers({ toFake: ['Date'], now: startedAt + timeoutMs + 1000 });
      idempotency.config.registerLambdaContext(lambdaContext(fn));
      await expect(work({ key })).resolves.toBe('done');
      expect(runs).toBe(2);

      // A queue keeps the message hidden longer than that, so its retry never meets the record at all; an HTTP
      // client retrying intake meets it for at most the intake timeout (6 s) and is told 409 with Retry-After.
      const queue = Object.values(queues).find((q) => q.consumer === fn);
      if (queue) expect(queue.visibilityTimeoutSeconds * 1000).toBeGreaterThan(timeoutMs);
    },
  );
});

/** The one record in progress (ids are hashes of the key, so it is found by status). */
async function waitForRecord(key: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 100; i++) {
    const { Items = [] } = await aws.documentClient.send(
      new ScanCommand({ TableName: aws.tables.idempotency }),
    );
    const found = Items.find((item) => item.status === 'INPROGRESS');
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no idempotency record for ${key}`);
}
