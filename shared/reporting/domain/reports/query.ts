import * as z from 'zod';
import { ValidationError, type FieldProblem } from '#kernel/errors.ts';
import { parseWith, safeKey } from '#kernel/validation.ts';
import { familyDimensions, type FigureFamily } from '#reporting/domain/figures.ts';
import { maxReportDays, ReportFormat, type ReportName } from '#reporting/domain/report-shape.ts';

/**
 * What a report is asked for (the query of `GET /reports/<report>`, the CLI's options): the days it covers, an area,
 * and the format. Strict: a parameter that is not one of these, a day that is not a calendar day, a range that runs
 * backwards or is longer than `maxReportDays`, or an area filter on a report with no area, is a ValidationError naming
 * the parameter and the rule (400). Pure: today is given.
 */

export const reportParameters = ['from', 'to', 'area', 'format'] as const;

/** Without `from` / `to`: the 30 days to today (UTC), today included. */
export const defaultReportDays = 30;

/** The dimensions an area filter matches, in each family that has them (a postcode district, an LA or a PCN code). */
export const areaDimensionNames = ['area', 'localAuthority', 'pcn'] as const;
export type AreaDimension = (typeof areaDimensionNames)[number];

export function areaDimensionsOf(family: FigureFamily): AreaDimension[] {
  const names: readonly string[] = familyDimensions[family];
  return areaDimensionNames.filter((name) => names.includes(name));
}

const dayPattern = /^\d{4}-\d{2}-\d{2}$/;
/**
 * A real calendar day: 2026-02-30 has the pattern but is no day (Date would roll it over), and 2026-13-45 is no date
 * at all (an invalid Date, whose toISOString throws: read its time instead).
 */
export function isCalendarDay(day: string): boolean {
  if (!dayPattern.test(day)) return false;
  const time = Date.parse(`${day}T00:00:00Z`);
  return Number.isFinite(time) && new Date(time).toISOString().slice(0, 10) === day;
}

const Day = z.string().refine((day) => dayPattern.test(day) && isCalendarDay(day), {
  message: 'must be a calendar day, YYYY-MM-DD (UTC)',
});

const RawQuery = z.strictObject({
  from: Day.optional(),
  to: Day.optional(),
  // Codes only (LS6, E08000035, U12345): compared case-insensitively with the cells' upper-case codes.
  area: z
    .string()
    .regex(/^[A-Za-z0-9]{1,12}$/, {
      message: 'must be a postcode district, local authority or PCN code (1 to 12 letters and digits)',
    })
    .optional(),
  format: ReportFormat.optional(),
});

export interface ReportQuery {
  from: string;
  to: string;
  /** Upper-cased. */
  area?: string;
  format?: ReportFormat;
}

const dayMs = 86_400_000;
export const addDays = (day: string, days: number): string =>
  new Date(Date.parse(`${day}T00:00:00Z`) + days * dayMs).toISOString().slice(0, 10);
/** Days from `from` to `to`, both included. */
export const daysIn = (from: string, to: string): number =>
  Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / dayMs) + 1;

/**
 * The query of report `report`, its parameters as given (undefined ones ignored), on `today` (`YYYY-MM-DD`):
 * `to` defaults to today, `from` to `defaultReportDays` days before `to`.
 */
export function parseReportQuery(
  report: ReportName,
  families: readonly FigureFamily[],
  parameters: Readonly<Record<string, string | undefined>>,
  today: string,
): ReportQuery {
  const given = Object.fromEntries(
    Object.entries(parameters).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  const unknown = Object.keys(given).filter(
    (name) => !(reportParameters as readonly string[]).includes(name),
  );
  if (unknown.length > 0) {
    throw new ValidationError(
      unknown.slice(0, 10).map((name) => ({
        // Quoted when odd (empty, unprintable, long), so the expression always names what was sent.
        field: safeKey(name),
        rule: `is not a parameter of this report (it takes: ${reportParameters.join(', ')})`,
        kind: 'structure',
      })),
    );
  }
  const raw = parseWith(RawQuery, given);
  const to = raw.to ?? today;
  const from = raw.from ?? addDays(to, -(defaultReportDays - 1));
  const problems: FieldProblem[] = [];
  if (from > to) {
    problems.push(
      raw.to === undefined
        ? { field: 'from', rule: `must not be after to (${to}: today, when to is not given)`, kind: 'value' }
        : { field: 'to', rule: `must not be before from (${from})`, kind: 'value' },
    );
  } else if (daysIn(from, to) > maxReportDays) {
    problems.push({
      field: raw.from === undefined ? 'to' : 'from',
      rule: `the range from ${from} to ${to} is ${daysIn(from, to)} days: at most ${maxReportDays}`,
      kind: 'value',
    });
  }
  if (raw.area !== undefined) {
    const without = families.filter((family) => areaDimensionsOf(family).length === 0);
    if (without.length > 0)
      problems.push({
        field: 'area',
        rule: `the ${report} report has no area to filter by (its figures, ${without.join(', ')}, carry none)`,
        kind: 'value',
      });
  }
  if (problems.length > 0) throw new ValidationError(problems);
  return {
    from,
    to,
    ...(raw.area === undefined ? {} : { area: raw.area.toUpperCase() }),
    ...(raw.format === undefined ? {} : { format: raw.format }),
  };
}
