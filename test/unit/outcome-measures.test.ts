import { beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, ValidationError } from '#kernel/errors.ts';
import {
  recordMeasureSet,
  showOutcomes,
  type OutcomeDeps,
  type TeamMember,
} from '#outcomes/application/outcome-measures.ts';
import type { Referral, RoutingDecision } from '#referral/domain/referral.ts';
import { FakeClock, InMemoryAuditLog, InMemoryReferralStore } from './fakes.ts';
import { InMemoryOutcomeStore } from './fakes-outcomes.ts';
import { InMemoryFigures } from './fakes-figures.ts';
import { sampleReferral } from './fixtures.ts';

// The use cases over the in-memory fakes: who may record, retries, one baseline, the order of baseline and
// follow-ups, the audit trail.

const member: TeamMember = { subject: 'lw-1', team: 'lw-woodhouse' };
const baselineBody = {
  timepoint: 'baseline',
  takenOn: '2026-03-10',
  ons4: { lifeSatisfaction: 3, worthwhile: 4, happiness: 5, anxiety: 8 },
  lonelinessDirect: 'often-always',
};
const followUpBody = {
  timepoint: 'follow-up',
  takenOn: '2026-06-01',
  ons4: { lifeSatisfaction: 7, worthwhile: 6, happiness: 7, anxiety: 2 },
  lonelinessDirect: 'hardly-ever',
};

const routedTo = (team: string): RoutingDecision => ({
  decidedAt: '2026-03-02T10:00:00.000Z',
  area: 'LS6',
  areaSource: 'patient-postcode',
  team: { id: team, name: `Team ${team}` },
  teamReason: 'serves the practice',
  matches: [],
  unmetNeeds: [],
  deliveries: [],
});

let referrals: InMemoryReferralStore;
let outcomes: InMemoryOutcomeStore;
let audit: InMemoryAuditLog;
let deps: OutcomeDeps;
let referral: Referral;

beforeEach(async () => {
  referrals = new InMemoryReferralStore();
  outcomes = new InMemoryOutcomeStore();
  audit = new InMemoryAuditLog();
  deps = {
    referrals,
    outcomes,
    audit,
    clock: new FakeClock('2026-06-30T12:00:00.000Z'),
    figures: new InMemoryFigures(),
  };
  referral = sampleReferral('leeds-arts-and-mental-health', {
    receivedAt: '2026-03-02T09:00:00.000Z',
    status: 'routed',
    routing: routedTo('lw-woodhouse'),
  });
  await referrals.create(referral);
});

const record = (body: unknown, idempotencyKey?: string, by: TeamMember = member) =>
  recordMeasureSet(deps, {
    referralId: referral.referralId,
    by,
    body,
    ...(idempotencyKey ? { idempotencyKey } : {}),
  });

describe('recording a measure set', () => {
  it('records it with who recorded it, scored, and audits it (naming instruments, never answers)', async () => {
    const recorded = await record(baselineBody);
    expect(recorded.replayed).toBe(false);
    expect(recorded.set).toMatchObject({
      timepoint: 'baseline',
      takenOn: '2026-03-10',
      recordedAt: '2026-06-30T12:00:00.000Z',
      recordedBy: member,
      ons4: { bands: { lifeSatisfaction: 'low', anxiety: 'high' } },
      lonelinessDirect: { answer: 'often-always' },
    });
    expect(await outcomes.list(referral.referralId)).toHaveLength(1);
    expect(audit.forReferral(referral.referralId)).toEqual([
      {
        referralId: referral.referralId,
        eventKey: `outcome.${recorded.set.id}`,
        action: 'outcome.recorded',
        actor: 'link-worker:lw-1',
        at: '2026-06-30T12:00:00.000Z',
        detail: {
          setId: recorded.set.id,
          timepoint: 'baseline',
          takenOn: '2026-03-10',
          instruments: ['ons4', 'lonelinessDirect'],
          team: 'lw-woodhouse',
        },
      },
    ]);
    expect(JSON.stringify(audit.entries)).not.toContain('often-always');
  });

  it('another team is told the referral does not exist; so is a referral not yet routed', async () => {
    await expect(record(baselineBody, undefined, { subject: 'lw-2', team: 'lw-blackpool' })).rejects.toThrow(
      NotFoundError,
    );
    const unrouted = sampleReferral('blackpool-benefits-and-activity', { routing: undefined });
    await referrals.create(unrouted);
    await expect(
      recordMeasureSet(deps, { referralId: unrouted.referralId, by: member, body: baselineBody }),
    ).rejects.toThrow(NotFoundError);
    await expect(
      showOutcomes(deps, referral.referralId, { subject: 'x', team: 'lw-blackpool' }),
    ).rejects.toThrow(NotFoundError);
    expect(audit.entries).toEqual([]);
  });

  it('a bad body is refused naming each field; nothing is written', async () => {
    const error = await record({}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems.map((p) => p.field)).toEqual(['timepoint', 'takenOn', '']);
    expect(await outcomes.list(referral.referralId)).toEqual([]);
  });

  it('the same id again with the same answers is a retry: nothing new, answered as the first', async () => {
    const id = '6a1c1f0e-1b7e-4d2a-9a51-2f7c9d1e0a11';
    const first = await record({ ...baselineBody, id });
    const again = await record({ ...baselineBody, id });
    expect(again).toEqual({ ...first, replayed: true });
    expect(await outcomes.list(referral.referralId)).toHaveLength(1);
    expect(audit.forReferral(referral.referralId)).toHaveLength(1);
  });

  it('the same Idempotency-Key again is a retry; from another link worker it is another set', async () => {
    const baseline = await record(baselineBody, 'key-b');
    expect(await record(baselineBody, 'key-b')).toEqual({ ...baseline, replayed: true });
    const followUp = await record(followUpBody, 'key-f');
    expect((await record(followUpBody, 'key-f')).set.id).toBe(followUp.set.id);
    const colleague = await record(followUpBody, 'key-f', { subject: 'lw-3', team: 'lw-woodhouse' });
    expect(colleague.replayed).toBe(false);
    expect(colleague.set.id).not.toBe(followUp.set.id);
    expect(await outcomes.list(referral.referralId)).toHaveLength(3);
  });

  it('the same id or key with other answers is 409, and changes nothing', async () => {
    const id = '6a1c1f0e-1b7e-4d2a-9a51-2f7c9d1e0a12';
    await record({ ...baselineBody, id });
    await expect(record({ ...baselineBody, id, lonelinessDirect: 'never' })).rejects.toThrow(
      /already recorded with other answers/,
    );
    await record(followUpBody, 'key-f');
    await expect(record({ ...followUpBody, takenOn: '2026-06-02' }, 'key-f')).rejects.toThrow(ConflictError);
    const sets = await outcomes.list(referral.referralId);
    expect(sets.map((s) => [s.timepoint, s.takenOn, s.lonelinessDirect])).toEqual([
      ['baseline', '2026-03-10', 'often-always'],
      ['follow-up', '2026-06-01', 'hardly-ever'],
    ]);
  });

  it('one baseline per referral: a second is 409 naming the first', async () => {
    const first = await record(baselineBody);
    await expect(record({ ...baselineBody, takenOn: '2026-03-11' })).rejects.toThrow(
      `already has a baseline (set ${first.set.id}, taken on 2026-03-10)`,
    );
    expect(await outcomes.list(referral.referralId)).toHaveLength(1);
  });

  it('a baseline racing another: the loser is 409, not a second baseline', async () => {
    const results = await Promise.allSettled([
      record(baselineBody),
      record({ ...baselineBody, takenOn: '2026-03-11' }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(await outcomes.list(referral.referralId)).toHaveLength(1);
  });

  it('a follow-up needs a baseline first (409), and is not taken before it (400)', async () => {
    await expect(record(followUpBody)).rejects.toThrow(/has no baseline yet/);
    await record(baselineBody);
    await expect(record({ ...followUpBody, takenOn: '2026-03-09' })).rejects.toThrow(
      'takenOn: a follow-up must not be before the baseline (taken on 2026-03-10)',
    );
    await expect(record(followUpBody)).resolves.toMatchObject({ replayed: false });
  });

  it('the day is checked against today and the referral', async () => {
    await expect(record({ ...baselineBody, takenOn: '2026-07-01' })).rejects.toThrow(
      'takenOn: must not be in the future (today is 2026-06-30)',
    );
    await expect(record({ ...baselineBody, takenOn: '2026-03-01' })).rejects.toThrow(
      'takenOn: must not be before the referral was received (2026-03-02)',
    );
  });

  it('nothing is recorded on a cancelled referral', async () => {
    const cancelled = sampleReferral('hastings-befriending-no-consent', {
      receivedAt: '2026-03-02T09:00:00.000Z',
      status: 'cancelled',
      routing: routedTo('lw-woodhouse'),
    });
    await referrals.create(cancelled);
    await expect(
      recordMeasureSet(deps, { referralId: cancelled.referralId, by: member, body: baselineBody }),
    ).rejects.toThrow(/is cancelled/);
  });

  it('a retry after a crash between the set and its audit entry writes the audit entry', async () => {
    const failing = { ...deps, audit: { append: () => Promise.reject(new Error('audit down')) } };
    await expect(
      recordMeasureSet(failing, {
        referralId: referral.referralId,
        by: member,
        body: baselineBody,
        idempotencyKey: 'k',
      }),
    ).rejects.toThrow('audit down');
    expect(audit.entries).toEqual([]);
    const retried = await record(baselineBody, 'k');
    expect(retried.replayed).toBe(true);
    expect(audit.forReferral(referral.referralId).map((e) => e.action)).toEqual(['outcome.recorded']);
  });
});

describe('showing the outcomes', () => {
  it('lists the sets and the change of the latest follow-up from the baseline', async () => {
    await expect(showOutcomes(deps, referral.referralId, member)).resolves.toEqual({
      referralId: referral.referralId,
      sets: [],
      changeFromBaseline: { available: false, reason: 'no baseline has been recorded' },
    });
    const baseline = await record(baselineBody);
    const followUp = await record(followUpBody);
    const view = await showOutcomes(deps, referral.referralId, member);
    expect(view.sets.map((s) => s.id)).toEqual([baseline.set.id, followUp.set.id]);
    expect(view.changeFromBaseline).toMatchObject({
      available: true,
      ons4: {
        lifeSatisfaction: { change: 4, direction: 'better', baselineBand: 'low', followUpBand: 'high' },
        anxiety: { change: -6, direction: 'better', baselineBand: 'high', followUpBand: 'low' },
      },
      lonelinessDirect: { change: 3, direction: 'better' },
      notCompared: [],
    });
  });

  it('with a SWEMWBS conversion configured, metric scores are shown', async () => {
    deps.swemwbs = { metricScore: (raw) => raw * 1.01 };
    const swemwbs = {
      optimistic: 3,
      useful: 3,
      relaxed: 3,
      dealingWithProblems: 3,
      thinkingClearly: 3,
      closeToOthers: 3,
      ownMind: 3,
    };
    const recorded = await record({ timepoint: 'baseline', takenOn: '2026-03-10', swemwbs });
    expect(recorded.set.swemwbs).toEqual({ answers: swemwbs, rawTotal: 21, metricScore: 21.21 });
  });
});
