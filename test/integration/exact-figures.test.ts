import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyResult } from 'aws-lambda';
import type { Message } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalAws } from '../../infra/local/local-aws.ts';
import { DynamoAuditLog } from '#adapters/dynamodb/audit-log.ts';
import { DynamoDirectory } from '#adapters/dynamodb/directory-store.ts';
import { DynamoFigures } from '#adapters/dynamodb/figures.ts';
import { DynamoGeography } from '#adapters/dynamodb/geography-store.ts';
import { DynamoMetricCounters } from '#adapters/dynamodb/metric-counters.ts';
import { DynamoOutcomeStore } from '#adapters/dynamodb/outcome-store.ts';
import { DynamoReferralStore } from '#adapters/dynamodb/referral-store.ts';
import { DynamoServiceLoad } from '#adapters/dynamodb/service-load.ts';
import { SqsQueue } from '#adapters/sqs/sqs-queue.ts';
import type { Caller } from '#auth/caller.ts';
import { systemClock, type Clock } from '#kernel/clock.ts';
import { routeReferral, type RouteReferralDeps } from '#matching/application/route-referral.ts';
import { queueMessages } from '#messages/queue.ts';
import { recordMeasureSet } from '#outcomes/application/outcome-measures.ts';
import { ukDay } from '#outcomes/domain/measure-set.ts';
import { actOnTeamReferral } from '#referral/application/case-work.ts';
import { cancelReferral } from '#referral/application/amend-or-cancel-referral.ts';
import { runOfferDeadlines } from '#referral/application/offer-deadlines.ts';
import { reminderGraceHours } from '#referral/domain/deadlines.ts';
import { offerIdFor } from '#referral/domain/offer.ts';
import type { Figure, FigureCell, FigureFamily } from '#reporting/domain/figures.ts';
import type { Figures } from '#reporting/ports.ts';
import { verifyChain } from '#audit/domain/chain.ts';
import { deadlineDeps } from '../../functions/deadlines/deps.ts';
import {
  apiEvent,
  contextFor,
  receiveAll,
  sampleReferral,
  sqsEvent,
  startHandlerRig,
  storedReferral,
  type ApiHandler,
  type HandlerRig,
  type SqsHandler,
} from '../support/local.ts';

// The observatory's figures are exact under duplicates and crash-and-retry (issue 10, item 2), on the local stack
// (real DynamoDB and SQS, the real handlers): three referrals submitted; routing messages delivered twice; every
// action retried; and steps that crash after their state write and before their figures (a Figures that fails once,
// part-way) retried by the real handler. The cells read back hold exactly one per unit.

let rig: HandlerRig;
let aws: LocalAws;
let intake: ApiHandler;
let router: SqsHandler;
let caseWork: ApiHandler;
let outcomes: ApiHandler;
let figures: DynamoFigures;

beforeAll(async () => {
  rig = await startHandlerRig();
  ({ aws, intake, router } = rig);
  await aws.seedGeography();
  const load = async (path: string) => ((await import(path)) as { handler: ApiHandler }).handler;
  caseWork = await load('../../functions/case-work/handler.ts');
  outcomes = await load('../../functions/outcomes/handler.ts');
  figures = new DynamoFigures(aws.documentClient, aws.tables.metrics);
});
afterAll(() => rig?.stop());

/**
 * The real figures, except that the first `recordOnce` after `arm()` records its first figure only and then fails,
 * as a step that crashes part-way through its figures would (its state write done, its figures half done).
 */
class CrashingFigures implements Figures {
  private armed = false;
  crashes = 0;
  constructor(private readonly real: Figures) {}
  arm(): this {
    this.armed = true;
    return this;
  }
  async recordOnce(cells: Figure[], unitId: string): Promise<void> {
    if (!this.armed) return this.real.recordOnce(cells, unitId);
    this.armed = false;
    this.crashes += 1;
    await this.real.recordOnce(cells.slice(0, 1), unitId);
    throw new Error('crashed after the state write, part-way through the figures');
  }
  cells<F extends FigureFamily>(family: F, from: string, to: string): Promise<FigureCell<F>[]> {
    return this.real.cells(family, from, to);
  }
}

const linkWorker = (team: string): Caller => ({
  subject: `it-lw-${team}`,
  role: 'link-worker',
  organisations: [team],
});
const partner = (id: string): Caller => ({
  subject: `it-partner-${id}`,
  role: 'partner',
  organisations: [id],
});

async function call(
  handler: ApiHandler,
  fn: 'caseWork' | 'outcomes',
  caller: Caller,
  path: string,
  body: unknown,
): Promise<APIGatewayProxyResult> {
  const response = await handler(apiEvent('POST', path, body, {}, caller), contextFor(fn));
  expect(response.statusCode, response.body).toBeLessThan(300);
  return response;
}

async function submit(body: Record<string, unknown>): Promise<string> {
  const response = await intake(apiEvent('POST', '/referrals', body), contextFor('intake'));
  expect(response.statusCode, response.body).toBe(202);
  return (JSON.parse(response.body) as { referralId: string }).referralId;
}

async function deliverToRouter(messages: Message[]): Promise<void> {
  expect((await router(sqsEvent('referrals', messages), contextFor('router'))).batchItemFailures).toEqual([]);
}

function routerDeps(figuresToUse: Figures): RouteReferralDeps {
  const client = aws.documentClient;
  return {
    referrals: new DynamoReferralStore(client, aws.tables.referrals),
    directory: new DynamoDirectory(client, aws.tables.directory),
    audit: new DynamoAuditLog(client, aws.tables.audit),
    counters: new DynamoMetricCounters(client, aws.tables.metrics),
    figures: figuresToUse,
    deliveryQueue: new SqsQueue(aws.sqs, aws.queues.notifications.url, queueMessages.notifications),
    clock: systemClock,
    geography: new DynamoGeography(client, aws.tables.geography),
    serviceLoad: new DynamoServiceLoad(client, aws.tables.metrics),
    imdEdition: '2019',
  };
}

function caseWorkDeps(figuresToUse: Figures, clock: Clock = systemClock) {
  return {
    ...deadlineDeps({
      documentClient: aws.documentClient,
      sqs: aws.sqs,
      tables: aws.tables,
      notificationsQueueUrl: aws.queues.notifications.url,
      clock,
    }),
    figures: figuresToUse,
  };
}

const hour = 3_600_000;
const day = 24 * hour;
/** Figures are read from yesterday to well past the deadline job's runs (which run weeks ahead). */
const readFrom = new Date(Date.now() - day).toISOString().slice(0, 10);
const readTo = new Date(Date.now() + 90 * day).toISOString().slice(0, 10);

const ons4 = { lifeSatisfaction: 3, worthwhile: 5, happiness: 5, anxiety: 8 };

describe('exact figures under duplicates and crash-and-retry, on the local stack', () => {
  const ids = { leeds: '', blackpool: '', hastings: '' };
  let blackpoolTeam = '';

  beforeAll(async () => {
    // Three referrals; Leeds for food (two fitting services) and arts, as the case-work test.
    ids.leeds = await submit({ ...sampleReferral('leeds-arts-and-mental-health'), needs: ['food', 'arts'] });
    ids.blackpool = await submit(sampleReferral('blackpool-benefits-and-activity'));
    ids.hastings = await submit(sampleReferral('hastings-befriending-no-consent'));
    const messages = await receiveAll(aws, aws.queues.referrals.url);
    expect(messages).toHaveLength(3);
    const leedsMessage = messages.filter((m) => m.Body?.includes(ids.leeds));

    // Leeds: the router crashes after the routing write, part-way through its figures...
    const crashing = new CrashingFigures(figures).arm();
    await expect(routeReferral(routerDeps(crashing), ids.leeds)).rejects.toThrow(/crashed/);
    expect(crashing.crashes).toBe(1);
    expect((await storedReferral(aws, ids.leeds))?.status).toBe('routed');
    // ...SQS redelivers its message to the real router, and delivers all three, twice over.
    await deliverToRouter(leedsMessage);
    await deliverToRouter(messages);
    await deliverToRouter(messages);
    // And the use case itself once more (no idempotency record in front of it): nothing new.
    await routeReferral(routerDeps(figures), ids.leeds);
    blackpoolTeam = (await storedReferral(aws, ids.blackpool))?.routing?.team?.id ?? '';
    expect(blackpoolTeam).not.toBe('');

    // Case work. Leeds: accepted (twice); contact made, crashing before its figures, retried by the handler.
    const team = linkWorker('lw-woodhouse');
    await call(caseWork, 'caseWork', team, `/team/referrals/${ids.leeds}/accept`, { version: 1 });
    await call(caseWork, 'caseWork', team, `/team/referrals/${ids.leeds}/accept`, { version: 1 });
    const contact = { version: 1, outcome: 'made', channel: 'phone' };
    await expect(
      actOnTeamReferral(
        caseWorkDeps(new CrashingFigures(figures).arm()),
        { organisation: 'lw-woodhouse', subject: team.subject },
        ids.leeds,
        'contact',
        () => contact,
      ),
    ).rejects.toThrow(/crashed/);
    await call(caseWork, 'caseWork', team, `/team/referrals/${ids.leeds}/contact`, contact);
    await call(caseWork, 'caseWork', team, `/team/referrals/${ids.leeds}/contact`, contact);

    // Partners answer Leeds's offers, each answer twice: arts accepted, the pantry declines food.
    const arts = offerIdFor(ids.leeds, 'arts', 'svc-arts-studio');
    const pantry = offerIdFor(ids.leeds, 'food', 'svc-pantry-woodhouse');
    for (let i = 0; i < 2; i++) {
      await call(caseWork, 'caseWork', partner('arts-for-all'), `/partner/offers/${arts}/accept`, {
        version: 1,
      });
      await call(caseWork, 'caseWork', partner('woodhouse-pantry'), `/partner/offers/${pantry}/decline`, {
        version: 1,
        reason: 'no-capacity',
      });
    }

    // Blackpool: the team declines, the patient having declined (twice).
    for (let i = 0; i < 2; i++)
      await call(
        caseWork,
        'caseWork',
        linkWorker(blackpoolTeam),
        `/team/referrals/${ids.blackpool}/decline`,
        {
          version: 1,
          reason: 'declined-by-patient',
        },
      );

    // Hastings: cancelled by the practice, crashing before its figure, then the same cancellation again.
    const cancellation = {
      referralId: ids.hastings,
      practiceOds: 'C83001',
      reason: 'revoked' as const,
      messageAt: new Date().toISOString(),
      actor: 'gp-system:C83001',
    };
    const lifecycle = (f: Figures) => {
      const deps = caseWorkDeps(f);
      return { ...deps, deliveryQueue: deps.notices, routingQueue: { send: async () => undefined } };
    };
    await expect(cancelReferral(lifecycle(new CrashingFigures(figures).arm()), cancellation)).rejects.toThrow(
      /crashed/,
    );
    await cancelReferral(lifecycle(figures), cancellation);

    // The food need's next match (food parcels, offered when the pantry declined) is left unanswered: the deadline
    // job reminds, then expires it, crashing after the expiry's write, part-way through its follow-up; the next runs
    // finish it and find nothing more.
    const deadlineRun = (f: Figures, at: number) =>
      runOfferDeadlines(caseWorkDeps(f, { now: () => new Date(Date.now() + at) }), { limit: 100 });
    expect(await deadlineRun(figures, 60 * day)).toMatchObject({ due: 1, reminded: 1 });
    const expiring = new CrashingFigures(figures).arm();
    expect(await deadlineRun(expiring, 60 * day + (reminderGraceHours + 1) * hour)).toMatchObject({
      failed: 1,
    });
    expect(expiring.crashes).toBe(1);
    expect(await deadlineRun(figures, 60 * day + (reminderGraceHours + 2) * hour)).toMatchObject({
      failed: 0,
    });
    expect(await deadlineRun(figures, 60 * day + (reminderGraceHours + 3) * hour)).toMatchObject({
      due: 0,
      failed: 0,
    });

    // Leeds's outcome measures: the baseline twice through the handler; the follow-up crashes part-way through its
    // figures, then is retried through the handler, twice.
    const today = ukDay(new Date());
    const baseline = {
      id: randomUUID(),
      timepoint: 'baseline',
      takenOn: today,
      ons4,
      ucla3: { lackCompanionship: 3, leftOut: 3, isolated: 2 },
    };
    const followUp = {
      id: randomUUID(),
      timepoint: 'follow-up',
      takenOn: today,
      ons4: { ...ons4, lifeSatisfaction: 6, anxiety: 4 },
      ucla3: { lackCompanionship: 2, leftOut: 2, isolated: 2 },
    };
    const path = `/team/referrals/${ids.leeds}/outcomes`;
    await call(outcomes, 'outcomes', team, path, baseline);
    await call(outcomes, 'outcomes', team, path, baseline);
    const outcomeDeps = {
      referrals: new DynamoReferralStore(aws.documentClient, aws.tables.referrals),
      outcomes: new DynamoOutcomeStore(aws.documentClient, aws.tables.referrals),
      audit: new DynamoAuditLog(aws.documentClient, aws.tables.audit),
      clock: systemClock,
      figures: new CrashingFigures(figures).arm(),
    };
    await expect(
      recordMeasureSet(outcomeDeps, {
        referralId: ids.leeds,
        by: { subject: team.subject, team: 'lw-woodhouse' },
        body: followUp,
      }),
    ).rejects.toThrow(/crashed/);
    await call(outcomes, 'outcomes', team, path, followUp);
    await call(outcomes, 'outcomes', team, path, followUp);
  });

  const read = <F extends FigureFamily>(family: F) => figures.cells(family, readFrom, readTo);
  const total = (cells: ReadonlyArray<{ count: number }>) => cells.reduce((sum, c) => sum + c.count, 0);

  it("audit: each referral's trail is one intact chain, each step in it once, however often it was retried", async () => {
    const trail = new DynamoAuditLog(aws.documentClient, aws.tables.audit);
    for (const referralId of Object.values(ids)) {
      const links = await trail.chainOf(referralId);
      expect(verifyChain(referralId, links), referralId).toMatchObject({ ok: true, length: links.length });
      const eventKeys = links.map((link) => link.eventKey);
      expect(new Set(eventKeys).size, `${referralId}: ${eventKeys.join(', ')}`).toBe(eventKeys.length);
      expect(eventKeys).toContain('routed');
    }
  });

  it('referrals: one per referral, by practice, with every dimension', async () => {
    const cells = await read('referrals');
    expect(cells.map((c) => [c.dimensions.practice, c.count]).sort()).toEqual([
      ['A81001', 1],
      ['B82001', 1],
      ['C83001', 1],
    ]);
    const leeds = cells.find((c) => c.dimensions.practice === 'A81001');
    expect(leeds?.dimensions).toMatchObject({
      team: 'lw-woodhouse',
      area: 'LS6',
      channel: 'json',
      sex: 'unknown',
    });
    expect(leeds?.dimensions.pcn).toMatch(/^U\d{5}$/);
    expect(leeds?.dimensions.imd).toMatch(/^2019:(\d+|unknown)$/);
    expect(leeds?.dimensions.ageBand).not.toBe('unknown');
  });

  it('needs: one per need of each referral, matched or unmet with its reason', async () => {
    const cells = await read('needs');
    expect(total(cells)).toBe(6);
    expect(cells.every((c) => c.count === 1)).toBe(true);
    const leeds = cells.filter((c) => c.dimensions.practice === 'A81001');
    expect(
      leeds.map((c) => [c.dimensions.category, c.dimensions.outcome, c.dimensions.reason]).sort(),
    ).toEqual([
      ['arts', 'matched', '-'],
      ['food', 'matched', '-'],
    ]);
    for (const c of cells.filter((x) => x.dimensions.outcome === 'unmet'))
      expect(c.dimensions.reason).not.toBe('-');
  });

  it('the funnel: each stage once per referral, declines and cancellations with their coded reasons', async () => {
    const cells = await read('funnel');
    const by = (stage: string) => cells.filter((c) => c.dimensions.stage === stage);
    expect(total(by('referred'))).toBe(3);
    expect(by('received').map((c) => [c.dimensions.practice, c.count])).toEqual([['A81001', 1]]);
    expect(by('contacted').map((c) => [c.dimensions.practice, c.count])).toEqual([['A81001', 1]]);
    expect(
      by('declined').map((c) => [c.dimensions.practice, c.dimensions.reason, c.dimensions.team, c.count]),
    ).toEqual([['B82001', 'declined-by-patient', blackpoolTeam, 1]]);
    expect(by('cancelled').map((c) => [c.dimensions.practice, c.dimensions.reason, c.count])).toEqual([
      ['C83001', 'revoked', 1],
    ]);
    expect(by('started')).toEqual([]);
    expect(by('closed')).toEqual([]);
  });

  it("responses: each partner's answer once, a decline with its reason", async () => {
    const cells = await read('responses');
    const answers = cells.map((c) => [
      c.dimensions.partner,
      c.dimensions.category,
      c.dimensions.outcome,
      c.dimensions.reason,
      c.count,
    ]);
    expect(answers).toContainEqual(['arts-for-all', 'arts', 'accepted', '-', 1]);
    expect(answers).toContainEqual(['woodhouse-pantry', 'food', 'declined', 'no-capacity', 1]);
    expect(answers).toContainEqual(['advice-leeds', 'food', 'expired', '-', 1]);
    expect(total(cells)).toBe(3);
    const answered = cells.filter((c) => c.dimensions.outcome !== 'expired');
    expect(answered.every((c) => c.dimensions.band.startsWith('within-'))).toBe(true);
  });

  it('outcomes: each measure once per set, the follow-up with its change from baseline', async () => {
    const cells = await read('outcomes');
    const rows = cells
      .map((c) => [
        c.dimensions.timepoint,
        c.dimensions.measure,
        c.dimensions.band,
        c.dimensions.change,
        c.count,
      ])
      .sort();
    expect(rows).toEqual(
      [
        ['baseline', 'ons4-anxiety', 'high', '-', 1],
        ['baseline', 'ons4-happiness', 'medium', '-', 1],
        ['baseline', 'ons4-life-satisfaction', 'low', '-', 1],
        ['baseline', 'ons4-worthwhile', 'medium', '-', 1],
        ['baseline', 'ucla3', '8', '-', 1],
        ['follow-up', 'ons4-anxiety', 'medium', 'improved', 1],
        ['follow-up', 'ons4-happiness', 'medium', 'same', 1],
        ['follow-up', 'ons4-life-satisfaction', 'medium', 'improved', 1],
        ['follow-up', 'ons4-worthwhile', 'medium', 'same', 1],
        ['follow-up', 'ucla3', '6', 'improved', 1],
      ].sort(),
    );
    expect(cells.every((c) => c.dimensions.team === 'lw-woodhouse')).toBe(true);
  });
});
