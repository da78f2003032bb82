import {
  BatchWriteCommand,
  GetCommand,
  ScanCommand,
  type BatchWriteCommandOutput,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import {
  compactPostcode,
  type Deprivation,
  type ImdEdition,
  type PostcodeLocation,
} from '#geography/domain/geography.ts';
import type { Geography, GeographyWriter } from '#geography/ports.ts';

/**
 * Geography table, one item per postcode and one per LSOA and IMD edition; every lookup is one GetItem:
 *   PC#<compact postcode>   LOCATION       where the postcode is (live or terminated)
 *   LSOA#<code>             IMD#<edition>  the LSOA's rank and decile in that IMD edition
 * Imports are BatchWriteItem of 25 puts (idempotent: a row written twice is the same item), with the items
 * DynamoDB leaves unprocessed retried with backoff, so a batch resolves only once all of it is stored.
 */

export const locationKey = (compact: string) => ({ pk: `PC#${compact}`, sk: 'LOCATION' });
export const deprivationKey = (lsoa: string, edition: ImdEdition) => ({
  pk: `LSOA#${lsoa}`,
  sk: `IMD#${edition}`,
});

export interface GeographyStoreOptions {
  /** Tries of a batch's unprocessed items before giving up (default 10). */
  maxAttempts?: number;
  /** First backoff after unprocessed items, doubled each try, with jitter (default 25 ms). */
  baseDelayMs?: number;
}

type Item = Record<string, unknown>;

const optionalFields = ['lsoa11', 'lsoa21', 'localAuthority', 'country', 'terminatedOn'] as const;

export function locationItem(location: PostcodeLocation): Item {
  const item: Item = {
    ...locationKey(location.postcode.replace(' ', '')),
    postcode: location.postcode,
    district: location.district,
    terminated: location.terminated,
  };
  for (const field of optionalFields) if (location[field] !== undefined) item[field] = location[field];
  return item;
}

function locationOf(item: Item): PostcodeLocation {
  const location: PostcodeLocation = {
    postcode: String(item.postcode),
    district: String(item.district),
    terminated: item.terminated === true,
  };
  for (const field of optionalFields) if (typeof item[field] === 'string') location[field] = item[field];
  return location;
}

export function deprivationItem(deprivation: Deprivation): Item {
  return { ...deprivationKey(deprivation.lsoa, deprivation.edition), ...deprivation };
}

export class DynamoGeography implements Geography, GeographyWriter {
  readonly batchSize = 25;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: GeographyStoreOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 10;
    this.baseDelayMs = options.baseDelayMs ?? 25;
  }

  async locate(postcode: string): Promise<PostcodeLocation | undefined> {
    const compact = compactPostcode(postcode);
    if (compact === undefined) return undefined;
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: locationKey(compact) }),
    );
    return Item ? locationOf(Item) : undefined;
  }

  async deprivation(lsoa: string, edition: ImdEdition): Promise<Deprivation | undefined> {
    const code = lsoa.trim().toUpperCase();
    if (code === '') return undefined;
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: deprivationKey(code, edition) }),
    );
    if (!Item) return undefined;
    return { edition, lsoa: code, rank: Number(Item.rank), decile: Number(Item.decile) };
  }

  putLocations(batch: readonly PostcodeLocation[]): Promise<void> {
    return this.putAll(batch.map(locationItem));
  }

  putDeprivation(batch: readonly Deprivation[]): Promise<void> {
    return this.putAll(batch.map(deprivationItem));
  }

  /** Puts in requests of 25; items with the same key in one request would be refused, so the last one wins. */
  private async putAll(items: readonly Item[]): Promise<void> {
    const unique = [
      ...new Map(items.map((item) => [`${String(item.pk)}|${String(item.sk)}`, item])).values(),
    ];
    const requests: Promise<void>[] = [];
    for (let i = 0; i < unique.length; i += this.batchSize) {
      requests.push(this.writeBatch(unique.slice(i, i + this.batchSize)));
    }
    await Promise.all(requests);
  }

  private async writeBatch(items: readonly Item[]): Promise<void> {
    let pending: BatchWriteCommandOutput['UnprocessedItems'] = {
      [this.tableName]: items.map((Item) => ({ PutRequest: { Item } })),
    };
    for (let attempt = 1; ; attempt++) {
      const result: BatchWriteCommandOutput = await this.client.send(
        new BatchWriteCommand({ RequestItems: pending }),
      );
      const left = result.UnprocessedItems?.[this.tableName] ?? [];
      if (left.length === 0) return;
      if (attempt >= this.maxAttempts) {
        throw new Error(
          `Geography write: ${left.length} of ${items.length} items still unprocessed after ${attempt} tries`,
        );
      }
      pending = { [this.tableName]: left };
      // Full jitter: concurrent batches that were throttled together do not retry together.
      const ceiling = this.baseDelayMs * 2 ** (attempt - 1);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
    }
  }
}

/**
 * How many items of a kind the table holds (`PC#`: locations, `LSOA#`: deprivation), by a parallel Scan that
 * counts. For tests, the bench and operators checking an import; it reads the whole table.
 */
export async function countGeographyItems(
  client: DynamoDBDocumentClient,
  tableName: string,
  kind: 'PC#' | 'LSOA#',
  segments = 4,
): Promise<number> {
  const counts = await Promise.all(
    Array.from({ length: segments }, async (_, segment) => {
      let count = 0;
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await client.send(
          new ScanCommand({
            TableName: tableName,
            Select: 'COUNT',
            FilterExpression: 'begins_with(pk, :kind)',
            ExpressionAttributeValues: { ':kind': kind },
            Segment: segment,
            TotalSegments: segments,
            ExclusiveStartKey: startKey,
          }),
        );
        count += page.Count ?? 0;
        startKey = page.LastEvaluatedKey;
      } while (startKey);
      return count;
    }),
  );
  return counts.reduce((a, b) => a + b, 0);
}
