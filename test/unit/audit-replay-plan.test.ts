import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { nextLink, verifyChain, type AuditEntry, type AuditLink } from '#audit/domain/chain.ts';
import { planReplay, type ReplayStep } from '../../infra/ops/audit/replay-plan.ts';
import { replay } from '../../infra/ops/audit/replay.ts';

// What `npm run audit -- replay` re-sends, from the trail alone: the step of the flow the trail shows never done,
// and only from a chain that verifies.

const referralId = '3f2b8a0e-9c1d-4e5f-8a7b-6c5d4e3f2a1b';
const receivedAt = '2026-11-30T09:00:00.000Z';
const team = `${referralId}.team.lw-leeds`;
const partner = `${referralId}.partner.leeds-arts`;

const entry = (eventKey: string, action: string, detail?: Record<string, unknown>): AuditEntry => ({
  referralId,
  eventKey,
  action,
  actor: 'system:test',
  at: receivedAt,
  ...(detail ? { detail } : {}),
});
const received = entry(`received.${receivedAt}`, 'referral.received', { needs: ['arts'], channel: 'api' });
const routed = entry('routed', 'referral.routed', {
  team: 'lw-leeds',
  deliveries: [
    { deliveryId: team, content: 'identifiable' },
    { deliveryId: partner, content: 'signposting' },
  ],
});
const delivered = (deliveryId: string) => entry(`delivered.${deliveryId}`, 'referral.delivered');
const failed = (deliveryId: string) => entry(`delivery-failed.${deliveryId}`, 'referral.delivery-failed');

function chain(...entries: AuditEntry[]): AuditLink[] {
  const links: AuditLink[] = [];
  for (const e of entries) links.push(nextLink(links.at(-1), e));
  return links;
}
const plan = (links: AuditLink[]) => planReplay(referralId, links, verifyChain(referralId, links));
const bodies = (steps: ReplayStep[]) => steps.map(({ queue, id, body }) => ({ queue, id, body }));

describe('planReplay', () => {
  it('received, never routed: the routing message to the referrals queue, said in words', () => {
    const result = plan(chain(received));
    expect(result.trusted).toBe(true);
    expect(bodies(result.steps)).toEqual([{ queue: 'referrals', id: referralId, body: { referralId } }]);
    expect(result.steps[0]?.says).toMatch(/^route: received 2026-11-30T09:00:00.000Z but never routed/);
  });

  it('routed: an assigned notice for each planned delivery neither delivered nor failed', () => {
    expect(bodies(plan(chain(received, routed)).steps)).toEqual([
      { queue: 'notifications', id: team, body: { referralId, deliveryId: team, kind: 'assigned' } },
      { queue: 'notifications', id: partner, body: { referralId, deliveryId: partner, kind: 'assigned' } },
    ]);
    const one = plan(chain(received, routed, delivered(team)));
    expect(bodies(one.steps)).toEqual([
      { queue: 'notifications', id: partner, body: { referralId, deliveryId: partner, kind: 'assigned' } },
    ]);
    expect(one.steps[0]?.says).toContain(`deliver: ${partner} (signposting)`);
  });

  it('every delivery delivered or failed: nothing, and says so', () => {
    const result = plan(chain(received, routed, delivered(team), failed(partner)));
    expect(result.steps).toEqual([]);
    expect(result.notes).toEqual([
      `Routed at ${receivedAt}; each of its 2 deliveries was delivered or failed: nothing to re-send.`,
    ]);
  });

  it('a cancelled referral gets nothing re-sent, even with deliveries outstanding', () => {
    const result = plan(chain(received, routed, entry('cancelled.v2', 'referral.cancelled')));
    expect(result).toMatchObject({ trusted: true, steps: [] });
    expect(result.notes[0]).toMatch(/^Cancelled at .*: nothing re-sent/);
    expect(plan(chain(received, entry('cancelled.v2', 'referral.cancelled'))).steps).toEqual([]);
  });

  it('withdrawn by intake (never acknowledged): nothing; accepted again after it: routing', () => {
    const withdrawn = entry(`withdrawn.${receivedAt}`, 'referral.withdrawn');
    expect(plan(chain(received, withdrawn)).steps).toEqual([]);
    const later = '2026-11-30T09:05:00.000Z';
    const again = { ...received, eventKey: `received.${later}`, at: later };
    expect(bodies(plan(chain(received, withdrawn, again)).steps)).toEqual([
      { queue: 'referrals', id: referralId, body: { referralId } },
    ]);
  });

  it('a broken chain is not acted on: untrusted, nothing planned, even where a step is missing', () => {
    const links = chain(received, entry('read.r1', 'referral.read'));
    const tampered = [links[0], { ...links[1], action: 'referral.changed' }] as AuditLink[];
    const result = plan(tampered);
    expect(result).toMatchObject({ trusted: false, steps: [] });
    expect(result.notes[0]).toMatch(/^Nothing re-sent: the chain is broken at link 2 \(tampered\)/);
    expect(plan([])).toMatchObject({ trusted: false, steps: [] });
  });

  it('no referral.received entry (a directory record, or an entry of another shape): nothing', () => {
    expect(
      plan(chain(entry('step.1', 'referral.received'), entry('step.2', 'referral.accepted'))).steps,
    ).toEqual([]);
    const routedWithout = { ...routed, detail: { team: 'lw-leeds' } };
    expect(plan(chain(received, routedWithout)).notes[0]).toMatch(/lists no deliveries/);
  });
});

describe('replay', () => {
  const run = async (links: AuditLink[], dryRun: boolean, fail = false) => {
    const lines: string[] = [];
    const sent: ReplayStep[][] = [];
    const code = await replay(
      {
        referralId,
        json: false,
        dryRun,
        sqs: { endpoint: '', region: 'eu-west-2', queueUrls: {} },
        timeline: ['(timeline)'],
        print: (line) => lines.push(line),
        err: new PassThrough(),
        send: async (steps, _target, onSent) => {
          if (fail) throw new Error('SQS is down');
          sent.push([...steps]);
          for (const step of steps) onSent(step);
        },
      },
      links,
      verifyChain(referralId, links),
    );
    return { code, lines, sent };
  };

  it('--dry-run names the steps and sends nothing; without it, sends them and reports each', async () => {
    const dry = await run(chain(received, routed), true);
    expect(dry.code).toBe(0);
    expect(dry.sent).toEqual([]);
    expect(dry.lines).toContain('Dry run: 2 step(s) never completed; would re-send (nothing sent):');
    const real = await run(chain(received, routed), false);
    expect(real.code).toBe(0);
    expect(real.sent.flat().map((s) => s.id)).toEqual([team, partner]);
    expect(real.lines).toContain(`  sent 2/2: notifications ${partner}`);
  });

  it('a broken chain exits 1 and sends nothing; a failed send exits 1', async () => {
    const links = chain(received);
    const broken = await run([{ ...links[0], at: 'later' } as AuditLink], false);
    expect(broken).toMatchObject({ code: 1, sent: [] });
    expect((await run(links, false, true)).code).toBe(1);
  });
});
