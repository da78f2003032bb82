import type { MeasureSetRecord } from '#outcomes/domain/measure-set.ts';

export type { SwemwbsConversion } from '#outcomes/domain/instruments.ts';

/**
 * Where a referral's measure sets are kept: beside the referral, one item per set (the DynamoDB adapter,
 * shared/adapters/dynamodb/outcome-store.ts; the in-memory fake, test/unit/fakes-outcomes.ts). Both keep the same
 * promise, shown by test/contract/outcome-store.contract.ts.
 */

/** What `add` found: the set was written, or its place was taken, by the set named (itself, on a retry). */
export type AddOutcome = { added: true } | { added: false; existing: MeasureSetRecord };

export interface OutcomeStore {
  /**
   * Writes the set unless its place is taken, in one conditional write: a referral has one place for its baseline,
   * and a follow-up's place is its day and id. A retry of the same set, or a second baseline, writes nothing and is
   * told the set already there.
   */
  add(set: MeasureSetRecord): Promise<AddOutcome>;
  /** A referral's sets: the baseline first, then the follow-ups by day taken (then id). */
  list(referralId: string): Promise<MeasureSetRecord[]>;
}
