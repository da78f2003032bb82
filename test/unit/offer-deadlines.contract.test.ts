import { InMemoryOfferStore } from './fakes-offers.ts';
import { InMemoryOfferDeadlines } from './fakes-offer-deadlines.ts';
import { describeOfferDeadlinesContract } from '../contract/offer-deadlines.contract.ts';

// The in-memory deadline index against the contract the DynamoDB index also meets
// (test/integration/offer-deadlines.contract.test.ts).
describeOfferDeadlinesContract('in-memory fake', () => {
  const offers = new InMemoryOfferStore();
  return { offers, deadlines: new InMemoryOfferDeadlines(offers) };
});
