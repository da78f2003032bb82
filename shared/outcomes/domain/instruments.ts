import * as z from 'zod';

/**
 * The outcome measures a link worker records (../shared/reference/domain.md, Outcome measures): ONS4 personal
 * wellbeing, UCLA-3 loneliness with the ONS direct question, and SWEMWBS. Each instrument's answers are a strict zod
 * schema (an unknown item is refused, never dropped), and its scoring is a pure function of them. PAM is licensed per
 * person and not implemented; SWEMWBS's metric conversion is licensed too, so it is a port (`SwemwbsConversion`) with
 * no table shipped.
 */

/** An item answered on a scale of whole numbers: the rule a refusal names is the scale itself. */
const scale = (min: number, max: number, meaning: string) =>
  z
    .int()
    .min(min, `must be a whole number from ${min} to ${max}`)
    .max(max, `must be a whole number from ${min} to ${max}`)
    .describe(meaning);

// ---- ONS4 personal wellbeing ------------------------------------------------------------------------------------

export const ons4Items = ['lifeSatisfaction', 'worthwhile', 'happiness', 'anxiety'] as const;
export type Ons4Item = (typeof ons4Items)[number];

const ons4Score = (question: string) => scale(0, 10, `${question} 0 (not at all) to 10 (completely)`);

export const Ons4Answers = z
  .strictObject({
    lifeSatisfaction: ons4Score('Overall, how satisfied are you with your life nowadays?'),
    worthwhile: ons4Score(
      'Overall, to what extent do you feel the things you do in your life are worthwhile?',
    ),
    happiness: ons4Score('Overall, how happy did you feel yesterday?'),
    anxiety: ons4Score('Overall, how anxious did you feel yesterday?'),
  })
  .describe('ONS4 personal wellbeing: four items, each 0-10; no composite score');
export type Ons4Answers = z.infer<typeof Ons4Answers>;

export const ons4BandNames = ['very-low', 'low', 'medium', 'high', 'very-high'] as const;
export const Ons4Band = z.enum(ons4BandNames);
export type Ons4Band = z.infer<typeof Ons4Band>;

interface BandRange {
  band: Ons4Band;
  from: number;
  to: number;
}

/**
 * The ONS's published thresholds. Anxiety's are not the others' turned round: its bands are cut at other points
 * (0-1, 2-3, 4-5, 6-10), and for it a low band is the good one.
 */
export const ons4Bands: Record<'positive' | 'anxiety', readonly BandRange[]> = {
  positive: [
    { band: 'low', from: 0, to: 4 },
    { band: 'medium', from: 5, to: 6 },
    { band: 'high', from: 7, to: 8 },
    { band: 'very-high', from: 9, to: 10 },
  ],
  anxiety: [
    { band: 'very-low', from: 0, to: 1 },
    { band: 'low', from: 2, to: 3 },
    { band: 'medium', from: 4, to: 5 },
    { band: 'high', from: 6, to: 10 },
  ],
};

/** The band of one ONS4 answer; the score must be a whole number 0-10 (the schema's rule). */
export function ons4Band(item: Ons4Item, score: number): Ons4Band {
  const ranges = item === 'anxiety' ? ons4Bands.anxiety : ons4Bands.positive;
  const range = ranges.find((r) => score >= r.from && score <= r.to);
  if (!range || !Number.isInteger(score)) throw new RangeError(`ONS4 ${item} score ${score} is not 0-10`);
  return range.band;
}

// ---- Loneliness: UCLA-3 and the ONS direct question -------------------------------------------------------------

export const ucla3Items = ['lackCompanionship', 'leftOut', 'isolated'] as const;
export type Ucla3Item = (typeof ucla3Items)[number];

const uclaScore = (question: string) =>
  scale(1, 3, `${question} 1 hardly ever or never, 2 some of the time, 3 often`);

export const Ucla3Answers = z
  .strictObject({
    lackCompanionship: uclaScore('How often do you feel that you lack companionship?'),
    leftOut: uclaScore('How often do you feel left out?'),
    isolated: uclaScore('How often do you feel isolated from others?'),
  })
  .describe('UCLA 3-item loneliness scale: three items, each 1-3; total 3-9, higher is lonelier');
export type Ucla3Answers = z.infer<typeof Ucla3Answers>;

export const ucla3Total = (answers: Ucla3Answers): number =>
  answers.lackCompanionship + answers.leftOut + answers.isolated;

/** "How often do you feel lonely?", its answers from most to least often (the order change is counted along). */
export const lonelinessFrequencies = [
  'often-always',
  'some-of-the-time',
  'occasionally',
  'hardly-ever',
  'never',
] as const;
export const LonelinessDirect = z
  .enum(lonelinessFrequencies)
  .describe(
    'The ONS direct question "How often do you feel lonely?": often-always, some-of-the-time, occasionally, ' +
      'hardly-ever or never',
  );
export type LonelinessDirect = z.infer<typeof LonelinessDirect>;

// ---- SWEMWBS ----------------------------------------------------------------------------------------------------

export const swemwbsItems = [
  'optimistic',
  'useful',
  'relaxed',
  'dealingWithProblems',
  'thinkingClearly',
  'closeToOthers',
  'ownMind',
] as const;
export type SwemwbsItem = (typeof swemwbsItems)[number];

const swemwbsScore = (statement: string) =>
  scale(
    1,
    5,
    `"${statement}" 1 none of the time, 2 rarely, 3 some of the time, 4 often, 5 all of the time (last two weeks)`,
  );

export const SwemwbsAnswers = z
  .strictObject({
    optimistic: swemwbsScore("I've been feeling optimistic about the future"),
    useful: swemwbsScore("I've been feeling useful"),
    relaxed: swemwbsScore("I've been feeling relaxed"),
    dealingWithProblems: swemwbsScore("I've been dealing with problems well"),
    thinkingClearly: swemwbsScore("I've been thinking clearly"),
    closeToOthers: swemwbsScore("I've been feeling close to other people"),
    ownMind: swemwbsScore("I've been able to make up my own mind about things"),
  })
  .describe(
    'SWEMWBS raw answers: seven items, each 1-5; raw total 7-35. The metric score needs the licensed table',
  );
export type SwemwbsAnswers = z.infer<typeof SwemwbsAnswers>;

export const swemwbsRawTotal = (answers: SwemwbsAnswers): number =>
  swemwbsItems.reduce((total, item) => total + answers[item], 0);

/**
 * The licensed SWEMWBS conversion (raw total -> metric score), plugged in by whoever holds the licence. None is
 * shipped: without one only the raw total is shown. Pure (a table lookup), so the domain may call it.
 */
export interface SwemwbsConversion {
  /** The metric score for a raw total of 7-35. */
  metricScore(rawTotal: number): number;
}

// ---- The instruments together -----------------------------------------------------------------------------------

export const instrumentNames = ['ons4', 'ucla3', 'lonelinessDirect', 'swemwbs'] as const;
export type InstrumentName = (typeof instrumentNames)[number];

/** The answers a measure set may hold: any subset of the instruments. */
export const instrumentShape = {
  ons4: Ons4Answers.optional(),
  ucla3: Ucla3Answers.optional(),
  lonelinessDirect: LonelinessDirect.optional(),
  swemwbs: SwemwbsAnswers.optional(),
};
export type InstrumentAnswers = {
  [K in InstrumentName]?: z.infer<(typeof instrumentShape)[K]>;
};

export const instrumentsIn = (answers: InstrumentAnswers): InstrumentName[] =>
  instrumentNames.filter((name) => answers[name] !== undefined);
