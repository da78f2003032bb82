import type { WebhookChannel } from '#directory/domain/directory.ts';

/** Where a webhook goes and the secret it is signed with (from the secret store, never from the directory). */
export type SignedTarget = WebhookChannel & { secret: string };

/** What a recipient's server answered: its status, and its `Retry-After` header when it sent one. */
export interface WebhookResponse {
  status: number;
  retryAfter?: string;
}

/** How a notice reaches a recipient's system: a signed webhook (shared/adapters/webhook/). */
export interface WebhookSender {
  /**
   * POSTs a signed event; resolves with the answer (any status: the caller decides what it means), or throws when
   * the recipient cannot be reached (a network error; a `TimeoutError` / `AbortError` past the timeout).
   */
  send(target: SignedTarget, messageId: string, eventType: string, data: unknown): Promise<WebhookResponse>;
}

/**
 * Holds the queue message being handled back for `delaySeconds` before SQS hands it out again (the retry policy's
 * delay): ChangeMessageVisibility on its receipt (shared/adapters/sqs/message-visibility.ts).
 */
export interface RedeliveryDelay {
  holdBack(receiptHandle: string, delaySeconds: number): Promise<void>;
}

/** One email to one address (shared/delivery/domain/email-notice.ts writes it: no patient data). */
export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/**
 * How the mail service took an email: accepted (with its message id), not now (throttled, paused: retried), or
 * refused for good (the address or message rejected).
 */
export type EmailOutcome =
  { ok: true; messageId: string } | { ok: false; failure: 'mail-deferred' | 'mail-rejected'; reason: string };

/** Sends the email nudges of recipients without a webhook (SES v2: shared/adapters/email/). */
export interface EmailSender {
  /** Resolves with the outcome; throws only when the mail service cannot be reached (retried like a timeout). */
  send(email: EmailMessage): Promise<EmailOutcome>;
}
