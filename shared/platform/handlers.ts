import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type {
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  Context,
  SQSBatchResponse,
  SQSEvent,
  SQSRecord,
} from 'aws-lambda';
import type { z } from 'zod';
import { routes, type HttpFunctionName, type OperationIdOf, type RouteSpec } from '#system/routes.ts';
import { routeKindOf, type RouteKind } from '#system/route-kinds.ts';
import { callerOf, tokenExpired, type Caller } from '#auth/caller.ts';
import { ForbiddenError, UnauthorizedError } from '#kernel/errors.ts';
import { clientErrorResponse, securityHeaders, serverErrorResponse } from '#http/responses.ts';
import { logger, metrics } from '#platform/observability.ts';
import { requestOriginOf, withRequestOrigin } from '#platform/request-origin.ts';
import { tallyTotals, withRequestTally } from '#platform/request-accounting.ts';
import { withInvocationScope } from '#platform/invocation-scope.ts';

/**
 * The two shapes of handler this system has, set up once: Powertools logger and metrics as middy middleware,
 * and error handling that never lets a client's mistake become a 500.
 */

export type HttpHandler = (
  event: APIGatewayProxyEvent,
  context: Context,
  caller: Caller | undefined,
) => Promise<APIGatewayProxyResult>;

/**
 * A function's handlers, one per operation id its routes name in shared/system/routes.ts: a missing or unknown
 * operation is a type error, so a new route is its entry there plus its handler here.
 */
export type OperationHandlers<F extends HttpFunctionName> = {
  readonly [Id in OperationIdOf<F>]: HttpHandler;
};

/** A route function `F` serves, its operation id typed as one of F's (to index F's handler map). */
type ServedRoute<F extends HttpFunctionName> = RouteSpec & { operationId: OperationIdOf<F> };

/**
 * The handler for function `fn`: it finds the route once (API Gateway names it by `event.resource` and
 * `event.httpMethod`), checks the caller against the route's roles and dispatches to that operation's handler.
 */
export function httpHandler<F extends HttpFunctionName>(fn: F, operations: OperationHandlers<F>) {
  // Sound by the topology's construction: a route of function `fn` names one of fn's operations.
  const ofThisFunction = (route: RouteSpec): route is ServedRoute<F> => route.function === fn;
  const all: readonly RouteSpec[] = routes;
  const served = all.filter(ofThisFunction);
  // What a fault of ours tells the caller about retrying depends on what the function's routes act on.
  const kind = routeKindOf(fn);
  const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .handler((event, context) =>
      tallied(async () => {
        const response = await respond(served, operations, kind, event, context);
        // One count per status class, so ops can alarm on a rise in 4xx (a misbehaving client) or any 5xx.
        metrics.addMetric(`Responses${String(response.statusCode).charAt(0)}xx`, 'Count', 1);
        const answer = withConversationHeaders(event, response);
        return { ...answer, headers: { ...answer.headers, ...securityHeaders } };
      }),
    );
  // The operations dispatched, for the test that every route has its handler (the types already insist).
  return Object.assign(handler, { operations: Object.keys(operations) });
}

/** BaRS: X-Request-ID and X-Correlation-ID are mirrored on every answer, errors included, so a sender can match it. */
function withConversationHeaders(
  event: APIGatewayProxyEvent,
  response: APIGatewayProxyResult,
): APIGatewayProxyResult {
  const mirrored: Record<string, string> = {};
  for (const name of ['X-Request-ID', 'X-Correlation-ID']) {
    const value = header(event, name);
    if (value !== undefined && value.length <= 200) mirrored[name] = value;
  }
  return Object.keys(mirrored).length === 0
    ? response
    : { ...response, headers: { ...response.headers, ...mirrored } };
}

async function respond<F extends HttpFunctionName>(
  served: ReadonlyArray<ServedRoute<F>>,
  operations: OperationHandlers<F>,
  kind: RouteKind,
  event: APIGatewayProxyEvent,
  context: Context,
) {
  try {
    // A route of another function, or none, is not exposed here: refused like any route missing from the topology.
    const route = served.find((r) => r.method === event.httpMethod && r.path === event.resource);
    if (!route) throw new ForbiddenError(`${event.httpMethod} ${event.resource} is not an exposed route`);
    const handle: HttpHandler = operations[route.operationId];
    const caller = authorise(route, event);
    // Audit entries appended while serving it name the caller and the request's ids (request-origin.ts).
    return await withRequestOrigin(requestOriginOf(event, caller), () => handle(event, context, caller));
  } catch (error) {
    const response = clientErrorResponse(error);
    if (response) {
      logger.info('Request refused', { statusCode: response.statusCode, reason: (error as Error).name });
      return response;
    }
    logger.error('Request failed', error as Error);
    return serverErrorResponse(error, kind);
  }
}

/**
 * An SQS consumer with Lambda's partial batch responses: each record is parsed against `schema` (a record that
 * does not parse fails alone) and handled; only failed records return to the queue, and after the queue's
 * maxReceiveCount SQS moves them to the dead-letter queue.
 */
export function sqsHandler<S extends z.ZodType>(
  schema: S,
  /** `record` is the SQS record as received (its receipt handle, receive count), for a consumer that needs it. */
  handleRecord: (message: z.infer<S>, context: Context, record: Omit<SQSRecord, 'body'>) => Promise<void>,
) {
  // The body is parsed here rather than by Powertools' parser integration: that one imports `{ z }` from zod, whose
  // namespace object keeps every zod locale in the bundle (~350 KB minified; see docs/benchmarks.md, Cold start).
  return middy<SQSEvent, SQSBatchResponse>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .handler((event, context) =>
      tallied(async () => {
        // A processor per invocation: it keeps the batch's failures, and one shared by invocations that overlap (the
        // local stack runs a function's concurrent invocations on one worker) let a later one clear an earlier one's
        // failures, which were then reported processed and deleted from the queue (found by test/soak/).
        const processor = new BatchProcessor(EventType.SQS);
        const response = await processPartialResponse(
          event,
          (record: SQSRecord) =>
            handleRecord(schema.parse(JSON.parse(record.body) as unknown) as z.infer<S>, context, record),
          processor,
          // Report every record as failed rather than throwing: the same outcome for SQS, and the counts still flush.
          { context, throwOnFullBatchFailure: false },
        );
        const failed = response.batchItemFailures.length;
        metrics.addMetric('RecordsProcessed', 'Count', event.Records.length - failed);
        metrics.addMetric('RecordsFailed', 'Count', failed);
        return response;
      }),
    );
}

/**
 * Deny by default: the route's roles come from its entry in the topology (a route missing there never gets here).
 * The authorizer has already verified the token; this decides whether its role may use this route.
 */
function authorise(route: RouteSpec, event: APIGatewayProxyEvent): Caller | undefined {
  const caller = callerOf(event);
  if (route.access === 'public') return caller;
  if (!caller) throw new UnauthorizedError('A valid bearer token is required (Authorization: Bearer <JWT>)');
  // API Gateway reuses a cached Allow for the cache TTL whatever the token's exp; the token's life ends here.
  if (tokenExpired(event)) throw new UnauthorizedError('The bearer token has expired');
  if (!route.access.includes(caller.role)) {
    throw new ForbiddenError(`Role ${caller.role} may not call ${route.method} ${route.path}`);
  }
  logger.appendKeys({ caller: caller.subject, role: caller.role });
  return caller;
}

/** Case-insensitive header lookup (API Gateway passes headers as the client spelled them). */
export function header(event: Pick<APIGatewayProxyEvent, 'headers'>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return undefined;
}

/**
 * A scheduled function's handler (EventBridge Scheduler in the stack, the local stack's timer): the same logger and
 * metrics middleware as the others; the run's summary is logged and returned. A run that throws fails the invocation
 * (the scheduler does not retry it: the next run finds the same work).
 */
export function scheduledHandler<T extends object>(run: (context: Context) => Promise<T>) {
  return middy<unknown, T>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .handler((_event, context) =>
      tallied(async () => {
        const summary = await run(context);
        logger.info('scheduled run finished', { summary });
        return summary;
      }),
    );
}

/**
 * Runs one invocation's work in its own scope (invocation-scope.ts) and its own tally of AWS requests
 * (request-accounting.ts), and publishes the tally, whether the
 * work succeeded or threw: the totals as metrics (what each invocation costs, on the dashboard), the breakdown by
 * operation and table as a debug line (read by `npm run bench -- --only requests`). Names of operations and tables
 * only: no key, no item.
 */
async function tallied<T>(work: () => Promise<T>): Promise<T> {
  const outcome = await withRequestTally(() => withInvocationScope(work));
  const totals = tallyTotals(outcome.tally);
  metrics.addMetric('DynamoDbRequests', 'Count', totals.dynamoDbRequests);
  metrics.addMetric('SqsRequests', 'Count', totals.sqsRequests);
  metrics.addMetric('DynamoDbReadUnits', 'Count', totals.readUnits);
  metrics.addMetric('DynamoDbWriteUnits', 'Count', totals.writeUnits);
  logger.debug('AWS requests', { awsRequests: outcome.tally });
  if ('error' in outcome) throw outcome.error;
  return outcome.result;
}
