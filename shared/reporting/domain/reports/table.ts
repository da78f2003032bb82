import type { FigureCell, FigureFamily } from '#reporting/domain/figures.ts';
import type { ReportName, ReportValue } from '#reporting/domain/report-shape.ts';

/**
 * What each report is (its figures, its columns, how its rows are made from the cells) and the small helpers the
 * builders share. A builder is pure: it gets every cell of the families it names, already filtered by area, and
 * answers exact rows; suppression is applied after, by the column kinds declared here (suppression.ts).
 */

/**
 * A column: a `label` (a day, a code, a band: never suppressed), a `count` of units (suppressed from 1 to the
 * threshold) or a value `derived` from count columns of the same row (a rate, a median band): suppressed whenever one
 * of the columns it is computed `from` is.
 */
export type ColumnSpec =
  | { name: string; kind: 'label' | 'count'; description: string }
  /**
   * A count that is the sum of other count columns of its row (a partner's `answered` is its `accepted` plus its
   * `declined`): suppressed as a count, and also whenever one of its parts is (else the part is the total minus the
   * others).
   */
  | { name: string; kind: 'total'; of: readonly string[]; description: string }
  | { name: string; kind: 'derived'; from: readonly string[]; description: string };

/** Every cell of each family, by family. */
export type CellsByFamily = { [F in FigureFamily]: FigureCell<F>[] };

export type ReportRow = Record<string, ReportValue>;

export interface ReportDefinition<F extends FigureFamily = FigureFamily> {
  name: ReportName;
  /** One sentence for the docs and the OpenAPI description. */
  summary: string;
  /** The families read, each with one `Figures.cells` call. */
  families: readonly F[];
  columns: readonly ColumnSpec[];
  build(cells: Pick<CellsByFamily, F>): ReportRow[];
}

export const label = (name: string, description: string): ColumnSpec => ({
  name,
  kind: 'label',
  description,
});
export const totalOf = (name: string, of: readonly string[], description: string): ColumnSpec => ({
  name,
  kind: 'total',
  of,
  description,
});
export const count = (name: string, description: string): ColumnSpec => ({
  name,
  kind: 'count',
  description,
});

/**
 * Sums the cells' counts by a key made of some of their dimensions (and day): one entry per key seen, in the order
 * first seen. `key` answers the row's label values.
 */
export function sumBy<F extends FigureFamily, K extends string>(
  cells: readonly FigureCell<F>[],
  key: (cell: FigureCell<F>) => Record<K, string>,
): Array<{ labels: Record<K, string>; count: number }> {
  const groups = new Map<string, { labels: Record<K, string>; count: number }>();
  for (const cell of cells) {
    const labels = key(cell);
    const id = JSON.stringify(labels);
    const group = groups.get(id) ?? { labels, count: 0 };
    group.count += cell.count;
    groups.set(id, group);
  }
  return [...groups.values()];
}

/** The sum of the cells' counts. */
export const total = (cells: readonly FigureCell[]): number =>
  cells.reduce((sum, cell) => sum + cell.count, 0);

/**
 * An order for label values: those in `known` first, in its order; then whole numbers, in numeric order; then the
 * rest alphabetically, `unknown` and `-` last. Rows are sorted by labels only, never by counts: an order by exact
 * count would tell apart counts that suppression shows alike.
 */
export function orderOf(known: readonly string[] = []): (a: string, b: string) => number {
  const rank = (value: string): [number, number, string] => {
    const index = known.indexOf(value);
    if (index >= 0) return [0, index, ''];
    if (/^\d+$/.test(value)) return [1, Number(value), ''];
    if (value === 'unknown' || value === '-') return [3, value === 'unknown' ? 0 : 1, ''];
    return [2, 0, value];
  };
  return (a, b) => {
    const [ga, na, sa] = rank(a);
    const [gb, nb, sb] = rank(b);
    return ga - gb || na - nb || (sa < sb ? -1 : sa > sb ? 1 : 0);
  };
}

/** Sorts rows by the given label columns in turn, each with its order (default: orderOf()). */
export function sortRows(
  rows: ReportRow[],
  by: ReadonlyArray<string | [string, (a: string, b: string) => number]>,
): ReportRow[] {
  const keys = by.map((entry) => (typeof entry === 'string' ? ([entry, orderOf()] as const) : entry));
  return [...rows].sort((a, b) => {
    for (const [column, compare] of keys) {
      const order = compare(String(a[column] ?? ''), String(b[column] ?? ''));
      if (order !== 0) return order;
    }
    return 0;
  });
}
