import { Worker } from 'node:worker_threads';
import { functionNames, functions } from '#system/functions.ts';
import { type FunctionName } from '#system/names.ts';
import type { FaultInjector } from './fault-injector.ts';
import type { ContextFields, FromWorker, ToWorker, WorkerSetup } from './function-worker.ts';
import { lambdaContext, type Invoke } from './lambda-context.ts';

/**
 * Each function of the local stack in its own worker thread, as each has its own execution environment in Lambda:
 * started with only that function's environment (so a grant missing from the topology fails here as it would in
 * AWS), with its own module instances (so its log lines carry its own name and request id, not whichever function
 * last touched a shared logger). The gateway and the SQS pollers invoke functions through `invoke`, which gives
 * each call a Lambda context and the function's timeout; a call that runs past it fails, and the worker is
 * discarded and started afresh, as Lambda discards a timed-out sandbox.
 *
 * Unlike Lambda, one worker serves a function's concurrent invocations (they interleave on its event loop); a
 * timeout therefore also fails the other calls in flight on that worker.
 */

export interface FunctionWorkers {
  invoke: Invoke;
  stop(): Promise<void>;
}

const workerEntry = new URL('./function-worker.ts', import.meta.url);
/**
 * Node 24 runs the TypeScript itself (types stripped, parameter properties transformed, with source maps): six
 * workers start in about half the time they take with tsx's loader hooks in each, and nothing depends on the working
 * directory. The flag is experimental, so its warning is silenced.
 */
const workerExecArgv = ['--experimental-transform-types', '--disable-warning=ExperimentalWarning'];
const projectRoot = new URL('../../', import.meta.url);

/** What a sandbox runs: the function's module and its timeout (the topology's unless a test says otherwise). */
export interface SandboxSpec {
  /** Module URL exporting `handler`. */
  entry: string;
  timeoutSeconds: number;
}

const topologySpec = (fn: FunctionName): SandboxSpec => ({
  entry: new URL(functions[fn].entry, projectRoot).href,
  timeoutSeconds: functions[fn].timeoutSeconds,
});

export async function startFunctionWorkers(options: {
  environmentOf: (fn: FunctionName) => Record<string, string>;
  /** Which functions to start (all by default). */
  only?: readonly FunctionName[];
  specOf?: (fn: FunctionName) => SandboxSpec;
  log?: (line: string) => void;
  /** The torture suite's faults (fault-injector.ts): a worker terminated part-way through an invocation. */
  faults?: FaultInjector;
}): Promise<FunctionWorkers> {
  const specOf = options.specOf ?? topologySpec;
  const sandboxes = Object.fromEntries(
    (options.only ?? functionNames).map((fn) => [
      fn,
      new Sandbox(fn, specOf(fn), options.environmentOf(fn), options.log, options.faults),
    ]),
  ) as Partial<Record<FunctionName, Sandbox>>;
  // Like provisioned concurrency: every function initialised before the stack says it is ready, so an init failure
  // (a missing variable, a module that does not load) stops `npm start` at once with its reason.
  const started = await Promise.allSettled(Object.values(sandboxes).map((s) => s.start()));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(Object.values(sandboxes).map((s) => s.stop()));
    throw failed.reason;
  }
  return {
    invoke: (fn, event) => sandboxes[fn]?.invoke(event) ?? Promise.reject(new Error(`${fn} is not running`)),
    async stop() {
      await Promise.all(Object.values(sandboxes).map((s) => s.stop()));
    },
  };
}

interface Pending {
  resolve(result: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

class Sandbox {
  private worker: Worker | undefined;
  private ready: Promise<Worker> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stopping = false;

  constructor(
    private readonly fn: FunctionName,
    private readonly spec: SandboxSpec,
    private readonly env: Record<string, string>,
    private readonly log?: (line: string) => void,
    private readonly faults?: FaultInjector,
  ) {}

  start(): Promise<Worker> {
    this.ready ??= this.spawn();
    return this.ready;
  }

  async invoke(event: unknown): Promise<unknown> {
    if (this.stopping) throw new Error(`${this.fn} is stopping`);
    let worker: Worker;
    try {
      worker = await this.start();
    } catch (error) {
      // The next invocation tries a fresh init, as Lambda does after an init failure.
      this.ready = undefined;
      throw error;
    }
    const id = this.nextId++;
    const { timeoutSeconds } = this.spec;
    const {
      getRemainingTimeInMillis: _g,
      done: _d,
      fail: _f,
      succeed: _s,
      ...fields
    } = lambdaContext(this.fn);
    const context: ContextFields = { ...fields, deadlineMs: Date.now() + timeoutSeconds * 1000 };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`Task timed out after ${timeoutSeconds} seconds`));
        this.discard(worker, `timed out after ${timeoutSeconds} s`);
      }, timeoutSeconds * 1000);
      this.pending.set(id, { resolve, reject, timer });
      worker.postMessage({ id, event, context } satisfies ToWorker);
      const crashAfterMs = this.faults?.workerCrashAfterMs(this.fn);
      if (crashAfterMs !== undefined)
        setTimeout(() => {
          // Only if the invocation is still running: a crash part-way, whatever it had written by then.
          if (!this.pending.has(id) || this.worker !== worker) return;
          this.faults?.count('worker.crash');
          this.discard(worker, 'crashed (fault injected)');
        }, crashAfterMs);
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.failAll(new Error(`${this.fn} stopped`));
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private spawn(): Promise<Worker> {
    const worker = new Worker(workerEntry, {
      execArgv: workerExecArgv,
      // Only this function's variables: process.env inside the worker is exactly this object.
      env: this.env,
      workerData: { entry: this.spec.entry } satisfies WorkerSetup,
      name: `local-${this.fn}`,
    });
    this.worker = worker;
    let initialised = false;
    return new Promise<Worker>((resolve, reject) => {
      // A worker that never got ready is forgotten, not replaced: the next invocation tries a fresh init (as Lambda
      // does), and an init that always fails cannot loop.
      const initFailed = (error: Error): void => {
        reject(error);
        if (this.worker === worker) {
          this.worker = undefined;
          this.ready = undefined;
        }
      };
      worker.on('message', (message: FromWorker) => {
        if (message.kind === 'ready') {
          initialised = true;
          return resolve(worker);
        }
        if (message.kind === 'init-failed') {
          return initFailed(new Error(`${this.fn} failed to initialise: ${message.message}`));
        }
        const call = this.pending.get(message.id);
        if (!call) return; // answered after its timeout: Lambda would have dropped it too
        this.pending.delete(message.id);
        clearTimeout(call.timer);
        if (message.kind === 'result') call.resolve(message.result);
        else call.reject(Object.assign(new Error(message.message), { name: message.name }));
      });
      // An uncaught exception or unhandled rejection ends the worker, as it ends a Lambda runtime: the calls in
      // flight fail, and the next invocation gets a fresh worker.
      worker.on('error', (error) => {
        // The worker posts `init-failed` and then rethrows: the two reach this thread on different channels, in
        // either order, so both say the same thing (seen in CI as the bare error winning the race).
        if (!initialised) return initFailed(new Error(`${this.fn} failed to initialise: ${String(error)}`));
        this.discard(worker, `crashed (${error.name}: ${error.message})`);
      });
      worker.on('exit', (code) => {
        if (!initialised)
          return initFailed(new Error(`${this.fn} exited (code ${code}) before it was ready`));
        if (!this.stopping) this.discard(worker, `exited (code ${code})`);
      });
    });
  }

  /** Drops the worker and everything in flight on it; a fresh one is started for the next invocation. */
  private discard(worker: Worker, why: string): void {
    if (this.worker !== worker) return;
    this.log?.(`${this.fn}: sandbox ${why}; starting a fresh one`);
    this.worker = undefined;
    this.ready = undefined;
    this.failAll(new Error(`${this.fn}: sandbox ${why}`));
    void worker.terminate();
    if (!this.stopping) void this.start().catch(() => undefined);
  }

  private failAll(error: Error): void {
    for (const [id, call] of this.pending) {
      clearTimeout(call.timer);
      call.reject(error);
      this.pending.delete(id);
    }
  }
}
