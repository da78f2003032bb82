import { describe, expect, it } from 'vitest';
import { routeReferral } from '#matching/application/route-referral.ts';
import { actOnTeamReferral } from '#referral/application/case-work.ts';
import { runOfferDeadlines } from '#referral/application/offer-deadlines.ts';
import { reminderGraceHours } from '#referral/domain/deadlines.ts';
import type { FigureFamily } from '#reporting/domain/figures.ts';
import { referralIds } from './fixtures.ts';
import { routedCase } from './routed-case.ts';

// Where each figure is recorded, through the use cases on the in-memory fakes: routing (the referral, its needs, the
// funnel's referred), the team's steps (the funnel's stages), the deadline job (expiries as responses). The local
// stack's test (test/integration/exact-figures.test.ts) shows the same exact under crashes and redeliveries.

const id = referralIds['leeds-arts-and-mental-health'];
const team = { organisation: 'lw-woodhouse', subject: 'lw-user-1' };
const hour = 3_600_000;
const day = 24 * hour;

describe('figures recorded where each thing happens', () => {
  it('routing: one referral, one per need, the funnel referred; routing again adds nothing', async () => {
    const { figures, route } = await routedCase(['food', 'arts']);
    await routeReferral(route, id);
    const all = async (family: FigureFamily) => figures.cells(family, '2025-01-01', '2025-12-31');
    expect((await all('referrals')).map((c) => [c.dimensions.practice, c.dimensions.imd, c.count])).toEqual([
      ['A81001', '2019:1', 1],
    ]);
    expect((await all('needs')).map((c) => [c.dimensions.category, c.dimensions.outcome, c.count])).toEqual([
      ['arts', 'matched', 1],
      ['food', 'matched', 1],
    ]);
    expect((await all('funnel')).map((c) => [c.dimensions.stage, c.count])).toEqual([['referred', 1]]);
  });

  it("the team's steps: each stage once, a closure with its reason; an attempted contact is no stage", async () => {
    const { figures, deps } = await routedCase(['food', 'arts']);
    const act = (action: Parameters<typeof actOnTeamReferral>[3], body: Record<string, unknown>) =>
      actOnTeamReferral(deps, team, id, action, () => ({ version: 1, ...body }));
    await act('accept', {});
    await act('accept', {});
    await act('contact', { outcome: 'attempted', channel: 'phone' });
    await act('contact', { outcome: 'made', channel: 'phone' });
    await act('start', {});
    await act('close', { reason: 'completed' });
    await act('close', { reason: 'completed' });
    // A retry whose body names another reason: answered as done or refused, never a second closure's cell.
    await act('close', { reason: 'moved-away' }).catch(() => undefined);
    const funnel = await figures.cells('funnel', '2025-01-01', '2025-12-31');
    expect(
      funnel.map((c) => [c.dimensions.stage, c.dimensions.reason, c.dimensions.team, c.count]).sort(),
    ).toEqual(
      [
        ['closed', 'completed', 'lw-woodhouse', 1],
        ['contacted', '-', 'lw-woodhouse', 1],
        ['received', '-', 'lw-woodhouse', 1],
        ['referred', '-', 'lw-woodhouse', 1],
        ['started', '-', 'lw-woodhouse', 1],
      ].sort(),
    );
  });

  it('the deadline job: an offer left to expire is a response `expired`, once however often the job runs', async () => {
    const { figures, deps, clock } = await routedCase(['food', 'arts'], { clearNotices: true });
    clock.advance(7 * day + hour);
    await runOfferDeadlines(deps, { limit: 100 });
    clock.advance(reminderGraceHours * hour);
    await runOfferDeadlines(deps, { limit: 100 });
    await runOfferDeadlines(deps, { limit: 100 });
    const responses = await figures.cells('responses', '2025-01-01', '2025-12-31');
    expect(
      responses.map((c) => [c.dimensions.partner, c.dimensions.outcome, c.dimensions.band, c.count]),
    ).toEqual([
      ['arts-for-all', 'expired', '-', 1],
      ['woodhouse-pantry', 'expired', '-', 1],
    ]);
  });
});
