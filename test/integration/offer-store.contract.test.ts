import { DynamoOfferStore, DynamoWorklists } from '#adapters/dynamodb/offer-store.ts';
import { DynamoReferralStore } from '#adapters/dynamodb/referral-store.ts';
import { describeOfferStoreContract } from '../contract/offer-store.contract.ts';
import { useLocalTables } from '../support/local-tables.ts';

// The DynamoDB adapters on the local DynamoDB (dynalite, tables and the worklist index from the system
// description), against the contract the in-memory fakes also meet (test/unit/offer-store.contract.test.ts).

const local = useLocalTables();

describeOfferStoreContract('DynamoDB adapters on dynalite', () => ({
  referrals: new DynamoReferralStore(local.client, local.tables.referrals),
  offers: new DynamoOfferStore(local.client, local.tables.referrals),
  worklists: new DynamoWorklists(local.client, local.tables.referrals),
}));
