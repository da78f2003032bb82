import type { Offer } from '#referral/domain/offer.ts';
import type { DeadlineStep, OfferDeadlines, OfferKey } from '#referral/ports.ts';
import type { InMemoryOfferStore } from './fakes-offers.ts';

/**
 * The `deadlines` index the DynamoDB offer store keeps, read off the in-memory offers: an offer is listed while it
 * is `offered` (by its deadline), once reminded or expired until that step is `followedUp`. Held to the adapter by
 * test/contract/offer-deadlines.contract.ts.
 */
export class InMemoryOfferDeadlines implements OfferDeadlines {
  /** Offers whose step is followed up, by step. */
  private readonly followed = { reminded: new Set<string>(), expired: new Set<string>() };
  readonly calls = { due: 0, awaitingFollowUp: 0, followedUp: 0 };

  constructor(private readonly offers: InMemoryOfferStore) {}

  /** Where the adapter's pair would be: waiting (`open`), a step pending, or not listed. */
  private placeOf(offer: Offer): 'open' | DeadlineStep | undefined {
    if (offer.state === 'expired') return this.followed.expired.has(offer.offerId) ? undefined : 'expired';
    if (offer.state !== 'offered') return undefined;
    if (offer.nudgedAt !== undefined && !this.followed.reminded.has(offer.offerId)) return 'reminded';
    return 'open';
  }

  async due(now: string, limit: number): Promise<OfferKey[]> {
    this.calls.due++;
    return [...this.offers.items.values()]
      .filter((o) => this.placeOf(o) === 'open' && o.deadline <= now)
      .sort((a, b) => a.deadline.localeCompare(b.deadline) || a.offerId.localeCompare(b.offerId))
      .slice(0, limit)
      .map((o) => ({ referralId: o.referralId, offerId: o.offerId }));
  }

  async awaitingFollowUp(limit: number): Promise<Array<OfferKey & { step: DeadlineStep }>> {
    this.calls.awaitingFollowUp++;
    const steps: DeadlineStep[] = ['reminded', 'expired'];
    return steps
      .flatMap((step) =>
        [...this.offers.items.values()]
          .filter((o) => this.placeOf(o) === step)
          .sort((a, b) => a.deadline.localeCompare(b.deadline) || a.offerId.localeCompare(b.offerId))
          .map((o) => ({ referralId: o.referralId, offerId: o.offerId, step })),
      )
      .slice(0, limit);
  }

  async followedUp(key: OfferKey, step: DeadlineStep): Promise<void> {
    this.calls.followedUp++;
    const offer = this.offers.items.get(key.offerId);
    if (offer?.referralId === key.referralId && this.placeOf(offer) === step)
      this.followed[step].add(key.offerId);
  }
}
