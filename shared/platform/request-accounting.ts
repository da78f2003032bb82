import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What each invocation asks of AWS, counted by an SDK middleware on every client the functions create
 * (shared/platform/clients.ts): requests by service, operation and table or queue, and the DynamoDB read and write
 * units each one consumed, as DynamoDB itself reports them (the middleware asks for `ReturnConsumedCapacity: TOTAL`,
 * which costs nothing). The handlers (shared/platform/handlers.ts) run each invocation in its own tally and publish
 * it: the totals as metrics, the breakdown as a debug log line. So the cost of a referral can be read off any
 * deployment, and `npm run bench -- --only requests` adds up one referral's invocations, step by step.
 *
 * Counted per attempt that reached the service (the SDK's own retries included: each is billed), not per call.
 * A tally holds service, operation and resource names only: never a key or an item, so no patient data.
 */

export interface RequestCount {
  requests: number;
  readUnits: number;
  writeUnits: number;
}

/** `DynamoDB.PutItem referrals`, `SQS.SendMessageBatch notifications`: what was asked, of which resource. */
export type RequestTally = Record<string, RequestCount>;

const invocationTally = new AsyncLocalStorage<Map<string, RequestCount>>();

/** Runs `work` with a fresh tally that every SDK request made inside it (however deeply awaited) is counted in. */
export async function withRequestTally<T>(
  work: () => Promise<T>,
): Promise<{ result: T; tally: RequestTally } | { error: unknown; tally: RequestTally }> {
  const counts = new Map<string, RequestCount>();
  try {
    const result = await invocationTally.run(counts, work);
    return { result, tally: Object.fromEntries(counts) };
  } catch (error) {
    return { error, tally: Object.fromEntries(counts) };
  }
}

/** Totals over a tally, for the invocation's metrics. */
export function tallyTotals(tally: RequestTally): {
  dynamoDbRequests: number;
  sqsRequests: number;
  otherRequests: number;
  readUnits: number;
  writeUnits: number;
} {
  const totals = { dynamoDbRequests: 0, sqsRequests: 0, otherRequests: 0, readUnits: 0, writeUnits: 0 };
  for (const [key, count] of Object.entries(tally)) {
    if (key.startsWith('DynamoDB.')) totals.dynamoDbRequests += count.requests;
    else if (key.startsWith('SQS.')) totals.sqsRequests += count.requests;
    else totals.otherRequests += count.requests;
    totals.readUnits += count.readUnits;
    totals.writeUnits += count.writeUnits;
  }
  return totals;
}

/** DynamoDB operations that report consumed capacity when asked. */
const capacityReporting = new Set([
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'Scan',
  'BatchGetItem',
  'BatchWriteItem',
  'TransactGetItems',
  'TransactWriteItems',
]);

interface ConsumedCapacity {
  CapacityUnits?: number;
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
}

/** Read and write units from DynamoDB's answer: one ConsumedCapacity, or one per table for the batch operations. */
export function unitsOf(
  consumed: ConsumedCapacity | ConsumedCapacity[] | undefined,
  operation: string,
): { readUnits: number; writeUnits: number } {
  const all = consumed === undefined ? [] : Array.isArray(consumed) ? consumed : [consumed];
  let readUnits = 0;
  let writeUnits = 0;
  const reads =
    operation === 'GetItem' || operation === 'Query' || operation === 'Scan' || operation.includes('Get');
  for (const c of all) {
    // A single-table answer often gives only CapacityUnits; which kind they are follows from the operation.
    const read = c.ReadCapacityUnits ?? (reads ? (c.CapacityUnits ?? 0) : 0);
    const write = c.WriteCapacityUnits ?? (reads ? 0 : (c.CapacityUnits ?? 0));
    readUnits += read;
    writeUnits += write;
  }
  return { readUnits, writeUnits };
}

/** The last segment of a queue URL or ARN: the queue's name, which is also what the system description calls it. */
const queueNameOf = (url: unknown): string =>
  typeof url === 'string' ? (url.split(/[/:]/).pop() ?? '') : '';

function resourceOf(service: string, input: Record<string, unknown>): string {
  if (service === 'SQS') return queueNameOf(input.QueueUrl);
  if (typeof input.TableName === 'string') return input.TableName;
  // The batch and transaction operations name their tables inside: list them, sorted, so the key is stable.
  const tables = new Set<string>();
  for (const field of ['RequestItems', 'TransactItems'] as const) {
    const value = input[field];
    if (Array.isArray(value)) {
      for (const item of value as Record<string, { TableName?: string }>[])
        for (const op of Object.values(item)) if (op?.TableName) tables.add(op.TableName);
    } else if (value && typeof value === 'object') for (const table of Object.keys(value)) tables.add(table);
  }
  return [...tables].sort().join('+');
}

function record(key: string, count: RequestCount): void {
  const counts = invocationTally.getStore();
  if (!counts) return;
  const known = counts.get(key) ?? { requests: 0, readUnits: 0, writeUnits: 0 };
  known.requests += count.requests;
  known.readUnits += count.readUnits;
  known.writeUnits += count.writeUnits;
  counts.set(key, known);
}

/** The slice of an SDK v3 client this needs: its middleware stack (typed loosely: every client's differs). */
interface MiddlewareClient {
  middlewareStack: {
    add(
      middleware: (
        next: (args: { input: object }) => Promise<{ output: object }>,
        context: { commandName?: string },
      ) => (args: { input: object }) => Promise<{ output: object }>,
      options: { step: 'initialize'; name: string; override?: boolean },
    ): void;
  };
}

/** Puts the accounting middleware on a client. `service` names it in the tally: `DynamoDB`, `SQS`, `SESv2`... */
export function accountRequests<C extends MiddlewareClient>(client: C, service: string): C {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      const input = args.input as Record<string, unknown>;
      const asks = service === 'DynamoDB' && capacityReporting.has(operation);
      const key = `${service}.${operation} ${resourceOf(service, input)}`.trim();
      const sent =
        asks && input.ReturnConsumedCapacity === undefined
          ? { ...args, input: { ...input, ReturnConsumedCapacity: 'TOTAL' } }
          : args;
      try {
        const answer = await next(sent);
        const output = answer.output as {
          ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[];
          $metadata?: { attempts?: number };
        };
        record(key, {
          requests: output.$metadata?.attempts ?? 1,
          ...unitsOf(output.ConsumedCapacity, operation),
        });
        return answer;
      } catch (error) {
        // A refused request (a failed condition, a throttle) was still a request; DynamoDB bills a failed conditional
        // write too, but does not say how much, so no units are added for it.
        const attempts = (error as { $metadata?: { attempts?: number } }).$metadata?.attempts;
        record(key, { requests: attempts ?? 1, readUnits: 0, writeUnits: 0 });
        throw error;
      }
    },
    { step: 'initialize', name: 'requestAccounting', override: true },
  );
  return client;
}
