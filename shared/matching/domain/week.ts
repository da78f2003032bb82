/**
 * The ISO 8601 week of an instant's UTC date, as `2025-W10`: weeks start on Monday, and week 1 is the one with the
 * year's first Thursday (so 29 December 2025 is in 2026-W01). Services' weekly limits count referrals by the week
 * the referral was received in, as the daily counters count by the UTC day it was received.
 */
export function isoWeekOf(instant: string | Date): string {
  const date = typeof instant === 'string' ? new Date(instant) : instant;
  if (Number.isNaN(date.getTime())) throw new RangeError(`not an instant: ${String(instant)}`);
  const day = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const weekday = day.getUTCDay() === 0 ? 7 : day.getUTCDay(); // Monday 1 .. Sunday 7
  // The Thursday of this week decides the week's year.
  day.setUTCDate(day.getUTCDate() + 4 - weekday);
  const year = day.getUTCFullYear();
  const firstOfYear = Date.UTC(year, 0, 1);
  const week = Math.ceil(((day.getTime() - firstOfYear) / 86_400_000 + 1) / 7);
  return `${year}-W${String(week).padStart(2, '0')}`;
}
