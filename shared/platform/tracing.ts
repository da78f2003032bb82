import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { getXrayTraceDataFromEnv } from '@aws-lambda-powertools/commons/utils/env';
import { tracingEnvVar } from '#system/environment.ts';

/**
 * Every AWS SDK call a function makes, as an X-Ray subsegment of the function's own segment: which service and
 * operation, which table or queue, how long, how many attempts, and whether it failed (error, throttle or fault).
 * Lambda's active tracing (infra/constructs/functions.ts) records the invocation; this records what it asked of AWS.
 *
 * Why not the Powertools Tracer (`tracer.captureAWSv3Client`), which does the same: it carries the whole X-Ray SDK
 * (aws-xray-sdk-core with cls-hooked, semver, its sampler and patchers for SDK v2, http and promises), measured at
 * +117 KB minified per bundle (+89 KB even with semver aliased away), against a 600 KB bound the notifier already
 * meets only by its own 610 KB ceiling (docs/architecture.md, "Tracing"). What Lambda needs of it is this much: a
 * subsegment document sent by UDP to the X-Ray daemon that Lambda runs beside the function, and the trace header on
 * the outgoing request so that SQS carries the trace to the consumer. A few KB, and no dependency.
 *
 * Off unless the environment turns it on (POWERTOOLS_TRACE_ENABLED, the same switch the Powertools Tracer reads:
 * `true` in the stack, `false` locally) and Lambda has given a sampled trace and a daemon address. A subsegment holds
 * names only (service, operation, table name or queue URL, error type): never a key, an item or an error message,
 * so no patient data.
 */

/** The daemon Lambda runs for a function with active tracing: `AWS_XRAY_DAEMON_ADDRESS`, e.g. `169.254.79.129:2000`. */
export const daemonAddressEnvVar = 'AWS_XRAY_DAEMON_ADDRESS';

/** The header line the daemon expects before each segment document. */
const documentHeader = '{"format":"json","version":1}\n';

/** Where the daemon listens for UDP: `host:port`, or the `udp:` part of `tcp:host:port udp:host:port`. */
export function daemonUdpAddress(value: string | undefined): { host: string; port: number } | undefined {
  if (!value) return undefined;
  const udp =
    value
      .split(/\s+/)
      .find((part) => part.startsWith('udp:'))
      ?.slice('udp:'.length) ?? value;
  const separator = udp.lastIndexOf(':');
  const port = Number(udp.slice(separator + 1));
  if (separator <= 0 || !Number.isInteger(port) || port <= 0) return undefined;
  return { host: udp.slice(0, separator), port };
}

interface TraceContext {
  root: string;
  parent: string;
  sampled: boolean;
  /** Lambda's other header fields (Lineage), passed on unchanged as the X-Ray SDK does. */
  extra: string[];
}

/** The invocation's trace, as Lambda gives it (the runtime's per-invocation store, else `_X_AMZN_TRACE_ID`). */
function currentTrace(): TraceContext | undefined {
  if (process.env[tracingEnvVar] !== 'true') return undefined;
  const data = getXrayTraceDataFromEnv();
  if (!data?.Root || !data.Parent) return undefined;
  const extra = Object.entries(data)
    .filter(([key]) => key !== 'Root' && key !== 'Parent' && key !== 'Sampled' && key !== 'Self')
    .map(([key, value]) => `${key}=${value}`);
  return { root: data.Root, parent: data.Parent, sampled: data.Sampled === '1', extra };
}

let socket: Socket | undefined;

/** Fire and forget, as the X-Ray SDK sends: a lost subsegment must never fail or slow the call it describes. */
function send(document: object): void {
  const address = daemonUdpAddress(process.env[daemonAddressEnvVar]);
  if (!address) return;
  if (!socket) {
    socket = createSocket('udp4');
    socket.unref();
    socket.on('error', () => undefined);
  }
  try {
    socket.send(`${documentHeader}${JSON.stringify(document)}`, address.port, address.host, () => undefined);
  } catch {
    // A send refused at once (a closed socket, an unresolvable host) is lost like a dropped datagram.
  }
}

/** What the SDK's answer (or its error) says about the call: status, request id, attempts. */
interface ResponseMetadata {
  httpStatusCode?: number;
  requestId?: string;
  attempts?: number;
}

/** The resource a call names, under the keys X-Ray's console shows for DynamoDB and SQS. */
function resourceOf(input: Record<string, unknown>): Record<string, string> {
  const resource: Record<string, string> = {};
  if (typeof input.TableName === 'string') resource.table_name = input.TableName;
  if (typeof input.QueueUrl === 'string') resource.queue_url = input.QueueUrl;
  return resource;
}

const throttlingErrors = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'RequestThrottled',
  'RequestThrottledException',
  'ThrottledException',
  'SlowDown',
]);

/** X-Ray's flags: `throttle` (and `error`) for a throttled call, `error` for another 4xx, `fault` for 5xx. */
function flagsOf(status: number | undefined, errorName: string | undefined): Record<string, boolean> {
  if (errorName === undefined && (status === undefined || status < 400)) return {};
  if (status === 429 || (errorName !== undefined && throttlingErrors.has(errorName)))
    return { error: true, throttle: true };
  if (status !== undefined && status >= 500) return { fault: true };
  if (status !== undefined && status >= 400) return { error: true };
  // An error with no answer (a network failure, a timeout) is a fault: the service did not refuse the call.
  return { fault: true };
}

/** The slice of an SDK v3 client this needs: its middleware stack and region (typed loosely: every client's differs). */
interface TraceableClient {
  config: { region: () => Promise<string> };
  middlewareStack: {
    add(
      middleware: (
        next: (args: { input: object; request: unknown }) => Promise<{ output: object; response: unknown }>,
        context: { commandName?: string },
      ) => (args: { input: object; request: unknown }) => Promise<{ output: object; response: unknown }>,
      options: { step: 'build'; name: string; override?: boolean },
    ): void;
  };
}

/**
 * Puts the tracing middleware on a client. `service` names the subsegment, as X-Ray names AWS services in its
 * service map: `DynamoDB`, `SQS`, `SESv2`, `SecretsManager`. At the build step, so the request it stamps with the
 * trace header exists, and the subsegment spans the SDK's own retries (counted in `aws.retries`).
 */
export function traceRequests<C extends TraceableClient>(client: C, service: string): C {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const trace = currentTrace();
      if (!trace) return next(args);
      const id = randomBytes(8).toString('hex');
      const request = args.request as { headers?: Record<string, string> } | undefined;
      if (request?.headers)
        request.headers['X-Amzn-Trace-Id'] = [
          `Root=${trace.root}`,
          `Parent=${id}`,
          `Sampled=${trace.sampled ? '1' : '0'}`,
          ...trace.extra,
        ].join(';');
      const startTime = Date.now() / 1000;
      const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      const input = args.input as Record<string, unknown>;
      const record = async (metadata: ResponseMetadata | undefined, errorName?: string): Promise<void> => {
        if (!trace.sampled) return;
        const status = metadata?.httpStatusCode;
        send({
          id,
          trace_id: trace.root,
          parent_id: trace.parent,
          type: 'subsegment',
          name: service,
          namespace: 'aws',
          start_time: startTime,
          end_time: Date.now() / 1000,
          aws: {
            operation,
            region: await client.config.region(),
            ...(metadata?.requestId ? { request_id: metadata.requestId } : {}),
            retries: Math.max((metadata?.attempts ?? 1) - 1, 0),
            ...resourceOf(input),
          },
          ...(status ? { http: { response: { status } } } : {}),
          ...flagsOf(status, errorName),
          // The error's type only: an SDK error's message may quote the request.
          ...(errorName
            ? { cause: { exceptions: [{ id: randomBytes(8).toString('hex'), type: errorName }] } }
            : {}),
        });
      };
      try {
        const answer = await next(args);
        await record((answer.output as { $metadata?: ResponseMetadata }).$metadata);
        return answer;
      } catch (error) {
        const failure = error as { name?: string; $metadata?: ResponseMetadata };
        await record(failure.$metadata, failure.name ?? 'Error');
        throw error;
      }
    },
    { step: 'build', name: 'xrayTracing', override: true },
  );
  return client;
}
