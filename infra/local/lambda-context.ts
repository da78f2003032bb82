import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { functions } from '#system/functions.ts';
import { type FunctionName } from '#system/names.ts';

/** A Lambda context for a local invocation, with the function's configured timeout and memory. */
export function lambdaContext(fn: FunctionName): Context {
  const spec = functions[fn];
  const deadline = Date.now() + spec.timeoutSeconds * 1000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `local-${fn}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-2:000000000000:function:local-${fn}`,
    memoryLimitInMB: String(spec.memoryMb),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/local-${fn}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Runs a handler as Lambda would: a run past the function's timeout counts as a failed invocation. */
export async function invokeWithTimeout<T>(
  fn: FunctionName,
  run: (context: Context) => Promise<T>,
): Promise<T> {
  const context = lambdaContext(fn);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Task timed out after ${functions[fn].timeoutSeconds} seconds`)),
      functions[fn].timeoutSeconds * 1000,
    );
  });
  try {
    return await Promise.race([run(context), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Invokes a function with an event, as Lambda does: a fresh context, the function's timeout. The local stack runs
 * each function in its own worker (function-workers.ts); tests may run them in this process (inProcessInvoker).
 */
export type Invoke = (fn: FunctionName, event: unknown) => Promise<unknown>;

type Handler = (event: unknown, context: Context) => Promise<unknown>;

/** The handlers as loaded in this process, sharing its environment and module instances. */
export function inProcessInvoker(handlers: Partial<Record<FunctionName, unknown>>): Invoke {
  return (fn, event) => {
    const handler = handlers[fn] as Handler | undefined;
    if (!handler) return Promise.reject(new Error(`No handler loaded for ${fn}`));
    return invokeWithTimeout(fn, (context) => handler(event, context));
  };
}
