/**
 * The append-only audit trail: who did what to which referral, one entry per step, each referral's entries a hash
 * chain (shared/audit/domain/chain.ts).
 */
import type { AuditEntry, AuditLink } from '#audit/domain/chain.ts';

export type { AuditEntry, AuditLink, AuditOrigin, AuditWho } from '#audit/domain/chain.ts';

export interface AuditLog {
  /**
   * Adds the entry as the next link of its referral's chain. An entry whose eventKey the chain already holds adds
   * nothing (a retried step), and two appends at once never fork the chain or lose either entry. `chainIsNew`
   * says the caller has just created the referral, so its chain is most likely empty (a hint: the log may then
   * skip reading it; a chain that is not empty after all is read and appended to as usual).
   */
  append(entry: AuditEntry, hint?: { chainIsNew?: boolean }): Promise<void>;
}

/** Reading the trail back, for operators (verify, replay); functions only append. */
export interface AuditTrail {
  /** One referral's chain, in sequence order, read consistently. */
  chainOf(referralId: string): Promise<AuditLink[]>;
}
