import {
  familyDimensions,
  type Figure,
  type FigureCell,
  type FigureFamily,
} from '#reporting/domain/figures.ts';
import type { Figures } from '#reporting/ports.ts';

/**
 * The in-memory Figures: the same promise as the DynamoDB adapter (the figures contract), kept by its own means: per
 * cell, its count and the unit ids counted in it. `cellReads` counts the reads, as a report's Query count would.
 */
export class InMemoryFigures implements Figures {
  private readonly stored = new Map<string, { cell: FigureCell; counted: Set<string> }>();
  cellReads = 0;

  async recordOnce(figures: Figure[], unitId: string): Promise<void> {
    for (const figure of figures) {
      const key = cellKey(figure);
      const entry = this.stored.get(key) ?? {
        cell: { ...structuredClone(figure), count: 0 },
        counted: new Set<string>(),
      };
      if (entry.counted.has(unitId)) continue;
      entry.counted.add(unitId);
      entry.cell.count += 1;
      this.stored.set(key, entry);
    }
  }

  async cells<F extends FigureFamily>(family: F, from: string, to: string): Promise<FigureCell<F>[]> {
    this.cellReads += 1;
    return [...this.stored.values()]
      .map(({ cell }) => cell)
      .filter((cell): cell is FigureCell<F> => cell.family === family && cell.day >= from && cell.day <= to)
      .sort((a, b) => (cellKey(a) < cellKey(b) ? -1 : 1))
      .map((cell) => structuredClone(cell));
  }
}

function cellKey(figure: Figure): string {
  const names: readonly string[] = familyDimensions[figure.family];
  const dimensions = figure.dimensions as Record<string, string>;
  return [figure.family, figure.day, ...names.map((name) => `${name}=${dimensions[name] ?? ''}`)].join('|');
}
