import { InMemoryOutcomeStore } from './fakes-outcomes.ts';
import { describeOutcomeStoreContract } from '../contract/outcome-store.contract.ts';

// The in-memory fake against the contract the DynamoDB adapter also meets (test/integration/outcome-store.contract.test.ts).

describeOutcomeStoreContract('in-memory fake', () => new InMemoryOutcomeStore());
