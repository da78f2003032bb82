import { Duration } from 'aws-cdk-lib';
import type { Stage } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  MathExpression,
  Metric,
  Stats,
  TextWidget,
  TreatMissingData,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { metricsNamespace, serviceName } from '#system/environment.ts';
import { functionNames } from '#system/functions.ts';
import { type FunctionName } from '#system/names.ts';
import { queueNames } from '#system/queues.ts';
import { type QueueName } from '#system/names.ts';
import { constructId } from './naming.ts';
import type { QueuePair } from './queues.ts';

export interface MonitoringProps {
  readonly functions: Record<FunctionName, IFunction>;
  readonly queues: Record<QueueName, QueuePair>;
  readonly stage: Stage;
  /** Where alarms are sent (an existing SNS topic, e.g. one subscribed by the on-call rota); none: console only. */
  readonly alarmTopic?: ITopic;
}

/**
 * Alarms for the things that need a person, and one dashboard for the things that explain them.
 *
 * A message in a dead-letter queue is a referral that has not reached its recipient: any message there raises an
 * alarm, because "nothing lost" only holds if someone replays it. A function error, or a 5XX from the API (a GP
 * system whose referral was not acknowledged), also raises one. Missing data means no traffic, which is healthy.
 */
export class Monitoring extends Construct {
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);

    for (const name of queueNames) {
      const { deadLetters } = props.queues[name];
      this.alarm(`${constructId(name)}DeadLettersAlarm`, {
        description: `Messages in the ${name} dead-letter queue: each is undelivered work; find the cause, then redrive.`,
        metric: deadLetters.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(1),
          statistic: Stats.MAXIMUM,
        }),
        alarmTopic: props.alarmTopic,
      });
    }

    for (const name of functionNames) {
      if (name === 'authorizer') {
        this.authorizerAlarm(props.functions[name], props.alarmTopic);
        continue;
      }
      this.alarm(`${constructId(name)}ErrorsAlarm`, {
        description: `The ${name} function failed (threw or timed out): see its log group and X-Ray traces.`,
        metric: props.functions[name].metricErrors({ period: Duration.minutes(5), statistic: Stats.SUM }),
        alarmTopic: props.alarmTopic,
      });
    }

    // The notifier's EMF metric (functions/notifier/handler.ts): a recipient refused a notice for good (a 4xx other
    // than 408/429). It is not retried, so it never reaches a dead-letter queue: without this nobody would know.
    this.alarm('DeliveriesFailedPermanentlyAlarm', {
      description:
        'A recipient refused a delivery for good (HTTP 4xx other than 408/429, or an email refused): it is not ' +
        "retried. The referral's status and audit name the recipient and the status; fix the recipient's channel " +
        'in the directory, then ask the link worker to re-route the need.',
      metric: new Metric({
        namespace: metricsNamespace,
        metricName: 'DeliveriesFailedPermanently',
        dimensionsMap: { service: serviceName },
        period: Duration.minutes(5),
        statistic: Stats.SUM,
      }),
      alarmTopic: props.alarmTopic,
    });

    // The notifier's EMF metric: a message back to the GP could not be sent at all (the practice has no endpoint or
    // signing secret in the directory). It is recorded and not retried, so no dead-letter queue would show it.
    this.alarm('PracticeMessagesNotSentAlarm', {
      description:
        'A message back to a GP practice (accepted, first contact, declined, started, closed) could not be sent: ' +
        "the practice has no endpoint or signing secret in the directory. The referral's audit " +
        '(referral.practice-message-not-sent) gives the practice and the reason; add them (docs/operations.md) and ' +
        'tell the practice by other means: a recorded message is not re-sent.',
      metric: new Metric({
        namespace: metricsNamespace,
        metricName: 'PracticeMessagesNotSent',
        dimensionsMap: { service: serviceName },
        period: Duration.minutes(5),
        statistic: Stats.SUM,
      }),
      alarmTopic: props.alarmTopic,
    });

    this.alarm('ApiServerErrorsAlarm', {
      description: 'The API answered 5XX: a caller did not get an acknowledgement and must retry.',
      metric: props.stage.metricServerError({ period: Duration.minutes(5), statistic: Stats.SUM }),
      alarmTopic: props.alarmTopic,
    });

    this.dashboard(props);
  }

  /**
   * The authorizer refuses a token by throwing "Unauthorized" (API Gateway's contract for a 401), and Lambda counts
   * each refusal as an error, so an alarm on any error would page for every expired token. A failure of the
   * authorizer itself (a crash, a timeout) is a 500 from API Gateway, which the API's 5XX alarm already raises. What
   * needs a person is most tokens being refused: the issuer's keys unreachable, or a jwtIssuer or jwtAudience that
   * does not match the tokens. Only cache misses invoke the authorizer, so a handful of invocations is enough to judge.
   */
  private authorizerAlarm(fn: IFunction, alarmTopic: ITopic | undefined): void {
    const minimumInvocations = 5;
    this.alarm('AuthorizerErrorsAlarm', {
      description:
        'Most tokens presented in 15 minutes were refused (401): check that the JWKS URL is reachable and that ' +
        "jwtIssuer and jwtAudience match the issuer's tokens; the authorizer's log names each refusal's reason.",
      metric: new MathExpression({
        expression: `IF(invocations >= ${minimumInvocations}, refused / invocations, 0)`,
        usingMetrics: {
          refused: fn.metricErrors({ statistic: Stats.SUM }),
          invocations: fn.metricInvocations({ statistic: Stats.SUM }),
        },
        period: Duration.minutes(15),
        label: 'share of tokens refused',
      }),
      threshold: 0.5,
      alarmTopic,
    });
  }

  private alarm(
    id: string,
    options: { description: string; metric: IMetric; alarmTopic: ITopic | undefined; threshold?: number },
  ): void {
    const alarm = new Alarm(this, id, {
      alarmDescription: options.description,
      metric: options.metric,
      threshold: options.threshold ?? 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    if (options.alarmTopic !== undefined) {
      const action = new SnsAction(options.alarmTopic);
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }
    this.alarms.push(alarm);
  }

  /** Follows a referral's path: API, then functions, then queues; alarm states at the bottom. */
  private dashboard(props: MonitoringProps): void {
    const fns = functionNames.map((name) => ({ name, fn: props.functions[name] }));
    const dashboard = new Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(3) });
    dashboard.addWidgets(
      new TextWidget({
        markdown:
          '# Social prescribing referrals\nAPI -> intake -> referrals queue -> router -> notifications queue -> notifier',
        width: 24,
        height: 2,
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'API requests and errors',
        left: [props.stage.metricCount({ statistic: Stats.SUM, label: 'requests' })],
        right: [
          props.stage.metricClientError({ statistic: Stats.SUM, label: '4XX' }),
          props.stage.metricServerError({ statistic: Stats.SUM, label: '5XX' }),
        ],
        width: 12,
      }),
      new GraphWidget({
        title: 'API latency (p99)',
        left: [
          props.stage.metricLatency({ statistic: Stats.p(99), label: 'total' }),
          props.stage.metricIntegrationLatency({ statistic: Stats.p(99), label: 'function' }),
        ],
        width: 12,
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Function invocations and errors',
        left: fns.map(({ name, fn }) => fn.metricInvocations({ statistic: Stats.SUM, label: name })),
        right: fns.map(({ name, fn }) => fn.metricErrors({ statistic: Stats.SUM, label: `${name} errors` })),
        width: 12,
      }),
      new GraphWidget({
        title: 'Function duration (p99) and throttles',
        left: fns.map(({ name, fn }) => fn.metricDuration({ statistic: Stats.p(99), label: name })),
        right: fns.map(({ name, fn }) =>
          fn.metricThrottles({ statistic: Stats.SUM, label: `${name} throttles` }),
        ),
        width: 12,
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Queue depth (dead letters on the right)',
        left: queueNames.map((name) =>
          props.queues[name].queue.metricApproximateNumberOfMessagesVisible({
            statistic: Stats.MAXIMUM,
            label: name,
          }),
        ),
        right: queueNames.map((name) =>
          props.queues[name].deadLetters.metricApproximateNumberOfMessagesVisible({
            statistic: Stats.MAXIMUM,
            label: `${name} dead letters`,
          }),
        ),
        width: 12,
      }),
      new GraphWidget({
        title: 'Oldest message age (s)',
        left: queueNames.map((name) =>
          props.queues[name].queue.metricApproximateAgeOfOldestMessage({
            statistic: Stats.MAXIMUM,
            label: name,
          }),
        ),
        width: 12,
      }),
    );
    dashboard.addWidgets(new AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 }));
  }
}
