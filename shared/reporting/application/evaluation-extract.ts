import { stringify } from 'csv-stringify/sync';
import * as z from 'zod';
import type { Directory } from '#directory/ports.ts';
import { ValidationError } from '#kernel/errors.ts';
import { parseWith } from '#kernel/validation.ts';
import {
  byPseudonym,
  evaluationColumns,
  evaluationRowOf,
  monthsOf,
  type EvaluationRow,
} from '#reporting/domain/evaluation-rows.ts';
import { assertKAnonymous, defaultK, kRange } from '#reporting/domain/k-anonymity.ts';
import { pseudonymOf } from '#reporting/domain/pseudonym.ts';
import type { PseudonymKey, ReceivedReferrals } from '#reporting/evaluation-ports.ts';

/**
 * The evaluation extract (issue 10, item 8; docs/evaluation.md): one pseudonymised row per referral received in a
 * range of whole ISO weeks, refused whole if any combination of the quasi-identifiers holds fewer than k people. The referrals are
 * found through the sparse `received` index, one Query per month, and each is read with one Query of its partition
 * (the referral beside its offers and measure sets): nothing scans the table. The CLI (infra/ops/evaluation-cli.ts)
 * and the ops route (functions/evaluation) both call this.
 */

const Day = z.iso.date('must be a date as YYYY-MM-DD');

/** A `YYYY-MM-DD`'s ISO weekday, Monday 1 to Sunday 7; NaN for what is not a date (the format check says so). */
const isoWeekday = (day: string): number => {
  const weekday = new Date(`${day}T00:00:00Z`).getUTCDay();
  return weekday === 0 ? 7 : weekday;
};

/**
 * Ranges are whole ISO weeks, Monday to Sunday: the rows say only which week a referral came in, and a range that
 * could start or end on any day would tell the day (an extract of one day, or two ranges a day apart, differenced).
 */
const wholeWeeks = 'the extract covers whole ISO weeks, from a Monday to a Sunday (UTC)';
const isWeekday = (day: string, weekday: number): boolean =>
  Number.isNaN(isoWeekday(day)) || isoWeekday(day) === weekday;
const Monday = Day.refine((day) => isWeekday(day, 1), { message: `must be a Monday: ${wholeWeeks}` });
const Sunday = Day.refine((day) => isWeekday(day, 7), { message: `must be a Sunday: ${wholeWeeks}` });

const kRule = `must be a whole number from ${kRange.min} to ${kRange.max}: k may be raised above the default ${defaultK}, never lowered below it`;

/** The request as both entry points take it: strings, as a query string or a command line gives them. */
export const EvaluationRequest = z
  .strictObject({
    from: Monday.describe('The first day received (UTC), a Monday, included'),
    to: Sunday.describe('The last day received (UTC), a Sunday, included'),
    k: z
      .string()
      .regex(/^\d{1,3}$/, kRule)
      .transform(Number)
      .refine((k) => k >= kRange.min && k <= kRange.max, { message: kRule })
      .optional()
      .describe(
        `The least number of people every combination of the quasi-identifiers must hold (default ${defaultK})`,
      ),
  })
  .refine((request) => request.from <= request.to, { message: 'must not be after `to`', path: ['from'] });
export type EvaluationRequest = z.infer<typeof EvaluationRequest>;

export interface EvaluationDeps {
  received: ReceivedReferrals;
  directory: Pick<Directory, 'practice'>;
  pseudonymKey: PseudonymKey;
}

export interface ExtractOptions {
  /** The longest range one call may cover, in weeks (the route's is bounded by API Gateway's 29 s). */
  maxWeeks?: number;
  /** Partitions read at once. */
  concurrency?: number;
  /** Told after each referral read: how many so far. */
  onProgress?: (read: number) => void;
}

export interface EvaluationExtract {
  from: string;
  to: string;
  k: number;
  rows: EvaluationRow[];
  /** Distinct pseudonyms among the rows. */
  people: number;
}

const weekMs = 7 * 86_400_000;

/** Validates the request (ValidationError, 400), reads the rows and applies the k check (SmallCellsError, 422). */
export async function evaluationExtract(
  deps: EvaluationDeps,
  input: unknown,
  options: ExtractOptions = {},
): Promise<EvaluationExtract> {
  const request = parseWith(EvaluationRequest, input);
  const k = request.k ?? defaultK;
  if (options.maxWeeks !== undefined) {
    // From a Monday to a Sunday: the days between, and the Sunday itself, make whole weeks.
    const weeks = Math.round((Date.parse(request.to) - Date.parse(request.from)) / weekMs + 1 / 7);
    if (weeks > options.maxWeeks) {
      throw new ValidationError([
        {
          field: 'to',
          rule: `the range may cover at most ${options.maxWeeks} weeks here (${weeks} asked); a longer one is for npm run evaluation`,
          kind: 'value',
        },
      ]);
    }
  }
  const key = await deps.pseudonymKey.key();
  const pcns = new Map<string, Promise<string | undefined>>();
  const pcnOf = (ods: string): Promise<string | undefined> => {
    let pcn = pcns.get(ods);
    if (pcn === undefined) {
      pcn = deps.directory.practice(ods).then((practice) => practice?.pcn);
      pcns.set(ods, pcn);
    }
    return pcn;
  };

  const rows: EvaluationRow[] = [];
  let read = 0;
  const readOne = async (referralId: string): Promise<void> => {
    const partition = await deps.received.partition(referralId);
    read += 1;
    options.onProgress?.(read);
    if (partition === undefined) return;
    const { referral } = partition;
    rows.push(
      evaluationRowOf(partition, {
        pseudonym: pseudonymOf(key, 'patient', referral.patient.nhsNumber),
        // The router kept the PCN with its decision; the directory is asked only for one without it.
        pcn: referral.routing?.pcn ?? (await pcnOf(referral.practiceOds)),
      }),
    );
  };

  // A few partitions at a time; the first failure stops the listing and is thrown once the others have settled.
  const concurrency = options.concurrency ?? 8;
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  months: for (const month of monthsOf(request.from, request.to)) {
    for await (const referralId of deps.received.idsReceived(month, request.from, request.to)) {
      if (failure) break months;
      const task: Promise<void> = readOne(referralId)
        .catch((error: unknown) => {
          failure ??= { error };
        })
        .finally(() => running.delete(task));
      running.add(task);
      if (running.size >= concurrency) await Promise.race(running);
    }
  }
  await Promise.all(running);
  if (failure) throw failure.error;

  rows.sort(byPseudonym);
  assertKAnonymous(rows, k);
  return { from: request.from, to: request.to, k, rows, people: new Set(rows.map((r) => r.pseudonym)).size };
}

/** The rows as CSV (RFC 4180, a header row of the column names, CRLF line ends), as docs/evaluation.md describes. */
export function evaluationCsv(rows: readonly EvaluationRow[]): string {
  return stringify(rows as EvaluationRow[], {
    header: true,
    columns: [...evaluationColumns],
    record_delimiter: 'windows',
  });
}
