import { requestScopedKeyPrefix } from '#audit/domain/chain.ts';
import type { AuditEntry, AuditLog, AuditOrigin } from '#audit/ports.ts';

/**
 * Reads of patient data by a person or partner are audited like changes: one entry per referral shown, naming who
 * read it, what view, when and the request's ids. Keyed by the request (`read.<requestKey>`), so the same request
 * audited twice adds one link per referral, and every other request that showed the data adds its own.
 */

export interface PatientDataRead {
  referralId: string;
  /** Which view was shown, e.g. `team-referral`, `partner-offer`, `team-worklist`, `outcomes`, `referral-status`. */
  view: string;
  /** What else identifies what was read (an offer id, the content level), never the data itself. */
  detail?: Record<string, unknown>;
}

export function readEntry(origin: AuditOrigin, at: string, read: PatientDataRead): AuditEntry {
  return {
    referralId: read.referralId,
    eventKey: `${requestScopedKeyPrefix}${origin.requestKey}`,
    action: 'referral.read',
    actor: `${origin.who.role}:${origin.who.principal}`,
    at,
    detail: { view: read.view, ...read.detail },
    who: origin.who,
    ...(origin.requestId === undefined ? {} : { requestId: origin.requestId }),
    ...(origin.correlationId === undefined ? {} : { correlationId: origin.correlationId }),
  };
}

/** Appends each read's entry, the referrals in parallel (each is its own chain, so they never contend). */
export async function recordReads(
  audit: AuditLog,
  origin: AuditOrigin,
  at: string,
  reads: readonly PatientDataRead[],
): Promise<void> {
  await Promise.all(reads.map((read) => audit.append(readEntry(origin, at, read))));
}
