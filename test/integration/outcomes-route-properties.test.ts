import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { APIGatewayProxyResult } from 'aws-lambda';
import type { Caller } from '#auth/caller.ts';
import { ukDay } from '#outcomes/domain/measure-set.ts';
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

// Property-based: whatever a link worker sends to the outcome routes (any JSON, prototype-pollution keys, huge
// strings, deep nesting, out-of-range and wrong-typed answers, any id, headers), the answer is never a 5xx and every
// refusal is a well-formed OperationOutcome; a valid set is still recorded afterwards. The real outcomes handler
// against real local DynamoDB, with a referral routed to the team.

let rig: HandlerRig;
let outcomes: ApiHandler;
let referralId = '';

const linkWorker: Caller = { subject: 'prop-lw', role: 'link-worker', organisations: ['lw-woodhouse'] };

beforeAll(async () => {
  rig = await startHandlerRig();
  await rig.aws.seedGeography();
  outcomes = ((await import('../../functions/outcomes/handler.ts')) as { handler: ApiHandler }).handler;
  const submitted = await rig.intake(
    apiEvent('POST', '/referrals', sampleReferral('leeds-arts-and-mental-health')),
    contextFor('intake'),
  );
  referralId = (JSON.parse(submitted.body) as { referralId: string }).referralId;
  const queued = await receiveAll(rig.aws, rig.aws.queues.referrals.url);
  await rig.router(sqsEvent('referrals', queued), contextFor('router'));
});
afterAll(() => rig?.stop());

function call(
  method: 'GET' | 'POST',
  path: string,
  body = '',
  headers: Record<string, string> = {},
): Promise<APIGatewayProxyResult> {
  return outcomes(apiEvent(method, path, body, headers, linkWorker), contextFor('outcomes'));
}

const answer = fc.oneof(
  fc.integer({ min: -5, max: 15 }),
  fc.double(),
  fc.string({ maxLength: 5000 }),
  fc.jsonValue(),
  fc.constantFrom(null, true, '\u0000', '\ud800', 2 ** 53),
);
const instrument = fc.dictionary(
  fc.constantFrom(
    'lifeSatisfaction',
    'worthwhile',
    'happiness',
    'anxiety',
    'leftOut',
    'optimistic',
    '__proto__',
  ),
  answer,
);
const body = fc.oneof(
  fc
    .dictionary(
      fc.constantFrom(
        'id',
        'timepoint',
        'takenOn',
        'ons4',
        'ucla3',
        'lonelinessDirect',
        'swemwbs',
        '__proto__',
        'constructor',
      ),
      fc.oneof(
        instrument,
        answer,
        fc.constantFrom(
          'baseline',
          'follow-up',
          '2026-12-01',
          '1999-01-01',
          '2999-01-01',
          'never',
          'often-always',
        ),
      ),
    )
    .map((o) => JSON.stringify(o)),
  fc.integer({ min: 1, max: 80 }).map((depth) => '{"ons4":'.repeat(depth) + '1' + '}'.repeat(depth)),
  fc.string({ maxLength: 300 }),
);

describe('outcome routes under hostile input', () => {
  it('any body, id or Idempotency-Key: never 5xx, every refusal an OperationOutcome', async () => {
    await fc.assert(
      fc.asyncProperty(
        body,
        fc.oneof(fc.constant(''), fc.string({ maxLength: 400 })),
        fc.boolean(),
        async (text, key, otherId) => {
          const id = otherId ? '00000000-0000-4000-8000-000000000000' : referralId;
          expectWellFormed(
            await call(
              'POST',
              `/team/referrals/${id}/outcomes`,
              text,
              key === '' ? {} : { 'Idempotency-Key': key },
            ),
          );
        },
      ),
      { numRuns: 150 },
    );
    expectWellFormed(await call('GET', `/team/referrals/${referralId}/outcomes`));
  });

  it('afterwards a valid set is still recorded or already there, and the sets are served', async () => {
    const recorded = await call(
      'POST',
      `/team/referrals/${referralId}/outcomes`,
      JSON.stringify({
        timepoint: 'follow-up',
        takenOn: ukDay(new Date()),
        lonelinessDirect: 'never',
      }),
    );
    // A follow-up needs a baseline: 201, or 409 if none was recorded by the generated bodies.
    expect([201, 409]).toContain(recorded.statusCode);
    const listed = await call('GET', `/team/referrals/${referralId}/outcomes`);
    expect(listed.statusCode, listed.body).toBe(200);
  });
});
