import { fileURLToPath } from 'node:url';
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { AlarmTopic } from './constructs/alarm-topic.ts';
import { Api } from './constructs/api.ts';
import { Functions } from './constructs/functions.ts';
import { Keys } from './constructs/keys.ts';
import { Monitoring } from './constructs/monitoring.ts';
import { constructId } from './constructs/naming.ts';
import { Queues } from './constructs/queues.ts';
import { Schedules } from './constructs/schedules.ts';
import { functionSettings, type EmailSettings, type TokenIssuerSettings } from './constructs/settings.ts';
import { Tables } from './constructs/tables.ts';
import { queueNames, queues } from '#system/queues.ts';
import { tableNames, tables } from '#system/tables.ts';

/** The directory holding package.json: function `entry` paths in the topology are relative to it. */
export const projectRoot = fileURLToPath(new URL('..', import.meta.url));

/**
 * The token issuer (`jwtIssuer`, `jwtAudience`, optional `jwksUrl`) has no default here: a stack that trusted a
 * made-up issuer would refuse every caller, so whoever builds one says which issuer it trusts (the app reads it
 * from CDK context; cdk.json holds placeholders that let an offline synth run).
 */
export interface ReferralStackProps extends StackProps, TokenIssuerSettings, EmailSettings {
  /**
   * The JWT `sub` of each client (a GP system's production token, say) registered for the authenticated routes;
   * each gets an API key in the per-client usage plan. Default: none, so every authenticated call gets 403.
   */
  readonly apiClients?: readonly string[];
  /** How long function and access logs are kept. Default: three months. */
  readonly logRetention?: RetentionDays;
  /**
   * An email address subscribed to the alarm topic (it confirms by the link SNS sends). Default: none; subscribe
   * later with the CLI (docs/operations.md).
   */
  readonly alarmEmail?: string;
}

/**
 * The whole referral system on AWS, built from infra/topology.ts: tables, queues, functions (with their grants and
 * event sources), the REST API and the monitoring around them. Nothing here names a table, queue, function or
 * route: add one to the topology and it appears here, and in the local runtime, with the same settings.
 */
export class ReferralStack extends Stack {
  readonly keys: Keys;
  readonly tables: Tables;
  readonly queues: Queues;
  readonly functions: Functions;
  readonly api: Api;
  readonly schedules: Schedules;
  readonly alarmTopic: AlarmTopic;
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: ReferralStackProps) {
    super(scope, id, props);
    const logRetention = props.logRetention ?? RetentionDays.THREE_MONTHS;
    // Checked first, so a bad URL fails the synth before anything is bundled.
    const settings = functionSettings(props);

    this.keys = new Keys(this, 'Keys');
    this.tables = new Tables(this, 'Tables', { key: this.keys.data });
    this.queues = new Queues(this, 'Queues', { key: this.keys.data });
    this.functions = new Functions(this, 'Functions', {
      projectRoot,
      tables: this.tables.byName,
      queues: this.queues.byName,
      logRetention,
      settings,
      dataKey: this.keys.data,
      logsKey: this.keys.logs,
    });
    this.api = new Api(this, 'Api', {
      functions: this.functions.byName,
      logRetention,
      logsKey: this.keys.logs,
      apiClients: props.apiClients ?? [],
    });
    this.schedules = new Schedules(this, 'Schedules', { functions: this.functions.byName });
    this.alarmTopic = new AlarmTopic(this, 'AlarmTopic', {
      ...(props.alarmEmail === undefined ? {} : { email: props.alarmEmail }),
    });
    this.monitoring = new Monitoring(this, 'Monitoring', {
      functions: this.functions.byName,
      queues: this.queues.byName,
      stage: this.api.restApi.deploymentStage,
      alarmTopic: this.alarmTopic.topic,
    });

    this.addOutputs();
  }

  /** What a person or a script needs after a deploy: where to call, and which tables and queues to look in. */
  private addOutputs(): void {
    // Exported, so an on-call stack or a chat integration elsewhere can subscribe by Fn::ImportValue.
    new CfnOutput(this, 'AlarmTopicArn', {
      description:
        'The SNS topic every alarm and recovery goes to: aws sns subscribe --topic-arn <arn> --protocol email ' +
        '--notification-endpoint <address> (docs/operations.md)',
      value: this.alarmTopic.topic.topicArn,
      exportName: `${this.stackName}-AlarmTopicArn`,
    });
    new CfnOutput(this, 'ApiUrl', {
      description: 'Base URL of the REST API; routes are appended to it, e.g. POST <ApiUrl>referrals',
      value: this.api.restApi.url,
    });
    new CfnOutput(this, 'ClientUsagePlanId', {
      description:
        "The per-client usage plan: `aws apigateway get-usage --usage-plan-id <id>` shows each client's requests",
      value: this.api.usagePlan.usagePlanId,
    });
    for (const name of tableNames) {
      new CfnOutput(this, `${constructId(name)}TableName`, {
        description: tables[name].purpose,
        value: this.tables.byName[name].tableName,
      });
    }
    for (const name of queueNames) {
      const { queue, deadLetters } = this.queues.byName[name];
      new CfnOutput(this, `${constructId(name)}QueueUrl`, {
        description: queues[name].purpose,
        value: queue.queueUrl,
      });
      new CfnOutput(this, `${constructId(name)}DeadLetterQueueUrl`, {
        description: `Dead letters of the ${name} queue: inspect, then redrive to the queue once the cause is fixed.`,
        value: deadLetters.queueUrl,
      });
    }
  }
}
