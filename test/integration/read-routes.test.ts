import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalAws, type LocalAws } from '../../infra/local/local-aws.ts';
import type { Caller } from '#auth/caller.ts';
import { apiEvent, contextFor, sampleReferral, type ApiHandler } from '../support/local.ts';

// The read routes against real local DynamoDB: the JSON status view and the FHIR ServiceRequest.

let aws: LocalAws;
let intake: ApiHandler;
let status: ApiHandler;
let referralId = '';
const leedsPractice: Caller = { subject: 'gp-a', role: 'gp-system', organisations: ['A81001'] };
const otherPractice: Caller = { subject: 'gp-b', role: 'gp-system', organisations: ['B82001'] };

beforeAll(async () => {
  aws = await startLocalAws();
  await aws.seedDirectory('http://127.0.0.1:9');
  intake = ((await import('../../functions/intake/handler.ts')) as { handler: ApiHandler }).handler;
  status = ((await import('../../functions/referral-status/handler.ts')) as { handler: ApiHandler }).handler;
  const created = await intake(
    apiEvent('POST', '/referrals', sampleReferral(), {}, leedsPractice),
    contextFor('intake'),
  );
  referralId = (JSON.parse(created.body) as { referralId: string }).referralId;
});
afterAll(() => aws.stop());

const read = (path: string, caller: Caller | null, headers: Record<string, string> = {}) =>
  status(apiEvent('GET', path, '', headers, caller), contextFor('referralStatus'));

describe('GET /ServiceRequest/{id}', () => {
  it('returns the referral as a FHIR ServiceRequest to the referring practice', async () => {
    const response = await read(`/ServiceRequest/${referralId}`, leedsPractice);
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['Content-Type']).toContain('application/fhir+json');
    const resource = JSON.parse(response.body) as Record<string, unknown>;
    expect(resource).toMatchObject({
      resourceType: 'ServiceRequest',
      id: referralId,
      status: 'active',
      intent: 'plan',
      meta: { versionId: '1' },
      subject: { identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9995260182' } },
      requester: { identifier: { value: 'A81001' } },
    });
  });

  it('tells another practice that the referral does not exist, and mirrors the conversation headers', async () => {
    const headers = {
      'X-Request-ID': '5b0a6a1e-2f6e-4c3f-9a55-3c1d2b7f0a11',
      'X-Correlation-ID': 'c0ffee00-0000-4000-8000-000000000001',
    };
    const response = await read(`/ServiceRequest/${referralId}`, otherPractice, headers);
    expect(response.statusCode).toBe(404);
    expect(response.headers?.['X-Request-ID']).toBe(headers['X-Request-ID']);
    expect(response.headers?.['X-Correlation-ID']).toBe(headers['X-Correlation-ID']);
    expect(JSON.parse(response.body)).toMatchObject({ resourceType: 'OperationOutcome' });
  });
});

describe('GET /referrals/{id}', () => {
  it('shows the status view to the referring practice, and 404 to anyone else', async () => {
    expect((await read(`/referrals/${referralId}`, leedsPractice)).statusCode).toBe(200);
    expect((await read(`/referrals/${referralId}`, otherPractice)).statusCode).toBe(404);
  });

  it('refuses roles that may not read referrals (403) and callers without a token (401)', async () => {
    const partner: Caller = { subject: 'p', role: 'partner', organisations: ['arts-for-all'] };
    expect((await read(`/referrals/${referralId}`, partner)).statusCode).toBe(403);
    expect((await read(`/referrals/${referralId}`, null)).statusCode).toBe(401);
  });
});
