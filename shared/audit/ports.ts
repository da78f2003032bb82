/** The append-only audit trail: who did what to which referral, one entry per step. */

export interface AuditEntry {
  referralId: string;
  /** Stable per step (e.g. `routed`, `delivered.<deliveryId>`), so a retried step writes nothing new. */
  eventKey: string;
  action: string;
  actor: string;
  at: string;
  detail?: Record<string, unknown>;
}

export interface AuditLog {
  append(entry: AuditEntry): Promise<void>;
}
