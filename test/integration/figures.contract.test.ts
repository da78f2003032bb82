import { DynamoFigures } from '#adapters/dynamodb/figures.ts';
import { describeFiguresContract } from '../contract/figures.contract.ts';
import { useLocalTables } from '../support/local-tables.ts';

// The DynamoDB adapter on the local DynamoDB (dynalite, the metrics table from the system description), against the
// contract the in-memory fake also meets (test/unit/figures.contract.test.ts): one conditional UpdateItem per cell,
// refused for a unit already counted in it; one Query per month to read, here in pages of 7 items so paging is
// exercised.

const local = useLocalTables();

describeFiguresContract(
  'DynamoDB adapter on dynalite',
  () => new DynamoFigures(local.client, local.tables.metrics, 7),
);
