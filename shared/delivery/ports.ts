import type { WebhookChannel } from '#directory/domain/directory.ts';

/** Where a webhook goes and the secret it is signed with (from the secret store, never from the directory). */
export type SignedTarget = WebhookChannel & { secret: string };

/** How a notice reaches a recipient's system: a signed webhook (shared/adapters/webhook/). */
export interface WebhookSender {
  /** POSTs a signed event; resolves with the HTTP status, or throws when the recipient cannot be reached. */
  send(target: SignedTarget, messageId: string, eventType: string, data: unknown): Promise<number>;
}
