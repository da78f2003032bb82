import { describeGeographyContract } from '../contract/geography.contract.ts';
import { InMemoryGeography } from './fakes-geography.ts';

// The in-memory fake against the contract the DynamoDB adapter also meets (test/integration/geography.contract.test.ts).
describeGeographyContract('in-memory fake', () => new InMemoryGeography());
