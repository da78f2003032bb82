/**
 * Retiring is final: a retired team, partner or service never becomes active again (create a new record instead).
 * One rule for every way a record changes: the admin API's edits and the ORUK import.
 */

export const retiringIsFinal = 'retired in the directory; retiring is final';

/** May a stored record become `next`? Not when it would bring a retired record back. */
export function canChange(stored: { status: string }, next: { status: string }): boolean {
  return !(stored.status === 'retired' && next.status !== 'retired');
}
