import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalAws } from '../../infra/local/local-aws.ts';
import type { WebhookReceiver } from '../../infra/local/webhook-receiver.ts';
import type { Caller } from '#auth/caller.ts';
import {
  apiEvent,
  auditOf,
  contextFor,
  gpSystem,
  receiveAll,
  sqsEvent,
  storedReferral,
  type ApiHandler,
  type SqsHandler,
  startHandlerRig,
  type HandlerRig,
} from '../support/local.ts';

// POST /$process-message (BaRS-shaped FHIR) through the real intake handler, against real local DynamoDB and SQS;
// the router and notifier driven by hand with what is really on the queues, and a real webhook receiver.

let aws: LocalAws;
let receiver: WebhookReceiver;
let intake: ApiHandler;
let router: SqsHandler;
let notifier: SqsHandler;

let rig: HandlerRig;

beforeAll(async () => {
  rig = await startHandlerRig();
  ({ aws, receiver, intake, router, notifier } = rig);
});
afterAll(() => rig?.stop());

// ---- Helpers ------------------------------------------------------------------------------------------------------

type Json = Record<string, unknown>;

/** The id the update/cancel examples carry for "the referral this service assigned". */
const exampleServiceRequestId = '7d9f3b2a-1111-4c3d-8e5f-000000000001';

const exampleText = (name: string): string =>
  readFileSync(new URL(`../../events/fhir/${name}`, import.meta.url), 'utf8');

/** An example Bundle, optionally retargeted at an assigned referral id and given a Bundle.timestamp. */
function example(name: string, options: { serviceRequestId?: string; timestamp?: string } = {}): Json {
  const text = options.serviceRequestId
    ? exampleText(name).replaceAll(exampleServiceRequestId, options.serviceRequestId)
    : exampleText(name);
  const bundle = JSON.parse(text) as Json;
  if (options.timestamp !== undefined) bundle['timestamp'] = options.timestamp;
  return bundle;
}

/** Clock-independent message times: `n` seconds after the start of the run. */
const runStart = Date.now();
const at = (n: number): string => new Date(runStart + n * 1000).toISOString();

interface Conversation {
  requestId: string;
  correlationId: string;
}
const newConversation = (): Conversation => ({ requestId: randomUUID(), correlationId: randomUUID() });

const barsHeaders = ({ requestId, correlationId }: Conversation): Record<string, string> => ({
  'X-Request-ID': requestId,
  'X-Correlation-ID': correlationId,
});

function processMessage(
  body: unknown,
  headers: Record<string, string>,
  caller: Caller | null = gpSystem,
): Promise<APIGatewayProxyResult> {
  return intake(apiEvent('POST', '/$process-message', body, headers, caller), contextFor('intake'));
}

interface Outcome {
  resourceType: string;
  issue: Array<{
    severity: string;
    code: string;
    diagnostics: string;
    expression?: string[];
    details: { coding: Array<{ system: string; code: string }> };
  }>;
}

function outcomeOf(response: APIGatewayProxyResult): Outcome {
  const outcome = JSON.parse(response.body) as Outcome;
  expect(outcome.resourceType, response.body).toBe('OperationOutcome');
  return outcome;
}

/** Asserts an error answer: status, BaRS code and issue code of its (only) issue; returns the issue. */
function expectError(
  response: APIGatewayProxyResult,
  statusCode: number,
  barsCode: string,
  issueCode?: string,
): Outcome['issue'][number] {
  expect(response.statusCode, response.body).toBe(statusCode);
  const outcome = outcomeOf(response);
  expect(outcome.issue, response.body).toHaveLength(1);
  const [issue] = outcome.issue;
  expect(issue?.details.coding[0]?.code).toBe(barsCode);
  if (issueCode !== undefined) expect(issue?.code, response.body).toBe(issueCode);
  if (!issue) throw new Error('no issue');
  return issue;
}

function entriesOf(bundle: Json): Array<{ fullUrl?: string; resource: Json }> {
  return bundle['entry'] as Array<{ fullUrl?: string; resource: Json }>;
}

function serviceRequestOf(bundle: Json): { fullUrl?: string; resource: Json } {
  const entry = entriesOf(bundle).find((e) => e.resource['resourceType'] === 'ServiceRequest');
  if (!entry) throw new Error('the Bundle has no ServiceRequest');
  return entry;
}

/** Asserts a 200 acknowledgement (headers mirrored, the processed Bundle); returns the assigned ServiceRequest id. */
function expectAcknowledged(
  response: APIGatewayProxyResult,
  conversation: Conversation,
  request: Json,
  status: 'active' | 'revoked' | 'entered-in-error',
): string {
  expect(response.statusCode, response.body).toBe(200);
  expect(String(response.headers?.['Content-Type'])).toMatch(/^application\/fhir\+json/);
  expect(response.headers?.['X-Request-ID']).toBe(conversation.requestId);
  expect(response.headers?.['X-Correlation-ID']).toBe(conversation.correlationId);

  const bundle = JSON.parse(response.body) as Json;
  expect(bundle['resourceType']).toBe('Bundle');
  expect(bundle['type']).toBe('message');
  expect(bundle['id']).toBe(request['id']);
  const entry = serviceRequestOf(bundle);
  const id = entry.resource['id'];
  expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  expect(entry.resource['status']).toBe(status);
  expect(entry.fullUrl).toBe(`urn:uuid:${String(id)}`);
  // The MessageHeader's focus still resolves: it was repointed at the assigned id.
  const header = entriesOf(bundle)[0]?.resource;
  expect(header?.['resourceType']).toBe('MessageHeader');
  expect((header?.['focus'] as Array<{ reference: string }>)[0]?.reference).toBe(`urn:uuid:${String(id)}`);
  return String(id);
}

async function referralCount(): Promise<number> {
  let count = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await aws.documentClient.send(
      new ScanCommand({
        TableName: aws.tables.referrals,
        Select: 'COUNT',
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    count += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start);
  return count;
}

const bodyOf = <T = Json>(message: { Body?: string }): T => JSON.parse(message.Body ?? '{}') as T;

interface NoticeBody {
  referralId: string;
  deliveryId: string;
  kind?: string;
  version?: number;
}

/** Webhooks the receiver verified for a referral, optionally of one event type. */
function webhooksFor(referralId: string, type?: string) {
  return receiver.received.filter((r) => {
    const payload = r.payload as { type?: string; data?: { referralId?: string } };
    return payload.data?.referralId === referralId && (type === undefined || payload.type === type);
  });
}

/** Creates a referral from new-referral.json; returns its id (and leaves the routing message on the queue). */
async function create(conversation: Conversation, timestamp = at(0)): Promise<string> {
  const request = example('new-referral.json', { timestamp });
  const response = await processMessage(request, barsHeaders(conversation));
  return expectAcknowledged(response, conversation, request, 'active');
}

/** Routes everything on the referrals queue; returns the routing messages it handled. */
async function routeQueued(): Promise<Array<{ referralId: string }>> {
  const messages = await receiveAll(aws, aws.queues.referrals.url);
  const result = await router(sqsEvent('referrals', messages), contextFor('router'));
  expect(result.batchItemFailures).toEqual([]);
  return messages.map((m) => bodyOf<{ referralId: string }>(m));
}

/** Delivers everything on the notifications queue; returns the notices it handled. */
async function deliverQueued(): Promise<NoticeBody[]> {
  const messages = await receiveAll(aws, aws.queues.notifications.url);
  if (messages.length > 0) {
    const result = await notifier(sqsEvent('notifications', messages), contextFor('notifier'));
    expect(result.batchItemFailures).toEqual([]);
  }
  return messages.map((m) => bodyOf<NoticeBody>(m));
}

async function expectQueuesEmpty(): Promise<void> {
  expect(await receiveAll(aws, aws.queues.referrals.url, 0)).toHaveLength(0);
  expect(await receiveAll(aws, aws.queues.notifications.url, 0)).toHaveLength(0);
}

// ---- 1. Valid new referrals ---------------------------------------------------------------------------------------

describe('POST /$process-message: new referrals', () => {
  it.each([
    [
      'new-referral.json',
      {
        nhsNumber: '9995260182',
        messageHeaderId: '0a1b2c3d-0000-4000-8000-000000000001', // its entry's uuid (no MessageHeader.id)
        needs: ['arts', 'mental-health'],
        flags: {
          safeguarding: true,
          reasonableAdjustments: ['Hard of hearing: prefers text messages, or a face-to-face meeting'],
        },
        respondBy: '2030-06-28T17:00:00+01:00',
      },
    ],
    [
      'new-referral-variants.json',
      {
        nhsNumber: '9990000018',
        messageHeaderId: '0a1b2c3d-0000-4000-8000-0000000000aa', // MessageHeader.id
        needs: ['physical-activity', 'befriending'],
        flags: { safeguarding: false, reasonableAdjustments: [] },
        respondBy: '2030-06-28T17:00:00+01:00',
      },
    ],
  ])('%s: 200 with the processed Bundle; stored once and queued once', async (file, expected) => {
    const conversation = newConversation();
    const request = example(file);
    const before = await referralCount();

    const response = await processMessage(request, barsHeaders(conversation));
    const referralId = expectAcknowledged(response, conversation, request, 'active');

    const stored = await storedReferral(aws, referralId);
    expect(stored?.status).toBe('received');
    expect(stored?.practiceOds).toBe('A81001');
    expect(stored?.version).toBe(1);
    expect(stored?.source).toEqual({
      channel: 'fhir',
      requestId: conversation.requestId,
      correlationId: conversation.correlationId,
      senderEndpoint: 'https://gp.example.org/bars/A81001',
      messageHeaderId: expected.messageHeaderId,
    });
    expect(stored?.patient.nhsNumber).toBe(expected.nhsNumber);
    expect(stored?.needs).toEqual(expected.needs);
    expect(stored?.flags).toEqual(expected.flags);
    expect(stored?.respondBy).toBe(expected.respondBy);
    expect(stored?.lastMessageAt).toBe(new Date(String(request['timestamp'])).toISOString());
    expect(await referralCount()).toBe(before + 1);

    const queued = await receiveAll(aws, aws.queues.referrals.url);
    expect(queued.map((m) => bodyOf(m))).toEqual([{ referralId }]);
  });

  it("new-referral-codes-only.json: the patient's objection to full sharing back is stored (codes only)", async () => {
    const conversation = newConversation();
    const request = example('new-referral-codes-only.json');
    const response = await processMessage(request, barsHeaders(conversation));
    const referralId = expectAcknowledged(response, conversation, request, 'active');
    const stored = await storedReferral(aws, referralId);
    expect(stored?.sharingBack).toBe('codes-only');
    expect(stored?.consent).toEqual([{ recipient: 'any-vcse', granted: true }]);
    await receiveAll(aws, aws.queues.referrals.url);
  });
});

// ---- 2. Invalid examples ------------------------------------------------------------------------------------------

describe('POST /$process-message: invalid examples (events/fhir/README.md)', () => {
  it.each([
    [
      'invalid/bad-nhs-number.json',
      400,
      'REC_BAD_REQUEST',
      'value',
      'Bundle.entry[2].resource.identifier[0].value',
    ],
    [
      'invalid/unverified-nhs-number.json',
      400,
      'REC_BAD_REQUEST',
      'value',
      'Bundle.entry[2].resource.identifier[0].extension[0]',
    ],
    [
      'invalid/unknown-snomed.json',
      400,
      'REC_BAD_REQUEST',
      'value',
      'Bundle.entry[1].resource.code.coding[0].code',
    ],
    [
      'invalid/unresolved-reference.json',
      400,
      'REC_BAD_REQUEST',
      'invalid',
      'Bundle.entry[1].resource.subject.reference',
    ],
    ['invalid/missing-patient.json', 400, 'REC_BAD_REQUEST', 'required', 'Bundle.entry'],
    [
      'invalid/deadline-in-past.json',
      400,
      'REC_BAD_REQUEST',
      'value',
      'Bundle.entry[1].resource.occurrencePeriod.end',
    ],
    [
      'invalid/wrong-event.json',
      422,
      'REC_UNPROCESSABLE_ENTITY',
      'value',
      'Bundle.entry[0].resource.eventCoding.code',
    ],
    [
      'invalid/wrong-use-case.json',
      422,
      'REC_UNPROCESSABLE_ENTITY',
      'value',
      'Bundle.entry[1].resource.category',
    ],
    [
      'invalid/consent-without-scope.json',
      400,
      'REC_BAD_REQUEST',
      'required',
      'Bundle.entry[9].resource.scope',
    ],
  ])(
    '%s: %i %s (%s at the offending element); nothing stored or queued',
    async (file, status, code, issueCode, expression) => {
      const before = await referralCount();
      const response = await processMessage(example(file), barsHeaders(newConversation()));
      const issue = expectError(response, status, code, issueCode);
      expect(issue.expression).toEqual([expression]);
      expect(await referralCount()).toBe(before);
      await expectQueuesEmpty();
    },
  );
});

// ---- 3. Headers ---------------------------------------------------------------------------------------------------

describe('POST /$process-message: BaRS headers', () => {
  it('refuses a message without X-Request-ID (400 REC_BAD_REQUEST at X-Request-ID)', async () => {
    const before = await referralCount();
    const response = await processMessage(example('new-referral.json'), {
      'X-Correlation-ID': randomUUID(),
    });
    const issue = expectError(response, 400, 'REC_BAD_REQUEST', 'required');
    expect(issue.expression).toEqual(['X-Request-ID']);
    expect(await referralCount()).toBe(before);
    await expectQueuesEmpty();
  });

  it('refuses a malformed X-Correlation-ID (400)', async () => {
    const before = await referralCount();
    const response = await processMessage(example('new-referral.json'), {
      'X-Request-ID': randomUUID(),
      'X-Correlation-ID': 'not-a-uuid',
    });
    const issue = expectError(response, 400, 'REC_BAD_REQUEST');
    expect(issue.expression).toEqual(['X-Correlation-ID']);
    expect(await referralCount()).toBe(before);
    await expectQueuesEmpty();
  });
});

// ---- 4. Idempotency -----------------------------------------------------------------------------------------------

describe('POST /$process-message: idempotency on X-Request-ID', () => {
  it('a replay is 409 duplicate, the same X-Request-ID with another body is 409 conflict; one referral, one message', async () => {
    const conversation = newConversation();
    const request = example('new-referral.json', { timestamp: at(0) });
    const before = await referralCount();

    const first = await processMessage(request, barsHeaders(conversation));
    const referralId = expectAcknowledged(first, conversation, request, 'active');

    const replay = await processMessage(structuredClone(request), barsHeaders(conversation));
    expectError(replay, 409, 'REC_CONFLICT', 'duplicate');

    const changed = example('new-referral.json', { timestamp: at(0) });
    (serviceRequestOf(changed).resource['note'] as Array<{ text: string }>)[0] = {
      text: 'A different reason, same X-Request-ID',
    };
    const conflict = await processMessage(changed, barsHeaders(conversation));
    expectError(conflict, 409, 'REC_CONFLICT', 'conflict');

    expect(await referralCount()).toBe(before + 1);
    expect((await storedReferral(aws, referralId))?.reasonForReferral).toBe(
      'Low mood since retirement; would like a creative group.',
    );
    const queued = await receiveAll(aws, aws.queues.referrals.url);
    expect(queued.map((m) => bodyOf(m))).toEqual([{ referralId }]);
  });

  it('20 identical requests in parallel make exactly one referral; every answer is 200 or 409', async () => {
    const conversation = newConversation();
    const request = example('new-referral.json', { timestamp: at(0) });
    const before = await referralCount();

    const responses = await Promise.all(
      Array.from({ length: 20 }, () => processMessage(structuredClone(request), barsHeaders(conversation))),
    );
    const statuses = responses.map((r) => r.statusCode);
    expect(
      statuses.every((s) => s === 200 || s === 409),
      statuses.join(','),
    ).toBe(true);
    const accepted = responses.filter((r) => r.statusCode === 200);
    expect(accepted).toHaveLength(1);
    // Each refusal is a replay of the processed one (`duplicate`) or one that met it still in progress
    // (`transient`, with Retry-After): never a `conflict`.
    for (const refused of responses.filter((r) => r.statusCode === 409)) {
      const issue = expectError(refused, 409, 'REC_CONFLICT');
      expect(['duplicate', 'transient']).toContain(issue.code);
      if (issue.code === 'transient') expect(refused.headers?.['Retry-After']).toBe('1');
    }
    const referralId = expectAcknowledged(
      accepted[0] as APIGatewayProxyResult,
      conversation,
      request,
      'active',
    );

    const queued = await receiveAll(aws, aws.queues.referrals.url);
    expect(queued.map((m) => bodyOf(m))).toEqual([{ referralId }]);
    expect(await referralCount()).toBe(before + 1);
  });
});

// ---- 5. Authorisation ---------------------------------------------------------------------------------------------

describe('POST /$process-message: authorisation', () => {
  it('refuses a GP system bound to another practice (403) and a call with no caller (401)', async () => {
    const before = await referralCount();
    const other: Caller = { subject: 'other-gp', role: 'gp-system', organisations: ['A81002'] };
    const forbidden = await processMessage(
      example('new-referral.json'),
      barsHeaders(newConversation()),
      other,
    );
    expectError(forbidden, 403, 'REC_FORBIDDEN');

    const anonymous = await processMessage(
      example('new-referral.json'),
      barsHeaders(newConversation()),
      null,
    );
    expectError(anonymous, 401, 'REC_UNAUTHORIZED');

    expect(await referralCount()).toBe(before);
    await expectQueuesEmpty();
  });
});

// ---- 6, 7. Update and cancel of a delivered referral --------------------------------------------------------------

describe('POST /$process-message: update and cancel after delivery', () => {
  const conversation = newConversation();
  let referralId = '';
  let deliveryIds: string[] = [];

  it('creates, routes and delivers the referral', async () => {
    referralId = await create(conversation, at(0));
    expect(await routeQueued()).toEqual([{ referralId }]);
    const assigned = await deliverQueued();
    deliveryIds = assigned.map((n) => n.deliveryId).sort();
    expect(deliveryIds).toEqual([
      `${referralId}.partner.arts-for-all`,
      `${referralId}.partner.mind-matters`,
      `${referralId}.team.lw-woodhouse`,
    ]);
    expect(webhooksFor(referralId, 'referral.assigned')).toHaveLength(3);
    const stored = await storedReferral(aws, referralId);
    expect(Object.values(stored?.deliveryStatus ?? {}).map((d) => d.status)).toEqual([
      'delivered',
      'delivered',
      'delivered',
    ]);
  });

  it('an update (new X-Request-ID, same X-Correlation-ID, later timestamp) is applied and told to every holder', async () => {
    const update = { requestId: randomUUID(), correlationId: conversation.correlationId };
    const request = example('update.json', { serviceRequestId: referralId, timestamp: at(1) });
    const response = await processMessage(request, barsHeaders(update));
    expect(expectAcknowledged(response, update, request, 'active')).toBe(referralId);

    const stored = await storedReferral(aws, referralId);
    expect(stored?.status).toBe('routed');
    expect(stored?.version).toBe(2);
    expect(stored?.needs).toEqual(['arts', 'mental-health', 'physical-activity']);
    expect(stored?.lastMessageAt).toBe(at(1));
    // The conversation is the original one: the request id of the first message stays on record.
    expect(stored?.source).toMatchObject({ channel: 'fhir', correlationId: conversation.correlationId });

    const notices = await receiveAll(aws, aws.queues.notifications.url);
    expect(
      notices.map((m) => bodyOf<NoticeBody>(m)).sort((a, b) => a.deliveryId.localeCompare(b.deliveryId)),
    ).toEqual(deliveryIds.map((deliveryId) => ({ referralId, deliveryId, kind: 'updated', version: 2 })));

    const result = await notifier(sqsEvent('notifications', notices), contextFor('notifier'));
    expect(result.batchItemFailures).toEqual([]);
    const updated = webhooksFor(referralId, 'referral.updated');
    expect(updated.map((r) => r.path).sort()).toEqual([
      '/hooks/partner/arts-for-all',
      '/hooks/partner/mind-matters',
      '/hooks/team/lw-woodhouse',
    ]);
    expect(updated.every((r) => r.verified && !r.duplicate)).toBe(true);
    expect(updated.map((r) => (r.payload as { data: { version: number } }).data.version)).toEqual([2, 2, 2]);
    const after = await storedReferral(aws, referralId);
    expect(Object.values(after?.deliveryStatus ?? {}).map((d) => d.updateNoticeVersion)).toEqual([2, 2, 2]);
  });

  it('the need the update added is routed too: a new partner gets the referral, earlier decisions stand', async () => {
    expect(await routeQueued()).toEqual([{ referralId, version: 2 }]);
    const stored = await storedReferral(aws, referralId);
    expect(stored?.routing?.matches.map((m) => [m.category, m.partnerId])).toEqual([
      ['arts', 'arts-for-all'],
      ['mental-health', 'mind-matters'],
      ['physical-activity', 'green-gym'],
    ]);
    const assigned = await deliverQueued();
    expect(assigned).toEqual([
      { referralId, deliveryId: `${referralId}.partner.green-gym`, kind: 'assigned' },
    ]);
    expect(webhooksFor(referralId, 'referral.assigned').map((r) => r.path)).toContain(
      '/hooks/partner/green-gym',
    );
    deliveryIds = [...deliveryIds, `${referralId}.partner.green-gym`].sort();
    expect((await auditOf(aws, referralId)).map((a) => a.action)).toContain('referral.rerouted');
  });

  it('an update older than the last one applied is 409 conflict and changes nothing', async () => {
    const stale = { requestId: randomUUID(), correlationId: conversation.correlationId };
    const request = example('update.json', { serviceRequestId: referralId, timestamp: at(0.5) });
    expectError(await processMessage(request, barsHeaders(stale)), 409, 'REC_CONFLICT', 'conflict');
    const stored = await storedReferral(aws, referralId);
    expect(stored?.version).toBe(2);
    expect(stored?.lastMessageAt).toBe(at(1));
    await expectQueuesEmpty();
  });

  it('another update with the same timestamp as the last one applied is 409, never acknowledged and dropped', async () => {
    // Senders often stamp whole seconds: a second update in the same second is another message, not a repeat.
    const sameSecond = { requestId: randomUUID(), correlationId: conversation.correlationId };
    const request = example('update.json', { serviceRequestId: referralId, timestamp: at(1) });
    const outcome = expectError(
      await processMessage(request, barsHeaders(sameSecond)),
      409,
      'REC_CONFLICT',
      'conflict',
    );
    expect(JSON.stringify(outcome)).toMatch(/another message with the same timestamp/);
    const stored = await storedReferral(aws, referralId);
    expect(stored?.version).toBe(2);
    await expectQueuesEmpty();
  });

  it('an update with another X-Correlation-ID is 409 and changes nothing', async () => {
    const request = example('update.json', { serviceRequestId: referralId, timestamp: at(2) });
    expectError(
      await processMessage(request, barsHeaders(newConversation())),
      409,
      'REC_CONFLICT',
      'conflict',
    );
    expect((await storedReferral(aws, referralId))?.version).toBe(2);
    await expectQueuesEmpty();
  });

  it('a cancellation is 200 revoked, and every recipient that had the referral is told to stop', async () => {
    const cancel = { requestId: randomUUID(), correlationId: conversation.correlationId };
    const request = example('cancel.json', { serviceRequestId: referralId, timestamp: at(3) });
    const response = await processMessage(request, barsHeaders(cancel));
    expect(expectAcknowledged(response, cancel, request, 'revoked')).toBe(referralId);

    const stored = await storedReferral(aws, referralId);
    expect(stored?.status).toBe('cancelled');
    expect(stored?.cancellation?.reason).toBe('revoked');

    const notices = await deliverQueued();
    expect(notices.map((n) => n.kind)).toEqual(['cancelled', 'cancelled', 'cancelled', 'cancelled']);
    const cancelled = webhooksFor(referralId, 'referral.cancelled');
    expect(cancelled.map((r) => r.path).sort()).toEqual([
      '/hooks/partner/arts-for-all',
      '/hooks/partner/green-gym',
      '/hooks/partner/mind-matters',
      '/hooks/team/lw-woodhouse',
    ]);
    expect(cancelled.every((r) => r.verified && !r.duplicate)).toBe(true);
  });

  it('a second cancellation is 409, and so is an update after cancellation', async () => {
    const again = { requestId: randomUUID(), correlationId: conversation.correlationId };
    const cancelAgain = example('cancel.json', { serviceRequestId: referralId, timestamp: at(4) });
    expectError(await processMessage(cancelAgain, barsHeaders(again)), 409, 'REC_CONFLICT', 'conflict');

    const late = { requestId: randomUUID(), correlationId: conversation.correlationId };
    const update = example('update.json', { serviceRequestId: referralId, timestamp: at(5) });
    expectError(await processMessage(update, barsHeaders(late)), 409, 'REC_CONFLICT', 'conflict');

    const stored = await storedReferral(aws, referralId);
    expect(stored?.status).toBe('cancelled');
    expect(stored?.version).toBe(2);
    await expectQueuesEmpty();
    // 3 assigned + 3 updated + 1 assigned for the added need + 4 cancelled, nothing more
    expect(webhooksFor(referralId)).toHaveLength(11);
  });
});

// ---- 8-10. Cancel before routing, entered-in-error, unknown id ----------------------------------------------------

describe('POST /$process-message: other lifecycle cases', () => {
  it('a referral cancelled before routing is never routed nor delivered', async () => {
    const conversation = newConversation();
    const referralId = await create(conversation, at(0));

    const cancel = { requestId: randomUUID(), correlationId: conversation.correlationId };
    const request = example('cancel.json', { serviceRequestId: referralId, timestamp: at(1) });
    expectAcknowledged(await processMessage(request, barsHeaders(cancel)), cancel, request, 'revoked');

    expect(await routeQueued()).toEqual([{ referralId }]);
    const stored = await storedReferral(aws, referralId);
    expect(stored?.status).toBe('cancelled');
    expect(stored?.routing).toBeUndefined();
    expect(await receiveAll(aws, aws.queues.notifications.url)).toHaveLength(0);
    expect(webhooksFor(referralId)).toHaveLength(0);
  });

  it('entered-in-error on an open referral is 200 with status entered-in-error', async () => {
    const conversation = newConversation();
    const referralId = await create(conversation, at(0));
    await receiveAll(aws, aws.queues.referrals.url);

    const cancel = { requestId: randomUUID(), correlationId: conversation.correlationId };
    const request = example('entered-in-error.json', { serviceRequestId: referralId, timestamp: at(1) });
    const response = await processMessage(request, barsHeaders(cancel));
    expect(expectAcknowledged(response, cancel, request, 'entered-in-error')).toBe(referralId);
    const stored = await storedReferral(aws, referralId);
    expect(stored?.status).toBe('cancelled');
    expect(stored?.cancellation?.reason).toBe('entered-in-error');
  });

  it('an update for a ServiceRequest id this service never assigned is 404 REC_NOT_FOUND', async () => {
    const before = await referralCount();
    const unknownId = randomUUID();
    const request = example('update.json', { serviceRequestId: unknownId, timestamp: at(1) });
    expectError(await processMessage(request, barsHeaders(newConversation())), 404, 'REC_NOT_FOUND');
    expect(await storedReferral(aws, unknownId)).toBeUndefined();
    expect(await referralCount()).toBe(before);
    await expectQueuesEmpty();
  });
});
