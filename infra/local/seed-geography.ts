import { fileURLToPath } from 'node:url';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoGeography } from '#adapters/dynamodb/geography-store.ts';
import type { RowError } from '#geography/domain/geography.ts';
import { importFile, type ImportRequest } from '../ops/geography/import-file.ts';

/**
 * The sample geography (events/geography/, docs/geography.md): postcodes in every district of the sample
 * directory and their LSOAs' IMD 2019 and 2025 ranks, loaded by the same import as `npm run geography -- import`.
 * A few dozen rows: well under a second, run beside the directory seed. No checkpoint is kept.
 */

const sample = (name: string): string =>
  fileURLToPath(new URL(`../../events/geography/${name}`, import.meta.url));

export const sampleGeographyFiles: readonly ImportRequest[] = [
  { kind: 'nspl', file: sample('nspl-sample.csv') },
  { kind: 'imd', file: sample('imd2019-sample.csv'), edition: '2019' },
  { kind: 'imd', file: sample('imd2025-sample.csv'), edition: '2025' },
];

export interface GeographySeed {
  locations: number;
  deprivation: number;
}

export async function seedGeography(client: DynamoDBDocumentClient, table: string): Promise<GeographySeed> {
  const writer = new DynamoGeography(client, table);
  const results = await Promise.all(
    sampleGeographyFiles.map(async (request) => {
      const refused: RowError[] = [];
      const result = await importFile(request, { writer, observer: { rowRefused: (e) => refused.push(e) } });
      // A sample is ours: a bad row in it is a mistake to fix, not data to skip.
      if (refused.length > 0) {
        const first = refused[0] as RowError;
        throw new Error(
          `${request.file}: ${refused.length} bad row(s), the first at line ${first.line}: ${first.rule}`,
        );
      }
      return { request, written: result.counts.written };
    }),
  );
  const written = (kind: ImportRequest['kind']) =>
    results.filter((r) => r.request.kind === kind).reduce((sum, r) => sum + r.written, 0);
  return { locations: written('nspl'), deprivation: written('imd') };
}
