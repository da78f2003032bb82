import {
  compactPostcode,
  type Deprivation,
  type ImdEdition,
  type PostcodeLocation,
} from '#geography/domain/geography.ts';
import type { Geography, GeographyWriter } from '#geography/ports.ts';
import type { Checkpoint, CheckpointStore } from '#geography/application/import-geography.ts';

/**
 * In-memory geography: the contract the DynamoDB adapter also meets (test/contract/geography.contract.ts). Writes
 * can be made to fail from the n-th call on, as a crashed or throttled import would meet them.
 */
export class InMemoryGeography implements Geography, GeographyWriter {
  readonly batchSize = 25;
  readonly locations = new Map<string, PostcodeLocation>();
  readonly deprivations = new Map<string, Deprivation>();
  /** Write calls made (failed ones included). */
  writes = 0;
  /** Fail this write call (1-based) and every one after it. */
  failFromWrite: number | undefined;

  async locate(postcode: string): Promise<PostcodeLocation | undefined> {
    const compact = compactPostcode(postcode);
    const found = compact === undefined ? undefined : this.locations.get(compact);
    return found ? structuredClone(found) : undefined;
  }

  async deprivation(lsoa: string, edition: ImdEdition): Promise<Deprivation | undefined> {
    const found = this.deprivations.get(`${lsoa.trim().toUpperCase()}|${edition}`);
    return found ? { ...found } : undefined;
  }

  async putLocations(batch: readonly PostcodeLocation[]): Promise<void> {
    await this.written();
    for (const location of batch)
      this.locations.set(location.postcode.replace(' ', ''), structuredClone(location));
  }

  async putDeprivation(batch: readonly Deprivation[]): Promise<void> {
    await this.written();
    for (const item of batch) this.deprivations.set(`${item.lsoa}|${item.edition}`, { ...item });
  }

  private async written(): Promise<void> {
    this.writes++;
    // Writes finish out of order, as concurrent BatchWriteItem calls do.
    await new Promise((resolve) => setTimeout(resolve, this.writes % 3));
    if (this.failFromWrite !== undefined && this.writes >= this.failFromWrite) {
      throw new Error(`write ${this.writes} failed (as configured)`);
    }
  }
}

/** Checkpoints kept in memory, each one saved recorded. */
export class InMemoryCheckpoints implements CheckpointStore {
  readonly saved: Checkpoint[] = [];

  constructor(private current?: Checkpoint) {}

  async load(): Promise<Checkpoint | undefined> {
    return this.current ? structuredClone(this.current) : undefined;
  }

  async save(checkpoint: Checkpoint): Promise<void> {
    this.current = structuredClone(checkpoint);
    this.saved.push(this.current);
  }

  get last(): Checkpoint | undefined {
    return this.current;
  }
}
