// The observatory's charts: bars (grouped or stacked, upright or lying down) and lines, drawn as SVG markup strings.
// No DOM and no library: the page parses the string into its document, and the unit tests read it as text
// (test/unit/observatory-charts.test.ts). Every text that reaches the markup is escaped here, whatever its source.
// Colours and sizes are presentation attributes and classes, never `style` attributes: the page's security policy
// allows this origin's style sheet only.

/** Okabe-Ito's colour-blind-safe palette, then Tol's, for the eleven intervention categories and more. */
export const palette = [
  '#0072B2',
  '#E69F00',
  '#009E73',
  '#CC79A7',
  '#56B4E9',
  '#D55E00',
  '#332288',
  '#882255',
  '#44AA99',
  '#999933',
  '#555555',
];

/** A count shown as `<5` (or any `<n`): a suppressed small count, never a number. */
export const isSuppressed = (value) => typeof value === 'string' && /^<\d+$/.test(value);

/** The number a value is drawn at: a suppressed count at `suppressedAs` (its upper bound), nothing at 0. */
export function drawnValue(value, suppressedAs) {
  if (isSuppressed(value)) return suppressedAs;
  const number = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(number) && number > 0 ? number : 0;
}

export function escapeXml(text) {
  return String(text).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );
}

/** An id fit for the markup: letters, digits and hyphens only. */
const idOf = (text) => String(text).replace(/[^A-Za-z0-9-]/g, '-');

export function formatNumber(value) {
  if (isSuppressed(value)) return value;
  const number = Number(value);
  if (!Number.isFinite(number)) return String(value);
  return Number.isInteger(number) ? number.toLocaleString('en-GB') : number.toFixed(1);
}

/** Axis ticks from 0 at a 1, 2 or 5 step, reaching at least `max`: 0..4 for 4, 0..25 by 5 for 23. */
export function niceScale(max, count = 5) {
  if (!(max > 0)) return { max: 1, step: 1, ticks: [0, 1] };
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  // Counts are whole: a step below 1 would draw ticks at 0.2 people.
  const whole = Math.max(step, max <= count ? 1 : step);
  const top = Math.ceil(max / whole) * whole;
  const ticks = [];
  for (let t = 0; t <= top + whole / 2; t += whole) ticks.push(Number(t.toFixed(6)));
  return { max: top, step: whole, ticks };
}

const fontSize = 12;
const textWidth = (text) => String(text).length * fontSize * 0.6;

function hatchPatterns(chartId, series) {
  return series
    .map((_, i) => {
      const colour = palette[i % palette.length];
      return (
        `<pattern id="${chartId}-hatch-${i}" patternUnits="userSpaceOnUse" width="6" height="6" ` +
        `patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/>` +
        `<line x1="0" y1="0" x2="0" y2="6" stroke="${colour}" stroke-width="3"/></pattern>`
      );
    })
    .join('');
}

/** The legend across the top, wrapping; its height. */
function legend(series, width, left) {
  if (series.length < 2) return { markup: '', height: 0 };
  let x = left;
  let y = 0;
  const items = series.map((s, i) => {
    const itemWidth = 18 + textWidth(s.name) + 14;
    if (x + itemWidth > width && x > left) {
      x = left;
      y += 18;
    }
    const item =
      `<g class="legend-item" transform="translate(${x},${y})">` +
      `<rect width="12" height="12" fill="${palette[i % palette.length]}"/>` +
      `<text x="16" y="10">${escapeXml(s.name)}</text></g>`;
    x += itemWidth;
    return item;
  });
  return { markup: `<g class="legend">${items.join('')}</g>`, height: y + 24 };
}

function frame(spec, width, height, body) {
  const id = idOf(spec.id);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${width} ${height}" ` +
    `width="${width}" height="${height}" role="img" aria-labelledby="${id}-title ${id}-desc">` +
    `<title id="${id}-title">${escapeXml(spec.title)}</title>` +
    `<desc id="${id}-desc">${escapeXml(spec.description ?? '')}</desc>` +
    `<defs>${hatchPatterns(id, spec.series)}</defs>${body}</svg>`
  );
}

function markTitle(spec, series, category, value) {
  const who = spec.series.length > 1 ? `${series.name}, ` : '';
  return `<title>${escapeXml(`${who}${category}: ${formatNumber(value)}`)}</title>`;
}

/** A bar: one `mark` rect (hatched when suppressed), with its figure in its title for screen readers and tooltips. */
function bar(spec, seriesIndex, category, value, box) {
  const series = spec.series[seriesIndex];
  const suppressed = isSuppressed(value);
  const chartId = idOf(spec.id);
  const colour = palette[seriesIndex % palette.length];
  const fill = suppressed ? `url(#${chartId}-hatch-${seriesIndex})` : colour;
  const [x, y, w, h] = box.map((n) => Number(n.toFixed(2)));
  return (
    `<rect class="mark${suppressed ? ' suppressed' : ''}" data-series="${escapeXml(series.name)}" ` +
    `data-category="${escapeXml(category)}" data-value="${escapeXml(value)}" x="${x}" y="${y}" ` +
    `width="${Math.max(w, 0.5)}" height="${Math.max(h, 0.5)}" fill="${fill}"` +
    `${suppressed ? ` stroke="${colour}" stroke-dasharray="3 2"` : ''}>` +
    `${markTitle(spec, series, category, value)}</rect>`
  );
}

/** The totals each category's stack or tallest bar reaches, drawn. */
function extentOf(spec) {
  const suppressedAs = spec.suppressedAs ?? 4;
  return Math.max(
    0,
    ...spec.categories.map((_, c) => {
      const drawn = spec.series.map((s) => drawnValue(s.values[c], suppressedAs));
      return spec.stacked ? drawn.reduce((a, b) => a + b, 0) : Math.max(0, ...drawn);
    }),
  );
}

/** Labels to show along a category axis with room for `room` of them: every k-th. */
function labelStride(count, room) {
  return Math.max(1, Math.ceil(count / Math.max(1, Math.floor(room))));
}

/**
 * Bars. `spec`: `id`, `title`, `description`, `categories` (labels along the category axis), `series` (`name`,
 * `values` one per category: a number, a suppressed `<5`, or nothing), `stacked`, `horizontal`, `valueLabel`,
 * `categoryLabel`, `suppressedAs` (the height a suppressed count is drawn at, default 4), `width`, `height`; lying
 * down, `annotations` (a text per category, written after its bar).
 */
export function barChart(spec) {
  return spec.horizontal ? horizontalBars(spec) : verticalBars(spec);
}

function verticalBars(spec) {
  const width = spec.width ?? 640;
  const height = spec.height ?? 300;
  const suppressedAs = spec.suppressedAs ?? 4;
  const left = 56;
  const right = 12;
  const key = legend(spec.series, width - right, left);
  const top = key.height + 10;
  const bottom = 44;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const scale = niceScale(extentOf(spec));
  const y = (v) => top + plotH - (v / scale.max) * plotH;
  const band = plotW / Math.max(1, spec.categories.length);
  const gap = Math.min(8, band * 0.2);
  const parts = [key.markup, valueAxisVertical(scale, y, left, width - right, spec.valueLabel, top, plotH)];
  const stride = labelStride(spec.categories.length, plotW / (textWidth('00 Mmm') + 8));
  spec.categories.forEach((category, c) => {
    const x0 = left + c * band + gap / 2;
    const inner = band - gap;
    let stack = 0;
    spec.series.forEach((series, s) => {
      const value = series.values[c];
      const drawn = drawnValue(value, suppressedAs);
      if (drawn === 0) return;
      if (spec.stacked) {
        parts.push(bar(spec, s, category, value, [x0, y(stack + drawn), inner, y(stack) - y(stack + drawn)]));
        stack += drawn;
      } else {
        const w = inner / spec.series.length;
        parts.push(bar(spec, s, category, value, [x0 + s * w, y(drawn), w, y(0) - y(drawn)]));
        if (isSuppressed(value) && w >= 14)
          parts.push(
            `<text class="suppressed-label" x="${(x0 + s * w + w / 2).toFixed(1)}" y="${(y(drawn) - 3).toFixed(1)}" text-anchor="middle">${escapeXml(value)}</text>`,
          );
      }
    });
    if (c % stride === 0)
      parts.push(
        `<text class="category-label" x="${(x0 + inner / 2).toFixed(1)}" y="${top + plotH + 16}" text-anchor="middle">${escapeXml(category)}</text>`,
      );
  });
  if (spec.categoryLabel)
    parts.push(
      `<text class="axis-label" x="${left + plotW / 2}" y="${height - 6}" text-anchor="middle">${escapeXml(spec.categoryLabel)}</text>`,
    );
  return frame(spec, width, height, parts.join(''));
}

function valueAxisVertical(scale, y, left, right, label, top, plotH) {
  const lines = scale.ticks.map(
    (t) =>
      `<line class="grid" x1="${left}" x2="${right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#d8dde0"/>` +
      `<text class="tick" x="${left - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${formatNumber(t)}</text>`,
  );
  const axisLabel = label
    ? `<text class="axis-label" transform="translate(14,${top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(label)}</text>`
    : '';
  return `<g class="axis">${lines.join('')}${axisLabel}</g>`;
}

function horizontalBars(spec) {
  const width = spec.width ?? 640;
  const suppressedAs = spec.suppressedAs ?? 4;
  const left = Math.min(200, Math.max(60, ...spec.categories.map((c) => textWidth(c) + 12)));
  // Room after the longest bar for its annotation (a partner's median response time, say).
  const notes = spec.annotations ?? [];
  const right = Math.min(220, Math.max(24, ...notes.map((note) => textWidth(note ?? '') + 12)));
  const key = legend(spec.series, width - right, left);
  const top = key.height + 8;
  const rowH = spec.stacked ? 24 : Math.max(24, 12 * spec.series.length + 8);
  const plotH = rowH * Math.max(1, spec.categories.length);
  const bottom = 40;
  const height = top + plotH + bottom;
  const plotW = width - left - right;
  const scale = niceScale(extentOf(spec));
  const x = (v) => left + (v / scale.max) * plotW;
  const parts = [key.markup];
  parts.push(
    `<g class="axis">${scale.ticks
      .map(
        (t) =>
          `<line class="grid" x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${top}" y2="${top + plotH}" stroke="#d8dde0"/>` +
          `<text class="tick" x="${x(t).toFixed(1)}" y="${top + plotH + 14}" text-anchor="middle">${formatNumber(t)}</text>`,
      )
      .join('')}</g>`,
  );
  spec.categories.forEach((category, c) => {
    const y0 = top + c * rowH + 4;
    const inner = rowH - 8;
    let stack = 0;
    spec.series.forEach((series, s) => {
      const value = series.values[c];
      const drawn = drawnValue(value, suppressedAs);
      if (drawn === 0) return;
      const h = spec.stacked ? inner : inner / spec.series.length;
      const yy = spec.stacked ? y0 : y0 + s * h;
      const from = spec.stacked ? stack : 0;
      parts.push(bar(spec, s, category, value, [x(from), yy, x(from + drawn) - x(from), h]));
      if (!spec.stacked && isSuppressed(value))
        parts.push(
          `<text class="suppressed-label" x="${(x(drawn) + 3).toFixed(1)}" y="${(yy + h / 2 + 4).toFixed(1)}">${escapeXml(value)}</text>`,
        );
      stack += drawn;
    });
    parts.push(
      `<text class="category-label" x="${left - 6}" y="${(y0 + inner / 2 + 4).toFixed(1)}" text-anchor="end">${escapeXml(category)}</text>`,
    );
    if (notes[c])
      parts.push(
        `<text class="annotation" x="${(x(spec.stacked ? stack : scale.max) + 6).toFixed(1)}" y="${(y0 + inner / 2 + 4).toFixed(1)}">${escapeXml(notes[c])}</text>`,
      );
  });
  if (spec.valueLabel)
    parts.push(
      `<text class="axis-label" x="${left + plotW / 2}" y="${height - 6}" text-anchor="middle">${escapeXml(spec.valueLabel)}</text>`,
    );
  return frame(spec, width, height, parts.join(''));
}

/**
 * Lines, one per series over the categories (days, in order). Same `spec` as barChart; a suppressed count is a hollow,
 * dashed point at `suppressedAs`, and the line through it dashed.
 */
export function lineChart(spec) {
  const width = spec.width ?? 640;
  const height = spec.height ?? 300;
  const suppressedAs = spec.suppressedAs ?? 4;
  const left = 56;
  const right = 16;
  const key = legend(spec.series, width - right, left);
  const top = key.height + 10;
  const bottom = 44;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const scale = niceScale(
    Math.max(0, ...spec.series.flatMap((s) => s.values.map((v) => drawnValue(v, suppressedAs)))),
  );
  const n = spec.categories.length;
  const x = (c) => (n <= 1 ? left + plotW / 2 : left + (c / (n - 1)) * plotW);
  const y = (v) => top + plotH - (v / scale.max) * plotH;
  const parts = [key.markup, valueAxisVertical(scale, y, left, width - right, spec.valueLabel, top, plotH)];
  spec.series.forEach((series, s) => {
    const colour = palette[s % palette.length];
    const points = spec.categories.map((_, c) => [x(c), y(drawnValue(series.values[c], suppressedAs))]);
    if (points.length > 1)
      parts.push(
        `<polyline class="line" fill="none" stroke="${colour}" stroke-width="2" points="${points
          .map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`)
          .join(' ')}"/>`,
      );
    spec.categories.forEach((category, c) => {
      const value = series.values[c];
      if (drawnValue(value, suppressedAs) === 0 && !(Number(value) === 0)) return;
      const suppressed = isSuppressed(value);
      const [px, py] = points[c];
      parts.push(
        `<circle class="mark${suppressed ? ' suppressed' : ''}" data-series="${escapeXml(series.name)}" ` +
          `data-category="${escapeXml(category)}" data-value="${escapeXml(value ?? 0)}" cx="${px.toFixed(1)}" ` +
          `cy="${py.toFixed(1)}" r="${suppressed ? 4.5 : 3.5}" ` +
          `fill="${suppressed ? `url(#${idOf(spec.id)}-hatch-${s})` : colour}" stroke="${colour}"` +
          `${suppressed ? ' stroke-dasharray="2 1.5"' : ''}>${markTitle(spec, series, category, value ?? 0)}</circle>`,
      );
    });
  });
  const stride = labelStride(n, plotW / (textWidth('00 Mmm') + 8));
  spec.categories.forEach((category, c) => {
    if (c % stride === 0)
      parts.push(
        `<text class="category-label" x="${x(c).toFixed(1)}" y="${top + plotH + 16}" text-anchor="middle">${escapeXml(category)}</text>`,
      );
  });
  if (spec.categoryLabel)
    parts.push(
      `<text class="axis-label" x="${left + plotW / 2}" y="${height - 6}" text-anchor="middle">${escapeXml(spec.categoryLabel)}</text>`,
    );
  return frame(spec, width, height, parts.join(''));
}

/** Whether a chart spec has anything to draw: a value above 0 or a suppressed count. */
export const hasData = (spec) =>
  spec.series.some((s) => s.values.some((v) => drawnValue(v, spec.suppressedAs ?? 4) > 0));

/**
 * Pivots report rows into a chart's categories and series: rows with `category`, `series` and `value` columns
 * (functions of a row, or column names) become one series per distinct series value with a value per category.
 * Two rows for one cell add up (numbers), unless either is suppressed: then the cell is drawn suppressed, since a sum
 * with an unknown part is not known (and shown exactly, it could be worked back to the small count). Orders are
 * given or first-seen.
 */
export function pivot(rows, { category, series, value, categories, seriesOrder }) {
  const read = (f, row) => (typeof f === 'function' ? f(row) : row[f]);
  const cats = categories ? [...categories] : [];
  const names = seriesOrder ? [...seriesOrder] : [];
  const cells = new Map();
  for (const row of rows) {
    const c = String(read(category, row));
    const s = String(read(series, row));
    const v = read(value, row);
    if (!categories && !cats.includes(c)) cats.push(c);
    if (!seriesOrder && !names.includes(s)) names.push(s);
    const key = `${s}\u0000${c}`;
    const before = cells.get(key);
    if (before === undefined) cells.set(key, v);
    else if (isSuppressed(before) || isSuppressed(v)) cells.set(key, isSuppressed(v) ? v : before);
    else cells.set(key, Number(before) + Number(v));
  }
  return {
    categories: cats,
    series: names.map((name) => ({ name, values: cats.map((c) => cells.get(`${name}\u0000${c}`) ?? 0) })),
  };
}
