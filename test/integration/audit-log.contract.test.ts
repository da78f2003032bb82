import { DynamoAuditLog } from '#adapters/dynamodb/audit-log.ts';
import { describeAuditLogContract } from '../contract/audit-log.contract.ts';
import { useLocalTables } from '../support/local-tables.ts';

// The DynamoDB adapter on the local DynamoDB (dynalite, the audit table from the system description), against the
// contract the in-memory fake also meets (test/unit/audit-log.contract.test.ts).

const local = useLocalTables();

describeAuditLogContract(
  'DynamoDB adapter on dynalite',
  () => new DynamoAuditLog(local.client, local.tables.audit),
);
