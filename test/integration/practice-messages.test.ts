import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalAws } from '../../infra/local/local-aws.ts';
import { readDirectory, sampleDirectoryFile } from '../../infra/local/seed.ts';
import type { ReceivedDelivery, WebhookReceiver } from '../../infra/local/webhook-receiver.ts';
import type { Caller } from '#auth/caller.ts';
import {
  apiEvent,
  auditOf,
  contextFor,
  gpSystem,
  receiveAll,
  sampleReferral,
  sqsEvent,
  storedReferral,
  startHandlerRig,
  type ApiHandler,
  type HandlerRig,
  type SqsHandler,
} from '../support/local.ts';

// The GP hears back (issue 9.5), on the local stack: referrals in both forms (a BaRS message, the plain JSON route)
// routed by the router, worked by the link worker through the real case-work handler, and the notifier sending the
// messages back to the practice's endpoint, the local receiver's practice path (A81001), which verifies each
// signature with the practice's secret. Verified here again with the `standardwebhooks` library.

let aws: LocalAws;
let receiver: WebhookReceiver;
let intake: ApiHandler;
let router: SqsHandler;
let notifier: SqsHandler;
let caseWork: ApiHandler;
let rig: HandlerRig;

beforeAll(async () => {
  rig = await startHandlerRig();
  ({ aws, receiver, intake, router, notifier } = rig);
  await aws.seedGeography();
  caseWork = ((await import('../../functions/case-work/handler.ts')) as { handler: ApiHandler }).handler;
});
afterAll(() => rig?.stop());

type Json = Record<string, unknown>;
const practicePath = '/hooks/practice/A81001';
const practiceSecret = (() => {
  const secret = readDirectory(sampleDirectoryFile, 'http://127.0.0.1').secrets?.['practice/A81001'];
  if (!secret) throw new Error('the sample directory has no secret for practice A81001');
  return secret;
})();
const closureText = 'Goals met; joined the Thursday group.';

const linkWorker: Caller = {
  subject: 'it-link-worker',
  role: 'link-worker',
  organisations: ['lw-woodhouse'],
};

async function act(referralId: string, action: string, body: Json): Promise<void> {
  const response: APIGatewayProxyResult = await caseWork(
    apiEvent('POST', `/team/referrals/${referralId}/${action}`, body, {}, linkWorker),
    contextFor('caseWork'),
  );
  expect(response.statusCode, response.body).toBe(200);
}

async function routeQueued(): Promise<void> {
  const messages = await receiveAll(aws, aws.queues.referrals.url);
  expect((await router(sqsEvent('referrals', messages), contextFor('router'))).batchItemFailures).toEqual([]);
}

/** Everything on the notifications queue through the notifier; none may fail. */
async function deliverQueued(): Promise<void> {
  const messages = await receiveAll(aws, aws.queues.notifications.url);
  const { batchItemFailures } = await notifier(sqsEvent('notifications', messages), contextFor('notifier'));
  expect(batchItemFailures).toEqual([]);
}

async function submitBars(file: string): Promise<{ referralId: string; headerId: string }> {
  const bundle = JSON.parse(
    readFileSync(new URL(`../../events/fhir/${file}`, import.meta.url), 'utf8'),
  ) as Json;
  const headers = { 'X-Request-ID': randomUUID(), 'X-Correlation-ID': randomUUID() };
  const response = await intake(
    apiEvent('POST', '/$process-message', bundle, headers, gpSystem),
    contextFor('intake'),
  );
  expect(response.statusCode, response.body).toBe(200);
  const ack = JSON.parse(response.body) as { entry: Array<{ resource: Json }> };
  const referralId = String(
    ack.entry.find((e) => e.resource['resourceType'] === 'ServiceRequest')?.resource['id'],
  );
  const first = (bundle['entry'] as Array<{ fullUrl: string }>)[0];
  await routeQueued();
  await deliverQueued();
  return { referralId, headerId: (first?.fullUrl ?? '').replace('urn:uuid:', '') };
}

const resource = (message: Json, type: string): Json =>
  ((message['entry'] as Array<{ resource: Json }>).find((e) => e.resource['resourceType'] === type)
    ?.resource ?? {}) as Json;
const taskCodes = (message: Json): unknown[] =>
  ((resource(message, 'Task')['businessStatus'] as { coding: Json[] }).coding ?? []).map((c) => c['code']);

/** The message Bundle a delivery carried: the `data` of the signed webhook envelope (`{ type, timestamp, data }`). */
const bundleOf = (r: ReceivedDelivery | undefined): Json =>
  (r?.payload as { data?: Json } | undefined)?.data ?? {};

/** The messages the practice received about one referral, by their webhook-id (`practice.<referralId>.<event>`). */
const messagesAbout = (referralId: string): ReceivedDelivery[] =>
  receiver.received.filter(
    (r) => r.path === practicePath && r.webhookId.startsWith(`practice.${referralId}.`),
  );
const responseOf = (r: ReceivedDelivery | undefined): unknown =>
  resource(bundleOf(r), 'MessageHeader')['response'];

/** The Task's event code (our code system) of a received message: which event it reports. */
const eventOf = (r: ReceivedDelivery): unknown => taskCodes(bundleOf(r)).at(-1);

describe('the GP hears back', () => {
  let bars = { referralId: '', headerId: '' };

  beforeAll(async () => {
    bars = await submitBars('new-referral.json');
    await act(bars.referralId, 'accept', { version: 1 });
    await deliverQueued();
    await act(bars.referralId, 'contact', { version: 1, outcome: 'made', channel: 'phone' });
    await deliverQueued();
    await act(bars.referralId, 'start', { version: 1 });
    await deliverQueued();
    await act(bars.referralId, 'close', { version: 1, reason: 'completed', text: closureText });
    await deliverQueued();
  });

  it('receives accepted, first contact, intervention started and closed, each signed and answering the request', async () => {
    const received = messagesAbout(bars.referralId);
    expect(received.map(eventOf)).toEqual(['accepted', 'seen', 'intervention-started', 'closed']);
    for (const message of received) {
      expect(message.verified).toBe(true);
      expect(message.duplicate).toBe(false);
      // Verified again here, independently of the receiver, with the practice's own secret.
      expect(new Webhook(practiceSecret).verify(message.raw.body, message.raw.headers)).toEqual(
        message.payload,
      );
      expect(message.webhookId).toBe(`practice.${bars.referralId}.${String(eventOf(message))}`);
      const header = resource(bundleOf(message), 'MessageHeader');
      expect(header['response']).toEqual({ identifier: bars.headerId, code: 'ok' });
      // BaRS: responses go back to the sender's source endpoint; they name where to answer us.
      expect(header['destination']).toMatchObject([{ endpoint: 'https://gp.example.org/bars/A81001' }]);
      expect(header['source']).toMatchObject({ endpoint: expect.stringMatching(/\/\$process-message$/) });
    }
    const [accepted, seen, started, closed] = received.map(bundleOf);
    expect(taskCodes(accepted ?? {})).toEqual(['871731000000106', 'accepted']);
    expect(taskCodes(seen ?? {})).toEqual(['1362931000000106', 'seen']);
    expect(taskCodes(started ?? {})).toEqual(['intervention-started']);
    expect(taskCodes(closed ?? {})).toEqual(['1362721000000106', 'closed']);
    // Full sharing back: the link worker's closure note reaches the GP.
    expect(resource(closed ?? {}, 'Task')['note']).toEqual([{ text: closureText }]);
  });

  it('records each as delivered on the referral and audits it; a repeated action sends nothing twice', async () => {
    const stored = await storedReferral(aws, bars.referralId);
    expect(Object.entries(stored?.practiceMessages ?? {}).map(([event, s]) => [event, s.status])).toEqual(
      expect.arrayContaining([
        ['accepted', 'delivered'],
        ['seen', 'delivered'],
        ['intervention-started', 'delivered'],
        ['closed', 'delivered'],
      ]),
    );
    const sent = (await auditOf(aws, bars.referralId)).filter(
      (a) => a.action === 'referral.practice-message-sent',
    );
    expect(sent).toHaveLength(4);
    expect(JSON.stringify(sent)).not.toContain('9995260182');

    const before = receiver.attempts.filter((a) => a.path === practicePath).length;
    await act(bars.referralId, 'close', { version: 1, reason: 'completed', text: closureText });
    await deliverQueued();
    expect(receiver.attempts.filter((a) => a.path === practicePath)).toHaveLength(before);
  });

  it('a JSON referral declined by the patient: the practice is told, with the declined code', async () => {
    const response = await intake(
      apiEvent('POST', '/referrals', sampleReferral('leeds-arts-and-mental-health')),
      contextFor('intake'),
    );
    expect(response.statusCode, response.body).toBe(202);
    const { referralId } = JSON.parse(response.body) as { referralId: string };
    await routeQueued();
    await deliverQueued();
    await act(referralId, 'accept', { version: 1 });
    await act(referralId, 'decline', { version: 1, reason: 'declined-by-patient' });
    await deliverQueued();
    const received = messagesAbout(referralId);
    expect(received.map(eventOf)).toEqual(['accepted', 'declined']);
    // A JSON referral's request is its referral id.
    expect(responseOf(received[1])).toEqual({ identifier: referralId, code: 'ok' });
    expect(taskCodes(bundleOf(received[1]))).toEqual(['871711000000103', 'declined']);
  });

  it("the practice's system answers 503 then 2xx: retried with the same webhook-id, one delivery; 410: failed, not retried", async () => {
    const response = await intake(
      apiEvent('POST', '/referrals', sampleReferral('leeds-arts-and-mental-health')),
      contextFor('intake'),
    );
    const { referralId } = JSON.parse(response.body) as { referralId: string };
    await routeQueued();
    await deliverQueued();

    receiver.answerNext(practicePath, [{ status: 503 }]);
    await act(referralId, 'accept', { version: 1 });
    const [notice, ...others] = await receiveAll(aws, aws.queues.notifications.url);
    expect(others).toEqual([]);
    if (!notice) throw new Error('no practice notice was queued');
    const first = await notifier(sqsEvent('notifications', [notice]), contextFor('notifier'));
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: notice.MessageId }]);
    expect((await storedReferral(aws, referralId))?.practiceMessages).toBeUndefined();
    // SQS hands the held-back message out again (its second receipt); here, the same message straight away.
    const again = { ...notice, Attributes: { ...notice.Attributes, ApproximateReceiveCount: '2' } };
    expect(
      (await notifier(sqsEvent('notifications', [again]), contextFor('notifier'))).batchItemFailures,
    ).toEqual([]);
    const tries = receiver.attempts.filter((a) => a.webhookId === `practice.${referralId}.accepted`);
    expect(tries.map((a) => a.status)).toEqual([503, 204]);
    expect(messagesAbout(referralId)).toHaveLength(1);
    expect((await storedReferral(aws, referralId))?.practiceMessages?.['accepted']).toMatchObject({
      status: 'delivered',
      responseStatus: 204,
    });

    receiver.answerNext(practicePath, [{ status: 410 }]);
    await act(referralId, 'contact', { version: 1, outcome: 'made', channel: 'phone' });
    await deliverQueued();
    expect((await storedReferral(aws, referralId))?.practiceMessages?.['seen']).toMatchObject({
      status: 'failed',
      reason: 'HTTP 410',
    });
    expect((await auditOf(aws, referralId)).map((a) => a.action)).toContain(
      'referral.practice-message-failed',
    );
    // Asked again (a repeated action), the refused message is not sent again.
    await act(referralId, 'contact', { version: 1, outcome: 'made', channel: 'phone' });
    await deliverQueued();
    expect(receiver.attempts.filter((a) => a.webhookId === `practice.${referralId}.seen`)).toHaveLength(1);
  });

  it('the patient objected to full sharing back: codes only, no free text, no name or address', async () => {
    const objecting = await submitBars('new-referral-codes-only.json');
    expect((await storedReferral(aws, objecting.referralId))?.sharingBack).toBe('codes-only');
    await act(objecting.referralId, 'accept', { version: 1 });
    await act(objecting.referralId, 'close', { version: 1, reason: 'completed', text: closureText });
    await deliverQueued();
    const received = messagesAbout(objecting.referralId);
    expect(responseOf(received[0])).toEqual({ identifier: objecting.headerId, code: 'ok' });
    expect(received.map(eventOf)).toEqual(['accepted', 'closed']);
    const closed = bundleOf(received[1]);
    expect(taskCodes(closed)).toEqual(['1362721000000106', 'closed']);
    expect(resource(closed, 'Task')['note']).toBeUndefined();
    const text = received.map((r) => r.raw.body).join('\n');
    expect(text).not.toContain('Goals met');
    // The patient is named to their own GP by NHS number only (the subject): no name, address or free text.
    for (const detail of ['Testpatient', 'Alex', 'LS6 1AA']) expect(text).not.toContain(detail);
    expect(resource(closed, 'Task')['for']).toEqual({
      identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9995260182' },
    });
  });
});
