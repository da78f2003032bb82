import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '#auth/caller.ts';
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

// Property-based: whatever query ops sends to the evaluation route (any names and values, repeats, bad dates, huge
// strings, control characters, any k), the answer is never a 5xx, every refusal is a well-formed OperationOutcome,
// and no answer carries the referral's NHS number, whatever was asked. The real handler against local DynamoDB, with
// one referral routed (so a valid range meets a cell below k and is refused, and a k-free question is still sane).

let rig: HandlerRig;
let evaluation: ApiHandler;
const nhsNumber = '9995260182';
const today = new Date().toISOString().slice(0, 10);
/** The day `offset` days from this week's Monday (UTC), as YYYY-MM-DD. */
function ofThisWeek(offset: number): string {
  const midnight = new Date(`${today}T00:00:00Z`);
  const sinceMonday = (midnight.getUTCDay() + 6) % 7;
  return new Date(midnight.getTime() + (offset - sinceMonday) * 86_400_000).toISOString().slice(0, 10);
}
// This ISO week, Monday to Sunday: the extract covers whole weeks only.
const monday = ofThisWeek(0);
const sunday = ofThisWeek(6);
/** A `YYYY-MM-DD`'s ISO weekday, Monday 1 to Sunday 7. */
const weekdayOf = (day: string): number => ((new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7) + 1;

const ops: Caller = { subject: 'prop-ops', role: 'ops', organisations: [] };

beforeAll(async () => {
  rig = await startHandlerRig();
  await rig.aws.seedGeography();
  evaluation = ((await import('../../functions/evaluation/handler.ts')) as { handler: ApiHandler }).handler;
  const submitted = await rig.intake(
    apiEvent('POST', '/referrals', sampleReferral('leeds-arts-and-mental-health')),
    contextFor('intake'),
  );
  expect(submitted.statusCode).toBe(202);
  await rig.router(
    sqsEvent('referrals', await receiveAll(rig.aws, rig.aws.queues.referrals.url)),
    contextFor('router'),
  );
});
afterAll(() => rig?.stop());

const value = fc.oneof(
  fc.constantFrom(
    today,
    monday,
    sunday,
    '2026-02-30',
    '2026-13-01',
    '1999-01-01',
    '9999-12-31',
    '',
    '5',
    '1',
    '2',
    '4',
    '101',
    '-3',
    '2.5',
  ),
  fc.string({ maxLength: 300 }),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
  fc.integer().map(String),
);
const name = fc.oneof(
  fc.constantFrom('from', 'to', 'k', 'format', '__proto__', 'nhsNumber'),
  fc.string({ maxLength: 40 }),
);

describe('the evaluation route under any query', () => {
  it('is never a 5xx, refuses in words, and never names a patient', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(name, value), { maxLength: 6 }), async (pairs) => {
        const event = apiEvent('GET', '/evaluation/extract', '', {}, ops);
        // Built from maps, as API Gateway builds them: a `__proto__` parameter is a key like any other.
        const values = new Map<string, string[]>();
        for (const [key, v] of pairs) values.set(key, [...(values.get(key) ?? []), v]);
        const single = Object.fromEntries([...values].map(([key, vs]) => [key, vs.at(-1) ?? '']));
        const multi = Object.fromEntries(values);
        event.queryStringParameters = pairs.length === 0 ? null : single;
        event.multiValueQueryStringParameters = pairs.length === 0 ? null : multi;
        const answer = await evaluation(event, contextFor('evaluation'));
        expectWellFormed(answer);
        expect(answer.body).not.toContain(nhsNumber);
        if (answer.statusCode === 200) expect(answer.headers?.['Content-Type']).toMatch(/^text\/csv/);
      }),
      { numRuns: 150 },
    );
  });

  const event = (query: Record<string, string>) => {
    const e = apiEvent('GET', '/evaluation/extract', '', {}, ops);
    e.queryStringParameters = query;
    return e;
  };

  it('refuses this week (one person, below any k) naming the cell, and answers an empty range with the header only', async () => {
    const refused = await evaluation(event({ from: monday, to: sunday }), contextFor('evaluation'));
    expect(refused.statusCode, refused.body).toBe(422);
    expect(refused.body).toMatch(/\(1 person\)/);
    // Monday 30 December 2019 to Sunday 2 February 2020: whole weeks, nobody referred.
    const empty = await evaluation(event({ from: '2019-12-30', to: '2020-02-02' }), contextFor('evaluation'));
    expect(empty.statusCode, empty.body).toBe(200);
    expect(empty.body.trim().split('\r\n')).toHaveLength(1);
  });

  it('refuses any range that is not whole ISO weeks with a 400 naming the end that is not', async () => {
    const day = fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true });
    await fc.assert(
      fc.asyncProperty(day, fc.integer({ min: 0, max: 90 }), async (start, length) => {
        const from = start.toISOString().slice(0, 10);
        const to = new Date(Date.parse(from) + length * 86_400_000).toISOString().slice(0, 10);
        fc.pre(weekdayOf(from) !== 1 || weekdayOf(to) !== 7);
        const answer = await evaluation(event({ from, to }), contextFor('evaluation'));
        expect(answer.statusCode, answer.body).toBe(400);
        if (weekdayOf(from) !== 1) expect(answer.body).toContain('from: must be a Monday');
        if (weekdayOf(to) !== 7) expect(answer.body).toContain('to: must be a Sunday');
      }),
      { numRuns: 60 },
    );
  });

  it('refuses any k below the default 5 with a 400 naming k', async () => {
    for (const k of ['0', '1', '2', '3', '4', '04']) {
      const answer = await evaluation(event({ from: monday, to: sunday, k }), contextFor('evaluation'));
      expect(answer.statusCode, `k=${k}: ${answer.body}`).toBe(400);
      expect(answer.body).toContain('k: must be a whole number from 5 to 100');
    }
  });
});
