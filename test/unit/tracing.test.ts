import { createSocket, type Socket } from 'node:dgram';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { daemonUdpAddress, traceRequests } from '#platform/tracing.ts';
import { tracingEnvVar } from '#system/environment.ts';

// A real UDP socket stands in for the X-Ray daemon and a real HTTP server for DynamoDB: what the middleware sends
// and stamps is read off the wire, as the daemon and the service would read it.

interface Subsegment {
  id: string;
  trace_id: string;
  parent_id: string;
  type: string;
  name: string;
  namespace: string;
  start_time: number;
  end_time: number;
  aws: Record<string, unknown>;
  http?: { response: { status: number } };
  error?: boolean;
  fault?: boolean;
  throttle?: boolean;
  cause?: { exceptions: Array<Record<string, unknown>> };
}

const root = '1-6756d1f0-5f0c2a7e9b1d4c3a2e8f7a6b';
const parent = '53995c3f42cd8ad8';

let daemon: Socket;
let daemonPort: number;
const datagrams: string[] = [];
let waiting: (() => void) | undefined;

let service: Server;
let endpoint: string;
const requests: IncomingHttpHeaders[] = [];
/** What the stand-in DynamoDB answers next, by operation. */
let answer: (operation: string) => { status: number; body: object } = () => ({ status: 200, body: {} });

beforeAll(async () => {
  daemon = createSocket('udp4');
  daemon.on('message', (message) => {
    datagrams.push(message.toString('utf8'));
    waiting?.();
  });
  await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
  daemonPort = (daemon.address() as AddressInfo).port;

  service = createServer((request, response) => {
    requests.push(request.headers);
    request.resume();
    request.on('end', () => {
      const operation = String(request.headers['x-amz-target']).split('.').pop() ?? '';
      const { status, body } = answer(operation);
      response.writeHead(status, {
        'content-type': 'application/x-amz-json-1.0',
        'x-amzn-requestid': `request-${requests.length}`,
      });
      response.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(service.address() as AddressInfo).port}`;
});

afterAll(async () => {
  daemon.close();
  await new Promise((resolve) => service.close(resolve));
});

afterEach(() => {
  vi.unstubAllEnvs();
  datagrams.length = 0;
  requests.length = 0;
  answer = () => ({ status: 200, body: {} });
});

function traced(environment: { sampled?: boolean; enabled?: boolean } = {}): DynamoDBClient {
  vi.stubEnv(tracingEnvVar, environment.enabled === false ? 'false' : 'true');
  vi.stubEnv('AWS_XRAY_DAEMON_ADDRESS', `127.0.0.1:${daemonPort}`);
  vi.stubEnv(
    '_X_AMZN_TRACE_ID',
    `Root=${root};Parent=${parent};Sampled=${environment.sampled === false ? '0' : '1'};Lineage=a87bd80c:0`,
  );
  const client = new DynamoDBClient({
    endpoint,
    region: 'eu-west-2',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  return traceRequests(client, 'DynamoDB');
}

/** The subsegments the daemon has received, once it has received `count` datagrams. */
async function subsegments(count: number): Promise<Subsegment[]> {
  while (datagrams.length < count) await new Promise<void>((resolve) => (waiting = resolve));
  return datagrams.map((datagram) => {
    const [header, document] = datagram.split('\n');
    expect(JSON.parse(header ?? '')).toEqual({ format: 'json', version: 1 });
    return JSON.parse(document ?? '') as Subsegment;
  });
}

const getItem = new GetItemCommand({ TableName: 'referrals-table', Key: { pk: { S: 'REFERRAL#r-1' } } });

describe('X-Ray tracing of SDK calls', () => {
  it("a call is a subsegment of the function's segment, and its request carries the trace on", async () => {
    await traced().send(getItem);

    const [subsegment] = await subsegments(1);
    expect(subsegment).toMatchObject({
      trace_id: root,
      parent_id: parent,
      type: 'subsegment',
      name: 'DynamoDB',
      namespace: 'aws',
      aws: { operation: 'GetItem', region: 'eu-west-2', table_name: 'referrals-table', retries: 0 },
      http: { response: { status: 200 } },
    });
    expect(subsegment?.id).toMatch(/^[0-9a-f]{16}$/);
    expect(subsegment?.end_time).toBeGreaterThanOrEqual(subsegment?.start_time ?? Infinity);
    expect(subsegment?.aws.request_id).toBe('request-1');
    expect(subsegment).not.toHaveProperty('error');
    expect(subsegment).not.toHaveProperty('fault');
    // The next service (SQS, then the consumer's Lambda) continues the same trace under this subsegment.
    expect(requests[0]?.['x-amzn-trace-id']).toBe(
      `Root=${root};Parent=${subsegment?.id};Sampled=1;Lineage=a87bd80c:0`,
    );
    // Names only: the key asked for is in no datagram.
    expect(datagrams.join('')).not.toContain('REFERRAL#r-1');
  });

  it('a document client over a traced client makes one subsegment per call', async () => {
    const documents = DynamoDBDocumentClient.from(traced());
    await documents.send(new GetCommand({ TableName: 'referrals-table', Key: { pk: 'REFERRAL#r-1' } }));
    // A second call after it: the daemon's second datagram must be that call's, not a repeat of the first's.
    await traced().send(getItem);

    const received = await subsegments(2);
    expect(received[0]).toMatchObject({ name: 'DynamoDB', aws: { operation: 'GetItem' } });
    expect(requests[0]?.['x-amzn-trace-id']).toContain(`Parent=${received[0]?.id};`);
    expect(requests[1]?.['x-amzn-trace-id']).toContain(`Parent=${received[1]?.id};`);
  });

  it("a refused call is an error with the exception's type and no message", async () => {
    answer = () => ({
      status: 400,
      body: {
        __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
        message: 'The conditional request failed for REFERRAL#r-1',
      },
    });
    const put = new PutItemCommand({ TableName: 'referrals-table', Item: { pk: { S: 'REFERRAL#r-1' } } });
    await expect(traced().send(put)).rejects.toThrow();

    const [subsegment] = await subsegments(1);
    expect(subsegment).toMatchObject({
      aws: { operation: 'PutItem', table_name: 'referrals-table' },
      http: { response: { status: 400 } },
      error: true,
      cause: { exceptions: [{ type: 'ConditionalCheckFailedException' }] },
    });
    expect(subsegment).not.toHaveProperty('fault');
    expect(datagrams.join('')).not.toContain('REFERRAL#r-1');
  });

  it('a throttled call is flagged throttle, a 5xx fault', async () => {
    answer = (operation) =>
      operation === 'GetItem'
        ? { status: 400, body: { __type: 'ProvisionedThroughputExceededException', message: 'slow down' } }
        : { status: 500, body: { __type: 'InternalServerError', message: 'oops' } };
    await expect(traced().send(getItem)).rejects.toThrow();
    await expect(
      traced().send(new PutItemCommand({ TableName: 'referrals-table', Item: { pk: { S: 'x' } } })),
    ).rejects.toThrow();

    const [throttled, failed] = await subsegments(2);
    expect(throttled).toMatchObject({ error: true, throttle: true });
    expect(failed).toMatchObject({ fault: true, http: { response: { status: 500 } } });
  });

  it('an unsampled invocation sends no subsegment but still passes the decision on', async () => {
    await traced({ sampled: false }).send(getItem);
    // A sampled call after it: the daemon's only datagram is that one's.
    await traced().send(getItem);

    const received = await subsegments(1);
    expect(received).toHaveLength(1);
    expect(requests[0]?.['x-amzn-trace-id']).toMatch(
      new RegExp(`^Root=${root};Parent=[0-9a-f]{16};Sampled=0`),
    );
    expect(requests[1]?.['x-amzn-trace-id']).toContain(`Parent=${received[0]?.id}`);
  });

  it('off when POWERTOOLS_TRACE_ENABLED is not true (the local stack): no subsegment, no header', async () => {
    await traced({ enabled: false }).send(getItem);
    await traced().send(getItem);

    expect(await subsegments(1)).toHaveLength(1);
    expect(requests[0]).not.toHaveProperty('x-amzn-trace-id');
  });

  it('off outside an invocation (no trace header from Lambda): the call goes through untouched', async () => {
    const client = traced();
    vi.stubEnv('_X_AMZN_TRACE_ID', '');
    await client.send(getItem);
    await traced().send(getItem);

    expect(await subsegments(1)).toHaveLength(1);
    expect(requests[0]).not.toHaveProperty('x-amzn-trace-id');
  });

  it("reads the daemon's UDP address in either of the forms Lambda and the SDK use", () => {
    expect(daemonUdpAddress('169.254.79.129:2000')).toEqual({ host: '169.254.79.129', port: 2000 });
    expect(daemonUdpAddress('tcp:127.0.0.1:2000 udp:127.0.0.2:2001')).toEqual({
      host: '127.0.0.2',
      port: 2001,
    });
    expect(daemonUdpAddress(undefined)).toBeUndefined();
    expect(daemonUdpAddress('no-port')).toBeUndefined();
  });

  it('every SDK client the functions create is traced', async () => {
    const { dynamoDb, sqs } = await import('#platform/clients.ts');
    const { sesv2 } = await import('#platform/email-client.ts');
    for (const client of [dynamoDb, sqs, sesv2])
      expect(client.middlewareStack.identify()).toContain('xrayTracing - build');
  });
});
