import { mkdirSync } from 'node:fs';
import { Agent, createServer, request as httpRequest, Server, type IncomingMessage } from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import { startFauxqs } from 'fauxqs';
import sesEmulatorModule from 'aws-ses-v2-local';
import { startDynamoDbLocal } from './dynamodb-local.ts';

/**
 * The local AWS-compatible servers, all bound to 127.0.0.1 only:
 * - DynamoDB's API: dynalite (on LevelDB, on disk under `dataDir` or in memory) by default, or Amazon's DynamoDB
 *   Local (Java) when LOCAL_DYNAMODB=dynamodb-local, the stricter of the two, which the tests run against as well;
 * - fauxqs: SQS's API (visibility timeouts, receive counts, redrive to DLQs), persisted in SQLite under `dataDir`;
 * - aws-ses-v2-local: SES v2's SendEmail, keeping the mail in memory and listing it at `GET /store`.
 */

export interface LocalServer {
  endpoint: string;
  /**
   * Requests this server has received since it started (or since the last reset), by their `X-Amz-Target`
   * (`DynamoDB_20120810.PutItem`, `AmazonSQS.SendMessageBatch`...). Counted here, where every caller's requests
   * arrive, because the functions run in worker threads whose SDK clients the caller cannot see.
   */
  requestCounts(): Record<string, number>;
  resetRequestCounts(): void;
  stop(): Promise<void>;
}

/** A request without an `X-Amz-Target` (not the JSON protocol) is still counted, so none goes unseen. */
export const untargetedRequest = '(no X-Amz-Target)';

/** Counts requests by operation; the only cost per request is a header read and a map increment. */
class RequestCounter {
  private readonly counts = new Map<string, number>();

  /** Listens before the server's own handler; it only reads the header, so the request is untouched. */
  attach(server: Server): void {
    server.prependListener('request', (request: IncomingMessage) => {
      const target = request.headers['x-amz-target'];
      const operation = typeof target === 'string' ? target : untargetedRequest;
      this.counts.set(operation, (this.counts.get(operation) ?? 0) + 1);
    });
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  reset(): void {
    this.counts.clear();
  }
}

/** The two local DynamoDB servers: dynalite (embedded, the default) and Amazon's DynamoDB Local (Java, stricter). */
export const localDynamoDbKinds = ['dynalite', 'dynamodb-local'] as const;
export type LocalDynamoDbKind = (typeof localDynamoDbKinds)[number];

/** The environment variable that picks the local DynamoDB server for `npm start`, the tests and the benches. */
export const localDynamoDbVariable = 'LOCAL_DYNAMODB';

/** The server LOCAL_DYNAMODB names; dynalite when unset, so `npm start` needs no Java. A misspelling is refused. */
export function localDynamoDbKind(environment: NodeJS.ProcessEnv = process.env): LocalDynamoDbKind {
  const value = environment[localDynamoDbVariable];
  if (value === undefined || value === '') return 'dynalite';
  const kind = localDynamoDbKinds.find((candidate) => candidate === value);
  if (!kind)
    throw new Error(`${localDynamoDbVariable}=${value}: expected one of ${localDynamoDbKinds.join(', ')}`);
  return kind;
}

export interface LocalDynamoDbOptions {
  port: number;
  dataDir?: string;
  /** Which server; by default the one LOCAL_DYNAMODB names. */
  kind?: LocalDynamoDbKind;
}

export async function startLocalDynamoDb(options: LocalDynamoDbOptions): Promise<LocalServer> {
  const kind = options.kind ?? localDynamoDbKind();
  return kind === 'dynamodb-local' ? startCountedDynamoDbLocal(options) : startDynalite(options);
}

async function startDynalite(options: LocalDynamoDbOptions): Promise<LocalServer> {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const server = dynalite({
    ...(options.dataDir ? { path: options.dataDir } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const counter = new RequestCounter();
  counter.attach(server);
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requestCounts: () => counter.snapshot(),
    resetRequestCounts: () => counter.reset(),
    stop: () => closeServer(server),
  };
}

function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * Where a test run's one shared DynamoDB Local answers (set by test/support/dynamodb-local-server.ts, the
 * `integration-dynamodb-local` project's global setup): a JVM per test file would cost seconds each, and a cold one
 * is slow, so the files share one server, each in its own database.
 */
export const sharedDynamoDbLocalVariable = 'LOCAL_DYNAMODB_SHARED_ENDPOINT';

/** Each proxy's own database on a shared server: the server keys its databases by access key (letters and digits). */
let databases = 0;
const nextDatabaseKey = (): string => `db${process.pid}n${++databases}`;

/**
 * DynamoDB Local behind a small counting proxy on loopback: the Java server's requests cannot be seen from Node,
 * and the callers (worker threads, pollers) cannot be asked, so every request passes through here to be counted by
 * its `X-Amz-Target`, as dynalite's are. The proxy listens on the port asked for. In memory, with a shared server
 * running, the proxy points at it and rewrites the access key of every request's signature (the server does not
 * check signatures) to one of its own, so every caller through it sees one fresh database, whatever its
 * credentials; otherwise (on disk, or no shared server) it starts a Java server of its own.
 */
async function startCountedDynamoDbLocal(options: LocalDynamoDbOptions): Promise<LocalServer> {
  const shared = options.dataDir ? undefined : process.env[sharedDynamoDbLocalVariable];
  const upstream = shared
    ? { endpoint: shared, stop: async () => {} }
    : // Small heap: the tests' tables hold hundreds of items, and two servers may run side by side on two cores.
      await startDynamoDbLocal({ heapMb: 256, ...(options.dataDir ? { dataDir: options.dataDir } : {}) });
  const databaseKey = shared ? nextDatabaseKey() : undefined;
  const target = new URL(upstream.endpoint);
  const agent = new Agent({ keepAlive: true });
  const server = createServer((request, response) => {
    const headers = { ...request.headers };
    if (databaseKey && typeof headers.authorization === 'string')
      headers.authorization = headers.authorization.replace(
        /Credential=[^/]*\//,
        `Credential=${databaseKey}/`,
      );
    const forwarded = httpRequest(
      { host: target.hostname, port: target.port, method: request.method, path: request.url, headers, agent },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    forwarded.once('error', (error) => {
      if (!response.headersSent) response.writeHead(502, { 'content-type': 'text/plain' });
      response.end(`DynamoDB Local proxy: ${error.message}`);
    });
    request.pipe(forwarded);
  });
  const counter = new RequestCounter();
  counter.attach(server);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, '127.0.0.1', () => resolve());
    });
  } catch (error) {
    await upstream.stop();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requestCounts: () => counter.snapshot(),
    resetRequestCounts: () => counter.reset(),
    async stop() {
      await closeServer(server);
      agent.destroy();
      await upstream.stop();
    },
  };
}

export async function startLocalSqs(options: { port: number; dataDir?: string }): Promise<LocalServer> {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  // fauxqs always listens on 0.0.0.0; nothing of ours may be reachable from outside this machine, so the listen
  // call it makes is pinned to loopback for the moment it starts. It does not expose its HTTP server either, so the
  // request counter is attached to the server seen making that call.
  const counter = new RequestCounter();
  const server = await onLoopbackOnly(
    () =>
      startFauxqs({
        port: options.port,
        logger: false,
        ...(options.dataDir ? { dataDir: options.dataDir } : {}),
      }),
    (listening) => counter.attach(listening),
  );
  return {
    endpoint: `http://127.0.0.1:${server.port}`,
    requestCounts: () => counter.snapshot(),
    resetRequestCounts: () => counter.reset(),
    stop: () => server.stop(),
  };
}

async function onLoopbackOnly<T>(start: () => Promise<T>, onListen: (server: Server) => void): Promise<T> {
  const original = net.Server.prototype.listen;
  net.Server.prototype.listen = function listenOnLoopback(this: net.Server, ...args: unknown[]) {
    const [first] = args;
    if (first && typeof first === 'object' && 'host' in first) {
      args[0] = { ...(first as net.ListenOptions), host: '127.0.0.1' };
    }
    // Only HTTP servers carry requests to count; any other listener started meanwhile is left alone.
    if (this instanceof Server) onListen(this);
    return (original as (...a: unknown[]) => net.Server).apply(this, args);
  } as typeof original;
  try {
    return await start();
  } finally {
    net.Server.prototype.listen = original;
  }
}

/** One email as the SES emulator keeps it (`GET /store`). */
export interface StoredEmail {
  messageId: string;
  from: string;
  destination: { to: string[]; cc: string[]; bcc: string[] };
  subject: string;
  body: { html?: string; text?: string };
  at: number;
}

export interface LocalSes {
  endpoint: string;
  /** The mail the emulator has accepted so far (its `GET /store`). */
  mailbox(): Promise<StoredEmail[]>;
  stop(): Promise<void>;
}

type StartSesEmulator = (config?: { host?: string; port?: number }) => Promise<Server>;

/**
 * The package is CommonJS with an `exports.default`: Node's ESM loader hands over the exports object (the function
 * is its `default`), while esbuild-based loaders (tsx, vitest) unwrap it already. Either way, the function.
 */
function startSesEmulator(): StartSesEmulator {
  const loaded = sesEmulatorModule as unknown as StartSesEmulator | { default: StartSesEmulator };
  return typeof loaded === 'function' ? loaded : loaded.default;
}

/**
 * SES v2 on loopback (aws-ses-v2-local, an Express app: its default export starts it). Its mail store lives in the
 * process's module state, so two emulators in one process share one mailbox; each test picks its own by address.
 */
export async function startLocalSes(options: { port: number }): Promise<LocalSes> {
  const server = await startSesEmulator()({ host: '127.0.0.1', port: options.port });
  if (!server.listening) await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    async mailbox() {
      const response = await fetch(`${endpoint}/store`);
      return ((await response.json()) as { emails: StoredEmail[] }).emails;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
