import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { parse, type Options } from 'csv-parse';
import type { Position, RowSource, SourceRow } from '#geography/application/import-geography.ts';

/**
 * A CSV file as a `RowSource`, streamed with csv-parse (memory stays flat whatever the file's size: the parser
 * holds one chunk, and the importer pulls rows only as it has room for them).
 *
 * - Each row carries its line (the header is line 1) and the byte offset where it ends, so an import resumes by
 *   seeking straight to a checkpoint's offset instead of reading the file up to it; the header is read first.
 * - A row the parser cannot read (an unclosed quote, say) is reported as an unreadable row with its line, and
 *   reading goes on from the next line. ONS and MHCLG files never break a field over lines, so a row is a line:
 *   without this, one stray quote would swallow the rest of the file as a single field. A record over
 *   `maxRecordBytes` is refused the same way, so that a broken quote cannot buffer the whole file either.
 * - Quotes inside fields are kept as they are (`relax_quotes`), a row of the wrong width reaches the mapper (which
 *   refuses it with its rule), and a byte-order mark before the header is dropped.
 */

export interface CsvSourceOptions {
  maxRecordBytes?: number;
  /** Read-ahead per read (default 64 KiB). */
  chunkBytes?: number;
}

interface Header {
  fields: string[];
  /** Where the first row starts. */
  bytes: number;
}

export class CsvFileSource implements RowSource {
  private readonly maxRecordBytes: number;
  private readonly chunkBytes: number;

  constructor(
    readonly path: string,
    options: CsvSourceOptions = {},
  ) {
    this.maxRecordBytes = options.maxRecordBytes ?? 64 * 1024;
    this.chunkBytes = options.chunkBytes ?? 64 * 1024;
  }

  async open(after: Position): Promise<{ header: readonly string[]; rows: AsyncIterable<SourceRow> }> {
    const header = await this.header();
    const { size } = await stat(this.path);
    if (after.line > 0) await this.checkLineStart(after.bytes, size);
    const start =
      after.line > 0 ? { line: after.line, bytes: after.bytes } : { line: 1, bytes: header.bytes };
    return { header: header.fields, rows: this.rowsAfter(start, size) };
  }

  private async header(): Promise<Header> {
    const stream = createReadStream(this.path, { highWaterMark: 64 * 1024 });
    const options: Options<Header, string[]> = {
      bom: true,
      to_line: 1,
      relax_quotes: true,
      max_record_size: this.maxRecordBytes,
      on_record: (fields, context) => ({ fields, bytes: context.bytes }),
    };
    // csv-parse's untyped overload: on_record changes what the parser yields.
    const parser = stream.pipe(parse(options as unknown as Options));
    try {
      for await (const record of parser) return record as Header;
      return { fields: [], bytes: 0 };
    } finally {
      stream.destroy();
    }
  }

  /** A checkpoint's offset must be just after a line break of this file, or the file is not the one it was for. */
  private async checkLineStart(bytes: number, size: number): Promise<void> {
    const handle = await open(this.path, 'r');
    try {
      const { buffer, bytesRead } = await handle.read(Buffer.alloc(1), 0, 1, Math.max(0, bytes - 1));
      if (bytes > size || bytesRead !== 1 || buffer[0] !== 0x0a) {
        throw new Error(
          `The checkpoint says line ends at byte ${bytes}, which is not the end of a line of ${this.path}: ` +
            'the file has changed since (use --restart)',
        );
      }
    } finally {
      await handle.close();
    }
  }

  /** Rows after `start`; a row the parser cannot read is reported, and a new parser starts after its line. */
  private async *rowsAfter(start: Position, size: number): AsyncGenerator<SourceRow> {
    let position = start;
    while (position.bytes < size) {
      const base = position;
      const stream = createReadStream(this.path, { start: base.bytes, highWaterMark: this.chunkBytes });
      const options: Options<SourceRow, string[]> = {
        relax_quotes: true,
        relax_column_count: true,
        skip_empty_lines: true,
        max_record_size: this.maxRecordBytes,
        on_record: (fields, context) => ({
          fields,
          line: base.line + context.lines,
          bytes: base.bytes + context.bytes,
        }),
      };
      const parser = stream.pipe(parse(options as unknown as Options));
      try {
        let spansLines = false;
        for await (const row of parser as AsyncIterable<SourceRow>) {
          // A record over several lines (not just after skipped empty ones) is a quote left open on the first.
          if (row.line > position.line + 1 && row.fields?.some((field) => /[\r\n]/.test(field))) {
            spansLines = true;
            break;
          }
          position = { line: row.line, bytes: row.bytes };
          yield row;
        }
        if (!spansLines) return;
        position = yield* this.unreadable(position, size, 'a quote is not closed on this line');
      } catch (error) {
        const code = (error as { code?: string }).code ?? (error as Error).message;
        position = yield* this.unreadable(
          position,
          size,
          `the CSV cannot be read here (${code}): an unclosed quote?`,
        );
      } finally {
        stream.destroy();
      }
    }
  }

  /** Reports the line after `position` as unreadable; reading goes on after it. */
  private async *unreadable(
    position: Position,
    size: number,
    problem: string,
  ): AsyncGenerator<SourceRow, Position> {
    const next = await this.endOfLine(position.bytes, size);
    yield { line: position.line + 1, bytes: next, problem };
    return { line: position.line + 1, bytes: next };
  }

  /** The offset just after the first line break at or after `from` (the file's size if there is none). */
  private async endOfLine(from: number, size: number): Promise<number> {
    const handle = await open(this.path, 'r');
    try {
      const buffer = Buffer.alloc(64 * 1024);
      for (let offset = from; offset < size;) {
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
        if (bytesRead === 0) break;
        const at = buffer.subarray(0, bytesRead).indexOf(0x0a);
        if (at !== -1) return offset + at + 1;
        offset += bytesRead;
      }
      return size;
    } finally {
      await handle.close();
    }
  }
}
