import { InMemoryReferralStore } from './fakes.ts';
import { InMemoryOfferStore, InMemoryWorklists } from './fakes-offers.ts';
import { describeOfferStoreContract } from '../contract/offer-store.contract.ts';

// The in-memory fakes against the contract the DynamoDB adapters also meet (test/integration/offer-store.contract.test.ts).

describeOfferStoreContract('in-memory fakes', () => {
  const referrals = new InMemoryReferralStore();
  const offers = new InMemoryOfferStore();
  return { referrals, offers, worklists: new InMemoryWorklists(referrals, offers) };
});
