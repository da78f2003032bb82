import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '#kernel/errors.ts';
import { ons4Band, ons4BandNames, ons4Items, type SwemwbsAnswers } from '#outcomes/domain/instruments.ts';
import { newMeasureSet, readMeasureSet, type MeasureSetRequest } from '#outcomes/domain/measure-set.ts';
import { changeFromBaseline } from '#outcomes/domain/outcome-views.ts';

// Properties of the outcome measures over generated answers: bands never go down as a score goes up, every change
// says the direction its sign and the instrument's sense of "better" say, and no body makes reading a set throw
// anything but a ValidationError.

const bounds = { today: '2026-06-30', referralReceivedOn: '2026-03-02' };
const score = (min: number, max: number) => fc.integer({ min, max });
const ons4 = fc.record({
  lifeSatisfaction: score(0, 10),
  worthwhile: score(0, 10),
  happiness: score(0, 10),
  anxiety: score(0, 10),
});
const ucla3 = fc.record({ lackCompanionship: score(1, 3), leftOut: score(1, 3), isolated: score(1, 3) });
const swemwbs: fc.Arbitrary<SwemwbsAnswers> = fc.record({
  optimistic: score(1, 5),
  useful: score(1, 5),
  relaxed: score(1, 5),
  dealingWithProblems: score(1, 5),
  thinkingClearly: score(1, 5),
  closeToOthers: score(1, 5),
  ownMind: score(1, 5),
});

const recorded = (request: MeasureSetRequest, id: string) =>
  newMeasureSet(request, {
    referralId: '0b7a5d8e-6f0e-4a57-9d59-7a1f6c1f4b11',
    id,
    recordedAt: '2026-06-01T10:00:00.000Z',
    recordedBy: { subject: 's', team: 't' },
    fingerprint: 'f',
  });

/** Bodies with the set's own field names (and one more) holding anything, valid answers among them. */
const nearlyASet = fc.dictionary(
  fc.constantFrom('id', 'timepoint', 'takenOn', 'ons4', 'ucla3', 'lonelinessDirect', 'swemwbs', 'other'),
  fc.oneof(
    fc.jsonValue(),
    ons4,
    ucla3,
    swemwbs,
    fc.constantFrom('baseline', 'follow-up', '2026-04-01', '2027-01-01', 'never'),
  ),
);

describe('outcome measure properties', () => {
  it('an ONS4 band never falls as the score rises', () => {
    for (const item of ons4Items) {
      for (let s = 0; s < 10; s++) {
        expect(ons4BandNames.indexOf(ons4Band(item, s + 1))).toBeGreaterThanOrEqual(
          ons4BandNames.indexOf(ons4Band(item, s)),
        );
      }
    }
  });

  it("every change's direction follows its sign and the instrument's sense of better", () => {
    fc.assert(
      fc.property(ons4, ons4, ucla3, ucla3, swemwbs, swemwbs, (o1, o2, u1, u2, s1, s2) => {
        const baseline = recorded(
          { timepoint: 'baseline', takenOn: '2026-03-10', ons4: o1, ucla3: u1, swemwbs: s1 },
          '00000000-0000-4000-8000-000000000001',
        );
        const followUp = recorded(
          { timepoint: 'follow-up', takenOn: '2026-06-01', ons4: o2, ucla3: u2, swemwbs: s2 },
          '00000000-0000-4000-8000-000000000002',
        );
        const change = changeFromBaseline([baseline, followUp]);
        if (!change.available) throw new Error('expected a comparison');
        const expectDirection = (c: { change: number; direction: string }, higherIsBetter: boolean) => {
          const better = higherIsBetter ? c.change > 0 : c.change < 0;
          expect(c.direction).toBe(c.change === 0 ? 'same' : better ? 'better' : 'worse');
        };
        for (const item of ons4Items) {
          const c = change.ons4?.[item];
          if (!c) throw new Error(`no change for ${item}`);
          expect(c.change).toBe(o2[item] - o1[item]);
          expectDirection(c, item !== 'anxiety');
        }
        const ucla = change.ucla3;
        if (!ucla) throw new Error('no UCLA-3 change');
        expectDirection(ucla.total, false);
        expect(ucla.total.change).toBe(Object.values(ucla.items).reduce((sum, item) => sum + item.change, 0));
        const sw = change.swemwbs;
        if (!sw) throw new Error('no SWEMWBS change');
        expectDirection(sw.rawTotal, true);
        expect(sw.rawTotal.change).toBe(Object.values(sw.items).reduce((sum, item) => sum + item.change, 0));
      }),
    );
  });

  it('any JSON body is read or refused with a ValidationError, never anything else', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), nearlyASet), (body) => {
        try {
          readMeasureSet(body, bounds);
        } catch (error) {
          expect(error).toBeInstanceOf(ValidationError);
          expect((error as ValidationError).problems.length).toBeGreaterThan(0);
        }
      }),
    );
  });
});
