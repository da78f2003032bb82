import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Caller } from '#auth/caller.ts';
import type { OperationOutcome } from '#http/operation-outcome.ts';
import { functionEnvironment } from '#system/environment.ts';
import { functions } from '#system/functions.ts';
import type { HttpFunctionName } from '#system/routes.ts';
import { apiEvent, contextFor, gpSystem } from '../support/local.ts';

// A fault of ours, through the real handlers: the directory admin API tells its caller to read the record before
// retrying (a change may have been stored before the fault), a referral route names the Idempotency-Key. The table
// falls over (every DynamoDB call is refused), so the handler's own code meets the fault as it would in AWS.

const admin: Caller = { subject: 'unit-admin', role: 'admin', organisations: [] };
const dynamo = mockClient(DynamoDBDocumentClient);

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** A function's handler module, loaded with the environment its grants give it (placeholder names). */
async function load(fn: HttpFunctionName): Promise<Handler> {
  const environment = functionEnvironment(
    fn,
    (table) => `unit-${table}`,
    (queue) => `http://127.0.0.1:9/000000000000/${queue}`,
    () => 'unit',
  );
  for (const [name, value] of Object.entries(environment)) vi.stubEnv(name, value);
  const module = (await import(`../../${functions[fn].entry}`)) as { handler: Handler };
  return module.handler;
}

beforeAll(() => {
  dynamo.onAnyCommand().rejects(new Error('table unit-directory is on fire (internal detail 9434765919)'));
});

afterAll(() => {
  dynamo.restore();
  vi.unstubAllEnvs();
});

const diagnosticsOf = (response: APIGatewayProxyResult): string[] =>
  (JSON.parse(response.body) as OperationOutcome).issue.map((issue) => issue.diagnostics);

describe('what a 5xx tells the caller about retrying', () => {
  it('a directory admin route: the change may or may not have been applied, so read the record first', async () => {
    const handler = await load('directoryAdmin');
    const body = { version: 1 };
    const response = await handler(
      apiEvent('POST', '/directory/services/svc-x/retire', body, {}, admin),
      contextFor('directoryAdmin'),
    );
    expect(response.statusCode).toBeGreaterThanOrEqual(500);
    expect(diagnosticsOf(response)).toEqual([
      expect.stringContaining(
        'if this was a change, it may or may not have been applied. Read the record (GET) and its version before retrying',
      ),
    ]);
    expect(response.body).not.toContain('Idempotency-Key');
    expect(response.body).not.toContain('9434765919');
  });

  it('a referral route: nothing was acknowledged, retry with the same key', async () => {
    const handler = await load('referralStatus');
    const response = await handler(
      apiEvent('GET', '/referrals/00000000-0000-4000-8000-000000000000', '', {}, gpSystem),
      contextFor('referralStatus'),
    );
    expect(response.statusCode).toBeGreaterThanOrEqual(500);
    expect(diagnosticsOf(response)).toEqual([
      expect.stringContaining(
        'nothing was acknowledged. Retry with the same Idempotency-Key or X-Request-ID',
      ),
    ]);
    expect(response.body).not.toContain('9434765919');
  });
});
