import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addFigures,
  bandOf,
  medianFromBands,
  noFigures,
  responseHours,
  responseRecordOf,
  responseBandHours,
  responseWindow,
  sameResponseRecord,
  type ResponseBand,
} from '#reporting/domain/response-record.ts';
import { ResponseRecord } from '#directory/domain/directory.ts';

// The response record's pure parts: bands, the median from the bands, the window, the record from the figures.

describe('response-time bands', () => {
  it('an answer is in the first band whose bound it is within; past two weeks is the open band', () => {
    expect(bandOf(0)).toBe('within-1h');
    expect(bandOf(1)).toBe('within-1h');
    expect(bandOf(1.01)).toBe('within-4h');
    expect(bandOf(24)).toBe('within-24h');
    expect(bandOf(24.5)).toBe('within-48h');
    expect(bandOf(336)).toBe('within-336h');
    expect(bandOf(337)).toBe('over-336h');
  });

  it('response hours run from the offer to the answer, never below zero', () => {
    expect(responseHours('2026-11-02T09:00:00.000Z', '2026-11-03T10:30:00.000Z')).toBe(25.5);
    expect(responseHours('2026-11-02T09:00:00.000Z', '2026-11-02T08:59:00.000Z')).toBe(0);
  });
});

describe('the median from the bands', () => {
  it('is the upper bound of the band holding the median answer (the lower median for an even count)', () => {
    expect(medianFromBands({})).toBeUndefined();
    expect(medianFromBands({ 'within-4h': 1 })).toBe(4);
    // 5 answers: the 3rd is in within-24h.
    expect(medianFromBands({ 'within-1h': 2, 'within-24h': 1, 'within-168h': 2 })).toBe(24);
    // 4 answers: the 2nd (lower median) is in within-1h, though the 3rd is in within-72h.
    expect(medianFromBands({ 'within-1h': 2, 'within-72h': 2 })).toBe(1);
    // The open band reports its lower bound.
    expect(medianFromBands({ 'within-8h': 1, 'over-336h': 2 })).toBe(336);
  });

  it('for any answers, is the bound of the band the exact (lower) median answer is in', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1000, noNaN: true }), { minLength: 1 }), (hours) => {
        const bands: Partial<Record<ResponseBand, number>> = {};
        for (const h of hours) bands[bandOf(h)] = (bands[bandOf(h)] ?? 0) + 1;
        const sorted = [...hours].sort((a, b) => a - b);
        const exact = sorted[Math.ceil(sorted.length / 2) - 1] ?? 0;
        const bound = responseBandHours.find((limit) => exact <= limit) ?? 336;
        expect(medianFromBands(bands)).toBe(bound);
      }),
    );
  });
});

describe('the window', () => {
  it('is the 90 days ending today, both included', () => {
    expect(responseWindow('2026-12-02')).toEqual({ from: '2026-09-04', to: '2026-12-02' });
    expect(responseWindow('2026-03-01', 2)).toEqual({ from: '2026-02-28', to: '2026-03-01' });
  });
});

describe('the record', () => {
  const figures = addFigures(
    { accepted: 3, declined: { 'no-capacity': 1 }, expired: 1, bands: { 'within-4h': 2, 'within-24h': 1 } },
    {
      accepted: 1,
      declined: { 'no-capacity': 1, 'not-eligible': 1 },
      expired: 2,
      bands: { 'within-24h': 2, 'within-120h': 1 },
    },
  );

  it('answered is accepts and coded declines; expiries are apart and in no median', () => {
    const record = responseRecordOf(figures);
    expect(record).toEqual({
      answered: 7,
      accepted: 4,
      // 7 answers: the 4th is in within-24h.
      medianResponseHours: 24,
      declineReasons: { 'no-capacity': 2, 'not-eligible': 1 },
      expired: 3,
      windowDays: 90,
    });
    expect(ResponseRecord.parse(record)).toEqual(record);
  });

  it('with only expiries: nothing answered, no median', () => {
    expect(responseRecordOf({ ...noFigures(), expired: 2 })).toEqual({
      answered: 0,
      accepted: 0,
      declineReasons: {},
      expired: 2,
      windowDays: 90,
    });
  });

  it('an old record (before declines and expiries were kept) is still valid, and differs from a new one', () => {
    const old = ResponseRecord.parse({ answered: 10, accepted: 9, medianResponseHours: 20 });
    expect(sameResponseRecord(old, responseRecordOf(figures))).toBe(false);
    expect(sameResponseRecord(responseRecordOf(figures), responseRecordOf(structuredClone(figures)))).toBe(
      true,
    );
    expect(sameResponseRecord(undefined, undefined)).toBe(true);
    expect(sameResponseRecord(old, undefined)).toBe(false);
  });
});
