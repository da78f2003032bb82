import { describe, expect, it } from 'vitest';
import {
  barChart,
  escapeXml,
  hasData,
  lineChart,
  niceScale,
  pivot,
  type ChartSpec,
} from '../../functions/observatory-page/assets/charts.js';

// The observatory page's chart module (functions/observatory-page/assets/charts.js) read as text: it builds SVG
// markup with no DOM, so what a commissioner sees can be checked here, apart from the browser test.

/** The tags of some markup balance (every element closed, in order): the page parses it as XML, which must not fail. */
function expectWellFormed(markup: string): void {
  const open: string[] = [];
  for (const [, closing, name, selfClosing] of markup.matchAll(/<(\/?)([A-Za-z][\w-]*)[^>]*?(\/?)>/g)) {
    if (selfClosing) continue;
    if (closing) expect(open.pop(), `closing ${name}`).toBe(name);
    else open.push(name ?? '');
  }
  expect(open).toEqual([]);
}

const marks = (svg: string) => [...svg.matchAll(/<(rect|circle) class="mark[^"]*"[^>]*>/g)].map((m) => m[0]);
const valuesOf = (svg: string) =>
  marks(svg).map((m) => /data-value="([^"]*)"/.exec(m)?.[1]?.replace(/&lt;/g, '<'));

const volumes: ChartSpec = {
  id: 'volumes',
  title: 'Needs referred per day by category',
  description: 'Stacked bars',
  categories: ['1 Dec', '2 Dec'],
  series: [
    { name: 'arts', values: [12, '<5'] },
    { name: 'nature', values: [0, 7] },
  ],
  stacked: true,
  valueLabel: 'needs',
};

describe('niceScale', () => {
  it.each([
    [4, 4, 1],
    [23, 25, 5],
    [0, 1, 1],
    [1, 1, 1],
    [160, 200, 50],
  ])('a maximum of %d is drawn to %d in steps of %d', (max, top, step) => {
    const scale = niceScale(max);
    expect(scale.max).toBe(top);
    expect(scale.step).toBe(step);
    expect(scale.ticks[0]).toBe(0);
    expect(scale.ticks.at(-1)).toBe(top);
  });
});

describe('barChart', () => {
  it('draws one mark per count above zero, with its figure in its title', () => {
    const svg = barChart(volumes);
    expectWellFormed(svg);
    expect(valuesOf(svg)).toEqual(['12', '<5', '7']);
    expect(svg).toContain('<title>arts, 1 Dec: 12</title>');
    expect(svg).toContain('role="img"');
    expect(svg).toContain('<title id="volumes-title">Needs referred per day by category</title>');
    // The legend names each series.
    expect(svg).toMatch(/<g class="legend">.*arts.*nature/);
  });

  it('draws a suppressed count hatched, never as a number, and says so in its title', () => {
    const svg = barChart(volumes);
    const suppressed = marks(svg).filter((m) => m.includes('suppressed'));
    expect(suppressed).toHaveLength(1);
    expect(suppressed[0]).toContain('fill="url(#volumes-hatch-0)"');
    expect(svg).toContain('<pattern id="volumes-hatch-0"');
    expect(svg).toContain('<title>arts, 2 Dec: &lt;5</title>');
  });

  it('stacks: a day with 12 and nothing else is drawn to scale (12 of a 0-15 scale)', () => {
    const svg = barChart({ ...volumes, series: [{ name: 'arts', values: [12, 0] }], height: 300 });
    const [mark] = marks(svg);
    const height = Number(/height="([\d.]+)"/.exec(mark ?? '')?.[1]);
    // 300 high, 10 above and 44 below the plot: 246 for a scale of 0-15 (step 5), 12 of it 196.8.
    expect(height).toBeCloseTo((246 * 12) / 15, 1);
  });

  it('lies down for long labels, grouped, with a suppressed count labelled beside its bar', () => {
    const svg = barChart({
      id: 'gaps',
      title: 'Unmet needs by area',
      categories: ['FY1', 'TN34'],
      series: [{ name: 'unmet', values: ['<5', 9] }],
      horizontal: true,
      valueLabel: 'needs unmet',
    });
    expectWellFormed(svg);
    expect(valuesOf(svg)).toEqual(['<5', '9']);
    expect(svg).toContain('<text class="suppressed-label"');
    expect(svg).toMatch(/class="category-label"[^>]*>FY1</);
  });

  it('lying down, writes each annotation after its bar, with room for it', () => {
    const svg = barChart({
      id: 'partners',
      title: 'Partners',
      categories: ['arts-for-all', 'green-gym'],
      series: [{ name: 'accepted', values: [6, '<5'] }],
      horizontal: true,
      stacked: true,
      annotations: ['median within 1 h', undefined],
    });
    expectWellFormed(svg);
    expect(svg.match(/<text class="annotation"[^>]*>([^<]*)</g)).toEqual([
      expect.stringContaining('>median within 1 h<'),
    ]);
  });

  it('escapes every text it is given, so nothing from a report can become markup', () => {
    const hostile = '<script>alert(1)</script>" onload="x';
    const svg = barChart({
      id: 'x" onload="y',
      title: hostile,
      categories: [hostile],
      series: [
        { name: hostile, values: [3] },
        { name: 'b', values: [1] },
      ],
    });
    expectWellFormed(svg);
    expect(svg).not.toContain('<script');
    expect(svg).not.toMatch(/ onload="/);
    expect(svg).toContain(escapeXml(hostile));
    // Presentation attributes only: the page's policy refuses style attributes.
    expect(svg).not.toContain('style=');
  });
});

describe('lineChart', () => {
  it('draws a line per series and a point per day, suppressed points hollow and hatched', () => {
    const svg = lineChart({ ...volumes, stacked: false });
    expectWellFormed(svg);
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(valuesOf(svg)).toEqual(['12', '<5', '0', '7']);
    expect(marks(svg).filter((m) => m.includes('suppressed'))[0]).toContain('url(#volumes-hatch-0)');
  });
});

describe('hasData and pivot', () => {
  it('a chart of zeros has no data; a suppressed count is data', () => {
    expect(hasData({ ...volumes, series: [{ name: 'a', values: [0, 0] }] })).toBe(false);
    expect(hasData({ ...volumes, series: [{ name: 'a', values: [0, '<5'] }] })).toBe(true);
  });

  it('pivots rows into series by category, adding counts and keeping a suppressed part suppressed', () => {
    const rows = [
      { day: '2026-12-01', category: 'arts', needs: 3 },
      { day: '2026-12-01', category: 'arts', needs: 4 },
      { day: '2026-12-02', category: 'arts', needs: '<5' },
      { day: '2026-12-02', category: 'arts', needs: 6 },
      { day: '2026-12-02', category: 'food', needs: 1 },
    ];
    expect(pivot(rows, { category: 'day', series: 'category', value: 'needs' })).toEqual({
      categories: ['2026-12-01', '2026-12-02'],
      series: [
        { name: 'arts', values: [7, '<5'] },
        { name: 'food', values: [0, 1] },
      ],
    });
  });
});
