import { mkdirSync } from 'node:fs';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import { startFauxqs } from 'fauxqs';

/**
 * The two local AWS-compatible servers, both bound to 127.0.0.1 only:
 * - dynalite: DynamoDB's API on LevelDB, on disk under `dataDir` or in memory;
 * - fauxqs: SQS's API (visibility timeouts, receive counts, redrive to DLQs), persisted in SQLite under `dataDir`.
 */

export interface LocalServer {
  endpoint: string;
  stop(): Promise<void>;
}

export async function startLocalDynamoDb(options: { port: number; dataDir?: string }): Promise<LocalServer> {
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
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      }),
  };
}

export async function startLocalSqs(options: { port: number; dataDir?: string }): Promise<LocalServer> {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  // fauxqs always listens on 0.0.0.0; nothing of ours may be reachable from outside this machine, so the listen
  // call it makes is pinned to loopback for the moment it starts.
  const server = await onLoopbackOnly(() =>
    startFauxqs({
      port: options.port,
      logger: false,
      ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    }),
  );
  return { endpoint: `http://127.0.0.1:${server.port}`, stop: () => server.stop() };
}

async function onLoopbackOnly<T>(start: () => Promise<T>): Promise<T> {
  const original = net.Server.prototype.listen;
  net.Server.prototype.listen = function listenOnLoopback(this: net.Server, ...args: unknown[]) {
    const [first] = args;
    if (first && typeof first === 'object' && 'host' in first) {
      args[0] = { ...(first as net.ListenOptions), host: '127.0.0.1' };
    }
    return (original as (...a: unknown[]) => net.Server).apply(this, args);
  } as typeof original;
  try {
    return await start();
  } finally {
    net.Server.prototype.listen = original;
  }
}
