import http from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayMaxHeaderBytes, startLocalGateway, type LocalGateway } from '../../infra/local/gateway.ts';
import type { OperationOutcome } from '#http/operation-outcome.ts';

// The local gateway against what a hostile or careless client sends: malformed escapes, oversized bodies on a
// keep-alive connection, oversized headers, identifiers in a query string. It must answer as API Gateway does
// (an OperationOutcome, never a bare status or a 502), keep the connection usable, and log no query values.
// Stand-in functions: the gateway's own behaviour is under test, not the handlers'.

let gateway: LocalGateway;
let broken: LocalGateway;
const logged: string[] = [];

const metadata = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => ({
  statusCode: 200,
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ path: event.path }),
});

beforeAll(async () => {
  gateway = await startLocalGateway({
    port: 0,
    handlers: {
      metadata,
      authorizer: async () => {
        throw new Error('Unauthorized');
      },
    },
    log: (line) => logged.push(line),
  });
  // No functions at all: every invocation fails, as a crashed or missing function would.
  broken = await startLocalGateway({ port: 0, handlers: {} });
});
afterAll(async () => {
  await gateway?.stop();
  await broken?.stop();
});

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  reusedSocket: boolean;
}

/** One request with node:http (fetch normalises paths and refuses some headers; a hostile client does not). */
function send(
  base: string,
  options: {
    method?: string;
    path: string;
    headers?: Record<string, string>;
    body?: Buffer;
    agent?: http.Agent;
  },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const url = new URL(base);
    const request = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: options.headers,
        ...(options.agent ? { agent: options.agent } : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            reusedSocket: request.reusedSocket,
          }),
        );
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}

function expectOutcome(answer: Answer, status: number, code: string): OperationOutcome {
  expect(answer.status, answer.body).toBe(status);
  expect(answer.headers['content-type']).toMatch(/^application\/fhir\+json/);
  const outcome = JSON.parse(answer.body) as OperationOutcome;
  expect(outcome.resourceType).toBe('OperationOutcome');
  expect(outcome.issue[0]?.details.coding[0]?.code).toBe(code);
  expectSecurityHeaders(answer);
  return outcome;
}

function expectSecurityHeaders(answer: Answer): void {
  expect(answer.headers['cache-control']).toBe('no-store');
  expect(answer.headers['x-content-type-options']).toBe('nosniff');
}

describe('a malformed %-escape in the path', () => {
  it.each(['/referrals/%zz', '/ServiceRequest/%E0%A4%A', '/%', '/no-such-route/%C3'])(
    '%s without a token is a 400 OperationOutcome, not a 502',
    async (path) => {
      const outcome = expectOutcome(await send(gateway.url, { path }), 400, 'REC_BAD_REQUEST');
      expect(outcome.issue[0]?.diagnostics).toMatch(/percent-escape/);
    },
  );

  it('a path starting // is a path, not a host: no route (404), and // alone is no 502', async () => {
    expectOutcome(await send(gateway.url, { path: '//evil.example/metadata' }), 404, 'REC_NOT_FOUND');
    const bare = await send(gateway.url, { path: '//' });
    expect(bare.status).toBeLessThan(500);
    expectSecurityHeaders(bare);
  });

  it('a well-formed escape still routes', async () => {
    expectOutcome(await send(gateway.url, { path: '/referrals/a%20b' }), 401, 'REC_UNAUTHORIZED');
  });
});

describe("the gateway's catch-all", () => {
  it('answers a failed invocation with an OperationOutcome (REC_SERVER_ERROR), not {"message": ...}', async () => {
    expectOutcome(await send(broken.url, { path: '/metadata' }), 502, 'REC_SERVER_ERROR');
  });
});

describe('an oversized body on a keep-alive connection', () => {
  it('gets 413, and the same connection then serves the next request', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const tooLarge = await send(gateway.url, {
        method: 'POST',
        path: '/referrals',
        headers: { 'Content-Type': 'application/json' },
        // Well past the limit, so much of the body is still to come when the gateway answers.
        body: Buffer.alloc(12 * 1024 * 1024, 'x'),
        agent,
      });
      expectOutcome(tooLarge, 413, 'REC_PAYLOAD_TOO_LARGE');
      const next = await send(gateway.url, { path: '/metadata', agent });
      expect(next.status, next.body).toBe(200);
      expect(next.reusedSocket).toBe(true);
    } finally {
      agent.destroy();
    }
  });
});

describe('oversized headers', () => {
  const padded = (bytes: number) => ({ 'X-Padding': 'p'.repeat(bytes) });

  it(`under API Gateway's ${gatewayMaxHeaderBytes}-byte limit (request line + header values) passes`, async () => {
    expect((await send(gateway.url, { path: '/metadata', headers: padded(9_000) })).status).toBe(200);
  });

  it('just over it is 431 with an OperationOutcome', async () => {
    expectOutcome(
      await send(gateway.url, { path: '/metadata', headers: padded(12_000) }),
      431,
      'REC_BAD_REQUEST',
    );
  });

  it("a 20 KB header (past Node's own parser limit) is 431 with an OperationOutcome too, not a bare 431", async () => {
    expectOutcome(
      await send(gateway.url, { path: '/metadata', headers: padded(20_000) }),
      431,
      'REC_BAD_REQUEST',
    );
  });
});

describe("the gateway's own answers", () => {
  it('carry no-store and nosniff: unknown route, no token', async () => {
    expectOutcome(await send(gateway.url, { path: '/no-such-route' }), 404, 'REC_NOT_FOUND');
    expectOutcome(await send(gateway.url, { path: '/referrals/x' }), 401, 'REC_UNAUTHORIZED');
  });
});

describe('the access log line', () => {
  it('shows the path and no query string value', async () => {
    logged.length = 0;
    await send(gateway.url, { path: '/metadata?nhsNumber=9995260182&postcode=LS6%201AA' });
    await send(gateway.url, { path: '/referrals/%zz?nhsNumber=9995260182' });
    expect(logged.some((line) => line.startsWith('GET /metadata '))).toBe(true);
    expect(logged.join('\n')).not.toMatch(/9995260182|LS6|nhsNumber/);
  });
});
