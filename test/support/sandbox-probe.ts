import { threadId } from 'node:worker_threads';

/**
 * A stand-in function for the worker tests (test/integration/function-workers.test.ts): it reports what its
 * sandbox looks like, hangs, or crashes, as the event asks. Module state (`calls`) shows whether a sandbox was
 * kept or started afresh.
 */

let calls = 0;

type ProbeEvent = { action: 'describe' } | { action: 'hang' } | { action: 'crash' } | { action: 'fail' };

export async function handler(
  event: ProbeEvent,
  context: { functionName: string; getRemainingTimeInMillis(): number },
) {
  calls += 1;
  switch (event.action) {
    case 'describe':
      return {
        threadId,
        calls,
        env: { ...process.env },
        functionName: context.functionName,
        remainingMs: context.getRemainingTimeInMillis(),
      };
    case 'hang':
      return new Promise(() => undefined);
    case 'crash':
      // Thrown outside the invocation's promise: it ends the runtime, as an uncaught exception ends Lambda's.
      setTimeout(() => {
        throw new Error('probe crashed');
      }, 0);
      return new Promise(() => undefined);
    case 'fail':
      throw new TypeError('probe failed');
  }
}
