import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../infra/local/local-stack.ts';
import type { OperationOutcome } from '#http/operation-outcome.ts';
import { ukDay } from '#outcomes/domain/measure-set.ts';
import type { OutcomesView, RecordedMeasureSetView } from '#outcomes/domain/outcome-views.ts';
import { auditOf, eventually, sampleReferral, storedReferral } from '../support/local.ts';

// Outcome measures over the whole local stack: a GP system's referral routed by the router to its team (practice
// A81001 -> lw-woodhouse), then that team's link worker records a baseline and a follow-up over HTTP (gateway,
// authorizer, the outcomes function in its own worker, dynalite) and reads the change from baseline.

let stack: LocalStack;
let referralId = '';
let ownTeam = '';
let otherTeam = '';

const today = (): string => ukDay(new Date());

async function call(
  method: 'GET' | 'POST',
  path: string,
  token: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

const diagnostics = (body: unknown): string[] =>
  (body as OperationOutcome).issue.map((issue) => issue.diagnostics ?? '');

beforeAll(async () => {
  stack = await startLocalStack({ port: 0 });
  const gp = await stack.issuer.mint({ role: 'gp-system', ods: ['A81001'], subject: 'outcomes-gp' });
  const submitted = await fetch(`${stack.apiUrl}/referrals`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${gp}` },
    body: JSON.stringify(sampleReferral('leeds-arts-and-mental-health')),
  });
  expect(submitted.status).toBe(202);
  ({ referralId } = (await submitted.json()) as { referralId: string });
  const routed = await eventually(async () => {
    const referral = await storedReferral(stack.aws, referralId);
    return referral?.routing ? referral : undefined;
  }, 'the referral to be routed');
  expect(routed.routing?.team?.id).toBe('lw-woodhouse');
  ownTeam = await stack.issuer.mint({ role: 'link-worker', team: 'lw-woodhouse', subject: 'lw-woodhouse-1' });
  otherTeam = await stack.issuer.mint({
    role: 'link-worker',
    team: 'lw-blackpool',
    subject: 'lw-blackpool-1',
  });
});
afterAll(() => stack?.stop());

const path = (): string => `/team/referrals/${referralId}/outcomes`;

describe('outcome measures on the local stack', () => {
  it('records a baseline and a follow-up, and shows the change from baseline', async () => {
    const baseline = {
      timepoint: 'baseline',
      takenOn: today(),
      ons4: { lifeSatisfaction: 3, worthwhile: 4, happiness: 4, anxiety: 8 },
      ucla3: { lackCompanionship: 3, leftOut: 3, isolated: 2 },
      lonelinessDirect: 'often-always',
      swemwbs: {
        optimistic: 2,
        useful: 2,
        relaxed: 1,
        dealingWithProblems: 2,
        thinkingClearly: 3,
        closeToOthers: 2,
        ownMind: 3,
      },
    };
    const recorded = await call('POST', path(), ownTeam, baseline, { 'Idempotency-Key': 'baseline-1' });
    expect(recorded.status, JSON.stringify(recorded.body)).toBe(201);
    const set = (recorded.body as RecordedMeasureSetView).set;
    expect(recorded.body).toMatchObject({
      referralId,
      set: {
        timepoint: 'baseline',
        takenOn: today(),
        recordedBy: { subject: 'lw-woodhouse-1', team: 'lw-woodhouse' },
        ons4: { bands: { lifeSatisfaction: 'low', worthwhile: 'low', happiness: 'low', anxiety: 'high' } },
        ucla3: { total: 8 },
        swemwbs: { rawTotal: 15, metricScore: null },
      },
    });

    // The same request again (a client retry): the same set, 200, nothing new.
    const retried = await call('POST', path(), ownTeam, baseline, { 'Idempotency-Key': 'baseline-1' });
    expect(retried.status).toBe(200);
    expect((retried.body as RecordedMeasureSetView).set).toEqual(set);

    // A second baseline is refused.
    const second = await call('POST', path(), ownTeam, baseline);
    expect(second.status).toBe(409);
    expect(diagnostics(second.body).join()).toMatch(/already has a baseline/);

    const followUp = await call('POST', path(), ownTeam, {
      id: randomUUID(),
      timepoint: 'follow-up',
      takenOn: today(),
      ons4: { lifeSatisfaction: 6, worthwhile: 7, happiness: 9, anxiety: 3 },
      ucla3: { lackCompanionship: 2, leftOut: 1, isolated: 1 },
      lonelinessDirect: 'occasionally',
    });
    expect(followUp.status, JSON.stringify(followUp.body)).toBe(201);

    const shown = await call('GET', path(), ownTeam);
    expect(shown.status).toBe(200);
    const view = shown.body as OutcomesView;
    expect(view.referralId).toBe(referralId);
    expect(view.sets.map((s) => s.timepoint)).toEqual(['baseline', 'follow-up']);
    expect(view.changeFromBaseline).toMatchObject({
      available: true,
      baseline: { id: set.id },
      followUp: { id: (followUp.body as RecordedMeasureSetView).set.id },
      ons4: {
        lifeSatisfaction: { change: 3, direction: 'better', baselineBand: 'low', followUpBand: 'medium' },
        happiness: { change: 5, direction: 'better', baselineBand: 'low', followUpBand: 'very-high' },
        anxiety: { change: -5, direction: 'better', baselineBand: 'high', followUpBand: 'low' },
      },
      ucla3: { total: { baseline: 8, followUp: 4, change: -4, direction: 'better' } },
      lonelinessDirect: { baseline: 'often-always', followUp: 'occasionally', change: 2 },
      notCompared: ['swemwbs'],
    });

    // Each recording audited once (the retry added nothing), with who did it and no answers.
    const audited = (await auditOf(stack.aws, referralId)).filter((e) => e.action === 'outcome.recorded');
    expect(audited).toHaveLength(2);
    expect(audited.map((e) => e.actor)).toEqual(['link-worker:lw-woodhouse-1', 'link-worker:lw-woodhouse-1']);
    expect(JSON.stringify(audited)).not.toContain('often-always');
  });

  it('another team is told the referral does not exist (404), reading or recording; nothing is written', async () => {
    const before = await call('GET', path(), ownTeam);
    const read = await call('GET', path(), otherTeam);
    expect(read.status).toBe(404);
    const write = await call('POST', path(), otherTeam, {
      timepoint: 'follow-up',
      takenOn: today(),
      lonelinessDirect: 'never',
    });
    expect(write.status).toBe(404);
    expect((await call('GET', path(), ownTeam)).body).toEqual(before.body);
  });

  it('a bad body is 400 naming each field and its rule', async () => {
    const empty = await call('POST', path(), ownTeam, {});
    expect(empty.status).toBe(400);
    expect((empty.body as OperationOutcome).issue.map((i) => i.expression?.[0])).toEqual([
      'timepoint',
      'takenOn',
      undefined,
    ]);
    expect(diagnostics(empty.body)).toEqual([
      'timepoint: is required',
      'takenOn: is required',
      'must hold at least one instrument: ons4, ucla3, lonelinessDirect, swemwbs',
    ]);

    const bad = await call('POST', path(), ownTeam, {
      timepoint: 'follow-up',
      takenOn: '2999-01-01',
      ons4: { lifeSatisfaction: 11, worthwhile: 5, happiness: 5, anxiety: 5 },
      ucla3: { lackCompanionship: 2, leftOut: 2 },
    });
    expect(bad.status).toBe(400);
    expect(diagnostics(bad.body)).toEqual([
      'ons4.lifeSatisfaction: must be a whole number from 0 to 10',
      'ucla3.isolated: is required',
      `takenOn: must not be in the future (today is ${today()})`,
    ]);
  });

  it('a bad Idempotency-Key is 400 and a body that is not JSON is 415, naming the header', async () => {
    const body = { timepoint: 'follow-up', takenOn: today(), lonelinessDirect: 'never' };
    const badKey = await call('POST', path(), ownTeam, body, { 'Idempotency-Key': 'has spaces in it' });
    expect(badKey.status).toBe(400);
    expect(diagnostics(badKey.body)).toEqual([
      'Idempotency-Key: must be 1 to 255 printable ASCII characters',
    ]);
    const text = await call('POST', path(), ownTeam, JSON.stringify(body), { 'Content-Type': 'text/plain' });
    expect(text.status).toBe(415);
    expect(diagnostics(text.body)).toEqual(['Content-Type: must be application/json']);
  });

  it('a link worker may not read or record for a referral id that is not a UUID (400), nor another role at all (403)', async () => {
    expect((await call('GET', '/team/referrals/not-a-uuid/outcomes', ownTeam)).status).toBe(400);
    const partner = await stack.issuer.mint({ role: 'partner', partner: 'arts-for-all' });
    expect((await call('GET', path(), partner)).status).toBe(403);
  });
});
