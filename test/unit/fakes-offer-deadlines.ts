import type { OfferDeadlines, OfferKey } from '#referral/ports.ts';
import type { InMemoryOfferStore } from './fakes-offers.ts';

/**
 * The `deadlines` index the DynamoDB offer store keeps, read off the in-memory offers: an offer is listed while it
 * is `offered` (by its deadline), and once expired until `followedUp`. Held to the adapter by
 * test/contract/offer-deadlines.contract.ts.
 */
export class InMemoryOfferDeadlines implements OfferDeadlines {
  private readonly followed = new Set<string>();
  readonly calls = { due: 0, awaitingNextMatch: 0, followedUp: 0 };

  constructor(private readonly offers: InMemoryOfferStore) {}

  async due(now: string, limit: number): Promise<OfferKey[]> {
    this.calls.due++;
    return [...this.offers.items.values()]
      .filter((o) => o.state === 'offered' && o.deadline <= now)
      .sort((a, b) => a.deadline.localeCompare(b.deadline) || a.offerId.localeCompare(b.offerId))
      .slice(0, limit)
      .map((o) => ({ referralId: o.referralId, offerId: o.offerId }));
  }

  async awaitingNextMatch(limit: number): Promise<OfferKey[]> {
    this.calls.awaitingNextMatch++;
    return [...this.offers.items.values()]
      .filter((o) => o.state === 'expired' && !this.followed.has(o.offerId))
      .sort((a, b) => a.deadline.localeCompare(b.deadline) || a.offerId.localeCompare(b.offerId))
      .slice(0, limit)
      .map((o) => ({ referralId: o.referralId, offerId: o.offerId }));
  }

  async followedUp(key: OfferKey): Promise<void> {
    this.calls.followedUp++;
    const offer = this.offers.items.get(key.offerId);
    if (offer?.referralId === key.referralId && offer.state === 'expired') this.followed.add(key.offerId);
  }
}
