import {
  decodeCursor,
  encodeCursor,
  offerSortKey,
  type WorklistKey,
} from '#adapters/dynamodb/offer-store.ts';
import {
  partnerWorklistKey,
  referralItem,
  teamWorklistKey,
  worklistSortKey,
} from '#adapters/dynamodb/referral-store.ts';
import { LifecycleConflictError, type LifecycleTransition } from '#referral/domain/lifecycle.ts';
import { offerRefusalOf, type Offer } from '#referral/domain/offer.ts';
import type { Referral } from '#referral/domain/referral.ts';
import type { OfferChanges, OfferStore, WorklistPage, WorklistQuery, Worklists } from '#referral/ports.ts';
import type { InMemoryReferralStore } from './fakes.ts';

/**
 * In-memory offers and worklists, keeping the contract the DynamoDB adapters meet (test/contract/offer-store.contract.ts):
 * conditional creates and transitions, worklists newest first by `<state>#<time>` with the adapter's cursors.
 */

const copy = <T>(value: T): T => structuredClone(value);

export class InMemoryOfferStore implements OfferStore {
  readonly items = new Map<string, Offer>();
  readonly calls = { create: 0, get: 0, ofReferral: 0, apply: 0 };

  async create(offer: Offer): Promise<boolean> {
    this.calls.create++;
    if (this.items.has(offer.offerId)) return false;
    this.items.set(offer.offerId, copy(offer));
    return true;
  }

  async get(referralId: string, offerId: string): Promise<Offer | undefined> {
    this.calls.get++;
    const offer = this.items.get(offerId);
    return offer?.referralId === referralId ? copy(offer) : undefined;
  }

  async ofReferral(referralId: string): Promise<Offer[]> {
    this.calls.ofReferral++;
    return [...this.items.values()]
      .filter((o) => o.referralId === referralId)
      .sort((a, b) => a.offeredAt.localeCompare(b.offeredAt) || a.offerId.localeCompare(b.offerId))
      .map(copy);
  }

  async apply(
    key: Pick<Offer, 'referralId' | 'offerId' | 'offeredAt'>,
    transition: LifecycleTransition<'offer'>,
    context: { at: string; ownerId?: string; changes?: OfferChanges },
  ): Promise<Offer> {
    this.calls.apply++;
    if (transition.from === null) throw new Error('apply: an offer is created with create(), not apply()');
    if (transition.owner === 'partner' && context.ownerId === undefined)
      throw new Error("apply: a partner's transition needs the partner's id");
    const offer = this.items.get(key.offerId);
    const deadlineHolds =
      transition.guard === null ||
      (offer !== undefined &&
        offer.deadline <= context.at &&
        (transition.guard !== 'deadline-passed-not-nudged' || offer.nudgedAt === undefined) &&
        (transition.guard !== 'deadline-passed-after-nudge' || offer.nudgedAt !== undefined));
    const holds =
      offer !== undefined &&
      offer.referralId === key.referralId &&
      offer.state === transition.from &&
      offer.version === transition.expectedVersion &&
      (transition.owner !== 'partner' || offer.partnerId === context.ownerId) &&
      deadlineHolds;
    if (!offer || !holds)
      throw new LifecycleConflictError(offerRefusalOf(copy(offer), transition, context.ownerId));
    Object.assign(offer, copy(context.changes ?? {}), {
      state: transition.to,
      version: transition.nextVersion,
      updatedAt: context.at,
    });
    return copy(offer);
  }
}

interface Listed<T> {
  key: WorklistKey;
  item: T;
}

/** One page of entries already in the index's order (newest first), after the cursor's entry. */
function page<T>(entries: Listed<T>[], recipientKey: string, query: WorklistQuery<string>): WorklistPage<T> {
  const start =
    query.cursor === undefined ? undefined : decodeCursor(query.cursor, recipientKey, query.status);
  const order = (a: WorklistKey, b: WorklistKey): number =>
    b.worklistSortKey.localeCompare(a.worklistSortKey) ||
    b.referralId.localeCompare(a.referralId) ||
    b.sk.localeCompare(a.sk);
  const sorted = entries
    .filter((e) => query.status === undefined || e.key.worklistSortKey.startsWith(`${query.status}#`))
    .sort((a, b) => order(a.key, b.key));
  const after = start === undefined ? sorted : sorted.filter((e) => order(start, e.key) < 0);
  const items = after.slice(0, query.limit);
  const last = items.at(-1);
  return {
    items: items.map((e) => copy(e.item)),
    ...(after.length > query.limit && last ? { cursor: encodeCursor(last.key) } : {}),
  };
}

/** The worklists the index would hold for the fakes' referrals and offers. */
export class InMemoryWorklists implements Worklists {
  constructor(
    private readonly referrals: InMemoryReferralStore,
    private readonly offers: InMemoryOfferStore,
  ) {}

  async teamReferrals(
    teamId: string,
    query: WorklistQuery<Referral['status']>,
  ): Promise<WorklistPage<Referral>> {
    const recipientKey = teamWorklistKey(teamId);
    const entries = [...this.referrals.items.values()]
      .filter((r) => r.routing?.team?.id === teamId)
      .map((r) => ({
        key: {
          referralId: r.referralId,
          sk: referralItem,
          recipientKey,
          worklistSortKey: worklistSortKey(r.status, r.receivedAt),
        },
        item: r,
      }));
    return page(entries, recipientKey, query);
  }

  async partnerOffers(partnerId: string, query: WorklistQuery<Offer['state']>): Promise<WorklistPage<Offer>> {
    const recipientKey = partnerWorklistKey(partnerId);
    const entries = [...this.offers.items.values()]
      .filter((o) => o.partnerId === partnerId)
      .map((o) => ({
        key: {
          referralId: o.referralId,
          sk: offerSortKey(o.offerId),
          recipientKey,
          worklistSortKey: worklistSortKey(o.state, o.offeredAt),
        },
        item: o,
      }));
    return page(entries, recipientKey, query);
  }
}
