import { describe, expect, it } from 'vitest';
import { detectSurges, yesterday } from '#reporting/application/detect-surges.ts';
import { notApplicable, unknownValue, type Figure } from '#reporting/domain/figures.ts';
import { addDays, baselineDays } from '#reporting/domain/surge-rule.ts';
import { InMemoryFigures } from './fakes-figures.ts';

// The surge job over the in-memory Figures: needs summed by category x area over the other dimensions, the day
// against its 8 same weekdays, each surge recorded once, a rerun adding nothing.

const day = '2026-11-25';
const clock = { now: () => new Date('2026-11-26T06:00:00Z') };

function need(onDay: string, category: string, area: string, practice = 'B82005'): Figure<'needs'> {
  return {
    family: 'needs',
    day: onDay,
    dimensions: {
      category,
      outcome: 'matched',
      reason: notApplicable,
      practice,
      pcn: unknownValue,
      area,
      localAuthority: unknownValue,
      imd: '2019:3',
    },
  };
}

/** `count` needs on `onDay`, half from each of two practices (two cells, to be summed). */
async function seed(figures: InMemoryFigures, onDay: string, category: string, area: string, count: number) {
  for (let i = 0; i < count; i++) {
    await figures.recordOnce(
      // `as Figure`: see detect-surges.ts (a one-family figure is not assignable to Figure's default as written).
      [need(onDay, category, area, i % 2 === 0 ? 'B82005' : 'B82099') as Figure],
      `${onDay}-${category}-${area}-${i}`,
    );
  }
}

describe('detectSurges', () => {
  it('defaults to yesterday (UTC) and compares it with the 8 same weekdays before', async () => {
    expect(yesterday(new Date('2026-11-26T00:30:00Z'))).toBe('2026-11-25');
    const figures = new InMemoryFigures();
    await seed(figures, addDays(day, -56), 'arts', 'LS1', 1);
    const summary = await detectSurges({ figures, clock });
    expect(summary).toMatchObject({
      day,
      baseline: baselineDays(day),
      judged: true,
      compared: 1,
      surges: [],
    });
  });

  it('judges nothing until the service has had figures for 4 of the baseline weeks: going live is no surge', async () => {
    const figures = new InMemoryFigures();
    await seed(figures, day, 'physical-activity', 'LS6', 30);
    expect(await detectSurges({ figures, clock }, { day })).toMatchObject({
      judged: false,
      baseline: [],
      compared: 0,
      surges: [],
    });
    // Live from three weeks back (the first figure in another area): still too short.
    await seed(figures, addDays(day, -20), 'arts', 'LS1', 1);
    expect(await detectSurges({ figures, clock }, { day })).toMatchObject({
      judged: false,
      baseline: baselineDays(day).slice(0, 2),
    });
    // From four weeks back: judged over those four weeks only (LS6's were zeros), the older four not counted.
    await seed(figures, addDays(day, -28), 'arts', 'LS1', 1);
    const summary = await detectSurges({ figures, clock }, { day, dryRun: true });
    expect(summary).toMatchObject({ judged: true, baseline: baselineDays(day).slice(0, 4), compared: 2 });
    expect(summary.surges).toEqual([
      {
        category: 'physical-activity',
        area: 'LS6',
        observed: 30,
        expected: 0,
        threshold: 5,
        step: 'would-record',
      },
    ]);
    expect(await figures.cells('surges', day, day)).toEqual([]);
  });

  it('records a surge once per category x area, summed over practices; a normal area and a quiet one are not flagged', async () => {
    const figures = new InMemoryFigures();
    for (const week of baselineDays(day)) {
      await seed(figures, week, 'physical-activity', 'LS6', 2);
      await seed(figures, week, 'physical-activity', 'LS7', 6);
      // Not the same weekday: ignored by the baseline.
      await seed(figures, addDays(week, 1), 'physical-activity', 'LS6', 30);
    }
    await seed(figures, day, 'physical-activity', 'LS6', 12);
    await seed(figures, day, 'physical-activity', 'LS7', 9);
    await seed(figures, day, 'arts', 'LS8', 4);
    figures.cellReads = 0;

    const summary = await detectSurges({ figures, clock }, { day });
    // Two reads: the needs over 57 days, the day's surges already recorded.
    expect(figures.cellReads).toBe(2);
    expect(summary).toMatchObject({ compared: 3, recorded: 1, alreadyRecorded: 0 });
    expect(summary.byCategory).toEqual({ 'physical-activity': 1 });
    expect(summary.surges).toEqual([
      // mean 2, variance 0 -> 2 + 4 * sqrt(2) = 7.66 -> 8.
      {
        category: 'physical-activity',
        area: 'LS6',
        observed: 12,
        expected: 2,
        threshold: 8,
        step: 'recorded',
      },
    ]);
    expect(await figures.cells('surges', day, day)).toEqual([
      {
        family: 'surges',
        day,
        dimensions: {
          category: 'physical-activity',
          area: 'LS6',
          observed: '12',
          expected: '2',
          threshold: '8',
        },
        count: 1,
      },
    ]);

    // A rerun, even after a late need changed the count, finds the surge already recorded and adds nothing.
    await seed(figures, day, 'physical-activity', 'LS6', 13);
    const again = await detectSurges({ figures, clock }, { day });
    expect(again).toMatchObject({ recorded: 0, alreadyRecorded: 1, byCategory: { 'physical-activity': 1 } });
    expect(again.surges[0]).toMatchObject({ step: 'already', observed: 13 });
    expect(await figures.cells('surges', day, day)).toHaveLength(1);
  });

  it('a dry run says what it would record and records nothing', async () => {
    const figures = new InMemoryFigures();
    // Live for the whole baseline (a need elsewhere 8 weeks back), none ever in LS6 before.
    await seed(figures, addDays(day, -56), 'arts', 'LS1', 1);
    await seed(figures, day, 'arts', 'LS6', 5);
    const summary = await detectSurges({ figures, clock }, { day, dryRun: true });
    expect(summary.surges).toEqual([
      { category: 'arts', area: 'LS6', observed: 5, expected: 0, threshold: 5, step: 'would-record' },
    ]);
    expect(summary).toMatchObject({ recorded: 0, dryRun: true });
    expect(await figures.cells('surges', day, day)).toEqual([]);
  });

  it('missing baseline weeks count 0, and a day older than the baseline is not read', async () => {
    const figures = new InMemoryFigures();
    await seed(figures, addDays(day, -56), 'arts', 'LS1', 1);
    // Nine weeks back: outside the baseline, so the area has no history.
    await seed(figures, addDays(day, -63), 'arts', 'LS6', 40);
    await seed(figures, addDays(day, -7), 'arts', 'LS6', 8);
    await seed(figures, day, 'arts', 'LS6', 7);
    const summary = await detectSurges({ figures, clock }, { day, dryRun: true });
    // weeks [8, 0 x 7]: mean 1, sample variance 8 -> 1 + 4 * sqrt(8) = 12.3 -> 13.
    expect(summary.surges).toEqual([]);
    expect(summary.compared).toBe(2);
  });
});
