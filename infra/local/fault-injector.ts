import { createHash } from 'node:crypto';
import { Agent, createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Message } from '@aws-sdk/client-sqs';
import { webhookTimeoutSeconds } from '#system/limits.ts';
import type { FunctionName, QueueName } from '#system/names.ts';

/**
 * Faults for the LOCAL stack only (the at-least-once torture suite, test/soak/), off unless a FaultInjector is
 * passed as `faults` to startLocalStack: nothing here runs in AWS or in `npm start`. It breaks exactly what AWS is
 * allowed to break, so the system's own guarantees (conditional writes, idempotency, webhook-ids) must hold:
 * - SQS (the poller): every batch is handed to the consumer twice, at about the same time, in shuffled orders, and
 *   some batches are held back so later messages overtake them;
 * - DynamoDB (a proxy in front of the local server): a request fails before it reaches the server (not applied) or
 *   after (applied, the answer lost): as a 500 InternalServerError the SDK retries, or a reset connection. Now and
 *   then a request is failed on every SDK attempt, so the step itself fails before or after its write: the
 *   notifier's delivered mark (after the webhook was sent) more often than the rest, so that case surely comes;
 * - functions (the workers): a worker is terminated in the middle of an invocation, as a Lambda sandbox can die;
 * - partners (a proxy in front of the webhook receiver): a webhook is answered 500 without being passed on, or
 *   passed on and answered only after the notifier's timeout (received, but the sender cannot know).
 *
 * Every decision comes from one seeded generator (mulberry32), so a run's stream of decisions is reproducible from
 * its seed; which request meets which decision depends on timing, as under real load. Every fault injected is
 * counted by kind (`counts`).
 */

/** How often each fault comes; the defaults keep a run converging (SDK retries mask most single faults). */
export interface FaultRates {
  /** Share of SQS batches held back before they are handed over (the rest go at once). */
  sqsHoldBack: number;
  /** Longest hold-back, ms. */
  sqsHoldBackMaxMs: number;
  /**
   * Share of messages failed on every receipt without reaching the consumer (a poison message, as if the consumer
   * crashed on it each time), until SQS moves them to the dead-letter queue; a redriven copy is a new message.
   */
  sqsPoison: number;
  /** Share of DynamoDB requests failed before they reach the server (one attempt; the SDK retries). */
  dynamoFailBefore: number;
  /** Share of DynamoDB writes failed after the server applied them (one attempt; the retry meets the write). */
  dynamoFailAfter: number;
  /** Share of DynamoDB writes failed on every attempt: the step fails before (half) or after (half) its write. */
  dynamoStepCrash: number;
  /** The same for the notifier's delivered mark: the webhook was sent and its delivery not recorded. */
  deliveredMarkCrash: number;
  /** Share of the queue consumers' invocations (router, notifier) whose worker is terminated part-way. */
  workerCrash: number;
  /**
   * The same for intake, rarer: a crashed intake fails every request in flight on its worker, and their retries are
   * refused (409, in progress) until the crashed attempts' idempotency records lapse, seconds later.
   */
  intakeCrash: number;
  /** Share of webhooks answered 500 without being passed on. */
  recipientError: number;
  /** Share of webhooks passed on but answered only after the notifier's timeout. */
  recipientTimeout: number;
}

export const defaultFaultRates: FaultRates = {
  sqsHoldBack: 0.1,
  sqsHoldBackMaxMs: 800,
  sqsPoison: 0.002,
  dynamoFailBefore: 0.01,
  dynamoFailAfter: 0.01,
  dynamoStepCrash: 0.0015,
  deliveredMarkCrash: 0.03,
  workerCrash: 0.003,
  intakeCrash: 0.0005,
  recipientError: 0.03,
  recipientTimeout: 0.001,
};

export const faultKinds = [
  'sqs.duplicate',
  'sqs.reordered',
  'sqs.held-back',
  'sqs.poisoned',
  'dynamodb.fail-before-write.500',
  'dynamodb.fail-before-write.reset',
  'dynamodb.fail-after-write.500',
  'dynamodb.fail-after-write.reset',
  'dynamodb.step-crash-before-write',
  'dynamodb.step-crash-after-write',
  'dynamodb.delivered-mark-crash-before-write',
  'dynamodb.delivered-mark-crash-after-write',
  'worker.crash',
  'recipient.500',
  'recipient.timeout',
] as const;
export type FaultKind = (typeof faultKinds)[number];

/** How the poller hands one received batch to the consumer: each entry is one invocation. */
export interface SqsDeliveryPlan {
  /** `afterPrevious`: started once the invocation before it has returned (and `delayMs` after that). */
  invocations: Array<{ messages: Message[]; delayMs: number; afterPrevious?: boolean }>;
}

/** What the DynamoDB proxy does with one request. */
type DynamoAction =
  | { kind: 'pass' }
  | { kind: 'before'; answer: 'error' | 'reset' }
  | { kind: 'after'; answer: 'error' | 'reset' };

/** The SDK's attempts of one request (standard retry mode: 3), all failed by a step crash. */
const sdkAttempts = 3;
/** A doomed request not seen again within this long (its caller gave up) is forgotten. */
const doomedForMs = 5_000;
const writeOperations = new Set([
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'BatchWriteItem',
  'TransactWriteItems',
]);

export class FaultInjector {
  readonly seed: number;
  readonly rates: FaultRates;
  private state: number;
  private readonly tally = new Map<FaultKind, number>();
  /** Off while the stack starts and while a test reads its results; on while the load runs. */
  enabled = false;
  /** Requests (by operation and body) failed on every attempt: how many attempts are still to fail, until when. */
  private readonly doomed = new Map<string, { remaining: number; until: number }>();

  constructor(options: { seed: number; rates?: Partial<FaultRates> }) {
    this.seed = options.seed >>> 0;
    this.state = this.seed;
    this.rates = { ...defaultFaultRates, ...options.rates };
  }

  /** Uniform in [0, 1) from the seeded stream (mulberry32). */
  random(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  private chance(rate: number): boolean {
    return this.enabled && rate > 0 && this.random() < rate;
  }

  count(kind: FaultKind): void {
    this.tally.set(kind, (this.tally.get(kind) ?? 0) + 1);
  }

  /** Faults injected so far, by kind (every kind listed, zero included). */
  counts(): Record<FaultKind, number> {
    return Object.fromEntries(faultKinds.map((kind) => [kind, this.tally.get(kind) ?? 0])) as Record<
      FaultKind,
      number
    >;
  }

  total(): number {
    return [...this.tally.values()].reduce((sum, n) => sum + n, 0);
  }

  private shuffled<T>(items: readonly T[]): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
    }
    return copy;
  }

  /**
   * Every batch twice (SQS is at-least-once: a message can reach two consumers at once, or come again after its
   * delete was lost), each in its own shuffled order: the second at about the same time as the first, or after it
   * (half each); some batches held back first, so the other poll loops overtake them.
   */
  sqsDelivery(_queue: QueueName, received: readonly Message[]): SqsDeliveryPlan {
    if (!this.enabled) return { invocations: [{ messages: [...received], delayMs: 0 }] };
    const messages = received.filter((m) => !this.poisoned(m.MessageId ?? ''));
    const held = this.chance(this.rates.sqsHoldBack)
      ? Math.floor(this.random() * this.rates.sqsHoldBackMaxMs)
      : 0;
    if (held > 0) this.count('sqs.held-back');
    const first = this.shuffled(messages);
    const second = this.shuffled(messages);
    if (messages.length > 1) this.count('sqs.reordered');
    for (let i = 0; i < messages.length; i++) this.count('sqs.duplicate');
    const together = this.random() < 0.5;
    return {
      invocations: [
        { messages: first, delayMs: held },
        together
          ? { messages: second, delayMs: held + Math.floor(this.random() * 300) }
          : { messages: second, delayMs: Math.floor(this.random() * 300), afterPrevious: true },
      ],
    };
  }

  /** Poison messages by id, decided when first received; each is counted once. */
  private readonly poison = new Map<string, boolean>();

  private poisoned(messageId: string): boolean {
    let poisoned = this.poison.get(messageId);
    if (poisoned === undefined) {
      poisoned = this.chance(this.rates.sqsPoison);
      this.poison.set(messageId, poisoned);
      if (poisoned) this.count('sqs.poisoned');
    }
    return poisoned;
  }

  /**
   * What became of each message the poller handed over (by message id: the body, then one line per receipt), so a
   * run that loses one can say how. Kept only while `enabled`; a few hundred bytes a message.
   */
  readonly deliveries = new Map<string, { body: string; receipts: string[] }>();

  /**
   * Every attempt of every count write (a conditional UpdateItem with `:unitId`: the metric counters and figures),
   * by unit id: when, what the proxy did, and what the server answered, so a run that finds a unit uncounted can say
   * whether its writes reached the server and what became of them.
   */
  readonly countWrites = new Map<string, string[]>();

  recordCountWrite(body: string, line: string): void {
    const unit = /":unitId":\{"S":"([^"]+)"\}/.exec(body)?.[1];
    if (unit === undefined) return;
    const key = /"Key":(\{[^}]*\}[^}]*\})/.exec(body)?.[1] ?? '?';
    const lines = this.countWrites.get(unit) ?? [];
    lines.push(`${new Date().toISOString()} ${line} ${key}`);
    this.countWrites.set(unit, lines);
  }

  /** One receipt of a batch: what each invocation made of each message (`-`: not given it, a poison message). */
  recordReceipt(
    queue: QueueName,
    messages: readonly Message[],
    plan: SqsDeliveryPlan,
    failedBy: ReadonlyArray<ReadonlySet<string>>,
  ): void {
    const at = new Date().toISOString();
    for (const message of messages) {
      const id = message.MessageId ?? '';
      const entry = this.deliveries.get(id) ?? { body: message.Body ?? '', receipts: [] };
      const outcome = plan.invocations
        .map(({ messages: batch }, i) =>
          !batch.includes(message) ? '-' : failedBy[i]?.has(id) ? 'failed' : 'ok',
        )
        .join('+');
      const count = message.Attributes?.ApproximateReceiveCount ?? '?';
      entry.receipts.push(`${at} ${queue} receive ${count}: ${outcome}`);
      this.deliveries.set(id, entry);
    }
  }

  /** Terminate the worker this long after the invocation starts, or not at all. */
  workerCrashAfterMs(fn: FunctionName): number | undefined {
    const rate =
      fn === 'router' || fn === 'notifier'
        ? this.rates.workerCrash
        : fn === 'intake'
          ? this.rates.intakeCrash
          : 0;
    return this.chance(rate) ? Math.floor(this.random() * 200) : undefined;
  }

  /** One DynamoDB request: its operation (`X-Amz-Target`'s) and JSON body. */
  dynamoAction(operation: string, body: string): DynamoAction {
    if (!this.enabled) return { kind: 'pass' };
    const isWrite = writeOperations.has(operation);
    const key = createHash('sha256').update(operation).update(body).digest('base64');
    const now = Date.now();
    const doomed = this.doomed.get(key);
    if (doomed && doomed.until > now) {
      // A retry of a request failed on every attempt: fail it again, without applying it (it landed already if the
      // crash was after the write).
      doomed.remaining -= 1;
      if (doomed.remaining <= 0) this.doomed.delete(key);
      return { kind: 'before', answer: 'error' };
    }
    if (doomed) this.doomed.delete(key);
    const answer = (): 'error' | 'reset' => (this.random() < 0.5 ? 'error' : 'reset');
    if (isWrite) {
      const deliveredMark = operation === 'UpdateItem' && isDeliveredMark(body);
      const crashRate = deliveredMark ? this.rates.deliveredMarkCrash : this.rates.dynamoStepCrash;
      if (this.chance(crashRate)) {
        const after = this.random() < 0.5;
        // The SDK's other attempts fail too, so the step sees the error (after its write landed, if `after`).
        this.doomed.set(key, { remaining: sdkAttempts - 1, until: now + doomedForMs });
        this.count(
          deliveredMark
            ? after
              ? 'dynamodb.delivered-mark-crash-after-write'
              : 'dynamodb.delivered-mark-crash-before-write'
            : after
              ? 'dynamodb.step-crash-after-write'
              : 'dynamodb.step-crash-before-write',
        );
        return after ? { kind: 'after', answer: 'error' } : { kind: 'before', answer: 'error' };
      }
      if (this.chance(this.rates.dynamoFailAfter)) {
        const how = answer();
        this.count(how === 'error' ? 'dynamodb.fail-after-write.500' : 'dynamodb.fail-after-write.reset');
        return { kind: 'after', answer: how };
      }
    }
    if (this.chance(this.rates.dynamoFailBefore)) {
      const how = answer();
      this.count(how === 'error' ? 'dynamodb.fail-before-write.500' : 'dynamodb.fail-before-write.reset');
      return { kind: 'before', answer: how };
    }
    return { kind: 'pass' };
  }

  /** One webhook POST: passed on, answered 500 without being passed on, or passed on and answered too late. */
  recipientAction(): 'pass' | 'error' | 'timeout' {
    if (this.chance(this.rates.recipientError)) {
      this.count('recipient.500');
      return 'error';
    }
    if (this.chance(this.rates.recipientTimeout)) {
      this.count('recipient.timeout');
      return 'timeout';
    }
    return 'pass';
  }
}

/** The notifier's delivered mark (ReferralStore.markDelivered): the write after the webhook's POST. */
function isDeliveredMark(body: string): boolean {
  return body.includes('deliveryStatus.#delivery.#status = :delivered');
}

export interface FaultProxy {
  endpoint: string;
  stop(): Promise<void>;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function close(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

async function bodyOf(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** DynamoDB's own answer to a server-side failure: the SDK classes it as a retryable 500. */
const internalServerError = JSON.stringify({
  __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
  message: 'Internal server error (fault injected)',
});

/** A proxy in front of the local DynamoDB server that fails requests before or after forwarding them. */
export async function startDynamoDbFaultProxy(upstream: string, faults: FaultInjector): Promise<FaultProxy> {
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true });
  const server = createServer((request, response) => {
    void (async () => {
      const body = await bodyOf(request);
      const header = request.headers['x-amz-target'];
      const operation = (typeof header === 'string' ? header : '').split('.').pop() ?? '';
      const text = body.toString('utf8');
      const action = faults.dynamoAction(operation, text);
      const note = (line: string): void => {
        if (operation === 'UpdateItem') faults.recordCountWrite(text, line);
      };
      const fail = (answer: 'error' | 'reset'): void => {
        if (answer === 'reset') {
          request.socket.destroy();
          return;
        }
        response
          .writeHead(500, {
            'content-type': 'application/x-amz-json-1.0',
            'x-amzn-errortype': 'InternalServerError',
          })
          .end(internalServerError);
      };
      if (action.kind === 'before') {
        note(`failed before (${action.answer})`);
        return fail(action.answer);
      }
      const answer = await new Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }>(
        (resolve, reject) => {
          const forwarded = httpRequest(
            {
              host: target.hostname,
              port: target.port,
              method: request.method,
              path: request.url,
              headers: request.headers,
              agent,
            },
            (upstreamAnswer) => {
              void bodyOf(upstreamAnswer).then(
                (answerBody) =>
                  resolve({
                    status: upstreamAnswer.statusCode ?? 502,
                    headers: upstreamAnswer.headers,
                    body: answerBody,
                  }),
                reject,
              );
            },
          );
          forwarded.once('error', reject);
          forwarded.end(body);
        },
      );
      const answered =
        answer.status === 200
          ? '200'
          : `${answer.status} ${/"__type":"[^"#]*#?([^"]*)"/.exec(answer.body.toString('utf8'))?.[1] ?? ''}`;
      // Applied, and the caller never hears so: its retry meets the write that landed.
      if (action.kind === 'after') {
        note(`server ${answered}, failed after (${action.answer})`);
        return fail(action.answer);
      }
      note(`server ${answered}`);
      response.writeHead(answer.status, answer.headers).end(answer.body);
    })().catch(() => request.socket.destroy());
  });
  // The SDK keeps connections alive; one reset must not leave the server waiting on the others.
  server.keepAliveTimeout = 5_000;
  const endpoint = await listen(server);
  return {
    endpoint,
    async stop() {
      await close(server);
      agent.destroy();
    },
  };
}

/**
 * A proxy in front of the teams' and partners' webhook receiver: passes each webhook on, except one answered 500
 * without being passed on, or one passed on (so the receiver has it) and answered only after the notifier's timeout.
 */
export async function startFaultyRecipients(target: string, faults: FaultInjector): Promise<FaultProxy> {
  const pending = new Set<NodeJS.Timeout>();
  const server = createServer((request, response) => {
    void (async () => {
      const body = await bodyOf(request);
      const action = request.method === 'POST' ? faults.recipientAction() : 'pass';
      if (action === 'error') {
        response.writeHead(500).end();
        return;
      }
      const headers: Record<string, string> = {};
      for (const name of ['content-type', 'webhook-id', 'webhook-timestamp', 'webhook-signature']) {
        const value = request.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      const answer = await fetch(`${target}${request.url ?? '/'}`, {
        method: request.method ?? 'POST',
        headers,
        ...(request.method === 'POST' ? { body } : {}),
      });
      const answerBody = Buffer.from(await answer.arrayBuffer());
      const reply = (): void => {
        response.writeHead(answer.status, {
          'content-type': answer.headers.get('content-type') ?? 'text/plain',
        });
        response.end(answerBody);
      };
      if (action === 'pass') return reply();
      const timer = setTimeout(
        () => {
          pending.delete(timer);
          reply();
        },
        (webhookTimeoutSeconds + 1) * 1000,
      );
      pending.add(timer);
    })().catch(() => response.destroy());
  });
  const endpoint = await listen(server);
  return {
    endpoint,
    async stop() {
      for (const timer of pending) clearTimeout(timer);
      await close(server);
    },
  };
}
