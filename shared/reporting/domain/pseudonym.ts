import { createHmac } from 'node:crypto';

/**
 * Pseudonyms for the evaluation extract (issue 10, item 8): a keyed hash (HMAC-SHA-256) of an identifier with a
 * secret key held in Secrets Manager (the stack) or the local secret store (`npm start`). The same patient gets the
 * same pseudonym in every referral and every extract made with the key; without the key nobody can recompute it from
 * an NHS number (the NHS number space is small enough to hash every number, so a plain hash would not do).
 *
 * Each kind of identifier is hashed under its own label, so a patient's pseudonym can never equal a referral's.
 */

/** The least key length accepted: 32 bytes, the hash's own size (RFC 2104 advises no shorter). */
export const minPseudonymKeyBytes = 32;

export type PseudonymKind = 'patient' | 'referral';

/** 64 hex characters: HMAC-SHA-256 of `<kind>:<value>` under `key`. */
export function pseudonymOf(key: Uint8Array, kind: PseudonymKind, value: string): string {
  if (key.byteLength < minPseudonymKeyBytes)
    throw new RangeError(`the pseudonym key must be at least ${minPseudonymKeyBytes} bytes`);
  return createHmac('sha256', key).update(`${kind}:${value}`, 'utf8').digest('hex');
}
