import { beforeEach, describe, expect, it } from 'vitest';
import { actOnPartnerOffer } from '#referral/application/case-work.ts';
import { runOfferDeadlines, type OfferDeadlineDeps } from '#referral/application/offer-deadlines.ts';
import { reminderDeadline, reminderGraceHours } from '#referral/domain/deadlines.ts';
import type { NoticeMessage } from '#messages/notice-message.ts';
import { offerIdFor } from '#referral/domain/offer.ts';
import type {
  FakeClock,
  InMemoryAuditLog,
  InMemoryMetricCounters,
  InMemoryReferralStore,
  RecordingQueue,
} from './fakes.ts';
import type { InMemoryOfferStore } from './fakes-offers.ts';
import { referralIds } from './fixtures.ts';
import { routedCase } from './routed-case.ts';

// The deadline job on the fakes: a silent partner is reminded once, then its offer expires, the team and the partner
// are told, and the need goes to the next match (or back to the link worker); overlapping and repeated runs, a
// partner answering meanwhile, and a run stopped half way change nothing twice.

const id = referralIds['leeds-arts-and-mental-health'];
const pantryOffer = offerIdFor(id, 'food', 'svc-pantry-woodhouse');
const parcelsOffer = offerIdFor(id, 'food', 'svc-food-parcels');
const artsOffer = offerIdFor(id, 'arts', 'svc-arts-studio');
const hour = 3_600_000;
const day = 24 * hour;

let referrals: InMemoryReferralStore;
let offers: InMemoryOfferStore;
let audit: InMemoryAuditLog;
let counters: InMemoryMetricCounters;
let notices: RecordingQueue<NoticeMessage>;
let clock: FakeClock;
let deps: OfferDeadlineDeps;

beforeEach(async () => {
  // Food: the pantry (chosen) then food parcels; arts: the studio alone. Deadlines: Tuesday 11 March, 09:20.
  ({ referrals, offers, audit, counters, notices, clock, deps } = await routedCase(['food', 'arts'], {
    clearNotices: true,
  }));
});

const run = (limit = 100) => runOfferDeadlines(deps, { limit });
const offer = async (offerId: string) => offers.get(id, offerId);
const total = (name: string) =>
  counters
    .snapshot()
    .filter((c) => c.name === name)
    .reduce((sum, c) => sum + c.count, 0);
const sentKinds = () =>
  notices.messages.map((m) => `${m.body.kind}:${m.body.deliveryId}:${m.body.offerId ?? ''}`);

describe('before the deadline', () => {
  it('nothing is due and nothing is written', async () => {
    clock.advance(6 * day);
    const summary = await run();
    expect(summary).toMatchObject({ due: 0, reminded: 0, expired: 0 });
    expect((await offer(pantryOffer))?.nudgedAt).toBeUndefined();
    expect(notices.messages).toEqual([]);
  });
});

describe('past the deadline, the partner silent', () => {
  it('is reminded once, with a new deadline two days on; runs meanwhile do nothing more', async () => {
    clock.advance(7 * day + hour);
    const first = await run();
    expect(first).toMatchObject({ due: 2, reminded: 2, expired: 0 });
    const reminded = await offer(pantryOffer);
    expect(reminded).toMatchObject({
      state: 'offered',
      nudgedAt: clock.now().toISOString(),
      deadline: new Date(clock.now().getTime() + reminderGraceHours * hour).toISOString(),
    });
    expect(sentKinds()).toEqual([
      `reminder:${id}.partner.arts-for-all:${artsOffer}`,
      `reminder:${id}.partner.woodhouse-pantry:${pantryOffer}`,
    ]);
    expect(total('offers.nudged')).toBe(2);

    // Another run an hour later (or two runs overlapping): nothing is due, no second reminder.
    clock.advance(hour);
    expect(await run()).toMatchObject({ due: 0, reminded: 0 });
    expect(notices.messages).toHaveLength(2);
    expect(audit.entries.filter((e) => e.action === 'offer.nudged')).toHaveLength(2);
  });

  it('then expires: the team is told, the partner told to stop, the need offered to the next match', async () => {
    clock.advance(7 * day + hour);
    await run();
    notices.sends.length = 0;
    clock.advance(reminderGraceHours * hour);
    const summary = await run();
    expect(summary).toMatchObject({ due: 2, expired: 2, reoffered: 1, returned: 1 });

    expect((await offer(pantryOffer))?.state).toBe('expired');
    // Food's next fitting service is offered, following the expired offer, and told as a new delivery.
    const next = await offer(parcelsOffer);
    expect(next).toMatchObject({ state: 'offered', follows: pantryOffer, partnerId: 'advice-leeds' });
    // Arts had no other service: returned to the link worker with the reason.
    const referral = await referrals.get(id);
    expect(referral?.returnedNeeds?.map((n) => [n.category, n.declineReason])).toEqual([['arts', 'expired']]);
    expect(referral?.returnedNeeds?.[0]?.reason).toContain('did not answer in time');

    const team = `${id}.team.lw-woodhouse`;
    expect(sentKinds()).toEqual(
      expect.arrayContaining([
        `withdrawn:${id}.partner.woodhouse-pantry:${pantryOffer}`,
        `offer-expired:${team}:${pantryOffer}`,
        `withdrawn:${id}.partner.arts-for-all:${artsOffer}`,
        `offer-expired:${team}:${artsOffer}`,
        `assigned:${id}.partner.advice-leeds:`,
      ]),
    );
    expect(total('offers.expired')).toBe(2);

    // Repeated: nothing more is expired, offered, told or counted.
    const sent = notices.messages.length;
    expect(await run()).toMatchObject({ due: 0, expired: 0, finished: 0 });
    expect(notices.messages).toHaveLength(sent);
    expect((await offers.ofReferral(id)).length).toBe(3);
    expect(total('offers.expired')).toBe(2);
  });

  it('the new offer has its own deadline and is chased in its turn', async () => {
    clock.advance(7 * day + hour);
    await run();
    clock.advance(reminderGraceHours * hour);
    await run();
    const next = await offer(parcelsOffer);
    expect(next && next.deadline > clock.now().toISOString()).toBe(true);
    clock.advance(Date.parse(next?.deadline ?? '') - clock.now().getTime());
    expect(await run()).toMatchObject({ due: 1, reminded: 1 });
  });
});

describe('races and crashes', () => {
  it('a partner answering before the job reaches its offer wins: no reminder, no expiry', async () => {
    clock.advance(7 * day + hour);
    await actOnPartnerOffer(
      deps,
      { organisation: 'woodhouse-pantry', subject: 'pantry-user' },
      pantryOffer,
      'accept',
      () => ({ version: 1 }),
    );
    const summary = await run();
    expect(summary).toMatchObject({ reminded: 1 });
    expect(await offer(pantryOffer)).toMatchObject({ state: 'accepted' });
    expect((await offer(pantryOffer))?.nudgedAt).toBeUndefined();
  });

  it('a run stopped between an expiry and the next offer is finished by the next run', async () => {
    clock.advance(7 * day + hour);
    await run();
    clock.advance(reminderGraceHours * hour);
    // The crash: the expiry is written, then the run dies before offering the need on.
    const stored = await offer(pantryOffer);
    if (!stored) throw new Error('offer expected');
    await offers.apply(
      stored,
      {
        entity: 'offer',
        event: 'escalate',
        role: 'system',
        from: 'offered',
        to: 'expired',
        expectedVersion: stored.version,
        nextVersion: stored.version,
        guard: 'deadline-passed-after-nudge',
        owner: null,
        audit: 'offer.expired',
        counts: ['offers.expired'],
        notices: [],
      },
      { at: clock.now().toISOString() },
    );
    expect(await offer(parcelsOffer)).toBeUndefined();

    const summary = await run();
    expect(summary.finished).toBe(1);
    expect(await offer(parcelsOffer)).toMatchObject({ state: 'offered', follows: pantryOffer });
    // Everything the expiry owed is done by the run that finished it: its audit entry, count and both notices.
    expect(audit.entries.filter((e) => e.action === 'offer.expired').map((e) => e.eventKey)).toContain(
      `offer.${pantryOffer}.expired`,
    );
    expect(total('offers.expired')).toBeGreaterThanOrEqual(1);
    expect(sentKinds()).toEqual(
      expect.arrayContaining([
        `withdrawn:${id}.partner.woodhouse-pantry:${pantryOffer}`,
        `offer-expired:${id}.team.lw-woodhouse:${pantryOffer}`,
      ]),
    );
    expect((await run()).finished).toBe(0);
  });

  it('a run stopped between a reminder and its notice: the next run sends it, once, before anything else', async () => {
    clock.advance(7 * day + hour);
    // The crash: the reminder is written (nudgedAt, the new deadline), then the run dies before telling anyone.
    const stored = await offer(pantryOffer);
    if (!stored) throw new Error('offer expected');
    const now = clock.now().toISOString();
    await offers.apply(
      stored,
      {
        entity: 'offer',
        event: 'nudge',
        role: 'system',
        from: 'offered',
        to: 'offered',
        expectedVersion: stored.version,
        nextVersion: stored.version,
        guard: 'deadline-passed-not-nudged',
        owner: null,
        audit: 'offer.nudged',
        counts: ['offers.nudged'],
        notices: [],
      },
      { at: now, changes: { nudgedAt: now, deadline: reminderDeadline(stored.deadline, now) } },
    );
    expect(sentKinds()).toEqual([]);

    const summary = await run();
    expect(summary).toMatchObject({ finished: 1, reminded: 1 });
    expect(sentKinds().filter((k) => k.startsWith('reminder:'))).toEqual([
      `reminder:${id}.partner.woodhouse-pantry:${pantryOffer}`,
      `reminder:${id}.partner.arts-for-all:${artsOffer}`,
    ]);
    expect(audit.entries.filter((e) => e.action === 'offer.nudged')).toHaveLength(2);
    expect(await run()).toMatchObject({ finished: 0, reminded: 0 });
    expect(sentKinds().filter((k) => k.startsWith('reminder:'))).toHaveLength(2);
  });

  it('a step that fails is reported and retried by the next run; it does not stop the others', async () => {
    clock.advance(7 * day + hour);
    notices.failWith = new Error('SQS unavailable');
    const failed = await run();
    expect(failed).toMatchObject({ failed: 2, reminded: 0 });
    expect(failed.steps.map((s) => s.reason)).toEqual(['SQS unavailable', 'SQS unavailable']);
    notices.failWith = undefined;
    const next = await run();
    expect(next).toMatchObject({ finished: 2, failed: 0 });
    expect(sentKinds().filter((k) => k.startsWith('reminder:'))).toHaveLength(2);
  });

  it('a dry run says what it would do and changes nothing', async () => {
    clock.advance(7 * day + hour);
    const summary = await runOfferDeadlines(deps, { limit: 100, dryRun: true });
    expect(summary.steps.map((s) => s.step)).toEqual(['would-remind', 'would-remind']);
    expect((await offer(pantryOffer))?.nudgedAt).toBeUndefined();
    expect(notices.messages).toEqual([]);
  });

  it('takes at most `limit` offers a run and says more are waiting', async () => {
    clock.advance(7 * day + hour);
    const summary = await run(1);
    expect(summary).toMatchObject({ due: 1, reminded: 1, more: true });
    expect(await run(1)).toMatchObject({ reminded: 1 });
  });
});

describe('reminderDeadline', () => {
  it('is two days after the reminder, never before the deadline it chases', () => {
    expect(reminderDeadline('2025-03-11T09:20:00.000Z', '2025-03-11T10:00:00.000Z')).toBe(
      '2025-03-13T10:00:00.000Z',
    );
    expect(reminderDeadline('2025-03-20T00:00:00.000Z', '2025-03-11T10:00:00.000Z')).toBe(
      '2025-03-20T00:00:00.000Z',
    );
  });
});
