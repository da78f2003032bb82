import * as z from 'zod';
import { ValidationError, type FieldProblem } from '#kernel/errors.ts';
import { parseWith } from '#kernel/validation.ts';
import {
  instrumentNames,
  instrumentShape,
  instrumentsIn,
  type InstrumentAnswers,
} from '#outcomes/domain/instruments.ts';

/**
 * A measure set: the instruments one link worker recorded for one referral on one day, at baseline or at a
 * follow-up. What a client sends (`MeasureSetRequest`) and what is kept (`MeasureSetRecord`: the same answers plus
 * who recorded them, when, and the request's fingerprint, which tells a retry from a different request with the
 * same id).
 */

export const timepoints = ['baseline', 'follow-up'] as const;
export const Timepoint = z.enum(timepoints);
export type Timepoint = z.infer<typeof Timepoint>;

const atLeastOneInstrument = `must hold at least one instrument: ${instrumentNames.join(', ')}`;

export const MeasureSetRequest = z
  .strictObject({
    id: z
      .uuid('must be a UUID')
      .optional()
      .describe(
        "The client's own id for this set (a UUID). Sending the same set again with it records nothing new; " +
          'without it, an Idempotency-Key header does the same',
      ),
    timepoint: Timepoint.describe('`baseline` (one per referral) or `follow-up` (after the baseline)'),
    takenOn: z.iso
      .date('must be a date as YYYY-MM-DD')
      .describe(
        'The day the measures were taken (UK time): not in the future, not before the referral was received, and ' +
          "for a follow-up not before the baseline's day",
      ),
    ...instrumentShape,
  })
  // `when`: also said when other fields are wrong, so `{}` is told everything it lacks at once. The input may be
  // anything then (not even an object), hence the guard.
  .refine(
    (body: unknown) =>
      typeof body !== 'object' ||
      body === null ||
      Array.isArray(body) ||
      instrumentNames.some((name) => (body as Record<string, unknown>)[name] !== undefined),
    { message: atLeastOneInstrument, path: [], when: () => true },
  )
  .describe('One set of outcome measures: any of the instruments, at least one');
export type MeasureSetRequest = z.infer<typeof MeasureSetRequest>;

export const RecordedBy = z
  .object({
    subject: z.string().describe("The link worker's token subject"),
    team: z.string().describe('The link-worker team the token is bound to'),
  })
  .describe('Who recorded the set, from their token');
export type RecordedBy = z.infer<typeof RecordedBy>;

export const MeasureSetRecord = z.object({
  referralId: z.uuid(),
  id: z.uuid(),
  timepoint: Timepoint,
  takenOn: z.iso.date(),
  recordedAt: z.iso.datetime(),
  recordedBy: RecordedBy,
  /** SHA-256 of the request as validated, its id left out (requestFingerprint, #kernel/ids.ts). */
  fingerprint: z.string(),
  ...instrumentShape,
});
export type MeasureSetRecord = z.infer<typeof MeasureSetRecord>;

/** The day an instant falls on in the UK, as YYYY-MM-DD: the day a link worker in England would write. */
export function ukDay(instant: Date | string): string {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/London',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).formatToParts(typeof instant === 'string' ? new Date(instant) : instant);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')}`;
}

/** What a set's date is checked against: today, the day the referral arrived, and the baseline's day if any. */
export interface DateBounds {
  today: string;
  referralReceivedOn: string;
  baselineTakenOn?: string;
}

/**
 * The request's fields and rules, then its date against `bounds`: every problem at once, each naming its field and
 * rule (ValidationError, answered 400).
 */
export function readMeasureSet(body: unknown, bounds: DateBounds): MeasureSetRequest {
  let request: MeasureSetRequest | undefined;
  const problems: FieldProblem[] = [];
  try {
    request = parseWith(MeasureSetRequest, body);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    problems.push(...error.problems);
  }
  // The date's rules need a date: a malformed one is already a problem above.
  const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const takenOn = z.iso.date().safeParse(fields.takenOn);
  if (takenOn.success) problems.push(...dateProblems(takenOn.data, fields.timepoint === 'follow-up', bounds));
  if (problems.length > 0 || request === undefined) throw new ValidationError(problems);
  return request;
}

function dateProblems(takenOn: string, followUp: boolean, bounds: DateBounds): FieldProblem[] {
  const problem = (rule: string): FieldProblem => ({ field: 'takenOn', rule, kind: 'value' });
  const problems: FieldProblem[] = [];
  if (takenOn > bounds.today) problems.push(problem(`must not be in the future (today is ${bounds.today})`));
  if (takenOn < bounds.referralReceivedOn) {
    problems.push(problem(`must not be before the referral was received (${bounds.referralReceivedOn})`));
  }
  if (followUp && bounds.baselineTakenOn !== undefined && takenOn < bounds.baselineTakenOn) {
    problems.push(
      problem(`a follow-up must not be before the baseline (taken on ${bounds.baselineTakenOn})`),
    );
  }
  return problems;
}

/** The answers of a set, without its bookkeeping. */
export function answersOf(set: InstrumentAnswers): InstrumentAnswers {
  const answers: Record<string, unknown> = {};
  for (const name of instrumentsIn(set)) answers[name] = set[name];
  return answers as InstrumentAnswers;
}

/** The set kept, from the request as validated and the facts of its recording. */
export function newMeasureSet(
  request: MeasureSetRequest,
  facts: { referralId: string; id: string; recordedAt: string; recordedBy: RecordedBy; fingerprint: string },
): MeasureSetRecord {
  return {
    referralId: facts.referralId,
    id: facts.id,
    timepoint: request.timepoint,
    takenOn: request.takenOn,
    recordedAt: facts.recordedAt,
    recordedBy: facts.recordedBy,
    fingerprint: facts.fingerprint,
    ...answersOf(request),
  };
}

/**
 * The latest follow-up: the last taken, and of those taken the same day the last recorded. Undefined if none.
 */
export function latestFollowUp(sets: readonly MeasureSetRecord[]): MeasureSetRecord | undefined {
  let latest: MeasureSetRecord | undefined;
  for (const set of sets) {
    if (set.timepoint !== 'follow-up') continue;
    if (
      latest === undefined ||
      set.takenOn > latest.takenOn ||
      (set.takenOn === latest.takenOn && set.recordedAt > latest.recordedAt)
    ) {
      latest = set;
    }
  }
  return latest;
}

export const baselineOf = (sets: readonly MeasureSetRecord[]): MeasureSetRecord | undefined =>
  sets.find((set) => set.timepoint === 'baseline');
