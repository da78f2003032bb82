import { lazy } from '#kernel/lazy.ts';

/**
 * A patient's age in whole years on the day a referral was received, for services' age ranges.
 *
 * The day is the calendar day in England (Europe/London), not in UTC: a referral received at 23:30 UTC on a summer
 * evening was received the next day in England, and a birthday that day counts. Someone born on 29 February turns a
 * year older on 1 March in a common year (the day after 28 February), as in English law.
 */

const isoDate = /^(\d{4})-(\d{2})-(\d{2})$/;

// Built on first use: creating it loads the time zone database (about 10 ms at import), and only instants before
// 1996 need it.
const londonDate = lazy(
  () =>
    new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/London',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    }),
);

/** 01:00 UTC on the last Sunday of a month (0-based), when British Summer Time starts (March) or ends (October). */
function lastSundayAtOne(year: number, month: number): number {
  const last = new Date(Date.UTC(year, month + 1, 0, 1));
  last.setUTCDate(last.getUTCDate() - last.getUTCDay());
  return last.getTime();
}

/**
 * The calendar date in England at an instant, as [year, month, day]. Since 1996 British Summer Time runs from 01:00
 * UTC on the last Sunday of March to 01:00 UTC on the last Sunday of October (the Summer Time Order 2002), which is
 * plain arithmetic; earlier instants (older rules) ask the time zone database. Matching asks this for every decision,
 * and Intl costs about ten times the arithmetic.
 */
export function englandDateOf(instant: string | Date): [number, number, number] {
  const date = typeof instant === 'string' ? new Date(instant) : instant;
  const time = date.getTime();
  if (Number.isNaN(time)) throw new RangeError(`not an instant: ${String(instant)}`);
  const year = date.getUTCFullYear();
  if (year < 1996) {
    const parts = Object.fromEntries(
      londonDate()
        .formatToParts(date)
        .map((p) => [p.type, p.value]),
    );
    return [Number(parts.year), Number(parts.month), Number(parts.day)];
  }
  const summer = time >= lastSundayAtOne(year, 2) && time < lastSundayAtOne(year, 9);
  const local = summer ? new Date(time + 3_600_000) : date;
  return [local.getUTCFullYear(), local.getUTCMonth() + 1, local.getUTCDate()];
}

/**
 * Whole years from `birthDate` (YYYY-MM-DD) to the England date of `at`; undefined without a birth date, or if the
 * birth date is not a date or is after `at`.
 */
export function ageOn(birthDate: string | undefined, at: string | Date): number | undefined {
  if (birthDate === undefined) return undefined;
  const match = isoDate.exec(birthDate);
  if (!match) return undefined;
  const [by, bm, bd] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const [y, m, d] = englandDateOf(at);
  // Comparing (month, day) pairs: 29 February is after 28 February, so in a common year the birthday is reached
  // on 1 March.
  const hadBirthday = m > bm || (m === bm && d >= bd);
  const age = y - by - (hadBirthday ? 0 : 1);
  return age < 0 ? undefined : age;
}
