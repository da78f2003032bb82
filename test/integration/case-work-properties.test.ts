import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { APIGatewayProxyResult } from 'aws-lambda';
import type { Caller } from '#auth/caller.ts';
import { offerIdFor } from '#referral/domain/offer.ts';
import {
  apiEvent,
  contextFor,
  expectWellFormed,
  receiveAll,
  sampleReferral,
  sqsEvent,
  startHandlerRig,
  type ApiHandler,
  type HandlerRig,
} from '../support/local.ts';

// Property-based: whatever a link worker or a partner sends to the case-work routes (any JSON, prototype-pollution
// keys, huge strings, deep nesting, wrong types, any id, any query), the answer is never a 5xx and every refusal is a
// well-formed OperationOutcome; the referral and its offer are still served and still act afterwards. The real
// case-work handler against real local DynamoDB and SQS, with a referral routed to a team and its partners.

let rig: HandlerRig;
let caseWork: ApiHandler;
let referralId = '';
let offerId = '';

const linkWorker: Caller = { subject: 'prop-lw', role: 'link-worker', organisations: ['lw-woodhouse'] };
const partner: Caller = { subject: 'prop-partner', role: 'partner', organisations: ['arts-for-all'] };

beforeAll(async () => {
  rig = await startHandlerRig();
  await rig.aws.seedGeography();
  caseWork = ((await import('../../functions/case-work/handler.ts')) as { handler: ApiHandler }).handler;
  const submitted = await rig.intake(
    apiEvent('POST', '/referrals', sampleReferral('leeds-arts-and-mental-health')),
    contextFor('intake'),
  );
  referralId = (JSON.parse(submitted.body) as { referralId: string }).referralId;
  const queued = await receiveAll(rig.aws, rig.aws.queues.referrals.url);
  await rig.router(sqsEvent('referrals', queued), contextFor('router'));
  offerId = offerIdFor(referralId, 'arts', 'svc-arts-studio');
});
afterAll(() => rig?.stop());

function call(
  caller: Caller,
  method: 'GET' | 'POST',
  path: string,
  body = '',
  headers: Record<string, string> = {},
): Promise<APIGatewayProxyResult> {
  return caseWork(apiEvent(method, path, body, headers, caller), contextFor('caseWork'));
}

const hostileKey = fc.constantFrom(
  '__proto__',
  'constructor',
  'prototype',
  'version',
  'state',
  'reason',
  'text',
);
const hostileValue = fc.oneof(
  fc.jsonValue(),
  fc.string({ maxLength: 20_000 }),
  fc.constantFrom(
    1,
    -1,
    0,
    1.5,
    2 ** 53,
    '1',
    null,
    true,
    'offered',
    'accepted',
    'other',
    '\u0000',
    '\ud800',
  ),
  fc.integer({ min: 1, max: 60 }).map((depth) => {
    let value: unknown = 1;
    for (let i = 0; i < depth; i++) value = { version: value };
    return value;
  }),
);
const body = fc.oneof(
  fc.dictionary(hostileKey, hostileValue).map((o) => JSON.stringify(o)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
);
const action = fc.constantFrom('accept', 'decline', 'contact', 'start', 'close');

describe('case-work routes under hostile input', () => {
  it('any body to any action, on the team referral and the partner offer: never 5xx, every refusal an OperationOutcome', async () => {
    await fc.assert(
      fc.asyncProperty(action, body, fc.boolean(), async (step, text, asPartner) => {
        const response = asPartner
          ? await call(partner, 'POST', `/partner/offers/${offerId}/${step}`, text)
          : await call(linkWorker, 'POST', `/team/referrals/${referralId}/${step}`, text);
        expectWellFormed(response);
      }),
      { numRuns: 150 },
    );
  });

  it('any id, any query, any media type: never 5xx, every refusal an OperationOutcome', async () => {
    const id = fc.oneof(fc.string({ maxLength: 400 }), fc.uuid(), fc.constant(`${offerId}x`));
    const query = fc.dictionary(
      fc.constantFrom('status', 'limit', 'cursor', 'x'),
      fc.string({ maxLength: 1200 }),
    );
    await fc.assert(
      fc.asyncProperty(id, query, fc.string({ maxLength: 60 }), async (raw, params, contentType) => {
        // `.` and `..` would be resolved away by the URL (another route): the gateway never sees them as ids.
        const path = encodeURIComponent(raw).replace(/^\.{0,2}$/, 'x');
        const search = new URLSearchParams(params).toString();
        for (const response of [
          await call(linkWorker, 'GET', `/team/referrals/${path}`),
          await call(partner, 'GET', `/partner/offers/${path}`),
          await call(linkWorker, 'GET', `/team/referrals?${search}`),
          await call(partner, 'GET', `/partner/offers?${search}`),
          await call(partner, 'POST', `/partner/offers/${offerId}/accept`, '{"version":1}', {
            'Content-Type': contentType,
          }),
        ])
          expectWellFormed(response);
      }),
      { numRuns: 60 },
    );
  });

  it('afterwards the referral and its offer are still served, and still act', async () => {
    const team = await call(linkWorker, 'GET', `/team/referrals/${referralId}`);
    expect(team.statusCode, team.body).toBe(200);
    const offer = await call(partner, 'GET', `/partner/offers/${offerId}`);
    expect(offer.statusCode, offer.body).toBe(200);
    const { state, version } = JSON.parse(offer.body) as { state: string; version: number };
    if (state === 'offered') {
      const accepted = await call(
        partner,
        'POST',
        `/partner/offers/${offerId}/accept`,
        JSON.stringify({ version }),
      );
      expect(accepted.statusCode, accepted.body).toBe(200);
    }
  });
});
