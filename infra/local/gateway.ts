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
import { gatewayOutcomes } from '../../shared/http/operation-outcome.ts';
import {
  authorizerCacheSeconds,
  clientThrottle,
  routes,
  type FunctionName,
  type RouteSpec,
} from '../topology.ts';
import { invokeWithTimeout } from './lambda-context.ts';

/**
 * A local stand-in for API Gateway (REST, Lambda proxy integration): each HTTP request becomes the same
 * APIGatewayProxyEvent that API Gateway would send, for the same handler Lambda runs. Requests API Gateway itself
 * refuses (no such route, body over its 10 MB limit) get the gateway responses the CDK stack configures.
 */

export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
export type TokenAuthorizer = (event: APIGatewayTokenAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;

/** API Gateway's own payload limit; the functions enforce the smaller referral limit themselves. */
const gatewayMaxBodyBytes = 10 * 1024 * 1024;

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
  handlers: Record<FunctionName, unknown>;
  /** Per-client rate limit; the topology's by default. */
  throttle?: { ratePerSecond: number; burst: number };
  log?: (line: string) => void;
}): Promise<LocalGateway> {
  const authorizer = new CachingAuthorizer(options.handlers.authorizer as TokenAuthorizer);
  const limits = options.throttle ?? clientThrottle;
  const throttle = new ClientThrottle(limits.ratePerSecond, limits.burst);
  const server = http.createServer((request, response) => {
    const started = Date.now();
    void handle(request)
      .catch((error: unknown) => {
        options.log?.(`gateway error: ${String(error)}`);
        return {
          statusCode: 502,
          headers: {},
          body: '{"message":"Internal server error"}',
        } as APIGatewayProxyResult;
      })
      .then((result) => {
        response.writeHead(result.statusCode, { ...stringHeaders(result.headers) });
        response.end(result.body);
        options.log?.(
          `${request.method} ${request.url} -> ${result.statusCode} (${Date.now() - started} ms)`,
        );
      });
  });

  async function handle(request: http.IncomingMessage): Promise<APIGatewayProxyResult> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const body = await readBody(request);
    if (body === undefined) return outcome(gatewayOutcomes.payloadTooLarge);
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
      if (decision.kind === 'unauthorized') {
        const refused = outcome(gatewayOutcomes.unauthorized);
        refused.headers = { ...refused.headers, 'WWW-Authenticate': 'Bearer' };
        return refused;
      }
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
    const handler = options.handlers[match.route.function] as ApiHandler;
    return invokeWithTimeout(match.route.function, (context) => handler(event, context));
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

function outcome(answer: { status: number; body: unknown }): APIGatewayProxyResult {
  return {
    statusCode: answer.status,
    headers: { 'Content-Type': 'application/fhir+json; charset=utf-8' },
    body: JSON.stringify(answer.body),
  };
}

function stringHeaders(headers: APIGatewayProxyResult['headers']): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k, String(v)]));
}

/** The body as text, or undefined when it exceeds API Gateway's limit. */
async function readBody(request: http.IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > gatewayMaxBodyBytes) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
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

/** The APIGatewayProxyEvent (REST API, Lambda proxy integration) for a request matched to a route. */
export function proxyEvent(
  request: HttpRequestDescription,
  route: RouteSpec,
  pathParameters: Record<string, string>,
): APIGatewayProxyEvent {
  const url = new URL(request.url, 'http://localhost');
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [name, value] of request.headers) {
    headers[name] = value;
    multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), value];
  }
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [key, value] of url.searchParams) {
    query[key] = value;
    multiQuery[key] = [...(multiQuery[key] ?? []), value];
  }
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
 * "Unauthorized" is 401; a Deny policy is 403; an Allow passes the function's context on. Results are cached per
 * token for the topology's authorizer cache time, as API Gateway does.
 */
class CachingAuthorizer {
  private readonly cache = new Map<string, { decision: AuthorizerDecision; until: number }>();
  constructor(private readonly authorize: TokenAuthorizer) {}

  async decide(authorization: string | undefined, methodArn: string): Promise<AuthorizerDecision> {
    if (!authorization) return { kind: 'unauthorized' };
    const cached = this.cache.get(authorization);
    if (cached && cached.until > Date.now()) return cached.decision;
    let decision: AuthorizerDecision;
    try {
      const result = await invokeWithTimeout('authorizer', () =>
        this.authorize({ type: 'TOKEN', authorizationToken: authorization, methodArn }),
      );
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
    this.cache.set(authorization, { decision, until: Date.now() + authorizerCacheSeconds * 1000 });
    return decision;
  }
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
