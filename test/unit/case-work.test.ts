import { beforeEach, describe, expect, it } from 'vitest';
import { routeReferral, type RouteReferralDeps } from '#matching/application/route-referral.ts';
import {
  actOnPartnerOffer,
  actOnTeamReferral,
  changeTeamReferralPartners,
  listPartnerOffers,
  listTeamReferrals,
  partnerOfferView,
  teamReferralView,
  type CaseWorkDeps,
} from '#referral/application/case-work.ts';
import {
  ConflictError,
  LifecycleConflictError,
  NotFoundError,
  UnprocessableError,
  ValidationError,
} from '#kernel/errors.ts';
import { queueMessages } from '#messages/queue.ts';
import type { NoticeMessage } from '#messages/notice-message.ts';
import { offerIdFor } from '#referral/domain/offer.ts';
import { serviceRequestResource } from '#fhir/outbound/service-request.ts';
import type { FakeClock, InMemoryAuditLog, InMemoryMetricCounters } from './fakes.ts';
import { InMemoryReferralStore, RecordingQueue } from './fakes.ts';
import { InMemoryOfferStore } from './fakes-offers.ts';
import { InMemoryFigures } from './fakes-figures.ts';
import { referralIds, sampleReferral, sampleRequest } from './fixtures.ts';
import { routedCase } from './routed-case.ts';
import { amendReferral, cancelReferral } from '#referral/application/amend-or-cancel-referral.ts';

// The case-work use cases on the fakes: offers made at routing, the link worker's and the partner's worklists and
// actions, and a partner's decline going to the next match or back to the link worker; each safe to repeat.

const id = referralIds['leeds-arts-and-mental-health'];
const team = { organisation: 'lw-woodhouse', subject: 'lw-user-1' };
const pantry = { organisation: 'woodhouse-pantry', subject: 'pantry-user' };
const parcels = { organisation: 'advice-leeds', subject: 'advice-user' };
const arts = { organisation: 'arts-for-all', subject: 'arts-user' };
const pantryOffer = offerIdFor(id, 'food', 'svc-pantry-woodhouse');
const parcelsOffer = offerIdFor(id, 'food', 'svc-food-parcels');
const artsOffer = offerIdFor(id, 'arts', 'svc-arts-studio');

let referrals: InMemoryReferralStore;
let offers: InMemoryOfferStore;
let audit: InMemoryAuditLog;
let counters: InMemoryMetricCounters;
let notices: RecordingQueue<NoticeMessage>;
let clock: FakeClock;
let route: RouteReferralDeps;
let deps: CaseWorkDeps;

beforeEach(async () => {
  // Food has two fitting services in LS6 (the pantry by LSOA, chosen; food parcels by district); arts has one.
  ({ referrals, offers, audit, counters, notices, clock, route, deps } = await routedCase(['food', 'arts']));
  clock.advance(60 * 60 * 1000);
});

const body = (fields: Record<string, unknown>) => () => fields;

describe('offers made at routing', () => {
  it('one offer per need matched, with its deadline, listed for its partner; a redelivery makes nothing twice', async () => {
    const made = await offers.ofReferral(id);
    expect(made.map((o) => [o.offerId, o.partnerId, o.state, o.version])).toEqual([
      [artsOffer, 'arts-for-all', 'offered', 1],
      [pantryOffer, 'woodhouse-pantry', 'offered', 1],
    ]);
    // Five working days (the services' default) from Tuesday 4 March: Tuesday 11 March.
    expect(made[0]).toMatchObject({
      offeredAt: '2025-03-04T09:20:00.000Z',
      deadline: '2025-03-11T09:20:00.000Z',
      content: 'identifiable',
      deliveryId: `${id}.partner.arts-for-all`,
    });
    expect(made[0]?.view.patient?.name).toEqual({ given: 'Alex', family: 'Testpatient' });
    expect(made[0]?.view.patient?.nhsNumber).toBeUndefined();

    await routeReferral(route, id);
    expect(await offers.ofReferral(id)).toEqual(made);
    expect(audit.forReferral(id).filter((e) => e.action === 'offer.made')).toHaveLength(2);
    expect(counters.value('offers.made', { partner: 'arts-for-all', category: 'arts' }, '2025-03-04')).toBe(
      1,
    );
  });

  it('the deadline is capped by when the referrer needs an answer', async () => {
    referrals = new InMemoryReferralStore();
    offers = new InMemoryOfferStore();
    referrals.seed(
      sampleReferral('leeds-arts-and-mental-health', {
        needs: ['arts'],
        respondBy: '2025-03-06T17:00:00.000Z',
      }),
    );
    await routeReferral({ ...route, referrals, offers: { store: offers, services: deps.services } }, id);
    expect((await offers.ofReferral(id))[0]?.deadline).toBe('2025-03-06T17:00:00.000Z');
  });
});

describe("the link worker's worklist and actions", () => {
  it("lists the team's referrals only, by status", async () => {
    const page = await listTeamReferrals(deps, team.organisation, {});
    expect(page.items.map((r) => [r.referralId, r.status])).toEqual([[id, 'routed']]);
    expect(page.items[0]?.patientName).toEqual({ given: 'Alex', family: 'Testpatient' });
    expect((await listTeamReferrals(deps, team.organisation, { status: 'accepted' })).items).toEqual([]);
    expect((await listTeamReferrals(deps, 'lw-blackpool', {})).items).toEqual([]);
    await expect(listTeamReferrals(deps, team.organisation, { status: 'lost' })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(listTeamReferrals(deps, team.organisation, { limit: '0' })).rejects.toBeInstanceOf(
      ValidationError,
    );
  });

  it('shows the referral at the direct-care level with its offers and what may be done', async () => {
    const view = await teamReferralView(deps, team.organisation, id);
    expect(view).toMatchObject({ status: 'routed', version: 1, actions: ['accept', 'decline'] });
    expect(view.details.patient?.nhsNumber).toBe('9995260182');
    expect(view.offers.map((o) => o.offerId)).toEqual([artsOffer, pantryOffer]);
    await expect(teamReferralView(deps, 'lw-blackpool', id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('accept applies once, audited and counted; the same accept again answers the same and counts nothing', async () => {
    const view = await actOnTeamReferral(deps, team, id, 'accept', body({ version: 1 }));
    expect(view).toMatchObject({ status: 'accepted', version: 1, actions: ['decline', 'contact', 'close'] });
    expect(view.caseWork.acceptance).toEqual({ at: '2025-03-04T10:20:00.000Z', by: 'lw-user-1' });
    clock.advance(1000);
    const again = await actOnTeamReferral(deps, team, id, 'accept', body({ version: 1 }));
    expect(again.caseWork.acceptance).toEqual(view.caseWork.acceptance);
    expect(audit.forReferral(id).filter((e) => e.action === 'referral.accepted')).toHaveLength(1);
    expect(counters.value('referrals.accepted', { team: 'lw-woodhouse' }, '2025-03-04')).toBe(1);
    expect((await listTeamReferrals(deps, team.organisation, { status: 'accepted' })).items).toHaveLength(1);
  });

  it('a stale version (the practice updated it since) is 409 naming the state and version; nothing changes', async () => {
    const item = referrals.items.get(id);
    if (item) item.version = 2;
    const error = await actOnTeamReferral(deps, team, id, 'accept', body({ version: 1 })).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LifecycleConflictError);
    expect(error).toMatchObject({ reason: 'stale', state: 'routed', version: 2 });
    expect((await referrals.get(id))?.status).toBe('routed');
  });

  it('an action not allowed in the state is 409; a bad body is 400; another team is 404 whatever the body', async () => {
    await expect(actOnTeamReferral(deps, team, id, 'start', body({ version: 1 }))).rejects.toMatchObject({
      reason: 'invalid',
      state: 'routed',
    });
    await expect(actOnTeamReferral(deps, team, id, 'accept', body({}))).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(
      actOnTeamReferral(deps, team, id, 'decline', body({ version: 1, reason: 'other' })),
    ).rejects.toBeInstanceOf(ValidationError);
    const other = { organisation: 'lw-blackpool', subject: 'x' };
    await expect(actOnTeamReferral(deps, other, id, 'accept', body({}))).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it('an attempted contact sent again with its Idempotency-Key is the same attempt; without one, another', async () => {
    await actOnTeamReferral(deps, team, id, 'accept', body({ version: 1 }));
    const attempt = { version: 1, outcome: 'attempted', channel: 'phone' };
    await actOnTeamReferral(deps, team, id, 'contact', body(attempt), 'attempt-1');
    clock.advance(1000);
    const again = await actOnTeamReferral(deps, team, id, 'contact', body(attempt), 'attempt-1');
    expect(again.caseWork.lastContactAttempt).toMatchObject({
      at: '2025-03-04T10:20:00.000Z',
      key: 'attempt-1',
    });
    const attempts = () => audit.forReferral(id).filter((e) => e.action === 'referral.contact-attempted');
    expect(attempts()).toHaveLength(1);
    expect(
      counters.value('referrals.contact-attempted', { team: 'lw-woodhouse', channel: 'phone' }, '2025-03-04'),
    ).toBe(1);
    await actOnTeamReferral(deps, team, id, 'contact', body(attempt), 'attempt-2');
    expect(attempts()).toHaveLength(2);
    expect(
      counters.value('referrals.contact-attempted', { team: 'lw-woodhouse', channel: 'phone' }, '2025-03-04'),
    ).toBe(2);
  });

  it('contact, start and close move the case on; closing withdraws the offers still open', async () => {
    await actOnTeamReferral(deps, team, id, 'accept', body({ version: 1 }));
    const attempted = await actOnTeamReferral(
      deps,
      team,
      id,
      'contact',
      body({ version: 1, outcome: 'attempted', channel: 'phone' }),
    );
    expect(attempted.status).toBe('accepted');
    expect(attempted.caseWork.lastContactAttempt).toMatchObject({ channel: 'phone' });
    await actOnTeamReferral(
      deps,
      team,
      id,
      'contact',
      body({ version: 1, outcome: 'made', channel: 'phone' }),
    );
    await actOnTeamReferral(deps, team, id, 'start', body({ version: 1 }));
    const closed = await actOnTeamReferral(
      deps,
      team,
      id,
      'close',
      body({ version: 1, reason: 'completed' }),
    );
    expect(closed.status).toBe('closed');
    expect(closed.caseWork.closure).toMatchObject({ reason: 'completed', code: '1362721000000106' });
    // The practice reading its ServiceRequest sees it completed.
    const stored = await referrals.get(id);
    expect(stored && serviceRequestResource(stored).status).toBe('completed');
    expect(closed.offers.map((o) => o.state)).toEqual(['withdrawn', 'withdrawn']);
    // Each partner is told its offer is withdrawn.
    expect(
      notices.messages
        .filter((m) => m.body.kind === 'withdrawn')
        .map((m) => m.body.deliveryId)
        .sort(),
    ).toEqual([`${id}.partner.arts-for-all`, `${id}.partner.woodhouse-pantry`]);
    expect(
      counters.value('referrals.closed', { team: 'lw-woodhouse', reason: 'completed' }, '2025-03-04'),
    ).toBe(1);
    expect(audit.forReferral(id).map((e) => e.action)).toEqual(
      expect.arrayContaining([
        'referral.contact-attempted',
        'referral.contacted',
        'referral.intervention-started',
        'referral.closed',
        'offer.withdrawn',
      ]),
    );
  });
});

describe("the partner's worklist and actions", () => {
  it("lists the partner's own offers, and shows one at its content level; another partner's is 404", async () => {
    const page = await listPartnerOffers(deps, pantry.organisation, {});
    expect(page.items.map((o) => [o.offerId, o.state])).toEqual([[pantryOffer, 'offered']]);
    expect(JSON.stringify(page)).not.toContain('Testpatient');
    const view = await partnerOfferView(deps, pantry.organisation, pantryOffer);
    expect(view).toMatchObject({ state: 'offered', actions: ['accept', 'decline'] });
    expect(view.referral.patient?.name.family).toBe('Testpatient');
    expect(view.referral.patient?.nhsNumber).toBeUndefined();
    expect(view.referral.patient?.reasonForReferral).toBeUndefined();
    await expect(partnerOfferView(deps, arts.organisation, pantryOffer)).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(actOnPartnerOffer(deps, arts, pantryOffer, 'accept', body({}))).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it('accept, contact, start and close: each once, audited and counted by partner and need', async () => {
    await actOnPartnerOffer(deps, arts, artsOffer, 'accept', body({ version: 1 }));
    await actOnPartnerOffer(deps, arts, artsOffer, 'accept', body({ version: 1 }));
    await actOnPartnerOffer(
      deps,
      arts,
      artsOffer,
      'contact',
      body({ version: 1, outcome: 'made', channel: 'email' }),
    );
    await actOnPartnerOffer(deps, arts, artsOffer, 'start', body({ version: 1 }));
    const closed = await actOnPartnerOffer(
      deps,
      arts,
      artsOffer,
      'close',
      body({ version: 1, reason: 'completed' }),
    );
    expect(closed.state).toBe('closed');
    expect(
      counters.value('offers.accepted', { partner: 'arts-for-all', category: 'arts' }, '2025-03-04'),
    ).toBe(1);
    expect(
      audit
        .forReferral(id)
        .filter((e) => e.eventKey.startsWith(`offer.${artsOffer}.`))
        .map((e) => e.action),
    ).toEqual([
      'offer.made',
      'offer.accepted',
      'offer.contacted',
      'offer.intervention-started',
      'offer.closed',
    ]);
  });

  it('a decline offers the need to the next fitting service, which its partner is told of; a retry offers nothing twice', async () => {
    notices.sends.length = 0;
    const declined = await actOnPartnerOffer(
      deps,
      pantry,
      pantryOffer,
      'decline',
      body({ version: 1, reason: 'no-capacity' }),
    );
    expect(declined).toMatchObject({ state: 'declined', caseWork: { decline: { reason: 'no-capacity' } } });
    // The partner that said no is shown nothing identifiable any more.
    expect(declined.referral.patient).toBeUndefined();

    const next = await offers.get(id, parcelsOffer);
    expect(next).toMatchObject({ partnerId: 'advice-leeds', state: 'offered', follows: pantryOffer });
    const referral = await referrals.get(id);
    expect(referral?.deliveryStatus?.[`${id}.partner.advice-leeds`]).toEqual({ status: 'pending' });
    expect(referral?.routing?.deliveries.map((d) => d.deliveryId)).toContain(`${id}.partner.advice-leeds`);
    expect(referral?.routing?.revision).toBe(1);
    // The team hears of the decline (the lifecycle's notice), the next partner of its offer.
    expect(notices.messages.map((m) => m.body)).toEqual([
      { referralId: id, deliveryId: `${id}.team.lw-woodhouse`, kind: 'offer-declined', offerId: pantryOffer },
      { referralId: id, deliveryId: `${id}.partner.advice-leeds`, kind: 'assigned' },
    ]);
    expect((await listPartnerOffers(deps, parcels.organisation, {})).items.map((o) => o.offerId)).toEqual([
      parcelsOffer,
    ]);

    await actOnPartnerOffer(
      deps,
      pantry,
      pantryOffer,
      'decline',
      body({ version: 1, reason: 'no-capacity' }),
    );
    expect((await offers.ofReferral(id)).map((o) => o.offerId)).toEqual([
      artsOffer,
      pantryOffer,
      parcelsOffer,
    ]);
    expect((await referrals.get(id))?.routing?.revision).toBe(1);
    expect(
      counters.value(
        'offers.declined',
        { partner: 'woodhouse-pantry', category: 'food', reason: 'no-capacity' },
        '2025-03-04',
      ),
    ).toBe(1);
  });

  it('a decline with no fitting service left returns the need to the link worker, with the reason, once', async () => {
    await actOnPartnerOffer(deps, arts, artsOffer, 'decline', body({ version: 1, reason: 'not-eligible' }));
    await actOnPartnerOffer(deps, arts, artsOffer, 'decline', body({ version: 1, reason: 'not-eligible' }));
    const view = await teamReferralView(deps, team.organisation, id);
    expect(view.returnedNeeds).toEqual([
      expect.objectContaining({
        category: 'arts',
        offerId: artsOffer,
        partnerId: 'arts-for-all',
        declineReason: 'not-eligible',
      }),
    ]);
    expect(view.returnedNeeds[0]?.reason).toMatch(/no other fitting service/);
    expect((await offers.ofReferral(id)).filter((o) => o.category === 'arts')).toHaveLength(1);
    expect(audit.forReferral(id).filter((e) => e.action === 'referral.need-returned')).toHaveLength(1);
    expect(notices.messages.map((m) => m.body).filter((b) => b.kind === 'need-returned')).toContainEqual({
      referralId: id,
      deliveryId: `${id}.team.lw-woodhouse`,
      kind: 'need-returned',
      offerId: artsOffer,
    });
    expect((await listTeamReferrals(deps, team.organisation, {})).items[0]?.returnedNeeds).toBe(1);
  });

  it('the second partner declining too returns the need, naming the last decline', async () => {
    await actOnPartnerOffer(
      deps,
      pantry,
      pantryOffer,
      'decline',
      body({ version: 1, reason: 'no-capacity' }),
    );
    await actOnPartnerOffer(
      deps,
      parcels,
      parcelsOffer,
      'decline',
      body({ version: 1, reason: 'other', text: 'Closed for refurbishment' }),
    );
    const view = await teamReferralView(deps, team.organisation, id);
    expect(view.returnedNeeds.map((n) => [n.category, n.offerId, n.declineReason])).toEqual([
      ['food', parcelsOffer, 'other'],
    ]);
  });
});

describe("the link worker's hand on the decision", () => {
  const parcelsByHand = offerIdFor(id, 'food', 'svc-food-parcels');
  const printmaking = offerIdFor(id, 'arts', 'svc-arts-printmaking');

  it('re-route offers a need to the chosen service and withdraws the open offers for it; again changes nothing', async () => {
    notices.sends.length = 0;
    const view = await changeTeamReferralPartners(
      deps,
      team,
      id,
      're-route',
      body({ version: 1, category: 'food', serviceId: 'svc-food-parcels' }),
    );
    expect(view.offers.map((o) => [o.offerId, o.state])).toEqual([
      [artsOffer, 'offered'],
      [pantryOffer, 'withdrawn'],
      [parcelsByHand, 'offered'],
    ]);
    expect((await referrals.get(id))?.deliveryStatus?.[`${id}.partner.advice-leeds`]).toEqual({
      status: 'pending',
    });
    expect(notices.messages.map((m) => [m.body.deliveryId, m.body.kind])).toEqual([
      [`${id}.partner.woodhouse-pantry`, 'withdrawn'],
      [`${id}.partner.advice-leeds`, 'assigned'],
    ]);
    expect(audit.forReferral(id).map((e) => e.action)).toEqual(
      expect.arrayContaining(['offer.withdrawn', 'referral.rerouted']),
    );
    const again = await changeTeamReferralPartners(
      deps,
      team,
      id,
      're-route',
      body({ version: 1, category: 'food', serviceId: 'svc-food-parcels' }),
    );
    expect(again.offers).toEqual(view.offers);
  });

  it('add-partner offers a need to one more service; the open offers stay', async () => {
    notices.sends.length = 0;
    const view = await changeTeamReferralPartners(
      deps,
      team,
      id,
      'add-partner',
      body({ version: 1, category: 'arts', serviceId: 'svc-arts-printmaking' }),
    );
    expect(view.offers.filter((o) => o.category === 'arts').map((o) => [o.offerId, o.state])).toEqual([
      [artsOffer, 'offered'],
      [printmaking, 'offered'],
    ]);
    expect((await offers.get(id, printmaking))?.partnerId).toBe('arts-for-all');
    // Arts for All already holds the referral (its studio's offer): it is told of the new offer by a notice of its
    // own, not by a second `assigned` on the delivery it has.
    expect(notices.messages.map((m) => [m.id, m.body.kind, m.body.offerId])).toEqual([
      [`${id}.partner.arts-for-all.offered.${printmaking}`, 'offered', printmaking],
    ]);
  });

  it('remove-partner withdraws the offer and tells its partner; again changes nothing', async () => {
    notices.sends.length = 0;
    const view = await changeTeamReferralPartners(
      deps,
      team,
      id,
      'remove-partner',
      body({ version: 1, offerId: artsOffer }),
    );
    expect(view.offers.find((o) => o.offerId === artsOffer)?.state).toBe('withdrawn');
    expect((await partnerOfferView(deps, arts.organisation, artsOffer)).referral.patient).toBeUndefined();
    expect(notices.messages.map((m) => m.body.kind)).toEqual(['withdrawn']);
    await changeTeamReferralPartners(
      deps,
      team,
      id,
      'remove-partner',
      body({ version: 1, offerId: artsOffer }),
    );
    expect(audit.forReferral(id).filter((e) => e.action === 'offer.withdrawn')).toHaveLength(1);
  });

  it("refuses a need not the referral's, a service not offering it, a stale version, a service whose offer ended", async () => {
    const choose = (fields: Record<string, unknown>) =>
      changeTeamReferralPartners(deps, team, id, 'add-partner', body({ version: 1, ...fields }));
    await expect(choose({ category: 'befriending', serviceId: 'svc-befriending' })).rejects.toBeInstanceOf(
      UnprocessableError,
    );
    await expect(choose({ category: 'food', serviceId: 'svc-arts-studio' })).rejects.toBeInstanceOf(
      UnprocessableError,
    );
    await expect(choose({ category: 'food', serviceId: 'svc-none' })).rejects.toBeInstanceOf(
      UnprocessableError,
    );
    await expect(
      changeTeamReferralPartners(
        deps,
        team,
        id,
        'add-partner',
        body({ version: 3, category: 'food', serviceId: 'svc-food-parcels' }),
      ),
    ).rejects.toMatchObject({ reason: 'stale', version: 1 });
    await actOnPartnerOffer(
      deps,
      pantry,
      pantryOffer,
      'decline',
      body({ version: 1, reason: 'no-capacity' }),
    );
    await expect(choose({ category: 'food', serviceId: 'svc-pantry-woodhouse' })).rejects.toBeInstanceOf(
      ConflictError,
    );
    await expect(
      changeTeamReferralPartners(
        deps,
        { organisation: 'lw-blackpool', subject: 'x' },
        id,
        'add-partner',
        body({}),
      ),
    ).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      changeTeamReferralPartners(deps, team, id, 'remove-partner', body({ version: 1, offerId: 'nope' })),
    ).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe("the practice's update and cancellation reach the offers", () => {
  const lifecycle = () => ({
    referrals,
    audit,
    counters,
    figures: new InMemoryFigures(),
    routingQueue: new RecordingQueue(queueMessages.referrals),
    deliveryQueue: notices,
    clock,
    offers,
  });
  const update = () =>
    amendReferral(lifecycle(), {
      referralId: id,
      request: { ...sampleRequest('leeds-arts-and-mental-health'), needs: ['food', 'arts'] },
      messageAt: '2025-03-04T10:30:00Z',
      // The same message twice: a retry, which must move no offer twice.
      messageId: 'update-1',
      actor: 'practice:A81001',
    });

  it('an update moves each open offer on a version, so a partner acting on what it read before is refused as stale', async () => {
    await update();
    await update();
    expect((await offers.ofReferral(id)).map((o) => [o.version, o.referralVersion])).toEqual([
      [2, 2],
      [2, 2],
    ]);
    await expect(
      actOnPartnerOffer(deps, arts, artsOffer, 'accept', body({ version: 1 })),
    ).rejects.toMatchObject({
      reason: 'stale',
      version: 2,
    });
    expect((await actOnPartnerOffer(deps, arts, artsOffer, 'accept', body({ version: 2 }))).state).toBe(
      'accepted',
    );
  });

  it('needs added after the team took it on are still matched and offered; a late routing message is a repeat', async () => {
    await actOnTeamReferral(deps, team, id, 'accept', body({ version: 1 }));
    const routingQueue = new RecordingQueue(queueMessages.referrals);
    await amendReferral(
      { ...lifecycle(), routingQueue },
      {
        referralId: id,
        request: {
          ...sampleRequest('leeds-arts-and-mental-health'),
          needs: ['food', 'arts', 'mental-health'],
        },
        messageAt: '2025-03-04T10:30:00Z',
        actor: 'practice:A81001',
      },
    );
    expect(routingQueue.messages).toHaveLength(1);
    const result = await routeReferral(route, id);
    expect(result.outcome).toBe('routed');
    const made = await offers.ofReferral(id);
    expect(made.map((o) => o.category)).toContain('mental-health');
    expect((await referrals.get(id))?.status).toBe('accepted');
    // The same message again changes nothing.
    await routeReferral(route, id);
    expect(await offers.ofReferral(id)).toEqual(made);
  });

  it('a routing message for a referral its team ended is skipped', async () => {
    await actOnTeamReferral(deps, team, id, 'decline', body({ version: 1, reason: 'not-eligible' }));
    expect(await routeReferral(route, id)).toEqual({ outcome: 'skipped', reason: 'referral is declined' });
  });

  it('a cancellation withdraws the open offers; a partner can then act on none', async () => {
    await cancelReferral(lifecycle(), {
      referralId: id,
      practiceOds: 'A81001',
      reason: 'revoked',
      messageAt: '2025-03-04T10:30:00Z',
      actor: 'practice:A81001',
    });
    expect((await offers.ofReferral(id)).map((o) => o.state)).toEqual(['withdrawn', 'withdrawn']);
    expect(audit.forReferral(id).filter((e) => e.action === 'offer.cancelled')).toHaveLength(2);
    await expect(
      actOnPartnerOffer(deps, arts, artsOffer, 'accept', body({ version: 1 })),
    ).rejects.toMatchObject({
      reason: 'invalid',
    });
    expect((await partnerOfferView(deps, arts.organisation, artsOffer)).referral.patient).toBeUndefined();
  });
});

describe('an action decided on a view that has moved on (`state` in the body)', () => {
  it("a partner's decline decided on `offered` is refused once a colleague accepted; the accept retried is not", async () => {
    await actOnPartnerOffer(deps, pantry, pantryOffer, 'accept', body({ version: 1, state: 'offered' }));
    // The colleague's page still showed `offered`: the version did not move (state changes leave it), the view did.
    const error = await actOnPartnerOffer(
      deps,
      { ...pantry, subject: 'pantry-colleague' },
      pantryOffer,
      'decline',
      body({ version: 1, state: 'offered', reason: 'no-capacity' }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LifecycleConflictError);
    expect((error as LifecycleConflictError).message).toContain(
      'offer is accepted (version 1), not offered as the caller saw it',
    );
    expect((await offers.get(id, pantryOffer))?.state).toBe('accepted');
    // The accept itself sent again with the state it was decided on: the caller's own action, already done.
    const again = await actOnPartnerOffer(
      deps,
      pantry,
      pantryOffer,
      'accept',
      body({ version: 1, state: 'offered' }),
    );
    expect(again.state).toBe('accepted');
    // Without `state`, as before: the version alone decides (decline is allowed from accepted).
    const declined = await actOnPartnerOffer(
      deps,
      pantry,
      pantryOffer,
      'decline',
      body({ version: 1, reason: 'patient-unreachable' }),
    );
    expect(declined.state).toBe('declined');
  });

  it("a link worker's decline decided on `routed` is refused once the team accepted", async () => {
    await actOnTeamReferral(deps, team, id, 'accept', body({ version: 1, state: 'routed' }));
    const error = await actOnTeamReferral(
      deps,
      { ...team, subject: 'lw-user-2' },
      id,
      'decline',
      body({ version: 1, state: 'routed', reason: 'not-eligible' }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LifecycleConflictError);
    expect((error as LifecycleConflictError).message).toContain(
      'referral is accepted (version 1), not routed',
    );
    expect((await referrals.get(id))?.status).toBe('accepted');
  });

  it('an unknown state is refused as a bad request, naming the field', async () => {
    const error = await actOnTeamReferral(
      deps,
      team,
      id,
      'accept',
      body({ version: 1, state: 'shelved' }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(JSON.stringify((error as ValidationError).problems)).toContain('state');
  });
});
