import { Webhook } from 'standardwebhooks';
import type { SignedTarget, WebhookResponse, WebhookSender } from '#delivery/ports.ts';

/**
 * Signed webhooks to the Standard Webhooks spec: headers webhook-id (stable across retries, so a receiver can
 * de-duplicate), webhook-timestamp and webhook-signature (HMAC-SHA256 over id.timestamp.body).
 *
 * Redirects are not followed: the channel policy checked the URL the directory names, and a 3xx could lead the POST
 * (with patient data) to an address the policy refuses. A 3xx is answered back as it came, and retried.
 */
export class SignedWebhookSender implements WebhookSender {
  constructor(private readonly timeoutMs = 10_000) {}

  async send(
    target: SignedTarget,
    messageId: string,
    eventType: string,
    data: unknown,
  ): Promise<WebhookResponse> {
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
      redirect: 'manual',
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    await response.body?.cancel();
    const retryAfter = response.headers.get('retry-after');
    return retryAfter === null ? { status: response.status } : { status: response.status, retryAfter };
  }
}
