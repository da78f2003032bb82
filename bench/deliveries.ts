import type { ReceivedDelivery } from '../infra/local/webhook-receiver.ts';

/**
 * Follows what the webhook receiver has been sent, by referral. The receiver appends to an array; reading it from
 * a cursor makes each scan cost only the new deliveries. Times are the receiver's own receipt stamps, so the
 * latency does not depend on how often this is polled.
 */

interface DeliveryData {
  referralId: string;
  deliveryId: string;
}

export class DeliveryTracker {
  /** referralId -> deliveryId -> receipt time (epoch ms) of the first copy. */
  private readonly byReferral = new Map<string, Map<string, number>>();
  private cursor: number;
  duplicates = 0;
  unreadable = 0;

  /** Starts after what has already arrived, so earlier scenarios' deliveries are not counted. */
  constructor(private readonly received: readonly ReceivedDelivery[]) {
    this.cursor = received.length;
  }

  scan(): void {
    for (; this.cursor < this.received.length; this.cursor++) {
      const entry = this.received[this.cursor];
      if (!entry) continue;
      const data = deliveryData(entry.payload);
      if (!data) {
        this.unreadable++;
        continue;
      }
      // A repeat (same webhook-id) is SQS at-least-once at work; it is counted, but the first copy is what counts.
      if (entry.duplicate) {
        this.duplicates++;
        continue;
      }
      const deliveries = this.byReferral.get(data.referralId) ?? new Map<string, number>();
      if (!deliveries.has(data.deliveryId)) deliveries.set(data.deliveryId, Date.parse(entry.receivedAt));
      this.byReferral.set(data.referralId, deliveries);
    }
  }

  delivered(referralId: string): number {
    return this.byReferral.get(referralId)?.size ?? 0;
  }

  /** When the first of a referral's deliveries arrived (epoch ms): routing is done by then. */
  firstArrival(referralId: string): number | undefined {
    const deliveries = this.byReferral.get(referralId);
    if (!deliveries || deliveries.size === 0) return undefined;
    return Math.min(...deliveries.values());
  }

  /** When the last of a referral's deliveries arrived (epoch ms), or undefined if none has. */
  lastArrival(referralId: string): number | undefined {
    const deliveries = this.byReferral.get(referralId);
    if (!deliveries || deliveries.size === 0) return undefined;
    return Math.max(...deliveries.values());
  }
}

function deliveryData(payload: unknown): DeliveryData | undefined {
  if (payload === null || typeof payload !== 'object') return undefined;
  const data = (payload as { data?: unknown }).data;
  if (data === null || typeof data !== 'object') return undefined;
  const { referralId, deliveryId } = data as Record<string, unknown>;
  if (typeof referralId !== 'string' || typeof deliveryId !== 'string') return undefined;
  return { referralId, deliveryId };
}
