import { DynamoOfferDeadlines } from '#adapters/dynamodb/offer-deadlines.ts';
import { DynamoOfferStore } from '#adapters/dynamodb/offer-store.ts';
import { describeOfferDeadlinesContract } from '../contract/offer-deadlines.contract.ts';
import { useLocalTables } from '../support/local-tables.ts';

// The deadline index on the local DynamoDB (dynalite, the `deadlines` index from the system description), against
// the contract the in-memory fake also meets (test/unit/offer-deadlines.contract.test.ts).

const local = useLocalTables();

describeOfferDeadlinesContract('DynamoDB index on dynalite', () => ({
  offers: new DynamoOfferStore(local.client, local.tables.referrals),
  deadlines: new DynamoOfferDeadlines(local.client, local.tables.referrals),
}));
