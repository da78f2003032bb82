import {
  familyDimensions,
  type Figure,
  type FigureCell,
  type FigureFamily,
  unknownValue,
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
    for (const given of figures) {
      const figure = normalised(given);
      const key = cellKey(figure);
      const entry = this.stored.get(key) ?? {
        cell: { ...structuredClone(figure), count: 0 } as FigureCell,
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

/** Exactly the family's dimensions, as the adapter stores them: one left out is `unknown`, one not of it dropped. */
function normalised(figure: Figure): Figure {
  const given = figure.dimensions as Record<string, string | undefined>;
  const names: readonly string[] = familyDimensions[figure.family];
  return {
    family: figure.family,
    day: figure.day,
    dimensions: Object.fromEntries(names.map((name) => [name, given[name] ?? unknownValue])),
  } as Figure;
}

function cellKey(figure: { family: FigureFamily; day: string; dimensions: object }): string {
  const names: readonly string[] = familyDimensions[figure.family];
  const dimensions = figure.dimensions as Record<string, string>;
  return [figure.family, figure.day, ...names.map((name) => `${name}=${dimensions[name] ?? ''}`)].join('|');
}
