import { InMemoryAuditLog } from './fakes.ts';
import { describeAuditLogContract } from '../contract/audit-log.contract.ts';

// The in-memory fake against the contract the DynamoDB adapter also meets (test/integration/audit-log.contract.test.ts).

describeAuditLogContract('in-memory fake', () => new InMemoryAuditLog());
