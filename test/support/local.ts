import { expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type {
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  Context,
  SQSBatchResponse,
  SQSEvent,
} from 'aws-lambda';
import { matchRoute, proxyEvent } from '../../infra/local/gateway.ts';
import { lambdaContext } from '../../infra/local/lambda-context.ts';
import { startLocalAws, type LocalAws } from '../../infra/local/local-aws.ts';
import { readDirectory, sampleDirectoryFile } from '../../infra/local/seed.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../../infra/local/webhook-receiver.ts';
import { toRecord } from '../../infra/local/sqs-poller.ts';
import type { FunctionName } from '#system/names.ts';
import type { QueueName } from '#system/names.ts';
import { dayCount } from '#adapters/dynamodb/metric-counters.ts';
import { referralKey } from '#adapters/dynamodb/referral-store.ts';
import type { MetricCount } from '#reporting/ports.ts';
import { authorizerContext, type Caller } from '#auth/caller.ts';
import type { Referral } from '#referral/domain/referral.ts';

/** Helpers for tests that drive the real handlers against the real local servers. */

export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export function sampleReferral(name = 'leeds-arts-and-mental-health'): Record<string, unknown> {
  return JSON.parse(
    readFileSync(new URL(`../../events/referrals/${name}.json`, import.meta.url), 'utf8'),
  ) as Record<string, unknown>;
}

/** A GP system bound to every sample practice: the caller tests use unless they say otherwise. */
export const gpSystem: Caller = {
  subject: 'test-gp-system',
  role: 'gp-system',
  organisations: ['A81001', 'A81002', 'B82001', 'B82002', 'C83001'],
};

/**
 * The API Gateway event for a request, built by the same code the local gateway uses, with the context the
 * authorizer would have passed for `caller` (null: no authorizer ran).
 */
export function apiEvent(
  method: string,
  url: string,
  body: unknown = '',
  headers: Record<string, string> = {},
  caller: Caller | null = gpSystem,
): APIGatewayProxyEvent {
  const path = new URL(url, 'http://localhost').pathname;
  const match = matchRoute(method, path);
  if (!match) throw new Error(`No route for ${method} ${path}`);
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const event = proxyEvent(
    { method, url, headers: [['Content-Type', 'application/json'], ...Object.entries(headers)], body: text },
    match.route,
    match.pathParameters,
  );
  // As the authorizer passes it on: with the token's expiry (five minutes ahead, like a freshly minted token).
  event.requestContext.authorizer = caller
    ? authorizerContext(caller, Math.floor(Date.now() / 1000) + 300)
    : null;
  return event;
}

export const contextFor = (fn: FunctionName): Context => lambdaContext(fn);

/** Receives what is on a queue now (messages become invisible for the queue's visibility timeout). */
export async function receiveAll(aws: LocalAws, queueUrl: string, waitSeconds = 1): Promise<Message[]> {
  const messages: Message[] = [];
  for (;;) {
    const { Messages = [] } = await aws.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: messages.length === 0 ? waitSeconds : 0,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) return messages;
    messages.push(...Messages);
  }
}

export function sqsEvent(queue: QueueName, messages: Message[]): SQSEvent {
  return { Records: messages.map((m) => toRecord(m, queue)) };
}

/** The referral as stored, read straight from the table (with the adapter's key, not through the adapter). */
export async function storedReferral(aws: LocalAws, referralId: string): Promise<Referral | undefined> {
  const { Item } = await aws.documentClient.send(
    new GetCommand({ TableName: aws.tables.referrals, Key: referralKey(referralId), ConsistentRead: true }),
  );
  if (Item === undefined) return undefined;
  const { sk: _sk, ...referral } = Item;
  return referral as Referral;
}

export async function auditOf(aws: LocalAws, referralId: string): Promise<Array<Record<string, unknown>>> {
  const { Items = [] } = await aws.documentClient.send(
    new QueryCommand({
      TableName: aws.tables.audit,
      KeyConditionExpression: 'referralId = :id',
      ExpressionAttributeValues: { ':id': referralId },
    }),
  );
  return Items;
}

/** A counter's total for a day (summed over its shards). */
export function counter(aws: LocalAws, count: MetricCount, day: string): Promise<number> {
  return dayCount(aws.documentClient, aws.tables.metrics, count, day);
}

export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string | (() => string),
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Real local AWS, the sample directory pointed at a real webhook receiver, and the handlers a flow test drives. */
export interface HandlerRig {
  aws: LocalAws;
  receiver: WebhookReceiver;
  intake: ApiHandler;
  router: SqsHandler;
  notifier: SqsHandler;
  stop(): Promise<void>;
}

/**
 * Real local DynamoDB and SQS with the sample directory seeded (its webhooks lead nowhere), and the intake handler
 * that runs against them: the set-up of every intake integration test.
 */
export async function startIntakeAgainstLocalAws(): Promise<{ aws: LocalAws; intake: ApiHandler }> {
  const aws = await startLocalAws();
  await aws.seedDirectory('http://127.0.0.1:9');
  const { handler } = (await import('../../functions/intake/handler.ts')) as { handler: ApiHandler };
  return { aws, intake: handler };
}

/** Every port of the local stack left to the system (0), so a spawned `npm start` never collides with another. */
export const anyFreePorts = {
  PORT: '0',
  WEBHOOK_PORT: '0',
  ISSUER_PORT: '0',
  DYNAMODB_PORT: '0',
  SQS_PORT: '0',
} as const;

export async function startHandlerRig(): Promise<HandlerRig> {
  const aws = await startLocalAws();
  const receiver = await startWebhookReceiver({
    port: 0,
    directory: readDirectory(sampleDirectoryFile, 'http://127.0.0.1'),
  });
  await aws.seedDirectory(receiver.url);
  const load = async (path: string) => ((await import(path)) as { handler: unknown }).handler;
  return {
    aws,
    receiver,
    intake: (await load('../../functions/intake/handler.ts')) as ApiHandler,
    router: (await load('../../functions/router/handler.ts')) as SqsHandler,
    notifier: (await load('../../functions/notifier/handler.ts')) as SqsHandler,
    async stop() {
      await receiver.stop();
      await aws.stop();
    },
  };
}

/** Never a 5xx; a refusal is an OperationOutcome whose every issue is an error with words (hostile-input tests). */
export function expectWellFormed(response: APIGatewayProxyResult): void {
  expect(response.statusCode, response.body.slice(0, 1000)).toBeLessThan(500);
  if (response.statusCode < 400) return;
  const outcome = JSON.parse(response.body) as {
    resourceType?: string;
    issue?: Array<Record<string, unknown>>;
  };
  expect(outcome.resourceType).toBe('OperationOutcome');
  expect(outcome.issue?.length).toBeGreaterThan(0);
  for (const issue of outcome.issue ?? []) {
    expect(issue.severity).toBe('error');
    expect(typeof issue.diagnostics).toBe('string');
  }
}
