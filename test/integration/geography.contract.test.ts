import { DynamoGeography } from '#adapters/dynamodb/geography-store.ts';
import { describeGeographyContract } from '../contract/geography.contract.ts';
import { useLocalTables } from '../support/local-tables.ts';

// The DynamoDB adapter on the local DynamoDB (dynalite, the table from the system description), against the contract
// the in-memory fake also meets (test/unit/geography.contract.test.ts).

const local = useLocalTables();

describeGeographyContract(
  'DynamoDB adapter on dynalite',
  () => new DynamoGeography(local.client, local.tables.geography),
);
