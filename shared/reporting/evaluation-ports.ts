import type { ReferralPartition } from '#reporting/domain/evaluation-rows.ts';

/** What the evaluation extract (#reporting/application/evaluation-extract.ts) reads, and the key it hashes with. */

/** Referrals by when they were received (the referrals table's sparse `received` index), and each one's partition. */
export interface ReceivedReferrals {
  /**
   * The ids of the referrals received in UTC month `month` (`YYYY-MM`) from the start of day `from` to the end of
   * day `to` (`YYYY-MM-DD`, both included): one Query of the month's partition, page by page.
   */
  idsReceived(month: string, from: string, to: string): AsyncIterable<string>;
  /** The referral with its offers and measure sets (one Query of its partition); undefined if it is not there. */
  partition(referralId: string): Promise<ReferralPartition | undefined>;
}

/**
 * The secret key of the pseudonyms (#reporting/domain/pseudonym.ts): Secrets Manager in the stack, a file in the
 * local secret store for `npm start`. Only the function that makes extracts (and the operator's CLI) may read it.
 */
export interface PseudonymKey {
  key(): Promise<Uint8Array>;
}
