import type { WebhookChannel } from '#directory/domain/directory.ts';

/** How a notice reaches a recipient's system: a signed webhook (shared/adapters/webhook/). */
export interface WebhookSender {
  /** POSTs a signed event; resolves with the HTTP status, or throws when the recipient cannot be reached. */
  send(channel: WebhookChannel, messageId: string, eventType: string, data: unknown): Promise<number>;
}
