import type { Deprivation, ImdEdition, PostcodeLocation } from '#geography/domain/geography.ts';

/** Geography as use cases read it: where a postcode is, and how deprived an English LSOA is. */
export interface Geography {
  /**
   * The postcode's location, live or terminated (`terminated` says which), in any spelling (`ls6 1aa`, `LS61AA`);
   * undefined for a postcode not loaded or not shaped like one.
   */
  locate(postcode: string): Promise<PostcodeLocation | undefined>;
  /** The LSOA's rank and decile in that edition of the English IMD; undefined if the edition does not rank it. */
  deprivation(lsoa: string, edition: ImdEdition): Promise<Deprivation | undefined>;
}

/**
 * What an import writes. Each call is idempotent puts (writing a row again changes nothing) and resolves only once
 * every item of the batch is stored durably, so an importer may checkpoint after it; it rejects if some could not
 * be stored after retries.
 */
export interface GeographyWriter {
  putLocations(batch: readonly PostcodeLocation[]): Promise<void>;
  putDeprivation(batch: readonly Deprivation[]): Promise<void>;
  /** How many items one call should carry to cost one request (25 for DynamoDB's BatchWriteItem). */
  readonly batchSize: number;
}
