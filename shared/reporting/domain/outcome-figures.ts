import {
  lonelinessFrequencies,
  ons4Band,
  ons4Items,
  swemwbsRawTotal,
  ucla3Total,
  type Ons4Item,
} from '#outcomes/domain/instruments.ts';
import type { MeasureSetRecord } from '#outcomes/domain/measure-set.ts';
import type { Referral } from '#referral/domain/referral.ts';
import { notApplicable, type Figure, type OutcomeMeasure } from '#reporting/domain/figures.ts';
import { imdOf, pcnOf } from '#reporting/domain/referral-figures.ts';

/**
 * The `outcomes` figures of one measure set: one per measure it holds (the four ONS4 items apart, the UCLA-3 total,
 * the direct loneliness question, the SWEMWBS raw total), on the day the set was taken, with the referral's PCN, team
 * and IMD decile. At a follow-up each measure says how it moved from the referral's baseline by the instrument's own
 * sense of better: ONS4 life satisfaction, worthwhile and happiness and SWEMWBS are better higher; ONS4 anxiety and
 * UCLA-3 are better lower; the direct question is better further towards `never`. Compared on the scores, not the
 * bands (a move within a band is still a move). The set's id is the unit: a retry builds the same cells.
 */

const ons4Measures: Record<Ons4Item, OutcomeMeasure> = {
  lifeSatisfaction: 'ons4-life-satisfaction',
  worthwhile: 'ons4-worthwhile',
  happiness: 'ons4-happiness',
  anxiety: 'ons4-anxiety',
};

export type Change = 'improved' | 'same' | 'worse';

/** How `after` compares with `before` when `higherIsBetter` says which way is better. */
export function changeOf(before: number, after: number, higherIsBetter: boolean): Change {
  if (after === before) return 'same';
  return after > before === higherIsBetter ? 'improved' : 'worse';
}

interface Scored {
  measure: OutcomeMeasure;
  band: string;
  score: number;
  higherIsBetter: boolean;
}

/** Every measure a set holds, with its band (ONS4) or score as a string, and the score to compare. */
function scoredMeasures(set: MeasureSetRecord): Scored[] {
  const scored: Scored[] = [];
  if (set.ons4) {
    const answers = set.ons4;
    for (const item of ons4Items)
      scored.push({
        measure: ons4Measures[item],
        band: ons4Band(item, answers[item]),
        score: answers[item],
        higherIsBetter: item !== 'anxiety',
      });
  }
  if (set.ucla3) {
    const total = ucla3Total(set.ucla3);
    scored.push({ measure: 'ucla3', band: String(total), score: total, higherIsBetter: false });
  }
  if (set.lonelinessDirect) {
    // Ordered from most to least often lonely: further along is better.
    const steps = lonelinessFrequencies.indexOf(set.lonelinessDirect);
    scored.push({
      measure: 'loneliness-direct',
      band: set.lonelinessDirect,
      score: steps,
      higherIsBetter: true,
    });
  }
  if (set.swemwbs) {
    const total = swemwbsRawTotal(set.swemwbs);
    scored.push({ measure: 'swemwbs', band: String(total), score: total, higherIsBetter: true });
  }
  return scored;
}

/**
 * The set's figures. `baseline` is the referral's baseline set (for a follow-up's change; a measure the baseline
 * does not hold, or a baseline set itself, has change `-`).
 */
export function outcomeFigures(
  referral: Referral,
  set: MeasureSetRecord,
  baseline: MeasureSetRecord | undefined,
): Figure<'outcomes'>[] {
  const decision = referral.routing;
  const before = new Map(
    set.timepoint === 'follow-up' && baseline && baseline.id !== set.id
      ? scoredMeasures(baseline).map((m) => [m.measure, m.score])
      : [],
  );
  return scoredMeasures(set).map(({ measure, band, score, higherIsBetter }) => {
    const was = before.get(measure);
    return {
      family: 'outcomes',
      day: set.takenOn,
      dimensions: {
        measure,
        timepoint: set.timepoint,
        band,
        change: was === undefined ? notApplicable : changeOf(was, score, higherIsBetter),
        pcn: decision ? pcnOf(decision) : 'unknown',
        team: decision?.team?.id ?? set.recordedBy.team,
        imd: decision ? imdOf(decision) : 'unknown:unknown',
      },
    };
  });
}
