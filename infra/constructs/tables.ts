import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { acknowledgeCompliance } from './compliance.ts';
import { tableNames, tables } from '#system/tables.ts';
import { type TableName } from '#system/names.ts';
import { byName, constructId } from './naming.ts';

/**
 * One DynamoDB table per entry in the topology's `tables`, with the global secondary indexes it declares.
 *
 * Every table holds referral data or the records that make its processing exactly-once, so every table gets the
 * same protection: on-demand capacity (traffic follows GP surgery hours and is spiky; nobody should have to tune
 * throughput), point-in-time recovery (a bad deploy can be rolled back to any second of the last 35 days),
 * encryption with the stack's own data key (keys.ts), deletion protection, and RETAIN so
 * that deleting or replacing the stack never deletes a record.
 *
 * Tables get generated physical names: two stacks (say dev and prod) can live in one account, and the functions
 * learn the names from their environment (see `functionEnvironment` in the topology).
 */
export interface TablesProps {
  /** The customer managed key every table is encrypted with. */
  readonly key: IKey;
}

export class Tables extends Construct {
  readonly byName: Record<TableName, Table>;

  constructor(scope: Construct, id: string, props: TablesProps) {
    super(scope, id);
    acknowledgeCompliance(
      this,
      'DynamoDBInBackupPlan',
      'Every table has point-in-time recovery (any second of the last 35 days, restorable to a new table), ' +
        "deletion protection and RETAIN. How long copies beyond that are kept is the data controller's records " +
        'retention decision, made per deployment with an AWS Backup plan over the tagged tables.',
    );
    this.byName = byName(tableNames, (name) => {
      const spec = tables[name];
      const table = new Table(this, constructId(name), {
        partitionKey: { name: spec.partitionKey, type: AttributeType.STRING },
        ...(spec.sortKey === undefined
          ? {}
          : { sortKey: { name: spec.sortKey, type: AttributeType.STRING } }),
        ...(spec.timeToLiveAttribute === undefined ? {} : { timeToLiveAttribute: spec.timeToLiveAttribute }),
        billingMode: BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: TableEncryption.CUSTOMER_MANAGED,
        encryptionKey: props.key,
        deletionProtection: true,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      for (const index of spec.indexes ?? []) {
        table.addGlobalSecondaryIndex({
          indexName: index.name,
          partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
          ...(index.sortKey === undefined
            ? {}
            : { sortKey: { name: index.sortKey, type: AttributeType.STRING } }),
          projectionType: index.projection === 'all' ? ProjectionType.ALL : ProjectionType.KEYS_ONLY,
        });
      }
      return table;
    });
  }
}
