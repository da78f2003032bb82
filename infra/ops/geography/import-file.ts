import {
  importDeprivation,
  importPostcodes,
  type ImportObserver,
  type ImportResult,
} from '#geography/application/import-geography.ts';
import type { ImdEdition } from '#geography/domain/geography.ts';
import type { GeographyWriter } from '#geography/ports.ts';
import { CheckpointFile } from './checkpoint-file.ts';
import { CsvFileSource } from './csv-source.ts';

/** What `npm run geography -- import` and the local stack's seed both do: one CSV file into the geography table. */

export type ImportRequest =
  { kind: 'nspl'; file: string } | { kind: 'imd'; file: string; edition: ImdEdition };

export interface ImportFileOptions {
  writer: GeographyWriter;
  /** Keep a checkpoint at this path, naming the target it is for; none: import the whole file, keep nothing. */
  checkpoint?: { path: string; target: string };
  restart?: boolean;
  concurrency?: number;
  checkpointEveryMs?: number;
  observer?: ImportObserver;
}

export const checkpointKind = (request: ImportRequest): string =>
  request.kind === 'imd' ? `imd-${request.edition}` : request.kind;

export function importFile(request: ImportRequest, options: ImportFileOptions): Promise<ImportResult> {
  const deps = {
    source: new CsvFileSource(request.file),
    writer: options.writer,
    ...(options.checkpoint
      ? {
          checkpoints: new CheckpointFile(
            options.checkpoint.path,
            request.file,
            checkpointKind(request),
            options.checkpoint.target,
          ),
        }
      : {}),
    ...(options.observer ? { observer: options.observer } : {}),
    options: {
      restart: options.restart ?? false,
      ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
      ...(options.checkpointEveryMs === undefined ? {} : { checkpointEveryMs: options.checkpointEveryMs }),
    },
  };
  return request.kind === 'imd' ? importDeprivation(deps, request.edition) : importPostcodes(deps);
}
