import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalAws } from '../../infra/local/local-aws.ts';
import type { WebhookReceiver } from '../../infra/local/webhook-receiver.ts';
import type { Caller } from '#auth/caller.ts';
import { referralIdFor } from '#kernel/ids.ts';
import { offerIdFor } from '#referral/domain/offer.ts';
import type { PartnerOfferView, TeamReferralView } from '#referral/application/case-work.ts';
import {
  apiEvent,
  auditOf,
  contextFor,
  counter,
  gpSystem,
  receiveAll,
  sampleReferral,
  sqsEvent,
  storedReferral,
  startHandlerRig,
  type ApiHandler,
  type HandlerRig,
  type SqsHandler,
} from '../support/local.ts';

// Link workers' and partners' case work through the real case-work handler, against real local DynamoDB and SQS
// (the sample directory and geography seeded), with the intake, router and notifier handlers driven by hand and a
// real webhook receiver: accept; decline then re-offer to the next match (delivered by the notifier); decline with
// no match left returning the need to the link worker; a stale version is 409; another organisation's is 404.

let aws: LocalAws;
let receiver: WebhookReceiver;
let intake: ApiHandler;
let router: SqsHandler;
let notifier: SqsHandler;
let caseWork: ApiHandler;
let rig: HandlerRig;

beforeAll(async () => {
  rig = await startHandlerRig();
  ({ aws, receiver, intake, router, notifier } = rig);
  await aws.seedGeography();
  caseWork = ((await import('../../functions/case-work/handler.ts')) as { handler: ApiHandler }).handler;
});
afterAll(() => rig?.stop());

const linkWorker = (team = 'lw-woodhouse'): Caller => ({
  subject: `it-link-worker-${team}`,
  role: 'link-worker',
  organisations: [team],
});
const partner = (id: string): Caller => ({
  subject: `it-partner-${id}`,
  role: 'partner',
  organisations: [id],
});

async function call(
  caller: Caller,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<APIGatewayProxyResult> {
  return caseWork(apiEvent(method, path, body ?? '', {}, caller), contextFor('caseWork'));
}
const ok = <T>(response: APIGatewayProxyResult): T => {
  expect(response.statusCode, response.body).toBe(200);
  return JSON.parse(response.body) as T;
};
const outcomeOf = (response: APIGatewayProxyResult, status: number) => {
  expect(response.statusCode, response.body).toBe(status);
  const outcome = JSON.parse(response.body) as {
    resourceType: string;
    issue: Array<{ diagnostics: string }>;
  };
  expect(outcome.resourceType).toBe('OperationOutcome');
  return outcome.issue.map((i) => i.diagnostics).join(' ');
};

/** Routes what is on the referrals queue. */
async function routeQueued(): Promise<void> {
  const messages = await receiveAll(aws, aws.queues.referrals.url);
  expect((await router(sqsEvent('referrals', messages), contextFor('router'))).batchItemFailures).toEqual([]);
}
/**
 * Delivers what is on the notifications queue; returns the delivery ids of the team's and partners' notices, each
 * delivered. The messages back to the practice that the same actions queue are left to their own tests.
 */
async function deliverQueued(): Promise<string[]> {
  const messages = await receiveAll(aws, aws.queues.notifications.url);
  const ours = (m: { Body?: string }) =>
    (JSON.parse(m.Body ?? '{}') as { kind?: string }).kind !== 'practice-response';
  const { batchItemFailures } = await notifier(sqsEvent('notifications', messages), contextFor('notifier'));
  const failed = new Set(batchItemFailures.map((f) => f.itemIdentifier));
  expect(messages.filter((m) => ours(m) && failed.has(m.MessageId ?? '')).map((m) => m.Body)).toEqual([]);
  return messages
    .filter(ours)
    .map((m) => (JSON.parse(m.Body ?? '{}') as { deliveryId: string }).deliveryId)
    .sort();
}

/** A Leeds referral for food (two fitting services: the pantry by LSOA, food parcels by district) and arts (one). */
async function submitFoodAndArts(): Promise<string> {
  const body = { ...sampleReferral('leeds-arts-and-mental-health'), needs: ['food', 'arts'] };
  const response = await intake(apiEvent('POST', '/referrals', body), contextFor('intake'));
  expect(response.statusCode, response.body).toBe(202);
  const { referralId } = JSON.parse(response.body) as { referralId: string };
  await routeQueued();
  expect(await deliverQueued()).toEqual(
    [
      `${referralId}.partner.arts-for-all`,
      `${referralId}.partner.woodhouse-pantry`,
      `${referralId}.team.lw-woodhouse`,
    ].sort(),
  );
  return referralId;
}

describe('case work on the local stack', () => {
  let id = '';
  beforeAll(async () => {
    id = await submitFoodAndArts();
  });

  it('routing stored one offer per match, listed on each partner worklist; the team lists the referral', async () => {
    const list = ok<{ items: Array<{ offerId: string; state: string }> }>(
      await call(partner('woodhouse-pantry'), 'GET', '/partner/offers?status=offered'),
    );
    expect(list.items.map((o) => [o.offerId, o.state])).toContainEqual([
      offerIdFor(id, 'food', 'svc-pantry-woodhouse'),
      'offered',
    ]);
    const team = ok<{ items: Array<{ referralId: string; status: string }> }>(
      await call(linkWorker(), 'GET', '/team/referrals?status=routed&limit=10'),
    );
    expect(team.items.map((r) => r.referralId)).toContain(id);
    expect(
      ok<{ items: unknown[] }>(await call(linkWorker('lw-blackpool'), 'GET', '/team/referrals')).items,
    ).toEqual([]);
  });

  it('the link worker accepts: the referral moves on, is audited and counted, and the worklist follows', async () => {
    const view = ok<TeamReferralView>(
      await call(linkWorker(), 'POST', `/team/referrals/${id}/accept`, { version: 1 }),
    );
    expect(view).toMatchObject({ referralId: id, status: 'accepted', version: 1 });
    expect((await storedReferral(aws, id))?.status).toBe('accepted');
    expect((await auditOf(aws, id)).map((a) => a.action)).toContain('referral.accepted');
    const day = view.caseWork.acceptance?.at.slice(0, 10) ?? '';
    expect(
      await counter(aws, { name: 'referrals.accepted', dimensions: { team: 'lw-woodhouse' } }, day),
    ).toBe(1);
    // The same accept again answers the same and counts nothing more.
    ok(await call(linkWorker(), 'POST', `/team/referrals/${id}/accept`, { version: 1 }));
    expect(
      await counter(aws, { name: 'referrals.accepted', dimensions: { team: 'lw-woodhouse' } }, day),
    ).toBe(1);
    const accepted = ok<{ items: Array<{ referralId: string }> }>(
      await call(linkWorker(), 'GET', '/team/referrals?status=accepted'),
    );
    expect(accepted.items.map((r) => r.referralId)).toEqual([id]);
  });

  it('a partner declines: the need is offered to the next match, whose partner the notifier tells', async () => {
    const pantryOffer = offerIdFor(id, 'food', 'svc-pantry-woodhouse');
    const declined = ok<PartnerOfferView>(
      await call(partner('woodhouse-pantry'), 'POST', `/partner/offers/${pantryOffer}/decline`, {
        version: 1,
        reason: 'no-capacity',
      }),
    );
    expect(declined.state).toBe('declined');
    const next = offerIdFor(id, 'food', 'svc-food-parcels');
    const offered = ok<PartnerOfferView>(
      await call(partner('advice-leeds'), 'GET', `/partner/offers/${next}`),
    );
    expect(offered).toMatchObject({ state: 'offered', actions: ['accept', 'decline'] });
    expect(offered.referral.patient?.name.family).toBe('Testpatient');

    // The re-offer's delivery is queued as an `assigned` notice and the existing notifier delivers it.
    // (The team is told of the decline too: an `offer-declined` notice on its delivery.)
    expect(await deliverQueued()).toEqual([`${id}.partner.advice-leeds`, `${id}.team.lw-woodhouse`]);
    const webhooks = receiver.received.filter(
      (r) =>
        (r.payload as { data?: { deliveryId?: string } }).data?.deliveryId === `${id}.partner.advice-leeds`,
    );
    expect(webhooks).toHaveLength(1);

    // A retried decline offers nothing twice.
    ok(
      await call(partner('woodhouse-pantry'), 'POST', `/partner/offers/${pantryOffer}/decline`, {
        version: 1,
        reason: 'no-capacity',
      }),
    );
    const team = ok<TeamReferralView>(await call(linkWorker(), 'GET', `/team/referrals/${id}`));
    expect(team.offers.filter((o) => o.category === 'food').map((o) => [o.partnerId, o.state])).toEqual([
      ['woodhouse-pantry', 'declined'],
      ['advice-leeds', 'offered'],
    ]);
    // Its partner has it already: no assignment is queued again; the team's notice may be, and is not sent twice.
    const again = await receiveAll(aws, aws.queues.notifications.url);
    expect(again.map((m) => (JSON.parse(m.Body ?? '{}') as { kind?: string }).kind)).not.toContain(
      'assigned',
    );
    await notifier(sqsEvent('notifications', again), contextFor('notifier'));
    const teamNotices = receiver.received.filter((r) => {
      const payload = r.payload as { type?: string; data?: { referralId?: string } };
      return payload.data?.referralId === id && payload.type === 'referral.offer-declined';
    });
    expect(teamNotices).toHaveLength(1);
  });

  it('a decline with no fitting service left returns the need to the link worker, with the reason', async () => {
    const artsOffer = offerIdFor(id, 'arts', 'svc-arts-studio');
    ok(
      await call(partner('arts-for-all'), 'POST', `/partner/offers/${artsOffer}/decline`, {
        version: 1,
        reason: 'not-eligible',
      }),
    );
    const team = ok<TeamReferralView>(await call(linkWorker(), 'GET', `/team/referrals/${id}`));
    expect(team.returnedNeeds).toEqual([
      expect.objectContaining({ category: 'arts', offerId: artsOffer, declineReason: 'not-eligible' }),
    ]);
    expect(team.returnedNeeds[0]?.reason).toMatch(/no other fitting service/);
    expect(team.offers.filter((o) => o.category === 'arts')).toHaveLength(1);
    expect((await auditOf(aws, id)).map((a) => a.action)).toContain('referral.need-returned');
  });

  it('the link worker re-routes the returned need by hand to a service of their choice', async () => {
    const team = ok<TeamReferralView>(
      await call(linkWorker(), 'POST', `/team/referrals/${id}/re-route`, {
        version: 1,
        category: 'arts',
        serviceId: 'svc-arts-printmaking',
      }),
    );
    expect(team.offers.filter((o) => o.category === 'arts').map((o) => [o.serviceId, o.state])).toEqual([
      ['svc-arts-studio', 'declined'],
      ['svc-arts-printmaking', 'offered'],
    ]);
    expect((await auditOf(aws, id)).map((a) => a.action)).toContain('referral.rerouted');
    // The same re-route again finds it made and answers with the patient's details: that answer is a read. (Its
    // partner's notice is queued again, and sent once: each delivered in its own batch here.)
    await deliverQueued();
    const event = apiEvent(
      'POST',
      `/team/referrals/${id}/re-route`,
      { version: 1, category: 'arts', serviceId: 'svc-arts-printmaking' },
      {},
      linkWorker(),
    );
    ok<TeamReferralView>(await caseWork(event, contextFor('caseWork')));
    expect(
      (await auditOf(aws, id)).filter((a) => a.eventKey === `read.${event.requestContext.requestId}`),
    ).toMatchObject([
      {
        action: 'referral.read',
        who: { principal: 'it-link-worker-lw-woodhouse', role: 'link-worker' },
        detail: { view: 'team-referral', action: 're-route' },
      },
    ]);
    const chosen = team.offers.find((o) => o.serviceId === 'svc-arts-printmaking')?.offerId;
    const rerouted = (a: Record<string, unknown>) => a.eventKey === `rerouted.${chosen}`;
    expect((await auditOf(aws, id)).filter(rerouted)).toHaveLength(1);
    await deliverQueued();
    const refused = outcomeOf(
      await call(linkWorker(), 'POST', `/team/referrals/${id}/add-partner`, {
        version: 1,
        category: 'arts',
        serviceId: 'svc-arts-studio',
      }),
      409,
    );
    expect(refused).toContain('declined');
  });

  it("another organisation's referral or offer is 404, whatever the body", async () => {
    const pantryOffer = offerIdFor(id, 'food', 'svc-pantry-woodhouse');
    outcomeOf(await call(linkWorker('lw-blackpool'), 'GET', `/team/referrals/${id}`), 404);
    outcomeOf(await call(linkWorker('lw-blackpool'), 'POST', `/team/referrals/${id}/accept`, {}), 404);
    outcomeOf(await call(partner('arts-for-all'), 'GET', `/partner/offers/${pantryOffer}`), 404);
    outcomeOf(await call(partner('arts-for-all'), 'POST', `/partner/offers/${pantryOffer}/accept`, {}), 404);
  });
});

describe('a stale version', () => {
  it('an action on the version before the practice updated the referral is 409 naming its state and version', async () => {
    const fhir = (name: string) =>
      readFileSync(new URL(`../../events/fhir/${name}`, import.meta.url), 'utf8');
    const correlationId = randomUUID();
    const requestId = randomUUID();
    const bars = (body: string, request: string) =>
      intake(
        apiEvent('POST', '/$process-message', JSON.parse(body), {
          'Content-Type': 'application/fhir+json',
          'X-Request-ID': request,
          'X-Correlation-ID': correlationId,
        }),
        contextFor('intake'),
      );
    const runStart = Date.now();
    const created = JSON.parse(fhir('new-referral.json')) as Record<string, unknown>;
    created['timestamp'] = new Date(runStart).toISOString();
    expect((await bars(JSON.stringify(created), requestId)).statusCode).toBe(200);
    const id = referralIdFor(
      { route: '/$process-message', caller: gpSystem.subject, practiceOds: 'A81001' },
      requestId,
    );
    await routeQueued();
    await deliverQueued();

    const update = JSON.parse(
      fhir('update.json').replaceAll('7d9f3b2a-1111-4c3d-8e5f-000000000001', id),
    ) as Record<string, unknown>;
    update['timestamp'] = new Date(runStart + 1000).toISOString();
    const updated = await bars(JSON.stringify(update), randomUUID());
    expect(updated.statusCode, updated.body).toBe(200);
    expect((await storedReferral(aws, id))?.version).toBe(2);
    // The update reached the partner's offer too: acting on what it read before is stale.
    const offer = offerIdFor(id, 'arts', 'svc-arts-studio');
    const staleOffer = outcomeOf(
      await call(partner('arts-for-all'), 'POST', `/partner/offers/${offer}/accept`, { version: 1 }),
      409,
    );
    expect(staleOffer).toContain('version 2 (offered)');

    const stale = outcomeOf(
      await call(linkWorker(), 'POST', `/team/referrals/${id}/accept`, { version: 1 }),
      409,
    );
    expect(stale).toContain('expected version 1');
    expect(stale).toContain('version 2 (routed)');
    expect((await storedReferral(aws, id))?.status).toBe('routed');
    const accepted = ok<TeamReferralView>(
      await call(linkWorker(), 'POST', `/team/referrals/${id}/accept`, { version: 2 }),
    );
    expect(accepted).toMatchObject({ status: 'accepted', version: 2 });
    // Invalid in the state (not stale): 409 too, naming the state.
    const invalid = outcomeOf(
      await call(linkWorker(), 'POST', `/team/referrals/${id}/start`, { version: 2 }),
      409,
    );
    expect(invalid).toContain('accepted (version 2)');
  });
});
