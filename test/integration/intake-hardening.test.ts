import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { LocalAws } from '../../infra/local/local-aws.ts';
import type { Caller } from '#auth/caller.ts';
import type * as Acknowledgement from '#fhir/outbound/acknowledgement.ts';
import {
  apiEvent,
  contextFor,
  gpSystem,
  receiveAll,
  sampleReferral,
  storedReferral,
  type ApiHandler,
  startIntakeAgainstLocalAws,
} from '../support/local.ts';

// Issue 6 (what a hostile or careless client can do), intake's part: keys that outlive their idempotency record,
// answers that must not fail once a message is processed, another practice's referral, key scope, Location.
// The intake handler against real local DynamoDB (dynalite) and SQS (fauxqs).

/** Lets a test make the full acknowledgement throw, as it could on a Bundle too large or odd to rebuild. */
const acknowledgement = vi.hoisted(() => ({ fail: false }));
vi.mock('#fhir/outbound/acknowledgement.ts', async (importOriginal) => {
  const original = await importOriginal<typeof Acknowledgement>();
  return {
    ...original,
    acknowledgementBundle: (...args: Parameters<typeof original.acknowledgementBundle>) => {
      if (acknowledgement.fail) throw new RangeError('Maximum call stack size exceeded');
      return original.acknowledgementBundle(...args);
    },
  };
});

let aws: LocalAws;
let intake: ApiHandler;

beforeAll(async () => {
  ({ aws, intake } = await startIntakeAgainstLocalAws());
});
afterAll(() => aws.stop());
afterEach(async () => {
  acknowledgement.fail = false;
  vi.restoreAllMocks();
  await receiveAll(aws, aws.queues.referrals.url, 0); // each test starts with an empty routing queue
});

type Json = Record<string, unknown>;

interface Outcome {
  resourceType: string;
  issue: Array<{ code: string; diagnostics: string; details: { coding: Array<{ code: string }> } }>;
}

const postJson = (body: unknown, headers: Record<string, string> = {}, caller: Caller = gpSystem) =>
  intake(apiEvent('POST', '/referrals', body, headers, caller), contextFor('intake'));

const processMessage = (body: unknown, headers: Record<string, string>, caller: Caller = gpSystem) =>
  intake(
    apiEvent(
      'POST',
      '/$process-message',
      body,
      { 'Content-Type': 'application/fhir+json', ...headers },
      caller,
    ),
    contextFor('intake'),
  );

const exampleServiceRequestId = '7d9f3b2a-1111-4c3d-8e5f-000000000001';

/** An example Bundle, optionally aimed at a referral, sent by another practice, or given a timestamp. */
function example(
  name: string,
  options: { serviceRequestId?: string; senderOds?: string; timestamp?: string } = {},
): Json {
  let text = readFileSync(new URL(`../../events/fhir/${name}`, import.meta.url), 'utf8');
  if (options.serviceRequestId) text = text.replaceAll(exampleServiceRequestId, options.serviceRequestId);
  if (options.senderOds) text = text.replaceAll('A81001', options.senderOds);
  const bundle = JSON.parse(text) as Json;
  bundle['timestamp'] = options.timestamp ?? new Date(Date.now() - 60_000).toISOString();
  return bundle;
}

const conversation = () => ({ 'X-Request-ID': randomUUID(), 'X-Correlation-ID': randomUUID() });

function entriesOf(bundle: Json): Array<{ fullUrl?: string; resource: Json }> {
  return bundle['entry'] as Array<{ fullUrl?: string; resource: Json }>;
}

/** Asserts a 200 acknowledgement of `request`; returns the ServiceRequest id it assigned. */
function acknowledged(response: APIGatewayProxyResult, request: Json, status = 'active'): string {
  expect(response.statusCode, response.body).toBe(200);
  const bundle = JSON.parse(response.body) as Json;
  expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'message', id: request['id'] });
  const serviceRequest = entriesOf(bundle).find((e) => e.resource['resourceType'] === 'ServiceRequest');
  const id = String(serviceRequest?.resource['id']);
  expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  expect(serviceRequest?.fullUrl).toBe(`urn:uuid:${id}`);
  expect(serviceRequest?.resource['status']).toBe(status);
  const header = entriesOf(bundle)[0]?.resource;
  expect(header?.['resourceType']).toBe('MessageHeader');
  expect((header?.['focus'] as Array<{ reference: string }>)[0]?.reference).toBe(`urn:uuid:${id}`);
  return id;
}

function refused(
  response: APIGatewayProxyResult,
  statusCode: number,
  code: string,
): Outcome['issue'][number] {
  expect(response.statusCode, response.body).toBe(statusCode);
  const outcome = JSON.parse(response.body) as Outcome;
  expect(outcome.issue).toHaveLength(1);
  expect(outcome.issue[0]?.code).toBe(code);
  return outcome.issue[0] as Outcome['issue'][number];
}

/** What a day passing does to every Powertools idempotency record (dynalite never deletes expired items). */
async function expireIdempotencyRecords(): Promise<void> {
  const { Items = [] } = await aws.documentClient.send(
    new ScanCommand({ TableName: aws.tables.idempotency, ConsistentRead: true }),
  );
  for (const item of Items) {
    await aws.documentClient.send(
      new UpdateCommand({
        TableName: aws.tables.idempotency,
        Key: { id: item['id'] },
        UpdateExpression: 'SET expiration = :past',
        ExpressionAttributeValues: { ':past': Math.floor(Date.now() / 1000) - 1 },
      }),
    );
  }
}

async function referralCount(): Promise<number> {
  const { Count = 0 } = await aws.documentClient.send(
    new ScanCommand({ TableName: aws.tables.referrals, Select: 'COUNT', ConsistentRead: true }),
  );
  return Count;
}

/** Makes the next write of a completed idempotency record fail, as a throttled or unreachable table would. */
function failNextIdempotencySuccessWrite() {
  return vi
    .spyOn(
      DynamoDBPersistenceLayer.prototype as unknown as { _updateRecord: () => Promise<void> },
      '_updateRecord',
    )
    .mockRejectedValueOnce(new Error('ProvisionedThroughputExceededException (simulated)'));
}

// ---- 6.1 ------------------------------------------------------------------------------------------------------------

describe('a key reused after its idempotency record has expired', () => {
  it('POST /referrals: another body is 409 conflict and overwrites nothing; the same body gets the first answer', async () => {
    const headers = { 'Idempotency-Key': `expiry-${randomUUID()}` };
    const first = await postJson(sampleReferral(), headers);
    expect(first.statusCode, first.body).toBe(202);
    const { referralId } = JSON.parse(first.body) as { referralId: string };
    const before = await storedReferral(aws, referralId);
    await receiveAll(aws, aws.queues.referrals.url);
    await expireIdempotencyRecords();

    const otherPatient = sampleReferral('blackpool-benefits-and-activity');
    const other = await postJson({ ...otherPatient, practiceOds: 'A81001' }, headers);
    const issue = refused(other, 409, 'conflict');
    expect(issue.details.coding[0]?.code).toBe('REC_CONFLICT');
    expect(issue.diagnostics).toMatch(/already used for another request/);
    expect(await storedReferral(aws, referralId)).toEqual(before);
    expect(await receiveAll(aws, aws.queues.referrals.url, 0)).toHaveLength(0);

    await expireIdempotencyRecords();
    const again = await postJson(sampleReferral(), headers);
    expect(again.statusCode, again.body).toBe(202);
    expect(JSON.parse(again.body)).toEqual(JSON.parse(first.body));
    expect(await storedReferral(aws, referralId)).toEqual(before);
  });

  it('POST /$process-message: another message under the X-Request-ID is 409 conflict; the same one gets its acknowledgement', async () => {
    const headers = conversation();
    const request = example('new-referral.json');
    const referralId = acknowledged(await processMessage(request, headers), request);
    const before = await storedReferral(aws, referralId);
    await expireIdempotencyRecords();

    const changed = example('new-referral.json', { timestamp: String(request['timestamp']) });
    const serviceRequest = entriesOf(changed).find((e) => e.resource['resourceType'] === 'ServiceRequest');
    (serviceRequest?.resource['note'] as Array<{ text: string }>)[0] = { text: 'Another patient entirely' };
    refused(await processMessage(changed, headers), 409, 'conflict');
    expect(await storedReferral(aws, referralId)).toEqual(before);

    await expireIdempotencyRecords();
    expect(acknowledged(await processMessage(structuredClone(request), headers), request)).toBe(referralId);
    expect(await storedReferral(aws, referralId)).toEqual(before);
  });
});

// ---- 6.2 ------------------------------------------------------------------------------------------------------------

describe('nothing after the durable write fails the answer', () => {
  it('a large Bundle within the limits (1,000 extensions, 600 extra entries) is acknowledged in full', async () => {
    const request = example('new-referral.json');
    const serviceRequest = entriesOf(request).find((e) => e.resource['resourceType'] === 'ServiceRequest');
    if (!serviceRequest) throw new Error('no ServiceRequest');
    serviceRequest.resource['extension'] = Array.from({ length: 1000 }, (_, i) => ({
      url: 'https://gp.example.org/fhir/StructureDefinition/local-note',
      valueString: `note ${i}`,
    }));
    for (let i = 0; i < 600; i++) {
      entriesOf(request).push({ fullUrl: `urn:uuid:${randomUUID()}`, resource: { resourceType: 'Basic' } });
    }
    expect(Buffer.byteLength(JSON.stringify(request))).toBeLessThan(256 * 1024);
    const before = await referralCount();

    const response = await processMessage(request, conversation());
    const referralId = acknowledged(response, request);
    const bundle = JSON.parse(response.body) as Json;
    expect(entriesOf(bundle)).toHaveLength(entriesOf(request).length);
    const echoed = entriesOf(bundle).find((e) => e.resource['resourceType'] === 'ServiceRequest');
    expect(echoed?.resource['extension']).toHaveLength(1000);
    expect((await storedReferral(aws, referralId))?.status).toBe('received');
    expect(await referralCount()).toBe(before + 1);
  });

  it('BaRS: if the idempotency record cannot be completed, the processed message is still acknowledged', async () => {
    const failing = failNextIdempotencySuccessWrite();
    const headers = conversation();
    const request = example('new-referral.json');
    const before = await referralCount();

    const referralId = acknowledged(await processMessage(request, headers), request);
    expect(failing).toHaveBeenCalledTimes(1);
    expect((await storedReferral(aws, referralId))?.status).toBe('received');
    expect(await referralCount()).toBe(before + 1);
    expect(await receiveAll(aws, aws.queues.referrals.url)).toHaveLength(1);

    // The record is left in progress: a retry straight away is told to wait (`transient`, never `duplicate`, which
    // a sender may take for "done"), and nothing is created twice.
    const retry = await processMessage(structuredClone(request), headers);
    refused(retry, 409, 'transient');
    expect(retry.headers?.['Retry-After']).toBe('1');
    expect(await referralCount()).toBe(before + 1);
  });

  it('JSON: if the idempotency record cannot be completed, the accepted referral is still answered 202', async () => {
    failNextIdempotencySuccessWrite();
    const response = await postJson(sampleReferral(), { 'Idempotency-Key': `save-fails-${randomUUID()}` });
    expect(response.statusCode, response.body).toBe(202);
    const { referralId } = JSON.parse(response.body) as { referralId: string };
    expect((await storedReferral(aws, referralId))?.status).toBe('received');
  });

  it('if the full acknowledgement cannot be built, the minimal one answers (200), never a 500', async () => {
    acknowledgement.fail = true;
    const request = example('new-referral.json');
    const before = await referralCount();

    const response = await processMessage(request, conversation());
    const referralId = acknowledged(response, request);
    const bundle = JSON.parse(response.body) as Json;
    expect(entriesOf(bundle).map((e) => e.resource['resourceType'])).toEqual([
      'MessageHeader',
      'ServiceRequest',
    ]);
    expect((await storedReferral(aws, referralId))?.status).toBe('received');
    expect(await referralCount()).toBe(before + 1);
  });
});

// ---- 6.11 -----------------------------------------------------------------------------------------------------------

describe("an update or cancel naming another practice's referral", () => {
  it.each([
    ['update.json', 'update'],
    ['cancel.json', 'cancel'],
  ])('%s: 404 with the same body as for an id that does not exist', async (file) => {
    const created = example('new-referral.json');
    const referralId = acknowledged(await processMessage(created, conversation()), created);
    const before = await storedReferral(aws, referralId);
    const later = new Date(Date.now() - 1000).toISOString();

    // A GP system of A81002, which never saw the referral's conversation, names A81001's referral.
    const other: Caller = { subject: 'gp-system-a81002', role: 'gp-system', organisations: ['A81002'] };
    const theirs = await processMessage(
      example(file, { serviceRequestId: referralId, senderOds: 'A81002', timestamp: later }),
      conversation(),
      other,
    );
    const unknownId = randomUUID();
    const none = await processMessage(
      example(file, { serviceRequestId: unknownId, senderOds: 'A81002', timestamp: later }),
      conversation(),
      other,
    );

    refused(theirs, 404, 'not-found');
    refused(none, 404, 'not-found');
    expect(theirs.body.replaceAll(referralId, '<id>')).toBe(none.body.replaceAll(unknownId, '<id>'));
    expect(theirs.headers?.['Content-Type']).toBe(none.headers?.['Content-Type']);
    expect(await storedReferral(aws, referralId)).toEqual(before);
  });
});

// ---- 6.12 -----------------------------------------------------------------------------------------------------------

describe('keys are scoped by route and caller', () => {
  it('the same value as Idempotency-Key and as X-Request-ID makes two independent referrals, both accepted', async () => {
    const value = randomUUID();
    const json = await postJson(sampleReferral(), { 'Idempotency-Key': value });
    expect(json.statusCode, json.body).toBe(202);
    const jsonId = (JSON.parse(json.body) as { referralId: string }).referralId;

    const request = example('new-referral.json');
    const barsId = acknowledged(
      await processMessage(request, { 'X-Request-ID': value, 'X-Correlation-ID': randomUUID() }),
      request,
    );
    expect(barsId).not.toBe(jsonId);
    expect((await storedReferral(aws, jsonId))?.source).toEqual({ channel: 'json', idempotencyKey: value });
    expect((await storedReferral(aws, barsId))?.source).toMatchObject({ channel: 'fhir', requestId: value });
  });

  it('the same Idempotency-Key from two GP systems of one practice is two keys, not a conflict', async () => {
    const headers = { 'Idempotency-Key': `shared-${randomUUID()}` };
    const other: Caller = { subject: 'another-gp-system', role: 'gp-system', organisations: ['A81001'] };
    const first = await postJson(sampleReferral(), headers);
    const second = await postJson({ ...sampleReferral(), needs: ['nature'] }, headers, other);
    expect(first.statusCode, first.body).toBe(202);
    expect(second.statusCode, second.body).toBe(202);
    const ids = [first, second].map((r) => (JSON.parse(r.body) as { referralId: string }).referralId);
    expect(ids[0]).not.toBe(ids[1]);
    expect((await storedReferral(aws, ids[1] ?? ''))?.needs).toEqual(['nature']);
  });
});

// ---- 6.13 -----------------------------------------------------------------------------------------------------------

describe('Location of an accepted referral', () => {
  it('is /referrals/<id> for POST /referrals/ (trailing slash)', async () => {
    const response = await intake(apiEvent('POST', '/referrals/', sampleReferral()), contextFor('intake'));
    expect(response.statusCode, response.body).toBe(202);
    const { referralId } = JSON.parse(response.body) as { referralId: string };
    expect(response.headers?.Location).toBe(`/referrals/${referralId}`);
  });

  it('keeps the stage prefix API Gateway puts in requestContext.path (/prod/referrals/ -> /prod/referrals/<id>)', async () => {
    const event = apiEvent('POST', '/referrals/', sampleReferral());
    event.requestContext.path = `/prod${event.path}`;
    const response = await intake(event, contextFor('intake'));
    expect(response.statusCode, response.body).toBe(202);
    const { referralId } = JSON.parse(response.body) as { referralId: string };
    expect(response.headers?.Location).toBe(`/prod/referrals/${referralId}`);
  });
});
