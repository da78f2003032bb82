import { describe, expect, it } from 'vitest';
import { ValidationError, type FieldProblem } from '#kernel/errors.ts';
import {
  ons4Band,
  swemwbsRawTotal,
  ucla3Total,
  type Ons4Item,
  type SwemwbsAnswers,
  type SwemwbsConversion,
} from '#outcomes/domain/instruments.ts';
import {
  latestFollowUp,
  newMeasureSet,
  readMeasureSet,
  ukDay,
  type DateBounds,
  type MeasureSetRecord,
  type MeasureSetRequest,
} from '#outcomes/domain/measure-set.ts';
import { changeFromBaseline, measureSetView, outcomesView } from '#outcomes/domain/outcome-views.ts';

const bounds: DateBounds = { today: '2026-06-30', referralReceivedOn: '2026-03-02' };

const ons4 = { lifeSatisfaction: 4, worthwhile: 5, happiness: 6, anxiety: 7 };
const ucla3 = { lackCompanionship: 3, leftOut: 2, isolated: 3 };
const swemwbs: SwemwbsAnswers = {
  optimistic: 2,
  useful: 3,
  relaxed: 2,
  dealingWithProblems: 3,
  thinkingClearly: 3,
  closeToOthers: 2,
  ownMind: 4,
};
const fullSet = {
  timepoint: 'baseline',
  takenOn: '2026-03-10',
  ons4,
  ucla3,
  lonelinessDirect: 'often-always',
  swemwbs,
};

/** The problems a body is refused with, as `field: rule`. */
function refusal(body: unknown, dates: DateBounds = bounds): string[] {
  try {
    readMeasureSet(body, dates);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return error.problems.map((p: FieldProblem) => `${p.field}: ${p.rule}`);
  }
  throw new Error('expected a refusal');
}

describe('ONS4 bands, at every boundary', () => {
  const positive: Array<[number, string]> = [
    [0, 'low'],
    [4, 'low'],
    [5, 'medium'],
    [6, 'medium'],
    [7, 'high'],
    [8, 'high'],
    [9, 'very-high'],
    [10, 'very-high'],
  ];
  for (const item of ['lifeSatisfaction', 'worthwhile', 'happiness'] as Ons4Item[]) {
    it.each(positive)(`${item} %i is %s`, (score, band) => expect(ons4Band(item, score)).toBe(band));
  }

  // Anxiety has bands of its own (not the others reversed): 0-1 very low, 2-3 low, 4-5 medium, 6-10 high.
  it.each([
    [0, 'very-low'],
    [1, 'very-low'],
    [2, 'low'],
    [3, 'low'],
    [4, 'medium'],
    [5, 'medium'],
    [6, 'high'],
    [10, 'high'],
  ])('anxiety %i is %s', (score, band) => expect(ons4Band('anxiety', score)).toBe(band));

  it('every score 0-10 has exactly one band; outside the scale there is none', () => {
    for (let score = 0; score <= 10; score++) {
      expect(() => ons4Band('happiness', score)).not.toThrow();
      expect(() => ons4Band('anxiety', score)).not.toThrow();
    }
    for (const score of [-1, 11, 4.5]) expect(() => ons4Band('happiness', score)).toThrow(RangeError);
  });
});

describe('totals', () => {
  it('UCLA-3 totals 3 to 9', () => {
    expect(ucla3Total({ lackCompanionship: 1, leftOut: 1, isolated: 1 })).toBe(3);
    expect(ucla3Total(ucla3)).toBe(8);
    expect(ucla3Total({ lackCompanionship: 3, leftOut: 3, isolated: 3 })).toBe(9);
  });

  it('SWEMWBS raw totals 7 to 35', () => {
    const all = (n: number): SwemwbsAnswers => ({
      optimistic: n,
      useful: n,
      relaxed: n,
      dealingWithProblems: n,
      thinkingClearly: n,
      closeToOthers: n,
      ownMind: n,
    });
    expect(swemwbsRawTotal(all(1))).toBe(7);
    expect(swemwbsRawTotal(swemwbs)).toBe(19);
    expect(swemwbsRawTotal(all(5))).toBe(35);
  });
});

describe('reading a measure set: refusals name the field and the rule', () => {
  it('accepts every instrument, and any one alone', () => {
    expect(readMeasureSet(fullSet, bounds)).toEqual(fullSet);
    for (const only of ['ons4', 'ucla3', 'lonelinessDirect', 'swemwbs'] as const) {
      const body = { timepoint: 'follow-up', takenOn: '2026-04-01', [only]: fullSet[only] };
      expect(readMeasureSet(body, bounds)).toEqual(body);
    }
  });

  it('{} is told everything it lacks at once', () => {
    expect(refusal({})).toEqual([
      'timepoint: is required',
      'takenOn: is required',
      ': must hold at least one instrument: ons4, ucla3, lonelinessDirect, swemwbs',
    ]);
  });

  it('a body that is not an object is refused, not thrown over', () => {
    expect(refusal([])).toEqual([': must be an object']);
    expect(refusal(null)).toEqual([': must be an object']);
  });

  it.each([
    [{ ons4: { ...ons4, happiness: 11 } }, 'ons4.happiness: must be a whole number from 0 to 10'],
    [{ ons4: { ...ons4, anxiety: -1 } }, 'ons4.anxiety: must be a whole number from 0 to 10'],
    [{ ons4: { ...ons4, worthwhile: 5.5 } }, 'ons4.worthwhile: must be an int'],
    [{ ons4: { ...ons4, lifeSatisfaction: '5' } }, 'ons4.lifeSatisfaction: must be a number'],
    [{ ons4: { lifeSatisfaction: 4, worthwhile: 5, happiness: 6 } }, 'ons4.anxiety: is required'],
    [{ ucla3: { ...ucla3, leftOut: 0 } }, 'ucla3.leftOut: must be a whole number from 1 to 3'],
    [{ ucla3: { ...ucla3, isolated: 4 } }, 'ucla3.isolated: must be a whole number from 1 to 3'],
    [
      { lonelinessDirect: 'always' },
      'lonelinessDirect: must be one of: often-always, some-of-the-time, occasionally, hardly-ever, never',
    ],
    [{ swemwbs: { ...swemwbs, relaxed: 6 } }, 'swemwbs.relaxed: must be a whole number from 1 to 5'],
    [{ swemwbs: { ...swemwbs, ownMind: 0 } }, 'swemwbs.ownMind: must be a whole number from 1 to 5'],
  ])('%j', (change, problem) => {
    expect(refusal({ ...fullSet, ...change })).toEqual([problem]);
  });

  it('unknown fields and unknown items are refused, never dropped', () => {
    expect(refusal({ ...fullSet, pam: 3 })).toEqual(['pam: is not a field of this resource (unknown: pam)']);
    expect(refusal({ ...fullSet, ons4: { ...ons4, meaning: 3 } })).toEqual([
      'ons4.meaning: is not a field of this resource (unknown: meaning)',
    ]);
  });

  it.each([
    [{ timepoint: 'discharge' }, 'timepoint: must be one of: baseline, follow-up'],
    [{ takenOn: '2026-02-30' }, 'takenOn: must be a date as YYYY-MM-DD'],
    [{ takenOn: '10/03/2026' }, 'takenOn: must be a date as YYYY-MM-DD'],
    [{ id: 'set-1' }, 'id: must be a UUID'],
  ])('%j', (change, problem) => {
    expect(refusal({ ...fullSet, ...change })).toEqual([problem]);
  });

  it('the day taken: not in the future, not before the referral', () => {
    expect(readMeasureSet({ ...fullSet, takenOn: bounds.today }, bounds).takenOn).toBe(bounds.today);
    expect(readMeasureSet({ ...fullSet, takenOn: bounds.referralReceivedOn }, bounds).takenOn).toBe(
      bounds.referralReceivedOn,
    );
    expect(refusal({ ...fullSet, takenOn: '2026-07-01' })).toEqual([
      'takenOn: must not be in the future (today is 2026-06-30)',
    ]);
    expect(refusal({ ...fullSet, takenOn: '2026-03-01' })).toEqual([
      'takenOn: must not be before the referral was received (2026-03-02)',
    ]);
  });

  it("a follow-up is not before the baseline's day; a baseline is not held to it", () => {
    const withBaseline = { ...bounds, baselineTakenOn: '2026-03-10' };
    const followUp = { ...fullSet, timepoint: 'follow-up' };
    expect(readMeasureSet({ ...followUp, takenOn: '2026-03-10' }, withBaseline).takenOn).toBe('2026-03-10');
    expect(refusal({ ...followUp, takenOn: '2026-03-09' }, withBaseline)).toEqual([
      'takenOn: a follow-up must not be before the baseline (taken on 2026-03-10)',
    ]);
    expect(readMeasureSet({ ...fullSet, takenOn: '2026-03-09' }, withBaseline).takenOn).toBe('2026-03-09');
  });

  it('a date rule is told along with the other problems', () => {
    expect(refusal({ timepoint: 'baseline', takenOn: '2027-01-01' })).toEqual([
      ': must hold at least one instrument: ons4, ucla3, lonelinessDirect, swemwbs',
      'takenOn: must not be in the future (today is 2026-06-30)',
    ]);
  });
});

describe('the UK day', () => {
  it('is the day in Europe/London, summer time included', () => {
    expect(ukDay('2026-01-15T23:30:00.000Z')).toBe('2026-01-15');
    // 23:30 UTC in July is 00:30 BST the next day.
    expect(ukDay('2026-07-15T23:30:00.000Z')).toBe('2026-07-16');
    expect(ukDay(new Date('2026-03-29T00:30:00.000Z'))).toBe('2026-03-29');
  });
});

// ---- Scoring and change from baseline ---------------------------------------------------------------------------

const referralId = '0b7a5d8e-6f0e-4a57-9d59-7a1f6c1f4b11';
let sequence = 0;
function recorded(request: MeasureSetRequest, recordedAt = '2026-04-01T10:00:00.000Z'): MeasureSetRecord {
  sequence += 1;
  return newMeasureSet(request, {
    referralId,
    id: `00000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`,
    recordedAt,
    recordedBy: { subject: 'lw-1', team: 'lw-woodhouse' },
    fingerprint: 'f',
  });
}
const baseline = recorded(readMeasureSet(fullSet, bounds));

/** A fake licensed conversion: not the real table (which is licensed), only something to tell it was used. */
const fakeConversion: SwemwbsConversion = { metricScore: (raw) => raw + 0.37 };

describe('a measure set as shown', () => {
  it('bands ONS4, totals UCLA-3 and SWEMWBS; without a conversion only the raw total', () => {
    const view = measureSetView(baseline);
    expect(view.ons4?.bands).toEqual({
      lifeSatisfaction: 'low',
      worthwhile: 'medium',
      happiness: 'medium',
      anxiety: 'high',
    });
    expect(view.ucla3?.total).toBe(8);
    expect(view.lonelinessDirect).toEqual({ answer: 'often-always' });
    expect(view.swemwbs).toEqual({ answers: swemwbs, rawTotal: 19, metricScore: null });
    expect(view).not.toHaveProperty('fingerprint');
  });

  it('with a conversion, the metric score too', () => {
    expect(measureSetView(baseline, fakeConversion).swemwbs?.metricScore).toBe(19.37);
  });

  it('shows only the instruments recorded', () => {
    const view = measureSetView(
      recorded({ timepoint: 'follow-up', takenOn: '2026-04-01', lonelinessDirect: 'never' }),
    );
    expect(Object.keys(view).sort()).toEqual(
      ['id', 'lonelinessDirect', 'recordedAt', 'recordedBy', 'takenOn', 'timepoint'].sort(),
    );
  });
});

describe('change from baseline', () => {
  const followUpRequest = {
    timepoint: 'follow-up' as const,
    takenOn: '2026-06-01',
    ons4: { lifeSatisfaction: 7, worthwhile: 5, happiness: 4, anxiety: 3 },
    ucla3: { lackCompanionship: 2, leftOut: 2, isolated: 1 },
    lonelinessDirect: 'occasionally' as const,
    swemwbs: { ...swemwbs, optimistic: 4, relaxed: 1 },
  };

  it('nothing to compare without a baseline, or without a follow-up', () => {
    expect(changeFromBaseline([])).toEqual({ available: false, reason: 'no baseline has been recorded' });
    expect(changeFromBaseline([baseline])).toEqual({
      available: false,
      reason: 'no follow-up has been recorded since the baseline',
    });
  });

  it('per item and per total or band, each with its own sense of better', () => {
    const followUp = recorded(followUpRequest);
    const change = changeFromBaseline([baseline, followUp]);
    expect(change).toMatchObject({
      available: true,
      baseline: { id: baseline.id, takenOn: '2026-03-10' },
      followUp: { id: followUp.id, takenOn: '2026-06-01' },
      notCompared: [],
    });
    if (!change.available) throw new Error('expected a comparison');
    expect(change.ons4).toEqual({
      lifeSatisfaction: {
        baseline: 4,
        followUp: 7,
        change: 3,
        direction: 'better',
        baselineBand: 'low',
        followUpBand: 'high',
      },
      worthwhile: {
        baseline: 5,
        followUp: 5,
        change: 0,
        direction: 'same',
        baselineBand: 'medium',
        followUpBand: 'medium',
      },
      happiness: {
        baseline: 6,
        followUp: 4,
        change: -2,
        direction: 'worse',
        baselineBand: 'medium',
        followUpBand: 'low',
      },
      // Anxiety falling is better.
      anxiety: {
        baseline: 7,
        followUp: 3,
        change: -4,
        direction: 'better',
        baselineBand: 'high',
        followUpBand: 'low',
      },
    });
    // UCLA-3: lower is less lonely.
    expect(change.ucla3).toEqual({
      items: {
        lackCompanionship: { baseline: 3, followUp: 2, change: -1, direction: 'better' },
        leftOut: { baseline: 2, followUp: 2, change: 0, direction: 'same' },
        isolated: { baseline: 3, followUp: 1, change: -2, direction: 'better' },
      },
      total: { baseline: 8, followUp: 5, change: -3, direction: 'better' },
    });
    expect(change.lonelinessDirect).toEqual({
      baseline: 'often-always',
      followUp: 'occasionally',
      change: 2,
      direction: 'better',
    });
    expect(change.swemwbs?.items.optimistic).toEqual({
      baseline: 2,
      followUp: 4,
      change: 2,
      direction: 'better',
    });
    expect(change.swemwbs?.items.relaxed).toEqual({
      baseline: 2,
      followUp: 1,
      change: -1,
      direction: 'worse',
    });
    expect(change.swemwbs?.rawTotal).toEqual({ baseline: 19, followUp: 20, change: 1, direction: 'better' });
    // No licensed conversion: no metric score, and no change of one.
    expect(change.swemwbs?.metricScore).toBeNull();
  });

  it('with a conversion, the metric score changes too', () => {
    const change = changeFromBaseline([baseline, recorded(followUpRequest)], fakeConversion);
    if (!change.available) throw new Error('expected a comparison');
    expect(change.swemwbs?.metricScore).toEqual({
      baseline: 19.37,
      followUp: 20.37,
      change: 1,
      direction: 'better',
    });
  });

  it('the lonelier answer is worse', () => {
    const followUp = recorded({
      timepoint: 'follow-up',
      takenOn: '2026-06-01',
      lonelinessDirect: 'often-always',
    });
    const better = recorded({ ...fullSet, lonelinessDirect: 'never' } as MeasureSetRequest);
    const change = changeFromBaseline([better, followUp]);
    expect(change.available && change.lonelinessDirect).toEqual({
      baseline: 'never',
      followUp: 'often-always',
      change: -4,
      direction: 'worse',
    });
  });

  it('only the instruments both sets hold are compared; the others are named', () => {
    const followUp = recorded({ timepoint: 'follow-up', takenOn: '2026-06-01', ons4: followUpRequest.ons4 });
    const partial = recorded({
      timepoint: 'baseline',
      takenOn: '2026-03-10',
      ons4,
      lonelinessDirect: 'never',
    });
    const change = changeFromBaseline([partial, followUp]);
    if (!change.available) throw new Error('expected a comparison');
    expect(change.ons4).toBeDefined();
    expect(change.ucla3).toBeUndefined();
    expect(change.swemwbs).toBeUndefined();
    expect(change.lonelinessDirect).toBeUndefined();
    expect(change.notCompared).toEqual(['lonelinessDirect']);
  });

  it('the latest follow-up is compared: the last taken, then the last recorded that day', () => {
    const early = recorded({ ...followUpRequest, takenOn: '2026-05-01' }, '2026-06-20T09:00:00.000Z');
    const lateFirst = recorded({ ...followUpRequest, takenOn: '2026-06-01' }, '2026-06-01T09:00:00.000Z');
    const lateSecond = recorded(
      { ...followUpRequest, takenOn: '2026-06-01', ons4: { ...followUpRequest.ons4, happiness: 9 } },
      '2026-06-01T11:00:00.000Z',
    );
    expect(latestFollowUp([lateSecond, early, lateFirst])?.id).toBe(lateSecond.id);
    const change = changeFromBaseline([baseline, early, lateSecond, lateFirst]);
    expect(change.available && change.followUp.id).toBe(lateSecond.id);
    expect(change.available && change.ons4?.happiness.followUp).toBe(9);
  });

  it('the view lists the baseline first, then follow-ups by day taken', () => {
    const june = recorded({ ...followUpRequest, takenOn: '2026-06-01' });
    const may = recorded({ ...followUpRequest, takenOn: '2026-05-01' });
    const view = outcomesView(referralId, [june, may, baseline]);
    expect(view.sets.map((s) => s.id)).toEqual([baseline.id, may.id, june.id]);
    expect(view.referralId).toBe(referralId);
    expect(view.changeFromBaseline.available && view.changeFromBaseline.followUp.id).toBe(june.id);
  });
});
