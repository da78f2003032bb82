import { DynamoPartnerResponses } from '#adapters/dynamodb/partner-responses.ts';
import { describePartnerResponsesContract } from '../contract/partner-responses.contract.ts';
import { useLocalTables } from '../support/local-tables.ts';

// The DynamoDB adapter on the local DynamoDB (dynalite, the metrics table from the system description), against
// the contract the in-memory fake also meets (test/unit/partner-responses.contract.test.ts): one conditional
// UpdateItem adding to several attributes, refused for an offer id already counted.

const local = useLocalTables();

describePartnerResponsesContract(
  'DynamoDB adapter on dynalite',
  () => new DynamoPartnerResponses(local.client, local.tables.metrics),
);
