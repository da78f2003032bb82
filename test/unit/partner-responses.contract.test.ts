import { InMemoryPartnerResponses } from './fakes-partner-responses.ts';
import { describePartnerResponsesContract } from '../contract/partner-responses.contract.ts';

// The in-memory fake against the contract the DynamoDB adapter also meets (test/integration/partner-responses.contract.test.ts).

describePartnerResponsesContract('in-memory fake', () => new InMemoryPartnerResponses());
