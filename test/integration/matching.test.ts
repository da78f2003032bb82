import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalAws } from '../../infra/local/local-aws.ts';
import type { WebhookReceiver } from '../../infra/local/webhook-receiver.ts';
import { importFile } from '../../infra/ops/geography/import-file.ts';
import { DynamoGeography } from '#adapters/dynamodb/geography-store.ts';
import type { Caller } from '#auth/caller.ts';
import {
  ReferralStatusViewSchema,
  type ReferralStatusView,
} from '#referral/application/referral-status-view.ts';
import type { DeliveryPayload } from '#delivery/domain/minimisation.ts';
import type { Referral } from '#referral/domain/referral.ts';
import {
  apiEvent,
  contextFor,
  counter,
  gpSystem,
  receiveAll,
  sampleReferral,
  sqsEvent,
  startHandlerRig,
  storedReferral,
  type ApiHandler,
  type HandlerRig,
} from '../support/local.ts';

// Explainable matching on the local stack: the real intake, router, notifier and referral-status handlers against
// local DynamoDB and SQS, with the sample directory (events/directory.json) and the sample geography
// (events/geography: NSPL postcodes, IMD 2019 and 2025) loaded, and a real webhook receiver.

let rig: HandlerRig;
let aws: LocalAws;
let receiver: WebhookReceiver;
let status: ApiHandler;

const sample = (name: string) => fileURLToPath(new URL(`../../events/geography/${name}`, import.meta.url));

beforeAll(async () => {
  rig = await startHandlerRig();
  ({ aws, receiver } = rig);
  // The sample geography, imported as `npm run geography -- import` does (loading it twice changes nothing).
  const writer = new DynamoGeography(aws.documentClient, aws.tables.geography);
  await importFile({ kind: 'nspl', file: sample('nspl-sample.csv') }, { writer });
  await importFile({ kind: 'imd', file: sample('imd2019-sample.csv'), edition: '2019' }, { writer });
  await importFile({ kind: 'imd', file: sample('imd2025-sample.csv'), edition: '2025' }, { writer });
  status = ((await import('../../functions/referral-status/handler.ts')) as { handler: ApiHandler }).handler;
});
afterAll(() => rig?.stop());

/** Submits a body through the intake, routes what is queued and delivers what the router queued. */
async function submitAndRoute(body: Record<string, unknown>, caller: Caller = gpSystem): Promise<Referral> {
  const response = await rig.intake(apiEvent('POST', '/referrals', body, {}, caller), contextFor('intake'));
  expect(response.statusCode).toBe(202);
  const { referralId } = JSON.parse(response.body) as { referralId: string };
  const routed = await rig.router(
    sqsEvent('referrals', await receiveAll(aws, aws.queues.referrals.url)),
    contextFor('router'),
  );
  expect(routed.batchItemFailures).toEqual([]);
  const delivered = await rig.notifier(
    sqsEvent('notifications', await receiveAll(aws, aws.queues.notifications.url)),
    contextFor('notifier'),
  );
  expect(delivered.batchItemFailures).toEqual([]);
  const referral = await storedReferral(aws, referralId);
  if (!referral) throw new Error(`referral ${referralId} not stored`);
  return referral;
}

const leeds = (changes: Record<string, unknown> = {}) => ({
  ...sampleReferral('leeds-arts-and-mental-health'),
  ...changes,
});

/** Each need's candidates as `serviceId:rule`. */
const rulesOf = (referral: Referral) =>
  Object.fromEntries(
    (referral.routing?.needs ?? []).map((n) => [
      n.category,
      n.candidates.map((c) => `${c.serviceId}:${c.rule}`),
    ]),
  );

function webhooksTo(referralId: string, path: string): DeliveryPayload[] {
  return receiver.received
    .filter((r) => r.path === path && r.raw.body.includes(referralId))
    .map((r) => (r.payload as { data: DeliveryPayload }).data);
}

async function statusOf(referralId: string, caller: Caller = gpSystem): Promise<ReferralStatusView> {
  const response = await status(
    apiEvent('GET', `/referrals/${referralId}`, '', {}, caller),
    contextFor('referralStatus'),
  );
  expect(response.statusCode).toBe(200);
  return ReferralStatusViewSchema.parse(JSON.parse(response.body));
}

describe('matching on the local stack', () => {
  it('matches by LSOA coverage: the pantry covering the patient LSOA before the district-wide food parcels', async () => {
    const referral = await submitAndRoute(leeds({ needs: ['food'] }));
    expect(referral.routing?.classification).toEqual({
      source: 'patient-postcode',
      postcodeStatus: 'found',
      district: 'LS6',
      // The sample NSPL (2021 layout) has 2021 LSOAs only; E01011331 is unchanged since 2011, so IMD 2019 ranks it.
      lsoa: { code: 'E01011331', vintage: '2021' },
      localAuthority: 'E08000035',
      imdEdition: '2019',
      lsoaVintage: '2011',
      imd: { edition: '2019', rank: 1200, decile: 1 },
    });
    expect(referral.routing?.matches).toMatchObject([
      {
        category: 'food',
        serviceId: 'svc-pantry-woodhouse',
        partnerId: 'woodhouse-pantry',
        coveredBy: 'lsoa',
      },
    ]);
    expect(rulesOf(referral)).toEqual({
      food: ['svc-pantry-woodhouse:chosen', 'svc-food-parcels:ranked-lower'],
    });
    expect(referral.routing?.needs?.[0]?.candidates[1]?.reason).toBe(
      "Food Parcel Referrals fits too, but Woodhouse Pantry (two streets' worth of neighbours) ranks above it: it " +
        "covers the patient's LSOA, this covers the postcode district",
    );
    expect(webhooksTo(referral.referralId, '/hooks/partner/woodhouse-pantry')).toHaveLength(1);
  });

  it('rules out by age, by full capacity and by paused, each with its rule and sentence', async () => {
    const referral = await submitAndRoute(leeds());
    expect(rulesOf(referral)).toEqual({
      arts: ['svc-arts-studio:chosen', 'svc-arts-printmaking:paused'],
      'mental-health': [
        'svc-mind-groups:chosen',
        'svc-mind-one-to-one:full',
        'svc-young-minds:above-maximum-age',
      ],
    });
    const reasons = Object.fromEntries(
      (referral.routing?.needs ?? []).flatMap((n) => n.candidates.map((c) => [c.serviceId, c.reason])),
    );
    expect(reasons['svc-arts-printmaking']).toBe(
      'Printmaking Workshop (paused over the summer) has paused new referrals',
    );
    expect(reasons['svc-mind-one-to-one']).toBe(
      'One-to-one Support (waiting list full) is full and taking no new referrals',
    );
    expect(reasons['svc-young-minds']).toBe(
      'Young Minds Drop-in is for people aged 11 to 25; the patient is older',
    );
    expect(referral.routing?.unmetNeeds).toEqual([]);
  });

  it('no consent for one partner: it is matched, and gets signposting only; the others get what they need', async () => {
    const referral = await submitAndRoute(
      leeds({
        consent: [
          { recipient: 'any-vcse', granted: true },
          { recipient: 'mind-matters', granted: false },
        ],
      }),
    );
    expect(referral.routing?.matches.map((m) => [m.partnerId, m.content])).toEqual([
      ['arts-for-all', 'identifiable'],
      ['mind-matters', 'signposting'],
    ]);
    expect(referral.routing?.matches[1]?.reason).toMatch(
      /signposting only: the patient has not consented to share their details with Mind Matters Yorkshire$/,
    );
    const [mind] = webhooksTo(referral.referralId, '/hooks/partner/mind-matters');
    expect(mind?.content).toBe('signposting');
    expect(mind && 'patient' in mind).toBe(false);
    const raw = receiver.received.find(
      (r) => r.path === '/hooks/partner/mind-matters' && r.raw.body.includes(referral.referralId),
    )?.raw.body;
    for (const identifier of ['9995260182', 'Alex', 'Testpatient', '0113 496 0001', 'LS6 1AA', '1961-04-12'])
      expect(raw).not.toContain(identifier);
    expect(webhooksTo(referral.referralId, '/hooks/partner/arts-for-all')[0]?.patient?.name).toEqual({
      given: 'Alex',
      family: 'Testpatient',
    });
  });

  it('no provision: the need is unmet with its reason and IMD decile, counted, and the team is told', async () => {
    const referral = await submitAndRoute(sampleReferral('blackpool-benefits-and-activity'));
    const unmet = {
      category: 'benefits-advice',
      area: 'FY1',
      reason:
        'no service in the directory offers benefits-advice in FY1 (LSOA E01012670, local authority E06000009)',
      code: 'no-service',
      lsoa: { code: 'E01012670', vintage: '2021' },
      imd: { edition: '2019', rank: 12, decile: 1 },
    };
    expect(referral.routing?.unmetNeeds).toEqual([unmet]);
    const day = referral.receivedAt.slice(0, 10);
    expect(
      await counter(
        aws,
        {
          name: 'referrals.unmet.classified',
          dimensions: { category: 'benefits-advice', area: 'FY1', reason: 'no-service', imd: '2019:1' },
        },
        day,
      ),
    ).toBe(1);
    const [team] = webhooksTo(referral.referralId, '/hooks/team/lw-blackpool');
    expect(team?.unmetNeeds).toEqual([
      { category: 'benefits-advice', code: 'no-service', reason: unmet.reason },
    ]);
    const [partner] = webhooksTo(referral.referralId, '/hooks/partner/blackpool-moves');
    expect(partner && 'unmetNeeds' in partner).toBe(false);

    // The same message again (SQS redelivers): nothing counted twice.
    const again = await rig.router(
      sqsEvent('referrals', [
        {
          MessageId: 'redelivered',
          ReceiptHandle: 'r',
          Body: JSON.stringify({ referralId: referral.referralId }),
          Attributes: {},
        },
      ]),
      contextFor('router'),
    );
    expect(again.batchItemFailures).toEqual([]);
    await receiveAll(aws, aws.queues.notifications.url);
    expect((await storedReferral(aws, referral.referralId))?.routing).toEqual(referral.routing);
    expect(
      await counter(
        aws,
        {
          name: 'referrals.unmet.classified',
          dimensions: { category: 'benefits-advice', area: 'FY1', reason: 'no-service', imd: '2019:1' },
        },
        day,
      ),
    ).toBe(1);
  });

  it('a practice with no link-worker team: a clear no-team record, counted, shown; needs still matched or unmet', async () => {
    const stLeonards: Caller = { subject: 'st-leonards-gp', role: 'gp-system', organisations: ['C83002'] };
    const referral = await submitAndRoute(
      { ...sampleReferral('hastings-befriending-no-consent'), practiceOds: 'C83002' },
      stLeonards,
    );
    expect(referral.routing?.team).toBeNull();
    expect(referral.routing?.noTeam).toEqual({
      code: 'no-link-worker-team',
      reason: 'PCN U00004 of St Leonards Surgery (C83002) has no link-worker team in the directory',
      pcn: 'U00004',
    });
    // No postcode: matched in the practice's area, TN37, where only home visiting (no signposting) offers befriending.
    expect(referral.routing?.classification).toMatchObject({
      source: 'practice',
      postcodeStatus: 'none',
      district: 'TN37',
    });
    expect(referral.routing?.unmetNeeds.map((u) => [u.category, u.code, u.imd])).toEqual([
      ['befriending', 'no-consent', null],
      ['employment-support', 'no-service', null],
    ]);
    expect(referral.routing?.deliveries).toEqual([]);
    const day = referral.receivedAt.slice(0, 10);
    expect(await counter(aws, { name: 'referrals.no-team', dimensions: { practice: 'C83002' } }, day)).toBe(
      1,
    );
    expect(
      await counter(
        aws,
        {
          name: 'referrals.unmet.classified',
          dimensions: { category: 'befriending', area: 'TN37', reason: 'no-consent', imd: '2019:unknown' },
        },
        day,
      ),
    ).toBe(1);
    const view = await statusOf(referral.referralId, stLeonards);
    expect(view.team).toBeNull();
    expect(view.noTeam?.code).toBe('no-link-worker-team');
  });

  it("GET /referrals/{id} shows each need's candidates with their rules and reasons, and the area", async () => {
    const referral = await submitAndRoute(leeds({ needs: ['food', 'mental-health'] }));
    const view = await statusOf(referral.referralId);
    expect(view.classification).toMatchObject({
      district: 'LS6',
      lsoa: { code: 'E01011331' },
      imd: { edition: '2019', decile: 1 },
    });
    expect(view.matching.map((n) => [n.category, n.outcome])).toEqual([
      ['food', 'matched'],
      ['mental-health', 'matched'],
    ]);
    expect(view.matching[1]?.candidates).toEqual([
      {
        serviceId: 'svc-mind-groups',
        serviceName: 'Wellbeing Groups',
        partnerId: 'mind-matters',
        partnerName: 'Mind Matters Yorkshire',
        coveredBy: 'district',
        verdict: 'chosen',
        rule: 'chosen',
        reason:
          'Wellbeing Groups covers postcode district LS6, admits the patient and is taking referrals; the patient ' +
          'consented to share their details with Mind Matters Yorkshire',
        content: 'identifiable',
      },
      {
        serviceId: 'svc-mind-one-to-one',
        serviceName: 'One-to-one Support (waiting list full)',
        partnerId: 'mind-matters',
        partnerName: 'Mind Matters Yorkshire',
        coveredBy: 'district',
        verdict: 'ruled-out',
        rule: 'full',
        reason: 'One-to-one Support (waiting list full) is full and taking no new referrals',
      },
      {
        serviceId: 'svc-young-minds',
        serviceName: 'Young Minds Drop-in',
        partnerId: 'mind-matters',
        partnerName: 'Mind Matters Yorkshire',
        coveredBy: 'district',
        verdict: 'ruled-out',
        rule: 'above-maximum-age',
        reason: 'Young Minds Drop-in is for people aged 11 to 25; the patient is older',
      },
    ]);
    expect(view.partners.map((p) => [p.category, p.partnerId, p.coveredBy])).toEqual([
      ['food', 'woodhouse-pantry', 'lsoa'],
      ['mental-health', 'mind-matters', 'district'],
    ]);
    const text = JSON.stringify(view);
    for (const identifier of ['9995260182', 'Alex', 'Testpatient', 'LS6 1AA', '1961-04-12'])
      expect(text).not.toContain(identifier);
  });
});
