import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decide,
  decideOrThrow,
  entryFor,
  isTerminal,
  lifecycleActors,
  lifecycleEntities,
  lifecycleEvents,
  lifecycleMarkdown,
  lifecycleStates,
  lifecycleTable,
  LifecycleConflictError,
  LifecycleNotice,
  ownerOf,
  terminalStates,
  type EventOf,
  type GuardFacts,
  type LifecycleActor,
  type LifecycleCurrent,
  type LifecycleDecision,
  type LifecycleEntity,
  type LifecycleEntry,
  type LifecycleGuard,
  type LifecycleTransition,
  type StateOf,
} from '#referral/domain/lifecycle.ts';
import { roles } from '#system/routes.ts';

// Issue 7.3: the lifecycle as one pure table. The first suite enumerates every (entity, state, event, role) from the
// exported lists, so a state, event or role added later is covered without touching this file.

type Entity = LifecycleEntity;
type AnyState = StateOf<Entity>;
type AnyEvent = EventOf<Entity>;
type AnyEntry = LifecycleEntry<Entity>;

interface Combo {
  entity: Entity;
  state: AnyState | null;
  event: AnyEvent;
  role: LifecycleActor;
}

const version = 3;
const now = '2025-03-10T09:00:00.000Z';
const past = '2025-03-01T09:00:00.000Z';
const future = '2025-04-01T09:00:00.000Z';

const entriesOf = (entity: Entity): readonly AnyEntry[] => lifecycleTable[entity];
const statesOf = (entity: Entity): readonly AnyState[] => lifecycleStates[entity];
const eventsOf = (entity: Entity): readonly AnyEvent[] => lifecycleEvents[entity];
const find = (entity: Entity, from: AnyState | null, event: AnyEvent): AnyEntry | undefined =>
  entryFor(entity, from, event);

/** Stored facts and request facts under which a guard holds, so an allowed entry is applied. */
function satisfying(guard: LifecycleGuard | null): {
  stored: Partial<LifecycleCurrent<Entity>>;
  facts: GuardFacts;
} {
  switch (guard) {
    case null:
      return { stored: {}, facts: {} };
    case 'newer-message':
      return { stored: { lastMessageAt: past }, facts: { messageAt: now } };
    case 'deadline-passed':
    case 'deadline-passed-not-nudged':
      return { stored: { deadline: past }, facts: { now } };
    case 'deadline-passed-after-nudge':
      return { stored: { deadline: past, nudgedAt: past }, facts: { now } };
  }
}

function run(
  combo: Combo,
  expectedVersion: number,
  stored: Partial<LifecycleCurrent<Entity>> = {},
  facts: GuardFacts = {},
): LifecycleDecision<Entity> {
  const current = combo.state === null ? null : { ...stored, state: combo.state, version };
  return decide(combo.entity, current, combo.event, combo.role, expectedVersion, facts);
}

/** What the table says, read the plain way: the oracle the enumeration holds `decide` to. */
function expectedOutcome(
  combo: Combo,
): { kind: 'apply'; entry: AnyEntry } | { kind: 'already' } | { kind: 'invalid' | 'forbidden' } {
  const ofEvent = entriesOf(combo.entity).filter((e) => e.event === combo.event);
  if (!ofEvent.some((e) => e.roles.includes(combo.role))) return { kind: 'forbidden' };
  const here = ofEvent.find((e) => e.from === combo.state);
  if (here) return here.roles.includes(combo.role) ? { kind: 'apply', entry: here } : { kind: 'forbidden' };
  if (combo.state === null) return { kind: 'invalid' };
  const mine = ofEvent.filter((e) => e.roles.includes(combo.role));
  if (mine.some((e) => e.from === null || e.to === combo.state)) return { kind: 'already' };
  return { kind: 'invalid' };
}

const combos: Combo[] = lifecycleEntities.flatMap((entity) =>
  [null, ...statesOf(entity)].flatMap((state) =>
    eventsOf(entity).flatMap((event) => lifecycleActors.map((role) => ({ entity, state, event, role }))),
  ),
);

const label = (c: Combo) => `${c.entity} ${c.state ?? '(new)'} ${c.event} by ${c.role}`;

describe('every entity x state x event x role', () => {
  it('enumerates them all', () => {
    const expected = lifecycleEntities.reduce(
      (sum, entity) => sum + (statesOf(entity).length + 1) * eventsOf(entity).length * lifecycleActors.length,
      0,
    );
    expect(combos).toHaveLength(expected);
  });

  it.each(combos.map((c) => [label(c), c] as const))('%s', (_name, combo) => {
    const outcome = expectedOutcome(combo);
    const creating = combo.state === null;
    const seen = creating ? 0 : version;

    if (outcome.kind === 'apply') {
      const { stored, facts } = satisfying(outcome.entry.guard);
      const decision = run(combo, seen, stored, facts);
      expect(decision).toMatchObject({ ok: true, kind: 'apply' });
      if (!decision.ok) return;
      expect(decision.transition).toEqual({
        entity: combo.entity,
        event: combo.event,
        role: combo.role,
        from: combo.state,
        to: outcome.entry.to,
        expectedVersion: seen,
        nextVersion: creating ? 1 : version + (outcome.entry.bumpsVersion ? 1 : 0),
        guard: outcome.entry.guard,
        owner: ownerOf[combo.role],
        audit: outcome.entry.audit,
        counts: outcome.entry.counts,
        notices: outcome.entry.notices,
      });
      // The caller saw another version: refused as stale, naming both versions.
      const stale = run(combo, seen + 1, stored, facts);
      expect(stale).toMatchObject({ ok: false, reason: 'stale', state: combo.state, version: seen });
      if (!stale.ok)
        expect(stale.message).toBe(
          creating
            ? `${combo.entity} changed: expected version 1, it does not exist`
            : `${combo.entity} changed: expected version ${version + 1}, it is at version ${version} (${combo.state})`,
        );
      return;
    }

    const decision = run(combo, seen);
    if (outcome.kind === 'already') {
      expect(decision).toMatchObject({ ok: true, kind: 'already' });
      if (!decision.ok) return;
      expect(decision.transition).toMatchObject({
        from: combo.state,
        to: combo.state,
        expectedVersion: version,
        nextVersion: version,
      });
      const isCreation = entriesOf(combo.entity).some((e) => e.event === combo.event && e.from === null);
      // A repeat on a stale read is still stale (re-read first); a creation that finds the entity is a repeat.
      expect(run(combo, version - 1)).toMatchObject(
        isCreation ? { ok: true, kind: 'already' } : { ok: false, reason: 'stale' },
      );
      return;
    }

    expect(decision).toMatchObject({ ok: false, reason: outcome.kind, state: combo.state, version: seen });
    if (decision.ok) return;
    if (outcome.kind === 'forbidden') {
      // Says nothing about the referral's state, so a role that may never do this learns nothing from trying.
      expect(decision.message).toMatch(
        new RegExp(`^${combo.role} may not ${combo.event} an? ${combo.entity}$`),
      );
    } else if (creating) {
      expect(decision.message).toBe(`${combo.entity} does not exist: ${combo.event} is not allowed`);
    } else {
      expect(decision.message).toContain(
        `${combo.entity} is ${combo.state} (version ${version}): ${combo.event} is not allowed; `,
      );
    }
    // Versions do not turn a refusal into anything else: invalid and forbidden win over stale.
    expect(run(combo, seen + 7)).toMatchObject({ ok: false, reason: outcome.kind });
  });
});

describe('the lifecycle that exists today', () => {
  const referral = (
    state: StateOf<'referral'>,
    v = 1,
    stored: Partial<LifecycleCurrent<'referral'>> = {},
  ) => ({
    ...stored,
    state,
    version: v,
  });

  it('submit creates at version 1; route moves received to routed and tells the team and the partners', () => {
    expect(decide('referral', null, 'submit', 'gp-system', 0)).toMatchObject({
      ok: true,
      kind: 'apply',
      transition: { from: null, to: 'received', expectedVersion: 0, nextVersion: 1, owner: 'practice' },
    });
    expect(decide('referral', referral('received'), 'route', 'system', 1)).toMatchObject({
      ok: true,
      kind: 'apply',
      transition: {
        to: 'routed',
        nextVersion: 1,
        owner: null,
        audit: 'referral.routed',
        counts: expect.arrayContaining(['referrals.received', 'referrals.unmet']),
        // Partners too until offers arrive (issue 9): the router queues an assignment per matched partner today.
        notices: [
          { to: 'team', kind: 'assigned' },
          { to: 'partner', kind: 'assigned' },
        ],
      },
    });
  });

  it('a second submit or route is already applied (a retry, a redelivery)', () => {
    expect(decide('referral', referral('received'), 'submit', 'gp-system', 0)).toMatchObject({
      ok: true,
      kind: 'already',
    });
    expect(decide('referral', referral('routed'), 'route', 'system', 1)).toMatchObject({
      ok: true,
      kind: 'already',
      transition: { from: 'routed', to: 'routed', audit: 'referral.routed' },
    });
  });

  it('an update bumps the content version and notifies holders; it needs a newer message', () => {
    const current = referral('routed', 2, { lastMessageAt: '2025-03-05T09:00:00.000Z', lastMessageId: 'm1' });
    expect(
      decide('referral', current, 'update', 'gp-system', 2, { messageAt: '2025-03-05T10:00:00.000Z' }),
    ).toMatchObject({
      ok: true,
      kind: 'apply',
      transition: {
        from: 'routed',
        to: 'routed',
        expectedVersion: 2,
        nextVersion: 3,
        guard: 'newer-message',
        audit: 'referral.amended',
        notices: [{ to: 'holders', kind: 'updated' }],
      },
    });
    // The same message again is the retry after a crash: nothing to write, finish the audit and notices.
    expect(
      decide('referral', current, 'update', 'gp-system', 2, {
        messageAt: '2025-03-05T09:00:00+00:00',
        messageId: 'm1',
      }),
    ).toMatchObject({ ok: true, kind: 'already', transition: { nextVersion: 2 } });
    // Another message with the same timestamp is not a repeat: acknowledging it would drop its content.
    for (const messageId of ['m2', undefined]) {
      expect(
        decide('referral', current, 'update', 'gp-system', 2, {
          messageAt: '2025-03-05T09:00:00.000Z',
          messageId,
        }),
      ).toMatchObject({
        ok: false,
        reason: 'invalid',
        message:
          'referral is routed (version 2): update is not allowed; another message with the same timestamp (2025-03-05T09:00:00.000Z) was already applied; send this one with a later Bundle.timestamp',
      });
    }
    expect(
      decide('referral', current, 'update', 'gp-system', 2, { messageAt: '2025-03-05T08:00:00.000Z' }),
    ).toEqual({
      ok: false,
      reason: 'invalid',
      entity: 'referral',
      event: 'update',
      state: 'routed',
      version: 2,
      message:
        'referral is routed (version 2): update is not allowed; a newer message (2025-03-05T09:00:00.000Z) was already applied',
    });
    // Without the message time the guard is the store's to check, and the transition names it.
    expect(decide('referral', current, 'update', 'gp-system', 2)).toMatchObject({
      ok: true,
      kind: 'apply',
      transition: { guard: 'newer-message' },
    });
  });

  it('cancel ends it, tells every holder, and a repeat is already applied', () => {
    expect(decide('referral', referral('routed', 2), 'cancel', 'gp-system', 2)).toMatchObject({
      ok: true,
      kind: 'apply',
      transition: {
        to: 'cancelled',
        nextVersion: 2,
        owner: 'practice',
        audit: 'referral.cancelled',
        counts: ['referrals.cancelled'],
        notices: [{ to: 'holders', kind: 'cancelled' }],
      },
    });
    expect(decide('referral', referral('cancelled', 2), 'cancel', 'gp-system', 2)).toMatchObject({
      ok: true,
      kind: 'already',
      transition: { audit: 'referral.cancelled', notices: [{ to: 'holders', kind: 'cancelled' }] },
    });
  });

  it('a cancelled referral refuses everything else, saying which state and version', () => {
    expect(decide('referral', referral('cancelled', 3), 'update', 'gp-system', 3)).toMatchObject({
      ok: false,
      reason: 'invalid',
      message: 'referral is cancelled (version 3): update is not allowed; cancelled is final',
    });
    expect(decide('referral', referral('cancelled', 3), 'route', 'system', 3)).toMatchObject({
      ok: false,
      reason: 'invalid',
      message: 'referral is cancelled (version 3): route is not allowed; cancelled is final',
    });
  });

  it('a stale version is refused with both versions named', () => {
    expect(decide('referral', referral('routed', 3), 'cancel', 'gp-system', 2)).toMatchObject({
      ok: false,
      reason: 'stale',
      state: 'routed',
      version: 3,
      message: 'referral changed: expected version 2, it is at version 3 (routed)',
    });
  });

  it('no role but the GP system may cancel, and the refusal reveals no state', () => {
    expect(decide('referral', referral('routed'), 'cancel', 'partner', 1)).toMatchObject({
      ok: false,
      reason: 'forbidden',
      message: 'partner may not cancel a referral',
    });
  });
});

describe('what issue 9 adds', () => {
  it("the link worker's funnel: accept, first contact, intervention, close, each heard by the practice", () => {
    const steps: Array<[StateOf<'referral'>, EventOf<'referral'>, StateOf<'referral'>, string]> = [
      ['routed', 'accept', 'accepted', 'accepted'],
      ['accepted', 'record-contact', 'contacted', 'seen'],
      ['contacted', 'start-intervention', 'in-progress', 'intervention-started'],
      ['in-progress', 'close', 'closed', 'closed'],
    ];
    for (const [from, event, to, kind] of steps) {
      expect(decide('referral', { state: from, version: 1 }, event, 'link-worker', 1)).toMatchObject({
        ok: true,
        kind: 'apply',
        transition: { from, to, owner: 'team', notices: [{ to: 'practice', kind }] },
      });
    }
    // An attempt that did not reach the patient moves nothing.
    expect(
      decide('referral', { state: 'accepted', version: 1 }, 'attempt-contact', 'link-worker', 1),
    ).toMatchObject({ ok: true, kind: 'apply', transition: { from: 'accepted', to: 'accepted' } });
    // Contact before taking it on is refused; the message lists what is allowed.
    const early = decide('referral', { state: 'routed', version: 1 }, 'record-contact', 'link-worker', 1);
    expect(early).toMatchObject({ ok: false, reason: 'invalid' });
    if (!early.ok) expect(early.message).toMatch(/allowed from routed: .*accept/);
  });

  it('a referral nobody takes on is escalated once its deadline has passed', () => {
    const routed = { state: 'routed' as const, version: 1, deadline: past };
    expect(decide('referral', routed, 'escalate', 'system', 1, { now })).toMatchObject({
      ok: true,
      kind: 'apply',
      transition: { to: 'escalated', notices: [{ to: 'team', kind: 'escalated' }] },
    });
    expect(
      decide('referral', { ...routed, deadline: future }, 'escalate', 'system', 1, { now }),
    ).toMatchObject({
      ok: false,
      reason: 'invalid',
      message: `referral is routed (version 1): escalate is not allowed; its deadline (${future}) has not passed`,
    });
    expect(decide('referral', { state: 'escalated', version: 1 }, 'accept', 'link-worker', 1)).toMatchObject({
      ok: true,
      kind: 'apply',
      transition: { to: 'accepted' },
    });
  });

  it('a partner accepts or declines its offer; the link worker hears of a decline', () => {
    expect(decide('offer', { state: 'offered', version: 1 }, 'accept', 'partner', 1)).toMatchObject({
      ok: true,
      kind: 'apply',
      transition: { to: 'accepted', owner: 'partner' },
    });
    expect(decide('offer', { state: 'accepted', version: 1 }, 'decline', 'partner', 1)).toMatchObject({
      ok: true,
      kind: 'apply',
      transition: { to: 'declined', notices: [{ to: 'team', kind: 'offer-declined' }] },
    });
    expect(decide('offer', { state: 'offered', version: 1 }, 'accept', 'link-worker', 1)).toMatchObject({
      ok: false,
      reason: 'forbidden',
      message: 'link-worker may not accept an offer',
    });
  });

  it('an offer changed by an update refuses a partner who has not seen it', () => {
    const update = decide('offer', { state: 'offered', version: 1 }, 'update', 'system', 1);
    expect(update).toMatchObject({ ok: true, transition: { nextVersion: 2, notices: [] } });
    expect(decide('offer', { state: 'offered', version: 2 }, 'accept', 'partner', 1)).toMatchObject({
      ok: false,
      reason: 'stale',
      message: 'offer changed: expected version 1, it is at version 2 (offered)',
    });
  });

  it('silence: one reminder after the deadline, then expiry, escalated to the team', () => {
    const offered = { state: 'offered' as const, version: 1, deadline: past };
    expect(decide('offer', offered, 'nudge', 'system', 1, { now })).toMatchObject({
      ok: true,
      kind: 'apply',
      transition: { to: 'offered', notices: [{ to: 'partner', kind: 'reminder' }] },
    });
    expect(decide('offer', { ...offered, deadline: future }, 'nudge', 'system', 1, { now })).toMatchObject({
      ok: false,
      reason: 'invalid',
    });
    // A second reminder is the job's retry: already sent.
    expect(decide('offer', { ...offered, nudgedAt: past }, 'nudge', 'system', 1, { now })).toMatchObject({
      ok: true,
      kind: 'already',
    });
    expect(decide('offer', offered, 'escalate', 'system', 1, { now })).toMatchObject({
      ok: false,
      reason: 'invalid',
      message: 'offer is offered (version 1): escalate is not allowed; no reminder has been sent yet',
    });
    expect(decide('offer', { ...offered, nudgedAt: past }, 'escalate', 'system', 1, { now })).toMatchObject({
      ok: true,
      kind: 'apply',
      transition: {
        to: 'expired',
        notices: [
          { to: 'team', kind: 'offer-expired' },
          { to: 'partner', kind: 'withdrawn' },
        ],
      },
    });
    expect(decide('offer', { state: 'expired', version: 1 }, 'escalate', 'system', 1)).toMatchObject({
      ok: true,
      kind: 'already',
    });
  });

  it('a referral cancelled around its offers withdraws them without a second stop notice', () => {
    expect(decide('offer', { state: 'in-progress', version: 1 }, 'cancel', 'system', 1)).toMatchObject({
      ok: true,
      transition: { to: 'withdrawn', notices: [] },
    });
    expect(decide('offer', { state: 'accepted', version: 1 }, 'withdraw', 'link-worker', 1)).toMatchObject({
      ok: true,
      transition: { to: 'withdrawn', notices: [{ to: 'partner', kind: 'withdrawn' }] },
    });
  });
});

describe('the shape of the table', () => {
  it("names the token roles of the system description, plus our own functions' system", () => {
    expect(lifecycleActors).toEqual([...roles, 'system']);
  });

  for (const entity of lifecycleEntities) {
    const entries = entriesOf(entity);
    const states = statesOf(entity);
    const terminal: readonly AnyState[] = terminalStates[entity];

    describe(entity, () => {
      it('names only its own states, events and known roles, and each (state, event) once', () => {
        const keys = new Set<string>();
        for (const e of entries) {
          expect(e.entity).toBe(entity);
          if (e.from !== null) expect(states).toContain(e.from);
          expect(states).toContain(e.to);
          expect(eventsOf(entity)).toContain(e.event);
          expect(e.roles.length).toBeGreaterThan(0);
          for (const role of e.roles) expect(lifecycleActors).toContain(role);
          expect(e.audit.startsWith(`${entity}.`)).toBe(true);
          for (const notice of e.notices) expect(LifecycleNotice.parse(notice)).toEqual(notice);
          const key = `${e.from} ${e.event}`;
          expect(keys.has(key)).toBe(false);
          keys.add(key);
        }
      });

      it('final states have no way out, and every other state has one that moves', () => {
        for (const state of terminal) expect(entries.filter((e) => e.from === state)).toEqual([]);
        for (const state of states.filter((s) => !terminal.includes(s))) {
          expect(
            entries.some((e) => e.from === state && e.to !== state),
            state,
          ).toBe(true);
        }
        for (const state of states) expect(isTerminal(entity, state)).toBe(terminal.includes(state));
      });

      it('has one creation, and every state is reachable from it', () => {
        const creations = entries.filter((e) => e.from === null);
        expect(creations).toHaveLength(1);
        const reached = new Set<AnyState>(creations.map((e) => e.to));
        for (let grew = true; grew;) {
          grew = false;
          for (const e of entries) {
            if (e.from !== null && reached.has(e.from) && !reached.has(e.to)) {
              reached.add(e.to);
              grew = true;
            }
          }
        }
        expect([...reached].sort()).toEqual([...states].sort());
      });

      it('nothing waits forever: a final state is reachable from every state', () => {
        for (const start of states) {
          const reached = new Set<AnyState>([start]);
          for (let grew = true; grew;) {
            grew = false;
            for (const e of entries) {
              if (e.from !== null && reached.has(e.from) && !reached.has(e.to)) {
                reached.add(e.to);
                grew = true;
              }
            }
          }
          expect(
            [...reached].some((s) => terminal.includes(s)),
            start,
          ).toBe(true);
        }
      });

      it('an event either always stays or always moves, so "already" is unambiguous', () => {
        for (const event of eventsOf(entity)) {
          const of = entries.filter((e) => e.event === event && e.from !== null);
          const stays = of.filter((e) => e.to === e.from).length;
          expect([0, of.length], event).toContain(stays);
          // Entries leading into one state agree on what a repeat finishes (audit, counts, notices).
          for (const target of new Set(of.map((e) => e.to))) {
            const into = of.filter((e) => e.to === target);
            for (const e of into) {
              expect({ audit: e.audit, counts: e.counts, notices: e.notices }).toEqual({
                audit: into[0]?.audit,
                counts: into[0]?.counts,
                notices: into[0]?.notices,
              });
            }
          }
        }
      });

      it('only updates move the content version', () => {
        for (const e of entries) expect(e.bumpsVersion, `${e.from} ${e.event}`).toBe(e.event === 'update');
      });

      it('deadline guards are for our own functions, the message guard for the GP system', () => {
        for (const e of entries.filter((x) => x.guard !== null)) {
          expect(e.roles).toEqual(e.guard === 'newer-message' ? ['gp-system'] : ['system']);
        }
      });

      it('ops and admin change no state (operators act through replays, as system)', () => {
        for (const e of entries) {
          expect(e.roles).not.toContain('ops');
          expect(e.roles).not.toContain('admin');
        }
      });
    });
  }

  it('the referral notifies holders and the practice; an offer its partner and the team', () => {
    for (const e of entriesOf('referral'))
      for (const n of e.notices)
        // Except routing's assignment to each matched partner, which offers take over with issue 9.
        if (!(e.event === 'route' && n.to === 'partner' && n.kind === 'assigned'))
          expect(['holders', 'team', 'practice']).toContain(n.to);
    for (const e of entriesOf('offer'))
      for (const n of e.notices) expect(['partner', 'team']).toContain(n.to);
  });

  it('creations start where the model starts: a referral received, an offer offered', () => {
    expect(entriesOf('referral').find((e) => e.from === null)?.to).toBe('received');
    expect(entriesOf('offer').find((e) => e.from === null)?.to).toBe('offered');
    expect(find('referral', null, 'submit')?.roles).toEqual(['gp-system']);
  });
});

describe('random walks', () => {
  for (const entity of lifecycleEntities) {
    it(`${entity}: states stay in the model, versions only grow by updates, final states absorb`, () => {
      const step = fc.record({
        event: fc.constantFrom(...eventsOf(entity)),
        role: fc.constantFrom(...lifecycleActors),
        stale: fc.boolean(),
      });
      fc.assert(
        fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
          // Widened by hand: assigned only inside the loop, it would otherwise narrow to `null` for good.
          let current = null as LifecycleCurrent<Entity> | null;
          let minutes = 0;
          for (const { event, role, stale } of steps) {
            minutes += 1;
            const seen = (current?.version ?? 0) - (stale ? 1 : 0);
            const at = new Date(Date.UTC(2025, 2, 1, 9, minutes)).toISOString();
            const facts: GuardFacts = { now: '2030-01-01T00:00:00.000Z', messageAt: at };
            const decision: LifecycleDecision<Entity> = decide(entity, current, event, role, seen, facts);
            const wasFinal = current !== null && isTerminal(entity, current.state);
            if (!decision.ok) {
              if (decision.reason === 'stale') expect(seen).not.toBe(current?.version ?? 0);
              if (decision.reason !== 'forbidden' && current !== null)
                expect(decision.message).toContain(current.state);
              continue;
            }
            const t: LifecycleTransition<Entity> = decision.transition;
            if (decision.kind === 'already') {
              expect(t.to).toBe(current?.state);
              continue;
            }
            expect(wasFinal).toBe(false);
            expect(statesOf(entity)).toContain(t.to);
            expect(t.nextVersion - (current?.version ?? 0)).toBe(
              current === null || (event === 'update' && t.from !== null) ? 1 : 0,
            );
            current = {
              state: t.to,
              version: t.nextVersion,
              lastMessageAt: event === 'update' ? at : current?.lastMessageAt,
              // Every offer is past its deadline in this walk; a reminder, once sent, is remembered.
              deadline: '2025-01-01T00:00:00.000Z',
              nudgedAt: event === 'nudge' ? at : current?.nudgedAt,
            };
          }
        }),
        { numRuns: 300 },
      );
    });
  }
});

describe('LifecycleConflictError', () => {
  it('carries the refusal, for the HTTP layer to map (409, or 403 when forbidden)', () => {
    const refusal = decide('referral', { state: 'closed', version: 4 }, 'accept', 'link-worker', 4);
    expect(refusal.ok).toBe(false);
    if (refusal.ok) return;
    const error = new LifecycleConflictError(refusal);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: 'LifecycleConflictError',
      entity: 'referral',
      event: 'accept',
      reason: 'invalid',
      state: 'closed',
      version: 4,
      message: 'referral is closed (version 4): accept is not allowed; closed is final',
    });
  });

  it('decideOrThrow returns an allowed transition and throws a refused one', () => {
    expect(decideOrThrow('offer', null, 'offer', 'system', 0)).toMatchObject({
      kind: 'apply',
      transition: { to: 'offered', nextVersion: 1 },
    });
    expect(() => decideOrThrow('offer', { state: 'withdrawn', version: 1 }, 'accept', 'partner', 1)).toThrow(
      LifecycleConflictError,
    );
  });
});

describe('lifecycleMarkdown', () => {
  for (const entity of lifecycleEntities) {
    it(`${entity}: one row per state, one column per event, every state named`, () => {
      const markdown = lifecycleMarkdown(entity);
      const lines = markdown.split('\n');
      expect(lines).toHaveLength(statesOf(entity).length + 3); // header, rule, (new), states
      for (const line of lines) expect(line.split('|').length).toBe(eventsOf(entity).length + 3);
      for (const state of statesOf(entity)) expect(markdown).toContain(`**${state}**`);
      for (const event of eventsOf(entity)) expect(lines[0]).toContain(` ${event} `);
      const finalRow = lines.find((l) => l.includes(`**${terminalStates[entity][0]}** (final)`));
      expect(finalRow?.replace(/[|·\s]/g, '')).toBe(`**${terminalStates[entity][0]}**(final)`);
    });
  }
});
