import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Figure, FigureCell, FigureFamily } from '#reporting/domain/figures.ts';
import type { Figures } from '#reporting/ports.ts';

/**
 * What Figures promises (each unit counted once per cell, however often it is recorded; every cell of a family read
 * back over a date range with its count), run against the in-memory fake (test/unit/figures.contract.test.ts) and the
 * DynamoDB adapter on the local DynamoDB (test/integration/figures.contract.test.ts).
 */
export function describeFiguresContract(name: string, make: () => Figures | Promise<Figures>): void {
  describe(`Figures contract: ${name}`, () => {
    let figures: Figures;
    let practice: string;

    beforeEach(async () => {
      figures = await make();
      // A practice (or partner) of its own per case, so one table serves the whole suite.
      practice = `P${randomUUID().slice(0, 8)}`;
    });

    const referral = (
      day: string,
      overrides: Partial<Figure<'referrals'>['dimensions']> = {},
    ): Figure<'referrals'> => ({
      family: 'referrals',
      day,
      dimensions: {
        practice,
        pcn: 'U12345',
        team: 'team-1',
        area: 'LS6',
        localAuthority: 'E08000035',
        imd: '2019:3',
        channel: 'json',
        ageBand: '25-34',
        sex: 'unknown',
        ...overrides,
      },
    });
    const mine = <F extends FigureFamily>(cells: FigureCell<F>[]): FigureCell<F>[] =>
      cells.filter((c) => Object.values(c.dimensions).includes(practice));
    const sorted = <F extends FigureFamily>(cells: FigureCell<F>[]): FigureCell<F>[] =>
      [...cells].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));

    it('a unit recorded twice, or at once from several places, counts once in each of its cells', async () => {
      const cells = [referral('2026-11-02'), referral('2026-11-02', { ageBand: '35-44' })];
      await figures.recordOnce(cells, 'r-1');
      await figures.recordOnce(cells, 'r-1');
      await Promise.all(Array.from({ length: 4 }, () => figures.recordOnce(cells, 'r-1')));
      const read = mine(await figures.cells('referrals', '2026-11-01', '2026-11-30'));
      expect(sorted(read)).toEqual(sorted(cells.map((c) => ({ ...c, count: 1 }))));
    });

    it('counts each unit in each cell; a retry after a partial write adds only what is missing', async () => {
      const day = '2026-11-03';
      await figures.recordOnce([referral(day)], 'r-1');
      await figures.recordOnce([referral(day)], 'r-2');
      await figures.recordOnce([referral(day, { channel: 'fhir' })], 'r-3');
      // r-3's step crashed after its first cell: the retry brings its second cell, and its first stays one.
      await figures.recordOnce(
        [referral(day, { channel: 'fhir' }), referral(day, { imd: '2019:unknown' })],
        'r-3',
      );
      // The same cell twice in one call is one cell.
      await figures.recordOnce([referral(day, { ageBand: '75+' }), referral(day, { ageBand: '75+' })], 'r-4');
      const read = mine(await figures.cells('referrals', day, day));
      const count = (dims: Partial<Figure<'referrals'>['dimensions']>): number | undefined =>
        read.find((c) => JSON.stringify(c.dimensions) === JSON.stringify(referral(day, dims).dimensions))
          ?.count;
      expect(read).toHaveLength(4);
      expect(count({})).toBe(2);
      expect(count({ channel: 'fhir' })).toBe(1);
      expect(count({ imd: '2019:unknown' })).toBe(1);
      expect(count({ ageBand: '75+' })).toBe(1);
    });

    it('reads the days of the range only, across months, and the family asked for only', async () => {
      for (const [i, day] of ['2026-08-31', '2026-09-01', '2026-10-15', '2026-11-30', '2026-12-01'].entries())
        await figures.recordOnce([referral(day)], `r-${i}`);
      await figures.recordOnce(
        [
          {
            family: 'needs',
            day: '2026-10-15',
            dimensions: {
              category: 'arts',
              outcome: 'unmet',
              reason: 'no-service',
              practice,
              pcn: 'U12345',
              area: 'LS6',
              localAuthority: 'unknown',
              imd: '2019:1',
            },
          },
        ],
        'r-2#arts',
      );
      const read = mine(await figures.cells('referrals', '2026-09-01', '2026-11-30'));
      expect(read.map((c) => c.day).sort()).toEqual(['2026-09-01', '2026-10-15', '2026-11-30']);
      expect(read.every((c) => c.family === 'referrals' && c.count === 1)).toBe(true);
      const needs = mine(await figures.cells('needs', '2026-01-01', '2026-12-31'));
      expect(needs).toEqual([expect.objectContaining({ family: 'needs', day: '2026-10-15', count: 1 })]);
      await expect(figures.cells('referrals', '2026-12-02', '2026-12-01')).resolves.toEqual([]);
      expect(mine(await figures.cells('surges', '2026-01-01', '2026-12-31'))).toEqual([]);
    });

    it("keeps exactly the family's dimensions: one left out is unknown, one not of the family dropped", async () => {
      const given = referral('2026-11-04');
      const { sex: _left, ...dimensions } = given.dimensions;
      await figures.recordOnce(
        [
          {
            ...given,
            dimensions: { ...dimensions, extra: 'x' } as unknown as Figure<'referrals'>['dimensions'],
          },
        ],
        'r-1',
      );
      const [cell] = mine(await figures.cells('referrals', '2026-11-04', '2026-11-04'));
      expect(cell).toEqual({ ...given, dimensions: { ...given.dimensions, sex: 'unknown' }, count: 1 });
    });

    it('values with the key separators in them stay apart', async () => {
      const day = '2026-11-05';
      await figures.recordOnce([referral(day, { area: 'a|team=b' })], 'r-1');
      await figures.recordOnce([referral(day, { area: 'a', team: 'b' })], 'r-2');
      const read = mine(await figures.cells('referrals', day, day));
      expect(read.map((c) => [c.dimensions.area, c.count]).sort()).toEqual([
        ['a', 1],
        ['a|team=b', 1],
      ]);
    });

    it('reads every cell of a large range (paged)', async () => {
      const day = '2026-11-06';
      const many = Array.from({ length: 60 }, (_, i) => referral(day, { area: `LS${i}` }));
      await figures.recordOnce(many, 'r-1');
      await figures.recordOnce(many, 'r-2');
      const read = mine(await figures.cells('referrals', day, day));
      expect(read).toHaveLength(60);
      expect(read.every((c) => c.count === 2)).toBe(true);
    });
  });
}
