import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ServiceCandidate } from '#directory/domain/coverage.ts';
import type { InterventionCategory } from '#referral/domain/categories.ts';
import { decideRouting, type RoutingInput } from '#matching/domain/routing.ts';
import { compareRanked } from '#matching/domain/ranking.ts';
import { assessCandidate } from '#matching/domain/candidate-rules.ts';
import { sampleDirectory, sampleReferral } from './fixtures.ts';
import { candidate, leedsArea } from './routing-support.ts';

/**
 * The decision over many randomised candidate sets: the same inputs in any order give the same decision, and the
 * decision keeps its promises (one chosen per matched need, every candidate listed once, the chosen one ranks above
 * every other fitting one, unmet exactly when nothing fits).
 */

const needs: InterventionCategory[] = ['arts', 'nature', 'food'];
const partners = ['p1', 'p2', 'p3', 'p4'];

const arbCandidate = fc
  .record({
    n: fc.integer({ min: 0, max: 40 }),
    partner: fc.constantFrom(...partners),
    level: fc.constantFrom('lsoa', 'district', 'la'),
    state: fc.constantFrom('open', 'open', 'open', 'paused', 'full'),
    weeklyLimit: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
    min: fc.option(fc.integer({ min: 0, max: 70 }), { nil: undefined }),
    span: fc.option(fc.integer({ min: 0, max: 50 }), { nil: undefined }),
    acceptsSignposting: fc.boolean(),
    record: fc.option(
      fc.record({
        answered: fc.integer({ min: 0, max: 20 }),
        acceptedShare: fc.integer({ min: 0, max: 100 }),
        medianResponseHours: fc.option(fc.integer({ min: 1, max: 200 }), { nil: undefined }),
      }),
      { nil: undefined },
    ),
    categories: fc.subarray(needs, { minLength: 1 }),
  })
  .map((c): ServiceCandidate => {
    const coverage =
      c.level === 'lsoa'
        ? { districts: [], lsoas: ['E01011331'] }
        : c.level === 'district'
          ? { districts: ['LS6'] }
          : { districts: [], localAuthorities: ['E08000035'] };
    const maximumAge = c.min !== undefined && c.span !== undefined ? c.min + c.span : undefined;
    return candidate(
      `svc-${String(c.n).padStart(2, '0')}`,
      c.partner,
      {
        coverage,
        capacity: { state: c.state, ...(c.weeklyLimit === undefined ? {} : { weeklyLimit: c.weeklyLimit }) },
        eligibility: {
          ...(c.min === undefined ? {} : { minimumAge: c.min }),
          ...(maximumAge === undefined ? {} : { maximumAge }),
        },
        acceptsSignposting: c.acceptsSignposting,
      },
      c.record
        ? {
            responseRecord: {
              answered: c.record.answered,
              accepted: Math.floor((c.record.answered * c.record.acceptedShare) / 100),
              ...(c.record.medianResponseHours === undefined
                ? {}
                : { medianResponseHours: c.record.medianResponseHours }),
            },
          }
        : {},
      c.categories,
    );
  });

/** Distinct service ids (the index lists each service once per category; duplicates are tested elsewhere). */
const arbCandidates = fc.uniqueArray(arbCandidate, { selector: (c) => c.service.id, maxLength: 25 });

const arbInput = fc.record({
  candidates: arbCandidates,
  birthDate: fc.option(fc.constantFrom('1950-02-28', '1980-06-15', '2004-02-29', '2010-12-31'), {
    nil: undefined,
  }),
  consent: fc.constantFrom(
    [],
    [{ recipient: 'any-vcse', granted: true }],
    [{ recipient: 'p1', granted: true }],
    [
      { recipient: 'any-vcse', granted: true },
      { recipient: 'p2', granted: false },
    ],
  ),
  weekly: fc.dictionary(
    fc.integer({ min: 0, max: 40 }).map((n) => `svc-${String(n).padStart(2, '0')}`),
    fc.integer({ min: 0, max: 4 }),
  ),
});

type InputValue = typeof arbInput extends fc.Arbitrary<infer T> ? T : never;

function routingInput(
  value: InputValue,
  order: (list: ServiceCandidate[]) => ServiceCandidate[],
): RoutingInput {
  const directory = sampleDirectory();
  const base = sampleReferral('leeds-arts-and-mental-health', {
    needs,
    consent: structuredClone([...value.consent]),
  });
  const { birthDate: _birthDate, ...patient } = base.patient;
  const referral = {
    ...base,
    patient: value.birthDate === undefined ? patient : { ...patient, birthDate: value.birthDate },
  };
  const candidates: Partial<Record<InterventionCategory, ServiceCandidate[]>> = {};
  for (const need of needs)
    candidates[need] = order(value.candidates.filter((c) => c.service.categories.includes(need)));
  const practice = directory.practices.find((p) => p.ods === referral.practiceOds);
  if (!practice) throw new Error('no practice');
  return {
    referral,
    practice,
    team: directory.teams.find((t) => t.pcn === practice.pcn),
    area: leedsArea(),
    candidates,
    weeklyMatches: value.weekly,
    decidedAt: '2025-03-04T09:20:00.000Z',
  };
}

describe('decideRouting over randomised candidates', () => {
  it('is the same decision whatever order the directory lists the candidates in', () => {
    fc.assert(
      fc.property(arbInput, fc.integer(), (value, seed) => {
        const asListed = decideRouting(routingInput(value, (list) => list));
        const reversed = decideRouting(routingInput(value, (list) => [...list].reverse()));
        // A deterministic shuffle from the seed.
        let state = seed;
        const shuffled = decideRouting(
          routingInput(value, (list) =>
            list
              .map((c) => {
                state = (state * 1103515245 + 12345) | 0;
                return { c, key: state };
              })
              .sort((a, b) => a.key - b.key)
              .map(({ c }) => c),
          ),
        );
        expect(reversed).toEqual(asListed);
        expect(shuffled).toEqual(asListed);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps its promises for every need', () => {
    fc.assert(
      fc.property(arbInput, (value) => {
        const input = routingInput(value, (list) => list);
        const decision = decideRouting(input);
        expect(decision.needs?.map((n) => n.category)).toEqual(needs);
        for (const need of decision.needs ?? []) {
          const offered = input.candidates[need.category] ?? [];
          // Every candidate once (all cover the area here).
          expect(need.candidates.map((c) => c.serviceId).sort()).toEqual(
            offered.map((c) => c.service.id).sort(),
          );
          const chosen = need.candidates.filter((c) => c.verdict === 'chosen');
          const fitting = need.candidates.filter((c) => c.verdict !== 'ruled-out');
          if (need.outcome === 'matched') {
            expect(chosen).toHaveLength(1);
            expect(need.candidates[0]?.verdict).toBe('chosen');
            expect(need.unmet).toBeUndefined();
            const match = decision.matches.find((m) => m.category === need.category);
            expect(match?.serviceId).toBe(chosen[0]?.serviceId);
          } else {
            expect(fitting).toHaveLength(0);
            expect(need.unmet?.code).toBeDefined();
            expect(decision.unmetNeeds.find((u) => u.category === need.category)?.code).toBe(
              need.unmet?.code,
            );
          }
          // Fitting ones come before ruled-out ones.
          const firstOut = need.candidates.findIndex((c) => c.verdict === 'ruled-out');
          if (firstOut !== -1)
            expect(need.candidates.slice(firstOut).every((c) => c.verdict === 'ruled-out')).toBe(true);
        }
        expect(decision.matches.length + decision.unmetNeeds.length).toBe(needs.length);
      }),
      { numRuns: 300 },
    );
  });

  it('the chosen service ranks above every other that fits (no partner chosen before)', () => {
    fc.assert(
      fc.property(arbInput, (value) => {
        const input = routingInput(value, (list) => list);
        input.referral = { ...input.referral, needs: ['arts'] };
        const decision = decideRouting(input);
        const need = decision.needs?.[0];
        if (need?.outcome !== 'matched') return;
        const context = {
          area: input.area,
          age: undefined,
          consent: input.referral.consent,
          weeklyMatches: input.weeklyMatches ?? {},
        };
        const fitOf = (id: string) => {
          const made = (input.candidates.arts ?? []).find((c) => c.service.id === id);
          const fit = made && assessCandidate(made, context);
          if (!fit?.fits) throw new Error(`${id} should fit`);
          return { fit, partnerChosen: false };
        };
        const [chosen, ...others] = need.candidates.filter((c) => c.verdict !== 'ruled-out');
        for (const other of others) {
          expect(compareRanked(fitOf(chosen?.serviceId ?? ''), fitOf(other.serviceId))).toBeLessThan(0);
        }
      }),
      { numRuns: 200 },
    );
  });
});
