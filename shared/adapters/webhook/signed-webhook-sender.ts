import { Webhook } from 'standardwebhooks';
import type { SignedTarget, WebhookSender } from '#delivery/ports.ts';

/**
 * Signed webhooks to the Standard Webhooks spec: headers webhook-id (stable across retries, so a receiver can
 * de-duplicate), webhook-timestamp and webhook-signature (HMAC-SHA256 over id.timestamp.body).
 */
export class SignedWebhookSender implements WebhookSender {
  constructor(private readonly timeoutMs = 10_000) {}

  async send(target: SignedTarget, messageId: string, eventType: string, data: unknown): Promise<number> {
    const timestamp = new Date();
    const body = JSON.stringify({ type: eventType, timestamp: timestamp.toISOString(), data });
    const signature = new Webhook(target.secret).sign(messageId, timestamp, body);
    const response = await fetch(target.url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'webhook-id': messageId,
        'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
        'webhook-signature': signature,
      },
      body,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    await response.body?.cancel();
    return response.status;
  }
}
