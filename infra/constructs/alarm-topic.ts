import { Duration, Stack } from 'aws-cdk-lib';
import { Effect, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface AlarmTopicProps {
  /** An address subscribed at deploy time (it must confirm the subscription by the link SNS sends). */
  readonly email?: string;
}

/**
 * The SNS topic every alarm and every recovery goes to (monitoring.ts), which the stack exports for the on-call
 * rota's subscriptions (email, an HTTPS pager endpoint, a chat integration: docs/operations.md).
 *
 * Alarm texts name queues and functions, never a patient, but the topic is still encrypted at rest, with a key of
 * this stack's own: SNS's AWS managed key (alias/aws/sns) cannot be used by CloudWatch alarms, whose publish needs
 * kms:GenerateDataKey* and kms:Decrypt on the key, which only a customer managed key's policy can grant. The key
 * rotates yearly. The topic refuses publishing without TLS, and its policy lets CloudWatch alarms of this account and
 * region publish (a topic policy of our own replaces SNS's default one, so the grant is written down; the account's
 * own principals keep what their IAM policies give them, e.g. subscribing an address with the CLI).
 */
export class AlarmTopic extends Construct {
  readonly topic: Topic;
  readonly key: Key;

  constructor(scope: Construct, id: string, props: AlarmTopicProps = {}) {
    super(scope, id);
    const { account, region, partition } = Stack.of(this);
    const alarmsOfThisAccount = `arn:${partition}:cloudwatch:${region}:${account}:alarm:*`;

    this.key = new Key(this, 'Key', {
      description: 'Encrypts the alarm topic; CloudWatch alarms may use it to publish there',
      enableKeyRotation: true,
      pendingWindow: Duration.days(30),
    });
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublishToTheAlarmTopic',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        // Only for this account's own alarms, as the topic's policy: no other account's CloudWatch can use the key.
        conditions: {
          ArnLike: { 'aws:SourceArn': alarmsOfThisAccount },
          StringEquals: { 'aws:SourceAccount': account },
        },
      }),
    );

    this.topic = new Topic(this, 'Topic', {
      displayName: 'Social prescribing referrals: alarms',
      masterKey: this.key,
      enforceSSL: true,
    });
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsOfThisAccountPublish',
        effect: Effect.ALLOW,
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          ArnLike: { 'aws:SourceArn': alarmsOfThisAccount },
          StringEquals: { 'aws:SourceAccount': account },
        },
      }),
    );
    if (props.email !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(props.email)) {
      throw new Error(`alarmEmail must be an email address, got ${JSON.stringify(props.email)}`);
    }
    if (props.email !== undefined) this.topic.addSubscription(new EmailSubscription(props.email));
  }
}
