import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/**
 * The stack's own KMS keys (customer managed, rotated yearly, kept if the stack goes: a deleted key makes every
 * table, backup and log it encrypted unreadable).
 *
 * - `data`: the tables, the queues and the pseudonym key secret. With a key of our own, each function's IAM grant
 *   names the key, every use is in CloudTrail, and revoking the key is a way to cut off all access to the data.
 * - `logs`: every log group. CloudWatch Logs can use only a customer managed key, and only if the key's policy lets
 *   the Logs service of this region use it for this account's log groups; kept apart so that grant does not reach
 *   the referral data.
 *
 * The alarm topic has a key of its own (alarm-topic.ts), for the same kind of reason: CloudWatch alarms must be
 * allowed to use it.
 */
export class Keys extends Construct {
  readonly data: Key;
  readonly logs: Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const { account, region, partition } = Stack.of(this);

    this.data = new Key(this, 'Data', {
      description: 'Encrypts the referral tables, queues and the pseudonym key secret',
      enableKeyRotation: true,
      pendingWindow: Duration.days(30),
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.logs = new Key(this, 'Logs', {
      description: "Encrypts the functions' and the API's log groups",
      enableKeyRotation: true,
      pendingWindow: Duration.days(30),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.logs.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchLogsOfThisAccountUseTheKey',
        principals: [new ServicePrincipal(`logs.${region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        // Only for log groups of this account and region: no other account's logs can use the key.
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': `arn:${partition}:logs:${region}:${account}:log-group:*`,
          },
        },
      }),
    );
  }
}
