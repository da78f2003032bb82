import * as z from 'zod';
import {
  instrumentNames,
  lonelinessFrequencies,
  LonelinessDirect,
  Ons4Answers,
  Ons4Band,
  ons4Band,
  ons4Items,
  SwemwbsAnswers,
  swemwbsItems,
  swemwbsRawTotal,
  Ucla3Answers,
  ucla3Items,
  ucla3Total,
  type InstrumentName,
  type SwemwbsConversion,
} from '#outcomes/domain/instruments.ts';
import {
  baselineOf,
  latestFollowUp,
  RecordedBy,
  Timepoint,
  type MeasureSetRecord,
} from '#outcomes/domain/measure-set.ts';

/**
 * What a link worker is shown: each measure set scored (ONS4 bands, UCLA-3 total, SWEMWBS raw total and, with a
 * licensed conversion, its metric score), and the change from baseline of the latest follow-up, per item and per
 * total or band. The schemas are the API's (shared/http/api-schemas.ts); the types are z.infer of them.
 */

const itemsOf = <const K extends readonly string[], S extends z.ZodType>(keys: K, schema: S) =>
  z.strictObject(Object.fromEntries(keys.map((key) => [key, schema])) as { [P in K[number]]: S });

export const MeasureSetView = z.object({
  id: z.uuid(),
  timepoint: Timepoint,
  takenOn: z.iso.date(),
  recordedAt: z.iso.datetime(),
  recordedBy: RecordedBy,
  ons4: z
    .object({
      answers: Ons4Answers,
      bands: itemsOf(ons4Items, Ons4Band).describe(
        'Per item: 0-4 low, 5-6 medium, 7-8 high, 9-10 very-high; anxiety 0-1 very-low, 2-3 low, 4-5 medium, ' +
          '6-10 high (for anxiety, low is good)',
      ),
    })
    .optional(),
  ucla3: z
    .object({
      answers: Ucla3Answers,
      total: z.int().min(3).max(9).describe('3-9; higher is lonelier'),
    })
    .optional(),
  lonelinessDirect: z.object({ answer: LonelinessDirect }).optional(),
  swemwbs: z
    .object({
      answers: SwemwbsAnswers,
      rawTotal: z.int().min(7).max(35).describe('The sum of the seven answers, 7-35'),
      metricScore: z
        .number()
        .nullable()
        .describe(
          'The metric score from the licensed conversion table; null when no conversion is configured',
        ),
    })
    .optional(),
});
export type MeasureSetView = z.infer<typeof MeasureSetView>;

export const Direction = z
  .enum(['better', 'worse', 'same'])
  .describe('Whether the follow-up is better than the baseline, by the instrument\'s own sense of "better"');
export type Direction = z.infer<typeof Direction>;

export const NumberChange = z.object({
  baseline: z.number(),
  followUp: z.number(),
  change: z.number().describe('followUp - baseline'),
  direction: Direction,
});
export type NumberChange = z.infer<typeof NumberChange>;

const Ons4ItemChange = NumberChange.extend({ baselineBand: Ons4Band, followUpBand: Ons4Band });

const SetRef = z.object({ id: z.uuid(), takenOn: z.iso.date() });

export const ChangeFromBaseline = z
  .discriminatedUnion('available', [
    z.object({
      available: z.literal(false),
      reason: z.string().describe('Why there is nothing to compare yet'),
    }),
    z.object({
      available: z.literal(true),
      baseline: SetRef,
      followUp: SetRef.describe('The latest follow-up (the last taken; of one day, the last recorded)'),
      ons4: itemsOf(ons4Items, Ons4ItemChange)
        .optional()
        .describe('Per item, with both bands; anxiety is better when it falls'),
      ucla3: z
        .object({ items: itemsOf(ucla3Items, NumberChange), total: NumberChange })
        .optional()
        .describe('Better when it falls'),
      lonelinessDirect: z
        .object({
          baseline: LonelinessDirect,
          followUp: LonelinessDirect,
          change: z
            .int()
            .describe(`Steps along ${lonelinessFrequencies.join(' -> ')}; positive is less often lonely`),
          direction: Direction,
        })
        .optional(),
      swemwbs: z
        .object({
          items: itemsOf(swemwbsItems, NumberChange),
          rawTotal: NumberChange,
          metricScore: NumberChange.nullable().describe('null when no conversion is configured'),
        })
        .optional()
        .describe('Better when it rises'),
      notCompared: z
        .array(z.enum(instrumentNames))
        .describe('Instruments recorded in only one of the two sets, so not compared'),
    }),
  ])
  .describe('The latest follow-up against the baseline');
export type ChangeFromBaseline = z.infer<typeof ChangeFromBaseline>;

export const OutcomesView = z.object({
  referralId: z.uuid(),
  sets: z.array(MeasureSetView).describe('The baseline first, then the follow-ups by the day taken'),
  changeFromBaseline: ChangeFromBaseline,
});
export type OutcomesView = z.infer<typeof OutcomesView>;

export const RecordedMeasureSetView = z.object({ referralId: z.uuid(), set: MeasureSetView });
export type RecordedMeasureSetView = z.infer<typeof RecordedMeasureSetView>;

/** Metric scores have two decimals; their differences are rounded to the same, so 0.1 + 0.2 shows as 0.3. */
const hundredths = (value: number): number => Math.round(value * 100) / 100;

export function metricScoreOf(rawTotal: number, conversion: SwemwbsConversion | undefined): number | null {
  return conversion === undefined ? null : hundredths(conversion.metricScore(rawTotal));
}

export function measureSetView(set: MeasureSetRecord, conversion?: SwemwbsConversion): MeasureSetView {
  const { ons4, ucla3, lonelinessDirect, swemwbs } = set;
  return {
    id: set.id,
    timepoint: set.timepoint,
    takenOn: set.takenOn,
    recordedAt: set.recordedAt,
    recordedBy: set.recordedBy,
    ...(ons4 && {
      ons4: {
        answers: ons4,
        bands: {
          lifeSatisfaction: ons4Band('lifeSatisfaction', ons4.lifeSatisfaction),
          worthwhile: ons4Band('worthwhile', ons4.worthwhile),
          happiness: ons4Band('happiness', ons4.happiness),
          anxiety: ons4Band('anxiety', ons4.anxiety),
        },
      },
    }),
    ...(ucla3 && { ucla3: { answers: ucla3, total: ucla3Total(ucla3) } }),
    ...(lonelinessDirect && { lonelinessDirect: { answer: lonelinessDirect } }),
    ...(swemwbs && {
      swemwbs: {
        answers: swemwbs,
        rawTotal: swemwbsRawTotal(swemwbs),
        metricScore: metricScoreOf(swemwbsRawTotal(swemwbs), conversion),
      },
    }),
  };
}

function numberChange(baseline: number, followUp: number, higherIsBetter: boolean): NumberChange {
  const change = hundredths(followUp - baseline);
  const improved = higherIsBetter ? change > 0 : change < 0;
  return { baseline, followUp, change, direction: change === 0 ? 'same' : improved ? 'better' : 'worse' };
}

function itemChanges<K extends string>(
  items: readonly K[],
  baseline: Record<K, number>,
  followUp: Record<K, number>,
  higherIsBetter: (item: K) => boolean,
): Record<K, NumberChange> {
  return Object.fromEntries(
    items.map((item) => [item, numberChange(baseline[item], followUp[item], higherIsBetter(item))]),
  ) as Record<K, NumberChange>;
}

/** The latest follow-up against the baseline, instrument by instrument (only those both sets hold). */
export function changeFromBaseline(
  sets: readonly MeasureSetRecord[],
  conversion?: SwemwbsConversion,
): ChangeFromBaseline {
  const baseline = baselineOf(sets);
  if (!baseline) return { available: false, reason: 'no baseline has been recorded' };
  const followUp = latestFollowUp(sets);
  if (!followUp) return { available: false, reason: 'no follow-up has been recorded since the baseline' };

  const compared: ChangeFromBaseline & { available: true } = {
    available: true,
    baseline: { id: baseline.id, takenOn: baseline.takenOn },
    followUp: { id: followUp.id, takenOn: followUp.takenOn },
    notCompared: instrumentNames.filter(
      (name: InstrumentName) => (baseline[name] === undefined) !== (followUp[name] === undefined),
    ),
  };
  if (baseline.ons4 && followUp.ons4) {
    const before = baseline.ons4;
    const after = followUp.ons4;
    const changes = itemChanges(ons4Items, before, after, (item) => item !== 'anxiety');
    compared.ons4 = Object.fromEntries(
      ons4Items.map((item) => [
        item,
        {
          ...changes[item],
          baselineBand: ons4Band(item, before[item]),
          followUpBand: ons4Band(item, after[item]),
        },
      ]),
    ) as NonNullable<typeof compared.ons4>;
  }
  if (baseline.ucla3 && followUp.ucla3) {
    compared.ucla3 = {
      items: itemChanges(ucla3Items, baseline.ucla3, followUp.ucla3, () => false),
      total: numberChange(ucla3Total(baseline.ucla3), ucla3Total(followUp.ucla3), false),
    };
  }
  if (baseline.lonelinessDirect && followUp.lonelinessDirect) {
    const steps =
      lonelinessFrequencies.indexOf(followUp.lonelinessDirect) -
      lonelinessFrequencies.indexOf(baseline.lonelinessDirect);
    compared.lonelinessDirect = {
      baseline: baseline.lonelinessDirect,
      followUp: followUp.lonelinessDirect,
      change: steps,
      direction: steps === 0 ? 'same' : steps > 0 ? 'better' : 'worse',
    };
  }
  if (baseline.swemwbs && followUp.swemwbs) {
    const rawBefore = swemwbsRawTotal(baseline.swemwbs);
    const rawAfter = swemwbsRawTotal(followUp.swemwbs);
    const metricBefore = metricScoreOf(rawBefore, conversion);
    const metricAfter = metricScoreOf(rawAfter, conversion);
    compared.swemwbs = {
      items: itemChanges(swemwbsItems, baseline.swemwbs, followUp.swemwbs, () => true),
      rawTotal: numberChange(rawBefore, rawAfter, true),
      metricScore:
        metricBefore === null || metricAfter === null ? null : numberChange(metricBefore, metricAfter, true),
    };
  }
  return compared;
}

/** Everything a link worker sees of a referral's outcomes. */
export function outcomesView(
  referralId: string,
  sets: readonly MeasureSetRecord[],
  conversion?: SwemwbsConversion,
): OutcomesView {
  const order = (set: MeasureSetRecord): string =>
    `${set.timepoint === 'baseline' ? 0 : 1}${set.takenOn}${set.recordedAt}`;
  const ordered = [...sets].sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
  return {
    referralId,
    sets: ordered.map((set) => measureSetView(set, conversion)),
    changeFromBaseline: changeFromBaseline(sets, conversion),
  };
}
