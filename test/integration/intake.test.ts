import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalAws } from '../../infra/local/local-aws.ts';
import type { Caller } from '#auth/caller.ts';
import {
  apiEvent,
  gpSystem,
  auditOf,
  contextFor,
  receiveAll,
  sampleReferral,
  storedReferral,
  type ApiHandler,
  startIntakeAgainstLocalAws,
} from '../support/local.ts';

// The intake handler against real local DynamoDB (dynalite) and SQS (fauxqs), through the real SDK clients.

let aws: LocalAws;
let intake: ApiHandler;

beforeAll(async () => {
  ({ aws, intake } = await startIntakeAgainstLocalAws());
});
afterAll(() => aws.stop());

const post = (body: unknown, headers: Record<string, string> = {}, caller: Caller | null = gpSystem) =>
  intake(apiEvent('POST', '/referrals', body, headers, caller), contextFor('intake'));

interface Outcome {
  resourceType: string;
  issue: Array<{
    code: string;
    diagnostics: string;
    expression?: string[];
    details: { coding: Array<{ code: string }> };
  }>;
}

async function expectNothingQueued(): Promise<void> {
  expect(await receiveAll(aws, aws.queues.referrals.url, 0)).toHaveLength(0);
}

describe('POST /referrals', () => {
  it('records the referral, audits it, queues it and answers 202 with its id and Location', async () => {
    const response = await post(sampleReferral());
    expect(response.statusCode).toBe(202);
    const body = JSON.parse(response.body) as { referralId: string; status: string };
    expect(body.status).toBe('received');
    expect(response.headers?.Location).toBe(`/referrals/${body.referralId}`);

    const stored = await storedReferral(aws, body.referralId);
    expect(stored?.status).toBe('received');
    expect(stored?.patient.nhsNumber).toBe('9995260182');
    expect((await auditOf(aws, body.referralId)).map((a) => a.action)).toEqual(['referral.received']);

    const queued = await receiveAll(aws, aws.queues.referrals.url);
    expect(queued.map((m) => JSON.parse(m.Body ?? '{}') as unknown)).toEqual([
      { referralId: body.referralId },
    ]);
  });

  it.each([
    ['malformed JSON', '{"patient": ', 'structure', /not valid JSON/],
    ['an empty body', '', 'required', /JSON body is required/],
  ])('answers 400 for %s', async (_name, body, code, diagnostics) => {
    const response = await post(body);
    expect(response.statusCode).toBe(400);
    const outcome = JSON.parse(response.body) as Outcome;
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue[0]?.code).toBe(code);
    expect(outcome.issue[0]?.details.coding[0]?.code).toBe('REC_BAD_REQUEST');
    expect(outcome.issue[0]?.diagnostics).toMatch(diagnostics);
    expect(outcome.issue[0]?.expression).toBeUndefined();
    await expectNothingQueued();
  });

  it.each([
    [
      'a missing field',
      (r: Record<string, unknown>) => delete r.practiceOds,
      'practiceOds',
      'required',
      /is required/,
    ],
    [
      'a wrong type',
      (r: Record<string, unknown>) => (r.needs = 'arts'),
      'needs',
      'invalid',
      /must be an array/,
    ],
    [
      'an NHS number failing Modulus 11',
      (r: Record<string, unknown>) => ((r.patient as Record<string, unknown>).nhsNumber = '999 526 0183'),
      'patient.nhsNumber',
      'value',
      /Modulus 11/,
    ],
    [
      'a birth date in the future',
      (r: Record<string, unknown>) => ((r.patient as Record<string, unknown>).birthDate = '2999-01-01'),
      'patient.birthDate',
      'value',
      /must not be in the future/,
    ],
    [
      'a deadline already past',
      (r: Record<string, unknown>) => (r.respondBy = '2020-01-01T09:00:00Z'),
      'respondBy',
      'value',
      /must be in the future/,
    ],
    [
      'an NHS number whose verification status forbids sharing it',
      (r: Record<string, unknown>) =>
        ((r.patient as Record<string, unknown>).nhsNumberVerification = 'trace-required'),
      'patient.nhsNumberVerification',
      'value',
      /only a verified number/,
    ],
    [
      'an unknown need category',
      (r: Record<string, unknown>) => (r.needs = ['astrology']),
      'needs.0',
      'value',
      /must be one of: arts/,
    ],
  ])('answers 400 naming the field for %s', async (_name, mutate, field, code, rule) => {
    const referral = sampleReferral();
    mutate(referral);
    const response = await post(referral);
    expect(response.statusCode).toBe(400);
    const outcome = JSON.parse(response.body) as Outcome;
    const issue = outcome.issue.find((i) => i.expression?.[0] === field);
    expect(issue, JSON.stringify(outcome)).toBeDefined();
    expect(issue?.code).toBe(code);
    expect(issue?.diagnostics).toMatch(rule);
    await expectNothingQueued();
  });

  it('answers 422 for a practice that is not in the directory', async () => {
    const caller: Caller = { subject: 'gp', role: 'gp-system', organisations: ['Z99999'] };
    const response = await post({ ...sampleReferral(), practiceOds: 'Z99999' }, {}, caller);
    expect(response.statusCode).toBe(422);
    const outcome = JSON.parse(response.body) as Outcome;
    expect(outcome.issue[0]?.details.coding[0]?.code).toBe('REC_UNPROCESSABLE_ENTITY');
    expect(outcome.issue[0]?.expression).toEqual(['practiceOds']);
    await expectNothingQueued();
  });

  it('answers 413 for a body over 256 KB', async () => {
    const response = await post({ ...sampleReferral(), reasonForReferral: 'x'.repeat(257 * 1024) });
    expect(response.statusCode).toBe(413);
    expect((JSON.parse(response.body) as Outcome).issue[0]?.code).toBe('too-long');
    await expectNothingQueued();
  });

  it('refuses a referral for a practice the token is not bound to (403), and a call with no caller (401)', async () => {
    const other: Caller = { subject: 'gp', role: 'gp-system', organisations: ['A81002'] };
    const forbidden = await post(sampleReferral(), {}, other);
    expect(forbidden.statusCode).toBe(403);
    expect((JSON.parse(forbidden.body) as Outcome).issue[0]?.details.coding[0]?.code).toBe('REC_FORBIDDEN');
    expect((await post(sampleReferral(), {}, null)).statusCode).toBe(401);
    const partner: Caller = { subject: 'p', role: 'partner', organisations: ['arts-for-all'] };
    expect((await post(sampleReferral(), {}, partner)).statusCode).toBe(403);
    await expectNothingQueued();
  });

  it('replays the first answer for a retried Idempotency-Key and creates one referral', async () => {
    const headers = { 'Idempotency-Key': 'retry-test-1' };
    const first = await post(sampleReferral(), headers);
    const second = await post(sampleReferral(), headers);
    expect(first.statusCode).toBe(202);
    expect(second.statusCode).toBe(202);
    expect(second.body).toBe(first.body);
    expect(await receiveAll(aws, aws.queues.referrals.url)).toHaveLength(1);
  });

  it('refuses an Idempotency-Key reused with a different body (409)', async () => {
    const headers = { 'Idempotency-Key': 'retry-test-2' };
    expect((await post(sampleReferral(), headers)).statusCode).toBe(202);
    const changed = await post({ ...sampleReferral(), needs: ['nature'] }, headers);
    expect(changed.statusCode).toBe(409);
    expect((JSON.parse(changed.body) as Outcome).issue[0]?.details.coding[0]?.code).toBe('REC_CONFLICT');
    expect(await receiveAll(aws, aws.queues.referrals.url)).toHaveLength(1);
  });

  it('makes one referral from ten concurrent requests with the same Idempotency-Key', async () => {
    const headers = { 'Idempotency-Key': 'concurrent-1' };
    const responses = await Promise.all(Array.from({ length: 10 }, () => post(sampleReferral(), headers)));
    const accepted = responses.filter((r) => r.statusCode === 202);
    expect(accepted.length).toBeGreaterThanOrEqual(1);
    expect(responses.every((r) => r.statusCode === 202 || r.statusCode === 409)).toBe(true);
    const ids = new Set(accepted.map((r) => (JSON.parse(r.body) as { referralId: string }).referralId));
    expect(ids.size).toBe(1);
    expect(await receiveAll(aws, aws.queues.referrals.url)).toHaveLength(1);
  });
});
