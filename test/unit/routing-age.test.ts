import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ageOn, englandDateOf } from '#matching/domain/age.ts';
import { isoWeekOf } from '#matching/domain/week.ts';

describe('ageOn (whole years on the day in England the referral was received)', () => {
  it.each([
    // birth date, received at, age
    ['1961-04-12', '2025-04-11T12:00:00.000Z', 63], // the day before the birthday
    ['1961-04-12', '2025-04-12T00:00:00.000Z', 64], // on the birthday
    ['1961-04-12', '2025-04-13T12:00:00.000Z', 64],
    ['2007-03-04', '2025-03-04T09:15:00.000Z', 18], // 18 today
    ['2007-03-05', '2025-03-04T09:15:00.000Z', 17], // 18 tomorrow
    ['2025-03-04', '2025-03-04T09:15:00.000Z', 0], // born today
    // 29 February: a year older on 1 March in a common year, on 29 February in a leap year.
    ['2008-02-29', '2025-02-28T12:00:00.000Z', 16],
    ['2008-02-29', '2025-03-01T12:00:00.000Z', 17],
    ['2008-02-29', '2024-02-28T12:00:00.000Z', 15],
    ['2008-02-29', '2024-02-29T12:00:00.000Z', 16],
    // Someone born on 1 March in a leap year is not a year older on 29 February.
    ['2008-03-01', '2024-02-29T12:00:00.000Z', 15],
    ['2008-03-01', '2024-03-01T12:00:00.000Z', 16],
  ])('born %s, received %s: %i', (birthDate, at, age) => {
    expect(ageOn(birthDate, at)).toBe(age);
  });

  it('uses the date in England, not in UTC: 23:30 UTC in summer is already the next day (the birthday)', () => {
    expect(englandDateOf('2025-06-14T23:30:00.000Z')).toEqual([2025, 6, 15]);
    expect(ageOn('2000-06-15', '2025-06-14T23:30:00.000Z')).toBe(25);
    // In winter England is on UTC: 23:30 UTC is still the same day.
    expect(englandDateOf('2025-01-14T23:30:00.000Z')).toEqual([2025, 1, 14]);
    expect(ageOn('2000-01-15', '2025-01-14T23:30:00.000Z')).toBe(24);
  });

  it.each([
    ['2025-03-29T23:30:00.000Z', [2025, 3, 29]], // the night before summer time: still GMT
    ['2025-03-30T00:59:59.999Z', [2025, 3, 30]],
    ['2025-03-30T23:30:00.000Z', [2025, 3, 31]], // summer time from 01:00 UTC on the last Sunday of March
    ['2025-10-25T23:30:00.000Z', [2025, 10, 26]], // still summer time
    ['2025-10-26T00:59:59.999Z', [2025, 10, 26]],
    ['2025-10-26T23:30:00.000Z', [2025, 10, 26]], // GMT again from 01:00 UTC on the last Sunday of October
    ['2024-12-31T23:59:59.999Z', [2024, 12, 31]],
  ] as const)('the England date at %s', (instant, date) => {
    expect(englandDateOf(instant)).toEqual(date);
  });

  it('the summer time arithmetic agrees with the time zone database, instant by instant', () => {
    const london = new Intl.DateTimeFormat('en-CA', {
      timeZone: 'Europe/London',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    fc.assert(
      fc.property(
        fc.date({
          min: new Date('1990-01-01T00:00:00Z'),
          max: new Date('2100-12-31T23:59:59Z'),
          noInvalidDate: true,
        }),
        (instant) => {
          expect(
            englandDateOf(instant)
              .map((n) => String(n).padStart(2, '0'))
              .join('-'),
          ).toBe(london.format(instant));
        },
      ),
      { numRuns: 5_000 },
    );
  });

  it('is undefined without a birth date, for a malformed one, or for one after the referral', () => {
    expect(ageOn(undefined, '2025-03-04T09:15:00.000Z')).toBeUndefined();
    expect(ageOn('12/04/1961', '2025-03-04T09:15:00.000Z')).toBeUndefined();
    expect(ageOn('2025-03-05', '2025-03-04T09:15:00.000Z')).toBeUndefined();
  });
});

describe('isoWeekOf (the week weekly limits count in)', () => {
  it.each([
    ['2025-03-04T09:15:00.000Z', '2025-W10'], // a Tuesday
    ['2025-03-03T00:00:00.000Z', '2025-W10'], // Monday starts the week
    ['2025-03-02T23:59:59.999Z', '2025-W09'], // Sunday ends the one before
    ['2025-12-29T10:00:00.000Z', '2026-W01'], // the week of 1 January 2026, a Thursday
    ['2021-01-03T10:00:00.000Z', '2020-W53'], // 2020 had 53 weeks
    ['2024-12-30T10:00:00.000Z', '2025-W01'],
    ['2026-12-31T10:00:00.000Z', '2026-W53'],
  ])('%s is in %s', (at, week) => {
    expect(isoWeekOf(at)).toBe(week);
  });

  it('refuses what is not an instant', () => {
    expect(() => isoWeekOf('not a date')).toThrow(RangeError);
  });
});
