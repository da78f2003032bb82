import { createHash, randomUUID } from 'node:crypto';

/**
 * Referral ids are UUIDs. A client that sends an Idempotency-Key gets an id derived from it (scoped by practice),
 * so a retry after a crash lands on the same referral rather than creating a second.
 */
export function referralIdFor(practiceOds: string, idempotencyKey: string | undefined): string {
  if (idempotencyKey === undefined) return randomUUID();
  const hex = createHash('sha256').update(`${practiceOds}:${idempotencyKey}`).digest('hex');
  // Shaped as an RFC 9562 version 8 (custom) UUID.
  const variant = ((parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
