import { CsvError, parse } from 'csv-parse/sync';
import type { CsvRow } from '#directory/domain/ods.ts';

/**
 * A CSV's rows with the line each ends on (1 is the header), for reports by line. A leading byte-order mark is
 * dropped, blank lines are skipped and rows may have fewer or more cells than the header (the reader checks
 * cells by column). A file that is not CSV at all (an unclosed quote) throws `CsvFileError` naming the line.
 */
export class CsvFileError extends Error {
  override readonly name = 'CsvFileError';
  constructor(
    message: string,
    readonly line: number | undefined,
  ) {
    super(message);
  }
}

export function csvRows(text: string): CsvRow[] {
  try {
    const records = parse(text, {
      bom: true,
      relax_column_count: true,
      skip_empty_lines: true,
      info: true,
    }) as unknown as Array<{ record: string[]; info: { lines: number } }>;
    return records.map(({ record, info }) => ({ line: info.lines, cells: record }));
  } catch (error) {
    if (error instanceof CsvError) {
      const line = (error as CsvError & { lines?: number }).lines;
      throw new CsvFileError(error.message, line);
    }
    throw error;
  }
}
