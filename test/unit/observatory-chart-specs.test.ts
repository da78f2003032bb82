import { describe, expect, it } from 'vitest';
import { charts, type ReportAnswer } from '../../functions/observatory-page/assets/chart-specs.js';

// How the observatory page turns each report's rows (as the reports API answers them) into a chart
// (functions/observatory-page/assets/chart-specs.js): which report, which columns, in what order.

const chart = (report: string) => {
  const found = charts.find((c) => c.report === report);
  if (!found) throw new Error(`no chart of ${report}`);
  return found;
};

const answer = (
  report: string,
  columns: string[],
  rows: ReportAnswer['rows'],
  from = '2026-12-01',
  to = '2026-12-03',
) => chart(report).build({ report, from, to, suppressedBelow: 5, columns, rows });

describe('the observatory charts', () => {
  it('draw seven reports, the partners report for all areas only', () => {
    expect(charts.map((c) => c.report)).toEqual([
      'volumes',
      'funnel',
      'deprivation',
      'gaps',
      'partners',
      'outcomes',
      'surges',
    ]);
    expect(charts.filter((c) => c.byArea === false).map((c) => c.report)).toEqual(['partners']);
  });

  it('volumes: every day of the range on the axis, stacked by category; lines past 62 days', () => {
    const spec = answer(
      'volumes',
      ['day', 'category', 'needs'],
      [
        { day: '2026-12-02', category: 'arts', needs: 7 },
        { day: '2026-12-02', category: 'food', needs: '<5' },
      ],
    );
    expect(spec.categories).toEqual(['1 Dec', '2 Dec', '3 Dec']);
    expect(spec.series).toEqual([
      { name: 'arts', values: [0, 7, 0] },
      { name: 'food', values: [0, '<5', 0] },
    ]);
    expect(spec.stacked).toBe(true);
    expect(spec.line).toBe(false);
    const long = chart('volumes').build({
      report: 'volumes',
      from: '2026-01-01',
      to: '2026-03-31',
      suppressedBelow: null,
      columns: [],
      rows: [],
    });
    expect(long.categories).toHaveLength(90);
    expect(long.line).toBe(true);
  });

  it('surges: each surge found, the needs that day against those expected, and the threshold it crossed', () => {
    const spec = answer(
      'surges',
      ['day', 'category', 'area', 'observed', 'expected', 'threshold'],
      [
        {
          day: '2026-12-01',
          category: 'befriending',
          area: 'FY1',
          observed: 14,
          expected: 3.2,
          threshold: 11,
        },
      ],
    );
    expect(spec.categories).toEqual(['befriending in FY1, 1 Dec']);
    expect(spec.series).toEqual([
      { name: 'needs that day', values: [14] },
      { name: 'expected', values: [3.2] },
    ]);
    expect(spec.annotations).toEqual(['a surge from 11']);
    // For a commissioner a small expected count is hidden, and the threshold with it: said in words, not drawn.
    const hidden = answer(
      'surges',
      ['day', 'category', 'area', 'observed', 'expected', 'threshold'],
      [
        {
          day: '2026-12-01',
          category: 'befriending',
          area: 'FY1',
          observed: 14,
          expected: '<5',
          threshold: 'suppressed',
        },
      ],
    );
    expect(hidden.annotations).toEqual(['threshold not shown']);
  });

  it('funnel: the stages in order, in words, with closures and declines by reason', () => {
    const spec = answer(
      'funnel',
      ['stage', 'reason', 'referrals'],
      [
        { stage: 'referred', reason: '-', referrals: 12 },
        { stage: 'received', reason: '-', referrals: 9 },
        { stage: 'contacted', reason: '-', referrals: 0 },
        { stage: 'started', reason: '-', referrals: 0 },
        { stage: 'closed', reason: 'completed', referrals: '<5' },
        { stage: 'declined', reason: 'declined-by-patient', referrals: '<5' },
      ],
    );
    expect(spec.categories).toEqual([
      'referred',
      'received by link worker',
      'contacted',
      'intervention started',
      'closed',
      'declined',
    ]);
    expect(spec.series.map((s) => s.name)).toEqual(['reached the stage', 'completed', 'declined-by-patient']);
    expect(spec.series[0]?.values).toEqual([12, 9, 0, 0, 0, 0]);
    expect(spec.series[1]?.values).toEqual([0, 0, 0, 0, '<5', 0]);
  });

  it('deprivation: one IMD edition, the one with most referrals, by decile', () => {
    const row = (imd: string, referred: number | string) => {
      const [edition, decile] = imd.split(':');
      return {
        imd,
        edition: edition ?? '',
        decile: decile ?? '',
        referred,
        takenUp: 0,
        declined: 0,
        unmetNeeds: 0,
      };
    };
    const spec = answer(
      'deprivation',
      ['imd', 'edition', 'decile', 'referred', 'takenUp', 'declined', 'unmetNeeds'],
      [row('2019:1', '<5'), row('2019:2', 0), row('2025:1', 6), row('2025:2', '<5'), row('2025:unknown', 3)],
    );
    expect(spec.title).toContain('IMD 2025');
    expect(spec.categories).toEqual(['1', '2', 'unknown']);
    expect(spec.series.map((s) => s.name)).toEqual(['referred', 'taken up', 'declined', 'unmet needs']);
    expect(spec.series[0]?.values).toEqual([6, '<5', 3]);
  });

  it('gaps: unmet needs by area, stacked by category', () => {
    const spec = answer(
      'gaps',
      ['area', 'localAuthority', 'category', 'reason', 'unmetNeeds'],
      [
        {
          area: 'FY1',
          localAuthority: 'E06000009',
          category: 'benefits-advice',
          reason: 'no-service',
          unmetNeeds: 6,
        },
        {
          area: 'TN34',
          localAuthority: 'E07000062',
          category: 'arts',
          reason: 'no-service',
          unmetNeeds: '<5',
        },
      ],
    );
    expect(spec.categories).toEqual(['FY1', 'TN34']);
    expect(spec.series).toEqual([
      { name: 'benefits-advice', values: [6, 0] },
      { name: 'arts', values: [0, '<5'] },
    ]);
  });

  it('partners: answers stacked, each with its median response band in words', () => {
    const partner = (id: string, accepted: number | string, band: string) => ({
      partner: id,
      answered: 0,
      accepted,
      declined: 0,
      expired: 0,
      medianResponseBand: band,
    });
    const spec = answer(
      'partners',
      [],
      [
        partner('arts-for-all', 6, 'within-24h'),
        partner('green-gym', '<5', 'suppressed'),
        partner('leeds-works', 0, '-'),
        partner('mind-matters', 9, 'over-336h'),
      ],
    );
    expect(spec.categories).toEqual(['arts-for-all', 'green-gym', 'leeds-works', 'mind-matters']);
    expect(spec.annotations).toEqual([
      'median within 24 h',
      'median not shown',
      'no answers',
      'median over 2 weeks',
    ]);
    expect(spec.series.map((s) => s.name)).toEqual(['accepted', 'declined', 'expired']);
  });

  it('outcomes: the change at follow-up by measure, improved first', () => {
    const spec = answer(
      'outcomes',
      ['measure', 'distribution', 'value', 'sets'],
      [
        { measure: 'ucla3', distribution: 'baseline', value: '9', sets: 12 },
        { measure: 'ucla3', distribution: 'change', value: 'worse', sets: '<5' },
        { measure: 'ucla3', distribution: 'change', value: 'improved', sets: 8 },
      ],
    );
    expect(spec.categories).toEqual(['ucla3']);
    expect(spec.series).toEqual([
      { name: 'improved', values: [8] },
      { name: 'same', values: [0] },
      { name: 'worse', values: ['<5'] },
    ]);
  });
});
