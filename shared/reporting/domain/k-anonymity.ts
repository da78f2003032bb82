import { UnprocessableError } from '#kernel/errors.ts';
import { quasiIdentifiers, type EvaluationRow } from '#reporting/domain/evaluation-rows.ts';

/**
 * The evaluation extract's k check (docs/evaluation.md): every combination of the quasi-identifiers (IMD decile, age
 * band, sex, PCN) present in an extract must hold at least k people, counted as distinct pseudonyms (a person with
 * two referrals in one cell is one person). An extract with a smaller cell is refused whole, naming each such cell
 * by its values and how many it holds, never by who is in it: a commissioner can then widen the range or the
 * evaluator ask for fewer columns, and no row of a small cell is ever handed out.
 *
 * A person whose referrals fall in two cells (a birthday between them moved the age band) counts in both.
 */

/** k when none is asked for: the threshold the observatory's figures suppress below too. */
export const defaultK = 5;
/**
 * The k a caller may ask for. The default is also the floor: an operator may make the check stricter, never weaker,
 * since a smaller k would hand out cells the service's own figures suppress. Above 100 it refuses almost anything.
 */
export const kRange = { min: defaultK, max: 100 } as const;

export type QuasiIdentifier = (typeof quasiIdentifiers)[number];

/** A combination of the quasi-identifiers and how many people it holds. */
export interface Cell {
  values: Record<QuasiIdentifier, string>;
  people: number;
}

/** Every combination the rows hold with fewer than k people, in a stable order (by its values). */
export function smallCells(rows: readonly EvaluationRow[], k: number): Cell[] {
  const cells = new Map<string, { values: Cell['values']; pseudonyms: Set<string> }>();
  for (const row of rows) {
    const values = Object.fromEntries(quasiIdentifiers.map((q) => [q, row[q]])) as Cell['values'];
    const key = JSON.stringify(quasiIdentifiers.map((q) => values[q]));
    const cell = cells.get(key) ?? { values, pseudonyms: new Set<string>() };
    cell.pseudonyms.add(row.pseudonym);
    cells.set(key, cell);
  }
  return [...cells.entries()]
    .filter(([, cell]) => cell.pseudonyms.size < k)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([, cell]) => ({ values: cell.values, people: cell.pseudonyms.size }));
}

/** The refusal names this many cells at most (the rest are counted), so it stays one readable answer. */
export const maxCellsNamed = 50;

/** A cell as people read it: `imd_decile=3, age_band=65-74, sex=female, pcn=U00001 (2 people)`. */
export const describeCell = (cell: Cell): string =>
  `${quasiIdentifiers.map((q) => `${q}=${cell.values[q]}`).join(', ')} (${cell.people} ${cell.people === 1 ? 'person' : 'people'})`;

/**
 * An extract refused by the k check: 422, naming the cells. A subclass of UnprocessableError, so it is answered as
 * one (kernel/errors.ts), with `field` the k asked for.
 */
export class SmallCellsError extends UnprocessableError {
  constructor(
    readonly k: number,
    readonly cells: readonly Cell[],
  ) {
    super(
      'k',
      `refused: ${cells.length} combination${cells.length === 1 ? '' : 's'} of ${quasiIdentifiers.join(', ')} ` +
        `hold${cells.length === 1 ? 's' : ''} fewer than k=${k} people: ` +
        cells.slice(0, maxCellsNamed).map(describeCell).join('; ') +
        (cells.length > maxCellsNamed ? `; and ${cells.length - maxCellsNamed} more` : ''),
    );
    Object.defineProperty(this, 'name', { value: 'SmallCellsError' });
  }
}

/** Throws SmallCellsError unless every cell holds at least k people. */
export function assertKAnonymous(rows: readonly EvaluationRow[], k: number): void {
  const small = smallCells(rows, k);
  if (small.length > 0) throw new SmallCellsError(k, small);
}
