import { createHash, randomUUID } from 'node:crypto';

/**
 * Referral ids are UUIDs. A client that sends a key (Idempotency-Key on POST /referrals, X-Request-ID on
 * POST /$process-message) gets an id derived from it within its scope, so a retry after a crash lands on the same
 * referral rather than creating a second.
 */

/**
 * Where a client's key means something: the route it was sent to, the client that sent it (token subject) and the
 * practice it names. The same value in another scope is another key.
 */
export interface KeyScope {
  /** The route's resource path: `/referrals` or `/$process-message`. */
  route: string;
  /** The caller's token subject. */
  caller: string;
  practiceOds: string;
}

/** A key within its scope as one string (a JSON array, so no separator inside a subject or key can alias another). */
export function scopedKey(scope: KeyScope, key: string): string {
  return JSON.stringify([scope.route, scope.caller, scope.practiceOds, key]);
}

export function referralIdFor(scope: KeyScope, key: string | undefined): string {
  if (key === undefined) return randomUUID();
  return keyedUuid([scope.route, scope.caller, scope.practiceOds], key);
}

/**
 * The UUID a client's key names within a scope given as parts (e.g. route, caller, the record it is about): the
 * same key in the same scope always names the same id, so a retry lands on what the first attempt made.
 */
export function keyedUuid(scope: readonly string[], key: string): string {
  const hex = createHash('sha256')
    .update(JSON.stringify([...scope, key]))
    .digest('hex');
  // Shaped as an RFC 9562 version 8 (custom) UUID.
  const variant = ((parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * What a reused key is checked against: SHA-256 (hex) of the route and the request as validated, in canonical form
 * (object keys sorted; whitespace and key order in the body do not matter). `content` must be validated data, whose
 * depth the schema bounds.
 */
export function requestFingerprint(route: string, content: unknown): string {
  return createHash('sha256')
    .update(canonicalJson([route, content]))
    .digest('hex');
}

/** JSON with every object's keys in code-unit order, so equal content always serialises to the same text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item !== null && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item,
  );
}

export const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
