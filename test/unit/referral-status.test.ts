import { describe, expect, it } from 'vitest';
import { deliveryStatusText, getReferralStatus, statusView } from '#referral/application/referral-status.ts';
import { ReferralStatusViewSchema } from '#referral/application/referral-status-view.ts';
import { deliveryStatuses } from '#referral/domain/referral.ts';
import { routeReferral } from '#matching/application/route-referral.ts';
import { NotFoundError } from '#kernel/errors.ts';
import {
  FakeClock,
  InMemoryAuditLog,
  InMemoryDirectory,
  InMemoryMetricCounters,
  InMemoryReferralStore,
  RecordingQueue,
} from './fakes.ts';
import { queueMessages } from '#messages/queue.ts';
import { receivedAt, referralIds, sampleDirectory, sampleReferral } from './fixtures.ts';
import { CountedServiceLoad, ListedGeography, plainMatchingInputs } from './fakes-matching.ts';
import { InMemoryFigures } from './fakes-figures.ts';

const id = referralIds['blackpool-benefits-and-activity'];

async function routedStore(): Promise<InMemoryReferralStore> {
  const referrals = new InMemoryReferralStore();
  const counters = new InMemoryMetricCounters();
  referrals.seed(sampleReferral('blackpool-benefits-and-activity'));
  await routeReferral(
    {
      referrals,
      directory: new InMemoryDirectory(sampleDirectory()),
      audit: new InMemoryAuditLog(),
      counters,
      deliveryQueue: new RecordingQueue(queueMessages.notifications),
      clock: new FakeClock('2025-03-04T09:20:00.000Z'),
      ...plainMatchingInputs(counters),
    },
    id,
  );
  await referrals.markDelivered(id, `${id}.team.lw-blackpool`, {
    status: 'delivered',
    deliveredAt: '2025-03-04T09:21:00.000Z',
    responseStatus: 202,
  });
  return referrals;
}

describe('getReferralStatus', () => {
  it('throws NotFoundError for an unknown referral', async () => {
    await expect(getReferralStatus(new InMemoryReferralStore(), id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('shows where a routed referral went and how far each delivery got', async () => {
    const walkingFootball =
      'Walking Football and Seafront Walks covers postcode district FY1, admits the patient and is taking ' +
      'referrals; the patient consented to share their details with Blackpool Moves';
    const view = await getReferralStatus(await routedStore(), id);
    expect(ReferralStatusViewSchema.parse(view)).toEqual(view);
    expect(view).toEqual({
      referralId: id,
      status: 'routed',
      receivedAt,
      updatedAt: '2025-03-04T09:21:00.000Z',
      practiceOds: 'B82001',
      needs: ['benefits-advice', 'physical-activity'],
      area: 'FY1',
      team: {
        id: 'lw-blackpool',
        name: 'Blackpool Central link workers',
        reason:
          'Blackpool Central link workers is the link-worker team of PCN U00002, which Blackpool Central Surgery (B82001) belongs to',
      },
      noTeam: null,
      // Routed here without a geography: the postcode's district only.
      classification: {
        source: 'patient-postcode',
        postcodeStatus: 'not-found',
        district: 'FY1',
        imdEdition: '2019',
        lsoaVintage: '2011',
        imd: null,
      },
      partners: [
        {
          category: 'physical-activity',
          partnerId: 'blackpool-moves',
          partnerName: 'Blackpool Moves',
          serviceName: 'Walking Football and Seafront Walks',
          reason: walkingFootball,
          coveredBy: 'district',
          content: 'identifiable',
        },
      ],
      unmetNeeds: [
        {
          category: 'benefits-advice',
          area: 'FY1',
          reason: 'no service in the directory offers benefits-advice in FY1',
          code: 'no-service',
          imd: null,
        },
      ],
      matching: [
        {
          category: 'benefits-advice',
          outcome: 'unmet',
          candidates: [],
          unmet: { code: 'no-service', reason: 'no service in the directory offers benefits-advice in FY1' },
        },
        {
          category: 'physical-activity',
          outcome: 'matched',
          candidates: [
            {
              serviceId: 'svc-walking-football',
              serviceName: 'Walking Football and Seafront Walks',
              partnerId: 'blackpool-moves',
              partnerName: 'Blackpool Moves',
              coveredBy: 'district',
              verdict: 'chosen',
              rule: 'chosen',
              reason: walkingFootball,
              content: 'identifiable',
            },
          ],
        },
      ],
      deliveries: [
        {
          deliveryId: `${id}.team.lw-blackpool`,
          recipient: { kind: 'team', id: 'lw-blackpool', name: 'Blackpool Central link workers' },
          content: 'identifiable',
          status: 'delivered',
          statusText: 'delivered',
          deliveredAt: '2025-03-04T09:21:00.000Z',
        },
        {
          deliveryId: `${id}.partner.blackpool-moves`,
          recipient: { kind: 'partner', id: 'blackpool-moves', name: 'Blackpool Moves' },
          content: 'identifiable',
          status: 'pending',
          statusText: 'not sent yet',
        },
      ],
    });
  });

  it('shows the area classification (LSOA, IMD decile) and a practice with no link-worker team', async () => {
    const referrals = new InMemoryReferralStore();
    const leeds = referralIds['leeds-arts-and-mental-health'];
    referrals.seed(sampleReferral('leeds-arts-and-mental-health'));
    const directory = sampleDirectory();
    directory.teams = directory.teams.filter((t) => t.pcn !== 'U00001');
    await routeReferral(
      {
        referrals,
        directory: new InMemoryDirectory(directory),
        audit: new InMemoryAuditLog(),
        counters: new InMemoryMetricCounters(),
        figures: new InMemoryFigures(),
        deliveryQueue: new RecordingQueue(queueMessages.notifications),
        clock: new FakeClock('2025-03-04T09:20:00.000Z'),
        geography: new ListedGeography(
          [
            {
              postcode: 'LS6 1AA',
              district: 'LS6',
              lsoa11: 'E01011331',
              localAuthority: 'E08000035',
              terminated: true,
              terminatedOn: '202001',
            },
          ],
          [{ edition: '2019', lsoa: 'E01011331', rank: 1200, decile: 1 }],
        ),
        serviceLoad: new CountedServiceLoad(new InMemoryMetricCounters()),
      },
      leeds,
    );
    const view = await getReferralStatus(referrals, leeds);
    expect(ReferralStatusViewSchema.parse(view)).toEqual(view);
    expect(view.team).toBeNull();
    expect(view.noTeam).toEqual({
      code: 'no-link-worker-team',
      reason: 'PCN U00001 of Woodhouse Medical Practice (A81001) has no link-worker team in the directory',
      pcn: 'U00001',
    });
    expect(view.classification).toEqual({
      source: 'patient-postcode',
      postcodeStatus: 'terminated',
      district: 'LS6',
      lsoa: { code: 'E01011331', vintage: '2011' },
      localAuthority: 'E08000035',
      imdEdition: '2019',
      lsoaVintage: '2011',
      imd: { edition: '2019', rank: 1200, decile: 1 },
    });
    expect(
      view.matching.map((n) => [n.category, n.candidates.map((c) => `${c.serviceId}:${c.rule}`)]),
    ).toEqual([
      ['arts', ['svc-arts-studio:chosen', 'svc-arts-printmaking:paused']],
      [
        'mental-health',
        ['svc-mind-groups:chosen', 'svc-mind-one-to-one:full', 'svc-young-minds:above-maximum-age'],
      ],
    ]);
    const text = JSON.stringify(view);
    for (const identifier of ['9995260182', 'Alex', 'Testpatient', 'LS6 1AA', '1961-04-12']) {
      expect(text).not.toContain(identifier);
    }
  });

  it('carries no patient identifiers', async () => {
    const text = JSON.stringify(await getReferralStatus(await routedStore(), id));
    for (const identifier of [
      '9991590838',
      'Sam',
      'Sample',
      'sam.sample',
      'FY1 4AB',
      'Recently unemployed',
    ]) {
      expect(text).not.toContain(identifier);
    }
  });
});

describe('statusView', () => {
  it('a delivery whose POST went out but was not confirmed (a crash) reads "sent, confirming", not pending', async () => {
    const referrals = await routedStore();
    const partner = `${id}.partner.blackpool-moves`;
    await referrals.markSending(id, partner, '2025-03-04T09:22:00.000Z', '2025-03-04T09:22:00.000Z');
    const view = await getReferralStatus(referrals, id);
    expect(view.deliveries.find((d) => d.deliveryId === partner)).toEqual({
      deliveryId: partner,
      recipient: { kind: 'partner', id: 'blackpool-moves', name: 'Blackpool Moves' },
      content: 'identifiable',
      status: 'sending',
      statusText: 'sent, confirming',
      attemptedAt: '2025-03-04T09:22:00.000Z',
    });
  });

  it('a refused attempt reads "retrying"; the reason stays internal', async () => {
    const referrals = await routedStore();
    const partner = `${id}.partner.blackpool-moves`;
    await referrals.markSending(id, partner, '2025-03-04T09:22:00.000Z', '2025-03-04T09:22:00.000Z');
    await referrals.markAttemptFailed(id, partner, 'HTTP 503');
    const delivery = (await getReferralStatus(referrals, id)).deliveries.find(
      (d) => d.deliveryId === partner,
    );
    expect(delivery).toMatchObject({ status: 'retrying', statusText: 'not accepted yet, retrying' });
    expect(JSON.stringify(delivery)).not.toContain('503');
  });

  it('every delivery status has words, and the view schema accepts each', () => {
    for (const status of deliveryStatuses) {
      expect(deliveryStatusText[status]).not.toBe('');
      expect(ReferralStatusViewSchema.shape.deliveries.element.shape.status.parse(status)).toBe(status);
    }
  });

  it('a referral not yet routed has no area, team, partners or deliveries', () => {
    const view = statusView(sampleReferral('leeds-arts-and-mental-health'));
    expect(view).toMatchObject({
      status: 'received',
      area: null,
      team: null,
      noTeam: null,
      classification: null,
      partners: [],
      unmetNeeds: [],
      matching: [],
      deliveries: [],
    });
  });
});
