import { enableCompileCache } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import type { Context } from 'aws-lambda';

/**
 * One function's sandbox in the local stack: a worker thread started by function-workers.ts with only that
 * function's environment, so its module-level state (Powertools logger and metrics, SDK clients, settings read at
 * load) is its own, as in its own Lambda execution environment. It loads the handler once, then answers
 * invocations one message at a time.
 */

export interface WorkerSetup {
  /** Module URL of the function's entry, exporting `handler`. */
  entry: string;
}

/** The serialisable part of a Lambda context; the worker rebuilds the methods around the deadline. */
export type ContextFields = Omit<Context, 'getRemainingTimeInMillis' | 'done' | 'fail' | 'succeed'> & {
  deadlineMs: number;
};

export type ToWorker = { id: number; event: unknown; context: ContextFields };
export type FromWorker =
  | { kind: 'ready' }
  | { kind: 'init-failed'; message: string }
  | { kind: 'result'; id: number; result: unknown }
  | { kind: 'error'; id: number; name: string; message: string };

type Handler = (event: unknown, context: Context) => Promise<unknown>;

const port = parentPort;
if (!port) throw new Error('function-worker.ts runs as a worker thread (see function-workers.ts)');
const { entry } = workerData as WorkerSetup;

// Six workers each load the same SDK and Powertools code: V8's on-disk code cache saves compiling it six times.
enableCompileCache();

let handler: Handler;
try {
  handler = ((await import(entry)) as { handler: Handler }).handler;
  port.postMessage({ kind: 'ready' } satisfies FromWorker);
} catch (error) {
  // Lambda reports an init failure and retries the sandbox; the host reports it and gives up on this worker.
  port.postMessage({ kind: 'init-failed', message: String(error) } satisfies FromWorker);
  throw error;
}

port.on('message', (message: ToWorker) => {
  const { deadlineMs, ...fields } = message.context;
  const context: Context = {
    ...fields,
    getRemainingTimeInMillis: () => Math.max(0, deadlineMs - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
  handler(message.event, context).then(
    (result) => port.postMessage({ kind: 'result', id: message.id, result } satisfies FromWorker),
    (error: unknown) => {
      const { name, message: text } = error instanceof Error ? error : new Error(String(error));
      port.postMessage({ kind: 'error', id: message.id, name, message: text } satisfies FromWorker);
    },
  );
});
