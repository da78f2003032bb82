import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  APIGatewayTokenAuthorizerEvent,
  Context,
} from 'aws-lambda';
import { tokenClockToleranceSeconds } from '#auth/caller.ts';
import { gatewayOutcomes, type GatewayOutcome } from '#http/operation-outcome.ts';
import { securityHeaders } from '#http/responses.ts';
import { authorizerCacheSeconds, clientThrottle } from '#system/limits.ts';
import { routes, type RouteSpec } from '#system/routes.ts';
import { type FunctionName } from '#system/names.ts';
import { inProcessInvoker, type Invoke } from './lambda-context.ts';

/**
 * A local stand-in for API Gateway (REST, Lambda proxy integration): each HTTP request becomes the same
 * APIGatewayProxyEvent that API Gateway would send, for the same handler Lambda runs. Requests API Gateway itself
 * refuses (no such route, body over its 10 MB limit) get the gateway responses the CDK stack configures.
 */

export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
export type TokenAuthorizer = (event: APIGatewayTokenAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;

/** API Gateway's own payload limit; the functions enforce the smaller referral limit themselves. */
const gatewayMaxBodyBytes = 10 * 1024 * 1024;

/**
 * API Gateway (REST) refuses a request whose request line and header values together exceed 10240 bytes; the local
 * gateway applies the same count. Node's own parser limit sits above it (its default, made explicit), so most
 * oversized requests get the exact check; past the parser limit the 'clientError' handler gives the same answer.
 */
export const gatewayMaxHeaderBytes = 10_240;
const parserMaxHeaderBytes = 16 * 1024;

/**
 * After a 413 the rest of the body is read and dropped, so the connection stays usable for the next request (as a
 * keep-alive client expects); past this much more, the connection is closed instead of reading on.
 */
const maxDrainBytes = gatewayMaxBodyBytes;

/** Locally cached authorizer answers: bounded, so a stream of distinct tokens cannot grow memory without end. */
export const authorizerCacheEntries = 1000;
/** A refusal is cached this briefly (a retried bad token is cheap to refuse again, and needs no memory). */
export const authorizerRefusalCacheSeconds = 5;

interface CompiledRoute extends RouteSpec {
  pattern: RegExp;
  parameterNames: string[];
}

function compile(route: RouteSpec): CompiledRoute {
  const parameterNames: string[] = [];
  // Literal parts are escaped: `/$process-message` must not read `$` as an anchor.
  const source = route.path
    .split(/(\{\w+\})/)
    .map((part) => {
      const parameter = /^\{(\w+)\}$/.exec(part);
      if (!parameter) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      parameterNames.push(parameter[1] ?? '');
      return '([^/]+)';
    })
    .join('');
  return { ...route, pattern: new RegExp(`^${source}/?$`), parameterNames };
}

const compiledRoutes = routes.map(compile);

export interface LocalGateway {
  url: string;
  stop(): Promise<void>;
}

export async function startLocalGateway(options: {
  port: number;
  /**
   * How a function is invoked (each in its own worker, as local-stack.ts does); or `handlers`, the functions
   * themselves, run in this process.
   */
  invoke?: Invoke;
  handlers?: Partial<Record<FunctionName, unknown>>;
  /** Per-client rate limit; the topology's by default. */
  throttle?: { ratePerSecond: number; burst: number };
  log?: (line: string) => void;
}): Promise<LocalGateway> {
  const invoke = options.invoke ?? inProcessInvoker(options.handlers ?? {});
  const authorizer = new CachingAuthorizer(
    (event) => invoke('authorizer', event) as Promise<APIGatewayAuthorizerResult>,
  );
  const limits = options.throttle ?? clientThrottle;
  const throttle = new ClientThrottle(limits.ratePerSecond, limits.burst);
  const server = http.createServer({ maxHeaderSize: parserMaxHeaderBytes }, (request, response) => {
    const started = Date.now();
    void handle(request)
      .catch((error: unknown) => {
        options.log?.(`gateway error: ${String(error)}`);
        return outcome(gatewayOutcomes.gatewayError);
      })
      .then((result) => {
        response.writeHead(result.statusCode, { ...stringHeaders(result.headers) });
        response.end(result.body);
        // The path only: a query string is where identifiers a client put in a URL would be.
        const path = (request.url ?? '/').split('?')[0];
        options.log?.(`${request.method} ${path} -> ${result.statusCode} (${Date.now() - started} ms)`);
      });
  });
  // Requests Node's parser refuses (headers past its limit, malformed request lines) get an OperationOutcome too,
  // not Node's bare status line.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (error.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    const answer = outcome(
      error.code === 'HPE_HEADER_OVERFLOW' ? gatewayOutcomes.headersTooLarge : gatewayOutcomes.badRequestBody,
    );
    const headers = {
      ...stringHeaders(answer.headers),
      'Content-Length': String(Buffer.byteLength(answer.body)),
    };
    socket.end(
      `HTTP/1.1 ${answer.statusCode} ${http.STATUS_CODES[answer.statusCode] ?? ''}\r\n` +
        Object.entries({ ...headers, Connection: 'close' })
          .map(([name, value]) => `${name}: ${value}\r\n`)
          .join('') +
        `\r\n${answer.body}`,
    );
  });

  async function handle(request: http.IncomingMessage): Promise<APIGatewayProxyResult> {
    const url = requestUrl(request.url);
    if (headerBytes(request) > gatewayMaxHeaderBytes) {
      request.resume();
      return outcome(gatewayOutcomes.headersTooLarge);
    }
    const body = await readBody(request);
    if (body === undefined) return outcome(gatewayOutcomes.payloadTooLarge);
    if (!url) return outcome(gatewayOutcomes.badRequestBody);
    // API Gateway decodes the path before routing; a path that does not decode is the client's error.
    if (!decodes(url.pathname)) return outcome(gatewayOutcomes.malformedPath);
    const match = matchRoute(request.method ?? 'GET', url.pathname);
    if (!match) return outcome(gatewayOutcomes.notFound);

    const headers: Array<[string, string]> = [];
    for (let i = 0; i < request.rawHeaders.length; i += 2) {
      headers.push([request.rawHeaders[i] ?? '', request.rawHeaders[i + 1] ?? '']);
    }
    let authorizerContext: Record<string, string> | null = null;
    if (match.route.access !== 'public') {
      const decision = await authorizer.decide(
        header(headers, 'authorization'),
        `arn:aws:execute-api:eu-west-2:000000000000:local/local/${match.route.method}${url.pathname}`,
      );
      if (decision.kind === 'unauthorized') return outcome(gatewayOutcomes.unauthorized);
      if (decision.kind === 'denied') return outcome(gatewayOutcomes.forbidden);
      authorizerContext = decision.context;
    }
    // Per client, like the usage plan: keyed by the authorizer's usage key, or the address for public routes.
    const client = authorizerContext?.usageIdentifierKey ?? request.socket.remoteAddress ?? 'anonymous';
    const waitSeconds = throttle.take(client);
    if (waitSeconds > 0) {
      const throttled = outcome(gatewayOutcomes.throttled);
      throttled.headers = { ...throttled.headers, 'Retry-After': String(waitSeconds) };
      return throttled;
    }

    const event = proxyEvent(
      {
        method: match.route.method,
        url: request.url ?? '/',
        headers,
        body,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
      },
      match.route,
      match.pathParameters,
    );
    event.requestContext.authorizer = authorizerContext;
    return invoke(match.route.function, event) as Promise<APIGatewayProxyResult>;
  }

  await new Promise<void>((resolve) => server.listen(options.port, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function outcome(answer: GatewayOutcome): APIGatewayProxyResult {
  return {
    statusCode: answer.status,
    headers: {
      'Content-Type': 'application/fhir+json; charset=utf-8',
      ...securityHeaders,
      ...answer.headers,
    },
    body: JSON.stringify(answer.body),
  };
}

/** What API Gateway counts against its header limit: the request line and every header value, in bytes. */
function headerBytes(request: http.IncomingMessage): number {
  let size = Buffer.byteLength(`${request.method ?? ''} ${request.url ?? ''} HTTP/${request.httpVersion}`);
  for (let i = 1; i < request.rawHeaders.length; i += 2)
    size += Buffer.byteLength(request.rawHeaders[i] ?? '');
  return size;
}

/**
 * The request target as a URL. Read against a base, `//host/path` would lose its first segment to the host part
 * (and `//` would not parse at all), so a path is appended to the origin instead; undefined if it still does not
 * parse.
 */
function requestUrl(target = '/'): URL | undefined {
  try {
    return new URL(target.startsWith('/') ? `http://localhost${target}` : target);
  } catch {
    return undefined;
  }
}

function decodes(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

function stringHeaders(headers: APIGatewayProxyResult['headers']): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k, String(v)]));
}

/**
 * The body as text, or undefined as soon as it exceeds API Gateway's limit. The rest of an oversized body is still
 * read (and dropped) so the connection can carry the next request; leaving it unread, or destroying the stream,
 * would cost a keep-alive client its connection.
 */
function readBody(request: http.IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (tooLarge) {
        if (size > gatewayMaxBodyBytes + maxDrainBytes) request.socket.destroy();
        return;
      }
      if (size > gatewayMaxBodyBytes) {
        tooLarge = true;
        chunks.length = 0;
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      if (!tooLarge) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    request.on('error', reject);
  });
}

/** What the gateway knows of an HTTP request, enough to build API Gateway's event. */
export interface HttpRequestDescription {
  method: string;
  /** Path and query, e.g. `/referrals/abc?x=1`. */
  url: string;
  /** Header name/value pairs as sent (repeats allowed). */
  headers: Array<[string, string]>;
  body: string;
  sourceIp?: string;
}

/** Each name's values in order of arrival (a repeated header or query parameter). */
function groupValues(pairs: Iterable<readonly [string, string]>): Map<string, string[]> {
  const grouped = new Map<string, string[]>();
  for (const [name, value] of pairs) grouped.set(name, [...(grouped.get(name) ?? []), value]);
  return grouped;
}

/** The APIGatewayProxyEvent (REST API, Lambda proxy integration) for a request matched to a route. */
export function proxyEvent(
  request: HttpRequestDescription,
  route: RouteSpec,
  pathParameters: Record<string, string>,
): APIGatewayProxyEvent {
  const url = new URL(request.url, 'http://localhost');
  // Collected in Maps, then made objects with Object.fromEntries (own data properties): a name such as `__proto__`
  // is then an ordinary key, as in API Gateway's event, not the object's prototype.
  const headers = Object.fromEntries(request.headers) as Record<string, string>;
  const multiValueHeaders = Object.fromEntries(groupValues(request.headers));
  const query = Object.fromEntries(url.searchParams) as Record<string, string>;
  const multiQuery = Object.fromEntries(groupValues(url.searchParams));
  const hasQuery = Object.keys(query).length > 0;
  const userAgent = request.headers.find(([name]) => name.toLowerCase() === 'user-agent')?.[1] ?? null;
  return {
    resource: route.path,
    path: url.pathname,
    httpMethod: route.method,
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: Object.keys(pathParameters).length > 0 ? pathParameters : null,
    stageVariables: null,
    body: request.body === '' ? null : request.body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: route.method,
      path: url.pathname,
      stage: 'local',
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: route.path,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: request.sourceIp ?? '127.0.0.1',
        user: null,
        userAgent,
        userArn: null,
      },
    },
  };
}

/** The route a method and path match, with its path parameters; undefined is API Gateway's "no such route". */
export function matchRoute(
  method: string,
  path: string,
): { route: RouteSpec; pathParameters: Record<string, string> } | undefined {
  for (const route of compiledRoutes) {
    if (route.method !== method) continue;
    const found = route.pattern.exec(path);
    if (!found) continue;
    const pathParameters = Object.fromEntries(
      route.parameterNames.map((name, i) => [name, decodeURIComponent(found[i + 1] ?? '')]),
    );
    return { route, pathParameters };
  }
  return undefined;
}

function header(headers: Array<[string, string]>, name: string): string | undefined {
  return headers.find(([key]) => key.toLowerCase() === name)?.[1];
}

type AuthorizerDecision =
  { kind: 'allowed'; context: Record<string, string> } | { kind: 'unauthorized' } | { kind: 'denied' };

/**
 * API Gateway's TOKEN authorizer behaviour: no Authorization header is 401 without calling the function; a thrown
 * "Unauthorized" is 401; a Deny policy is 403; an Allow passes the function's context on. An Allow is cached per
 * token for the topology's authorizer cache time but never past the token's expiry (API Gateway caches by TTL
 * alone; in AWS the handlers refuse an expired token, see shared/platform/handlers.ts). Refusals are cached only
 * briefly, and the cache keeps at most `maxEntries` tokens (least recently used go first).
 */
export class CachingAuthorizer {
  private readonly cache = new Map<string, { decision: AuthorizerDecision; until: number }>();
  constructor(
    private readonly authorize: TokenAuthorizer,
    private readonly maxEntries = authorizerCacheEntries,
  ) {}

  get size(): number {
    return this.cache.size;
  }

  async decide(authorization: string | undefined, methodArn: string): Promise<AuthorizerDecision> {
    if (!authorization) return { kind: 'unauthorized' };
    const cached = this.cache.get(authorization);
    if (cached) {
      this.cache.delete(authorization);
      if (cached.until > Date.now()) {
        this.cache.set(authorization, cached);
        return cached.decision;
      }
    }
    let decision: AuthorizerDecision;
    try {
      const result = await this.authorize({ type: 'TOKEN', authorizationToken: authorization, methodArn });
      const allowed = result.policyDocument.Statement.some((s) => s.Effect === 'Allow');
      const context = Object.fromEntries(
        Object.entries(result.context ?? {}).map(([key, value]) => [key, String(value)]),
      );
      decision = allowed
        ? {
            kind: 'allowed',
            context: {
              ...context,
              principalId: result.principalId,
              ...(result.usageIdentifierKey ? { usageIdentifierKey: result.usageIdentifierKey } : {}),
            },
          }
        : { kind: 'denied' };
    } catch {
      decision = { kind: 'unauthorized' };
    }
    const until = Math.min(
      Date.now() +
        (decision.kind === 'allowed' ? authorizerCacheSeconds : authorizerRefusalCacheSeconds) * 1000,
      decision.kind === 'allowed' ? tokenUsableUntil(decision.context) : Infinity,
    );
    this.cache.set(authorization, { decision, until });
    for (const oldest of this.cache.keys()) {
      if (this.cache.size <= this.maxEntries) break;
      this.cache.delete(oldest);
    }
    return decision;
  }
}

/** When the authorizer would refuse the token it allowed (its expiry plus clock tolerance); now if unknown. */
function tokenUsableUntil(context: Record<string, string>): number {
  const expiresAt = Number(context.tokenExpiresAt);
  return Number.isFinite(expiresAt) ? (expiresAt + tokenClockToleranceSeconds) * 1000 : Date.now();
}

/** A token bucket per client: `ratePerSecond` sustained, `burst` at once; answers how long to wait (0: go). */
class ClientThrottle {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
  ) {}

  take(client: string): number {
    const now = Date.now();
    const bucket = this.buckets.get(client) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.ratePerSecond);
    bucket.at = now;
    this.buckets.set(client, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.ratePerSecond));
  }
}
