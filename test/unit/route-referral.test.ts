import { beforeEach, describe, expect, it } from 'vitest';
import {
  routeReferral,
  routingCounts,
  type RouteReferralDeps,
} from '#matching/application/route-referral.ts';
import { LifecycleConflictError, UnroutableMessageError } from '#kernel/errors.ts';
import type { ReferralTransition } from '#referral/ports.ts';
import type { Referral, RoutingDecision } from '#referral/domain/referral.ts';
import {
  FakeClock,
  InMemoryAuditLog,
  InMemoryDirectory,
  InMemoryMetricCounters,
  InMemoryReferralStore,
  RecordingQueue,
} from './fakes.ts';
import { InMemoryFigures } from './fakes-figures.ts';
import { queueMessages } from '#messages/queue.ts';
import type { NoticeMessage } from '#messages/notice-message.ts';
import { referralIds, sampleDirectory, sampleReferral } from './fixtures.ts';
import { CountedServiceLoad, ListedGeography } from './fakes-matching.ts';

/** The sample referrals' postcodes as the geography knows them (Hastings has no postcode). */
const geographyOfSamples = () =>
  new ListedGeography(
    [
      {
        postcode: 'LS6 1AA',
        district: 'LS6',
        lsoa11: 'E01011331',
        lsoa21: 'E01011331',
        localAuthority: 'E08000035',
        country: 'E92000001',
        terminated: false,
      },
      {
        postcode: 'FY1 4AB',
        district: 'FY1',
        lsoa11: 'E01012670',
        lsoa21: 'E01012670',
        localAuthority: 'E06000009',
        country: 'E92000001',
        terminated: false,
      },
    ],
    [
      { edition: '2019', lsoa: 'E01011331', rank: 1200, decile: 1 },
      { edition: '2019', lsoa: 'E01012670', rank: 12, decile: 1 },
      { edition: '2025', lsoa: 'E01012670', rank: 8, decile: 1 },
    ],
  );

let referrals: InMemoryReferralStore;
let directory: InMemoryDirectory;
let audit: InMemoryAuditLog;
let counters: InMemoryMetricCounters;
let deliveryQueue: RecordingQueue<NoticeMessage>;
let clock: FakeClock;
let geography: ListedGeography;
let serviceLoad: CountedServiceLoad;
let deps: RouteReferralDeps;

const leedsId = referralIds['leeds-arts-and-mental-health'];
const day = '2025-03-04';
const teamDelivery = `${leedsId}.team.lw-woodhouse`;
const artsDelivery = `${leedsId}.partner.arts-for-all`;
const mindDelivery = `${leedsId}.partner.mind-matters`;

beforeEach(() => {
  referrals = new InMemoryReferralStore();
  directory = new InMemoryDirectory(sampleDirectory());
  audit = new InMemoryAuditLog();
  counters = new InMemoryMetricCounters();
  deliveryQueue = new RecordingQueue(queueMessages.notifications);
  clock = new FakeClock('2025-03-04T09:20:00.000Z');
  geography = geographyOfSamples();
  serviceLoad = new CountedServiceLoad(counters);
  deps = {
    referrals,
    directory,
    audit,
    counters,
    figures: new InMemoryFigures(),
    deliveryQueue,
    clock,
    geography,
    serviceLoad,
    imdEdition: '2019',
  };
  referrals.seed(sampleReferral('leeds-arts-and-mental-health'));
});

/** Runs `first` just before the store's first apply: another writer that lands between the read and the write. */
function landsFirst(
  store: InMemoryReferralStore,
  first: (id: string, transition: ReferralTransition) => Promise<unknown>,
): void {
  const apply = store.apply.bind(store);
  let landed = false;
  store.apply = async (id, transition, context) => {
    if (!landed) {
      landed = true;
      await first(id, transition);
    }
    return apply(id, transition, context);
  };
}

/** An update applied straight to the stored item: the content changes and the version moves. */
function amendInPlace(id: string, changes: Partial<Referral>): void {
  const item = referrals.items.get(id);
  if (item) Object.assign(item, changes, { version: item.version + 1 });
}

describe('routeReferral', () => {
  it("matches by LSOA a service listing the postcode's 2021 LSOA when its 2011 one differs (IMD 2019)", async () => {
    // LS6 1AA's 2011 LSOA was split in 2021: the edition (2019) classifies by the 2011 code, the service lists 2021's.
    const split = new ListedGeography(
      [
        {
          postcode: 'LS6 1AA',
          district: 'LS6',
          lsoa11: 'E01011331',
          lsoa21: 'E01033015',
          localAuthority: 'E08000035',
          country: 'E92000001',
          terminated: false,
        },
      ],
      [{ edition: '2019', lsoa: 'E01011331', rank: 1200, decile: 1 }],
    );
    const snapshot = sampleDirectory();
    snapshot.services = snapshot.services.map((service) =>
      service.id === 'svc-arts-studio'
        ? { ...service, coverage: { lsoas: ['E01033015'], districts: [], localAuthorities: [] } }
        : service,
    );
    const result = await routeReferral(
      { ...deps, geography: split, directory: new InMemoryDirectory(snapshot) },
      leedsId,
    );
    if (result.outcome !== 'routed') throw new Error(`expected routed, got ${result.outcome}`);
    const routing = referrals.items.get(leedsId)?.routing;
    const arts = routing?.matches.find((m) => m.serviceId === 'svc-arts-studio');
    expect(arts?.coveredBy).toBe('lsoa');
    // The classification and the IMD rank stay the edition's (2011) code.
    expect(routing?.classification?.lsoa).toEqual({ code: 'E01011331', vintage: '2011' });
    expect(routing?.classification?.imd).toMatchObject({ edition: '2019', decile: 1 });
  });

  it('routes a received referral: records the decision, audits, counts and queues one message per delivery', async () => {
    const result = await routeReferral(deps, leedsId);
    if (result.outcome !== 'routed') throw new Error(`expected routed, got ${result.outcome}`);
    expect(result.deliveriesQueued).toBe(3);

    const stored = referrals.items.get(leedsId);
    expect(stored?.status).toBe('routed');
    expect(stored?.updatedAt).toBe('2025-03-04T09:20:00.000Z');
    expect(stored?.routing?.decidedAt).toBe('2025-03-04T09:20:00.000Z');
    expect(stored?.routing?.team?.id).toBe('lw-woodhouse');
    expect(stored?.routing?.matches.map((m) => m.serviceId)).toEqual(['svc-arts-studio', 'svc-mind-groups']);
    expect(stored?.deliveryStatus).toEqual({
      [teamDelivery]: { status: 'pending' },
      [artsDelivery]: { status: 'pending' },
      [mindDelivery]: { status: 'pending' },
    });
    expect(result.referral).toEqual(stored);

    expect(deliveryQueue.sends).toEqual([
      [
        { id: teamDelivery, body: { referralId: leedsId, deliveryId: teamDelivery, kind: 'assigned' } },
        { id: artsDelivery, body: { referralId: leedsId, deliveryId: artsDelivery, kind: 'assigned' } },
        { id: mindDelivery, body: { referralId: leedsId, deliveryId: mindDelivery, kind: 'assigned' } },
      ],
    ]);

    expect(audit.entries).toHaveLength(1);
    expect(audit.entries[0]).toMatchObject({
      referralId: leedsId,
      eventKey: 'routed',
      action: 'referral.routed',
      actor: 'system:router',
      at: '2025-03-04T09:20:00.000Z',
      detail: {
        area: 'LS6',
        team: 'lw-woodhouse',
        unmetNeeds: [],
        deliveries: [
          { deliveryId: teamDelivery, content: 'identifiable' },
          { deliveryId: artsDelivery, content: 'identifiable' },
          { deliveryId: mindDelivery, content: 'identifiable' },
        ],
      },
    });
    expect(JSON.stringify(audit.entries)).not.toContain('9995260182');

    expect(counters.snapshot()).toEqual(
      expect.arrayContaining([
        { name: 'referrals.received', dimensions: { practice: 'A81001' }, day, count: 1 },
        { name: 'referrals.need', dimensions: { category: 'arts', area: 'LS6' }, day, count: 1 },
        { name: 'referrals.need', dimensions: { category: 'mental-health', area: 'LS6' }, day, count: 1 },
        { name: 'referrals.matched', dimensions: { category: 'arts', area: 'LS6' }, day, count: 1 },
        { name: 'referrals.matched', dimensions: { category: 'mental-health', area: 'LS6' }, day, count: 1 },
        // The services' weekly counts, by the ISO week the referral was received.
        { name: 'services.matched', dimensions: { service: 'svc-arts-studio' }, day: '2025-W10', count: 1 },
        { name: 'services.matched', dimensions: { service: 'svc-mind-groups' }, day: '2025-W10', count: 1 },
      ]),
    );
    expect(counters.snapshot()).toHaveLength(7);
  });

  it('records the area classification from the geography: LSOA, local authority, IMD decile with its edition', async () => {
    await routeReferral(deps, leedsId);
    const routing = referrals.items.get(leedsId)?.routing;
    expect(routing?.classification).toEqual({
      source: 'patient-postcode',
      postcodeStatus: 'found',
      district: 'LS6',
      lsoa: { code: 'E01011331', vintage: '2011' },
      localAuthority: 'E08000035',
      imdEdition: '2019',
      lsoaVintage: '2011',
      imd: { edition: '2019', rank: 1200, decile: 1 },
    });
    // One postcode lookup and one IMD lookup per decision.
    expect(geography.calls).toEqual({ locate: 1, deprivation: 1 });
    // The audit names each candidate's rule; never the postcode.
    const detail = audit.entries[0]?.detail as { candidates: unknown; classification: unknown };
    expect(detail.candidates).toEqual([
      {
        category: 'arts',
        outcome: 'matched',
        rules: ['svc-arts-studio:chosen', 'svc-arts-printmaking:paused'],
      },
      {
        category: 'mental-health',
        outcome: 'matched',
        rules: ['svc-mind-groups:chosen', 'svc-mind-one-to-one:full', 'svc-young-minds:above-maximum-age'],
      },
    ]);
    expect(detail.classification).toMatchObject({ lsoa: { code: 'E01011331' }, imd: { decile: 1 } });
    expect(JSON.stringify(audit.entries)).not.toContain('LS6 1AA');
  });

  it('classifies with the IMD edition it is given: 2025 takes the 2021 LSOA and the 2025 decile', async () => {
    const id = referralIds['blackpool-benefits-and-activity'];
    referrals.seed(sampleReferral('blackpool-benefits-and-activity'));
    await routeReferral({ ...deps, imdEdition: '2025' }, id);
    const routing = referrals.items.get(id)?.routing;
    expect(routing?.classification).toMatchObject({
      imdEdition: '2025',
      lsoaVintage: '2021',
      lsoa: { code: 'E01012670', vintage: '2021' },
      imd: { edition: '2025', rank: 8, decile: 1 },
    });
    expect(
      counters.value(
        'referrals.unmet.classified',
        { category: 'benefits-advice', area: 'FY1', reason: 'no-service', imd: '2025:1' },
        day,
      ),
    ).toBe(1);
  });

  it('a postcode the geography does not know: matched in its district, IMD unknown, counted as such', async () => {
    const id = referralIds['blackpool-benefits-and-activity'];
    referrals.seed(sampleReferral('blackpool-benefits-and-activity'));
    await routeReferral({ ...deps, geography: new ListedGeography() }, id);
    const routing = referrals.items.get(id)?.routing;
    expect(routing?.classification).toMatchObject({
      postcodeStatus: 'not-found',
      district: 'FY1',
      imd: null,
    });
    expect(routing?.matches.map((m) => m.serviceId)).toEqual(['svc-walking-football']);
    expect(
      counters.value(
        'referrals.unmet.classified',
        { category: 'benefits-advice', area: 'FY1', reason: 'no-service', imd: '2019:unknown' },
        day,
      ),
    ).toBe(1);
  });

  it('counts by the day the referral was received, not the day it was routed', async () => {
    clock.advance(24 * 3600 * 1000);
    await routeReferral(deps, leedsId);
    expect(counters.value('referrals.received', { practice: 'A81001' }, '2025-03-04')).toBe(1);
    expect(counters.value('referrals.received', { practice: 'A81001' }, '2025-03-05')).toBe(0);
  });

  it('running twice records the same decision, audits and counts once, and re-queues undelivered deliveries', async () => {
    const first = await routeReferral(deps, leedsId);
    clock.advance(30_000);
    const second = await routeReferral(deps, leedsId);

    // The second run finds it routed at the version it read (`already`): no write.
    expect(referrals.calls.apply).toBe(1);
    if (first.outcome !== 'routed' || second.outcome !== 'routed') throw new Error('expected routed twice');
    expect(second.referral.routing).toEqual(first.referral.routing);
    expect(second.referral.routing?.decidedAt).toBe('2025-03-04T09:20:00.000Z');

    expect(audit.attempts).toBe(2);
    expect(audit.entries).toHaveLength(1);
    // The daily and the weekly counts, each time; counted once all the same.
    expect(counters.calls).toBe(4);
    expect(counters.value('services.matched', { service: 'svc-arts-studio' }, '2025-W10')).toBe(1);
    expect(counters.value('referrals.received', { practice: 'A81001' }, day)).toBe(1);
    expect(counters.value('referrals.need', { area: 'LS6', category: 'arts' }, day)).toBe(1);

    expect(deliveryQueue.sends).toHaveLength(2);
    expect(deliveryQueue.sends[1]?.map((m) => m.id)).toEqual([teamDelivery, artsDelivery, mindDelivery]);
  });

  it('a repeat re-sends only the deliveries not yet delivered', async () => {
    await routeReferral(deps, leedsId);
    await referrals.markDelivered(leedsId, teamDelivery, {
      status: 'delivered',
      deliveredAt: '2025-03-04T09:21:00.000Z',
      responseStatus: 202,
    });
    const again = await routeReferral(deps, leedsId);
    expect(again).toMatchObject({ outcome: 'routed', deliveriesQueued: 2 });
    expect(deliveryQueue.sends[1]?.map((m) => m.id)).toEqual([artsDelivery, mindDelivery]);
  });

  it('when another attempt recorded a decision first, that stored decision is the one used', async () => {
    const earlier: RoutingDecision = {
      decidedAt: '2025-03-04T09:19:00.000Z',
      area: 'LS6',
      areaSource: 'patient-postcode',
      team: { id: 'lw-woodhouse', name: 'Woodhouse link workers' },
      teamReason: 'recorded by the other attempt',
      matches: [],
      // Every need is answered (here as unmet), as in any real decision.
      unmetNeeds: [
        {
          category: 'arts',
          area: 'LS6',
          reason: 'recorded by the other attempt',
          code: 'no-service',
          imd: null,
        },
        {
          category: 'mental-health',
          area: 'LS6',
          reason: 'recorded by the other attempt',
          code: 'no-service',
          imd: null,
        },
      ],
      deliveries: [
        {
          deliveryId: teamDelivery,
          recipient: { kind: 'team', id: 'lw-woodhouse', name: 'Woodhouse link workers' },
          categories: ['arts', 'mental-health'],
          content: 'identifiable',
        },
      ],
    };
    // The store sees this attempt's read as `received`, but the other attempt's write lands first.
    const racing = new InMemoryReferralStore();
    racing.seed(sampleReferral('leeds-arts-and-mental-health'));
    landsFirst(racing, (id, transition) =>
      racing.apply(id, transition, {
        at: earlier.decidedAt,
        changes: { routing: earlier, deliveryStatus: { [teamDelivery]: { status: 'pending' } } },
      }),
    );
    const result = await routeReferral({ ...deps, referrals: racing }, leedsId);
    expect(result).toMatchObject({ outcome: 'routed', deliveriesQueued: 1 });
    // The other attempt's write, then this one's, refused; the re-read found it routed: `already`, no third write.
    expect(racing.calls.apply).toBe(2);
    expect(racing.items.get(leedsId)?.routing).toEqual(earlier);
    expect(audit.entries[0]).toMatchObject({ at: '2025-03-04T09:19:00.000Z', detail: { matches: [] } });
    expect(deliveryQueue.messages.map((m) => m.id)).toEqual([teamDelivery]);
  });

  it('an update that lands between the read and the write: re-read once and route the current needs', async () => {
    landsFirst(referrals, async (id) => amendInPlace(id, { needs: ['arts'] }));
    const result = await routeReferral(deps, leedsId);
    expect(result).toMatchObject({ outcome: 'routed', deliveriesQueued: 2 });
    const stored = referrals.items.get(leedsId);
    expect(stored).toMatchObject({ status: 'routed', version: 2, needs: ['arts'] });
    expect(stored?.routing?.matches.map((m) => m.serviceId)).toEqual(['svc-arts-studio']);
    expect(stored?.deliveryStatus).toEqual({
      [teamDelivery]: { status: 'pending' },
      [artsDelivery]: { status: 'pending' },
    });
    expect(deliveryQueue.messages.map((m) => m.id)).toEqual([teamDelivery, artsDelivery]);
    expect(audit.entries).toHaveLength(1);
  });

  it('refused again after the re-read: throws for SQS to redeliver, without looping', async () => {
    const apply = referrals.apply.bind(referrals);
    referrals.apply = async (id, transition, context) => {
      amendInPlace(id, {});
      return apply(id, transition, context);
    };
    await expect(routeReferral(deps, leedsId)).rejects.toBeInstanceOf(LifecycleConflictError);
    expect(referrals.calls.apply).toBe(2);
    expect(referrals.items.get(leedsId)).toMatchObject({ status: 'received', version: 3 });
    expect(audit.attempts).toBe(0);
    expect(counters.calls).toBe(0);
    expect(deliveryQueue.sends).toEqual([]);
  });

  it('cancelled between the read and the write: skipped, as a referral cancelled before', async () => {
    landsFirst(referrals, async (id) => {
      const item = referrals.items.get(id);
      if (item) item.status = 'cancelled';
    });
    await expect(routeReferral(deps, leedsId)).resolves.toEqual({
      outcome: 'skipped',
      reason: 'referral was cancelled',
    });
    expect(referrals.items.get(leedsId)?.routing).toBeUndefined();
    expect(audit.attempts).toBe(0);
    expect(deliveryQueue.sends).toEqual([]);
  });

  it('skips a cancelled referral without routing, auditing, counting or queueing', async () => {
    referrals.seed(sampleReferral('leeds-arts-and-mental-health', { status: 'cancelled' }));
    const result = await routeReferral(deps, leedsId);
    expect(result).toEqual({ outcome: 'skipped', reason: 'referral was cancelled' });
    expect(referrals.calls.apply).toBe(0);
    expect(audit.attempts).toBe(0);
    expect(counters.calls).toBe(0);
    expect(deliveryQueue.sends).toEqual([]);
  });

  it('throws UnroutableMessageError for a referral that does not exist', async () => {
    await expect(routeReferral(deps, '99999999-9999-4999-8999-999999999999')).rejects.toBeInstanceOf(
      UnroutableMessageError,
    );
    expect(deliveryQueue.sends).toEqual([]);
  });

  it('throws UnroutableMessageError when the practice has left the directory', async () => {
    const snapshot = sampleDirectory();
    snapshot.practices = snapshot.practices.filter((p) => p.ods !== 'A81001');
    await expect(
      routeReferral({ ...deps, directory: new InMemoryDirectory(snapshot) }, leedsId),
    ).rejects.toThrow(/practice A81001 left the directory/);
    expect(referrals.items.get(leedsId)?.status).toBe('received');
  });

  it('counts unmet needs by category and area (Blackpool: no benefits advice in FY1)', async () => {
    const id = referralIds['blackpool-benefits-and-activity'];
    referrals.seed(sampleReferral('blackpool-benefits-and-activity'));
    const result = await routeReferral(deps, id);
    expect(result).toMatchObject({ outcome: 'routed', deliveriesQueued: 2 });
    expect(counters.value('referrals.unmet', { category: 'benefits-advice', area: 'FY1' }, day)).toBe(1);
    // By reason and IMD decile (with its edition) too, for the gap reports.
    expect(
      counters.value(
        'referrals.unmet.classified',
        { category: 'benefits-advice', area: 'FY1', reason: 'no-service', imd: '2019:1' },
        day,
      ),
    ).toBe(1);
    expect(referrals.items.get(id)?.routing?.unmetNeeds).toEqual([
      {
        category: 'benefits-advice',
        area: 'FY1',
        reason:
          'no service in the directory offers benefits-advice in FY1 (LSOA E01012670, local authority E06000009)',
        code: 'no-service',
        lsoa: { code: 'E01012670', vintage: '2011' },
        imd: { edition: '2019', rank: 12, decile: 1 },
      },
    ]);
    expect(counters.value('referrals.matched', { category: 'physical-activity', area: 'FY1' }, day)).toBe(1);
    expect(counters.value('referrals.matched', { category: 'benefits-advice', area: 'FY1' }, day)).toBe(0);
    expect(counters.value('referrals.no-team', { practice: 'B82001' }, day)).toBe(0);
  });

  it('counts a practice without a link-worker team', async () => {
    const snapshot = sampleDirectory();
    snapshot.teams = [];
    const result = await routeReferral({ ...deps, directory: new InMemoryDirectory(snapshot) }, leedsId);
    expect(result).toMatchObject({ outcome: 'routed', deliveriesQueued: 2 });
    expect(counters.value('referrals.no-team', { practice: 'A81001' }, day)).toBe(1);
    expect(referrals.items.get(leedsId)?.routing?.noTeam).toMatchObject({ code: 'no-link-worker-team' });
  });
});

describe('routeReferral with weekly limits', () => {
  /** Blackpool referrals for debt advice (svc-money-advice, limit 25 a week), each with its own id. */
  const debtReferral = (n: number, receivedAt = '2025-03-04T09:15:00.000Z'): string => {
    const id = `44444444-4444-4444-8444-${String(n).padStart(12, '0')}`;
    referrals.seed(
      sampleReferral('blackpool-benefits-and-activity', {
        referralId: id,
        needs: ['debt-advice'],
        receivedAt,
      }),
    );
    return id;
  };
  const chosen = (id: string) => referrals.items.get(id)?.routing?.matches.map((m) => m.serviceId) ?? [];

  it('the limit rules a service out once that many referrals were matched to it that week, and not the next week', async () => {
    for (let n = 1; n <= 25; n++) await routeReferral(deps, debtReferral(n));
    expect(counters.value('services.matched', { service: 'svc-money-advice' }, '2025-W10')).toBe(25);
    const over = debtReferral(26);
    await routeReferral(deps, over);
    expect(chosen(over)).toEqual([]);
    const need = referrals.items.get(over)?.routing?.needs?.[0];
    expect(need?.candidates.map((c) => [c.serviceId, c.rule])).toEqual([
      ['svc-money-advice', 'weekly-limit-reached'],
    ]);
    expect(need?.unmet?.code).toBe('all-full-or-paused');
    // A referral received the next Monday is in a new week.
    const nextWeek = debtReferral(27, '2025-03-10T08:00:00.000Z');
    await routeReferral(deps, nextWeek);
    expect(chosen(nextWeek)).toEqual(['svc-money-advice']);
    expect(serviceLoad.reads.at(-1)).toEqual({ serviceIds: ['svc-money-advice'], week: '2025-W11' });
  });

  it('a referral routed again (redelivered) counts once, so it does not use up a second place', async () => {
    const id = debtReferral(1);
    await routeReferral(deps, id);
    await routeReferral(deps, id);
    await routeReferral(deps, id);
    expect(counters.value('services.matched', { service: 'svc-money-advice' }, '2025-W10')).toBe(1);
  });

  it('a need added by an update may use the service the referral already holds a place at, even at the limit', async () => {
    const snapshot = sampleDirectory();
    snapshot.services = snapshot.services.map((s) =>
      s.id === 'svc-money-advice' ? { ...s, categories: ['debt-advice', 'benefits-advice'] } : s,
    );
    const limited = { ...deps, directory: new InMemoryDirectory(snapshot) };
    const holder = debtReferral(100);
    await routeReferral(limited, holder);
    for (let n = 1; n <= 24; n++) await routeReferral(limited, debtReferral(n));
    expect(counters.value('services.matched', { service: 'svc-money-advice' }, '2025-W10')).toBe(25);
    // An update adds benefits advice, which the same service offers: re-routed, it matches there.
    amendInPlace(holder, { needs: ['debt-advice', 'benefits-advice'] });
    await routeReferral(limited, holder);
    expect(referrals.items.get(holder)?.routing?.matches.map((m) => [m.category, m.serviceId])).toEqual([
      ['debt-advice', 'svc-money-advice'],
      ['benefits-advice', 'svc-money-advice'],
    ]);
    expect(counters.value('services.matched', { service: 'svc-money-advice' }, '2025-W10')).toBe(25);
    // Another referral for benefits advice now finds it at its limit.
    const other = debtReferral(101);
    amendInPlace(other, { needs: ['benefits-advice'] });
    await routeReferral(limited, other);
    expect(referrals.items.get(other)?.routing?.unmetNeeds.map((u) => u.code)).toEqual([
      'all-full-or-paused',
    ]);
  });

  it('no weekly count is read when no candidate has a weekly limit', async () => {
    await routeReferral(deps, leedsId);
    expect(serviceLoad.reads).toEqual([]);
  });
});

describe('routingCounts', () => {
  it('is empty for a referral without a decision', () => {
    expect(routingCounts(sampleReferral('leeds-arts-and-mental-health'))).toEqual([]);
  });

  it('never carries patient identifiers in names or dimensions', async () => {
    await routeReferral(deps, leedsId);
    const routed = referrals.items.get(leedsId) as Referral;
    const text = JSON.stringify(routingCounts(routed));
    for (const identifier of ['9995260182', 'Alex', 'Testpatient', 'LS6 1AA', '1961-04-12']) {
      expect(text).not.toContain(identifier);
    }
  });
});
