import { Duration } from 'aws-cdk-lib';
import type { Stage } from 'aws-cdk-lib/aws-apigateway';
import {
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  Stats,
  TextWidget,
  type Alarm,
  type IMetric,
  type IWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { ChannelKind } from '#directory/domain/directory.ts';
import { interventionCategories } from '#referral/domain/categories.ts';
import { functionNames } from '#system/functions.ts';
import { type FunctionName, type QueueName } from '#system/names.ts';
import { queueNames } from '#system/queues.ts';
import type { QueuePair } from './queues.ts';
import {
  deliveryFailureRate,
  deliveryOutcomes,
  httpFunctions,
  queueConsumers,
  serviceMetric,
  summedOver,
} from './service-metrics.ts';

export interface ServiceDashboardProps {
  readonly functions: Record<FunctionName, IFunction>;
  readonly queues: Record<QueueName, QueuePair>;
  readonly stage: Stage;
  readonly alarms: readonly Alarm[];
}

/**
 * One dashboard that follows a referral: the service's own figures first (what it did: accepted, routed, needs
 * unmet, deliveries, answers), then the platform's (API Gateway, Lambda, SQS) that explain them, alarm states last.
 * Built from CDK widgets and the system description, so a new function, queue or category appears by itself.
 */
export class ServiceDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: ServiceDashboardProps) {
    super(scope, id);
    this.dashboard = new Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(3) });
    const rows: IWidget[][] = [
      [
        new TextWidget({
          markdown:
            '# Social prescribing referrals\nAPI -> intake -> referrals queue -> router -> notifications queue -> ' +
            'notifier. Alarms and what to do: docs/operations.md',
          width: 24,
          height: 2,
        }),
      ],
      serviceFigures(),
      deliveryFigures(),
      answerFigures(),
      jobFigures(),
      requestFigures(),
      apiFigures(props.stage),
      lambdaFigures(props.functions),
      queueFigures(props.queues),
      [new AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms], width: 24, height: 8 })],
    ];
    for (const row of rows) this.dashboard.addWidgets(...row);
  }
}

const graph = (title: string, left: IMetric[], right: IMetric[] = [], width = 12): GraphWidget =>
  new GraphWidget({ title, left, right, width, height: 6 });

function serviceFigures(): IWidget[] {
  return [
    graph(
      'Referrals accepted and routed',
      [
        serviceMetric('ReferralsAccepted', 'intake', { label: 'accepted (JSON)' }),
        serviceMetric('BarsMessagesNew', 'intake', { label: 'accepted (BaRS FHIR)' }),
        serviceMetric('ReferralsRouted', 'router', { label: 'routed' }),
      ],
      [
        serviceMetric('BarsMessagesUpdate', 'intake', { label: 'BaRS updates' }),
        serviceMetric('BarsMessagesCancel', 'intake', { label: 'BaRS cancellations' }),
        serviceMetric('NoLinkWorkerTeam', 'router', { label: 'no link-worker team' }),
      ],
    ),
    graph(
      'Unmet needs by category',
      interventionCategories.map((category) =>
        serviceMetric('UnmetNeedsByCategory', 'router', { dimensions: { category }, label: category }),
      ),
      [serviceMetric('UnmetNeeds', 'router', { label: 'all unmet needs' })],
    ),
  ];
}

/** The channels a delivery goes by: a team's or partner's (the directory's kinds), or the practice's endpoint. */
const channels = ['webhook', 'email', 'worklist', 'practice'] as const satisfies readonly (
  ChannelKind | 'practice'
)[];

function deliveryFigures(): IWidget[] {
  return [
    graph(
      'Deliveries by outcome',
      [
        serviceMetric(deliveryOutcomes.delivered, 'notifier', { label: 'delivered' }),
        serviceMetric(deliveryOutcomes.retried, 'notifier', { label: 'to be retried' }),
        serviceMetric(deliveryOutcomes.failed, 'notifier', { label: 'refused for good' }),
        serviceMetric(deliveryOutcomes.notSent, 'notifier', { label: 'GP message not sent' }),
      ],
      [deliveryFailureRate(Duration.minutes(5), 1)],
      8,
    ),
    graph(
      'Delivery attempts by channel and outcome',
      channels.map((channel) =>
        serviceMetric('DeliveryAttempts', 'notifier', {
          dimensions: { channel, outcome: 'delivered' },
          label: `${channel} delivered`,
        }),
      ),
      channels
        .filter((channel) => channel !== 'worklist')
        .map((channel) =>
          serviceMetric('DeliveryAttempts', 'notifier', {
            dimensions: { channel, outcome: 'failed' },
            label: `${channel} failed`,
          }),
        ),
      8,
    ),
    graph(
      'Records processed and failed, by queue consumer',
      queueConsumers.map((fn) => serviceMetric('RecordsProcessed', fn, { label: `${fn} processed` })),
      queueConsumers.map((fn) => serviceMetric('RecordsFailed', fn, { label: `${fn} failed` })),
      8,
    ),
  ];
}

/**
 * What each invocation of the referral's path asks of AWS (shared/platform/request-accounting.ts), on average: a
 * change that adds a request per referral shows here the day it is deployed (docs/benchmarks.md, Requests per
 * referral).
 */
function requestFigures(): IWidget[] {
  const path = ['intake', 'router', 'notifier'] as const;
  const average = { statistic: Stats.AVERAGE };
  return [
    graph(
      'AWS requests per invocation (DynamoDB, SQS)',
      path.map((fn) => serviceMetric('DynamoDbRequests', fn, { ...average, label: `${fn} DynamoDB` })),
      path.map((fn) => serviceMetric('SqsRequests', fn, { ...average, label: `${fn} SQS` })),
      12,
    ),
    graph(
      'DynamoDB units per invocation (read, write)',
      path.map((fn) => serviceMetric('DynamoDbReadUnits', fn, { ...average, label: `${fn} read` })),
      path.map((fn) => serviceMetric('DynamoDbWriteUnits', fn, { ...average, label: `${fn} write` })),
      12,
    ),
  ];
}

function answerFigures(): IWidget[] {
  const classes = ['2xx', '4xx', '5xx'] as const;
  return [
    graph(
      "Responses by class (the functions' own count)",
      classes.map((kind) => summedOver(`Responses${kind}`, httpFunctions, { label: kind })),
    ),
    graph(
      'Client and server errors by function',
      httpFunctions.map((fn) => serviceMetric('Responses4xx', fn, { label: `${fn} 4xx` })),
      httpFunctions.map((fn) => serviceMetric('Responses5xx', fn, { label: `${fn} 5xx` })),
    ),
  ];
}

function jobFigures(): IWidget[] {
  const day = Duration.days(1);
  return [
    graph(
      'Offers chased, outcomes and response records',
      [
        serviceMetric('OffersReminded', 'deadlines', { label: 'offers reminded' }),
        serviceMetric('OffersExpired', 'deadlines', { label: 'offers expired' }),
        serviceMetric('OutcomeSetsRecorded', 'outcomes', { label: 'outcome sets recorded' }),
      ],
      [
        serviceMetric('ResponseRecordsUpdated', 'responseRecords', { label: 'response records updated' }),
        serviceMetric('ResponseRecordsConflicted', 'responseRecords', {
          label: 'response records conflicted',
        }),
      ],
      8,
    ),
    graph(
      'Tokens refused and evaluation extracts',
      [serviceMetric('AuthorizerDenials', 'authorizer', { label: 'tokens refused' })],
      [
        serviceMetric('EvaluationExtracts', 'evaluation', { label: 'evaluation extracts' }),
        serviceMetric('EvaluationExtractsRefused', 'evaluation', {
          label: 'extracts refused (cells under k)',
        }),
      ],
      8,
    ),
    // The surge job runs daily: a day's bar per category (functions/surges emits the total and each category's).
    graph(
      'Surges found by category (daily)',
      interventionCategories.map((category) =>
        serviceMetric('SurgesFound', 'surges', { period: day, dimensions: { category }, label: category }),
      ),
      [serviceMetric('SurgesFound', 'surges', { period: day, label: 'all surges' })],
      8,
    ),
  ];
}

function apiFigures(stage: Stage): IWidget[] {
  return [
    graph(
      'API requests and errors',
      [stage.metricCount({ statistic: Stats.SUM, label: 'requests' })],
      [
        stage.metricClientError({ statistic: Stats.SUM, label: '4XX' }),
        stage.metricServerError({ statistic: Stats.SUM, label: '5XX' }),
      ],
    ),
    graph('API latency', [
      stage.metricLatency({ statistic: Stats.p(95), label: 'total p95' }),
      stage.metricLatency({ statistic: Stats.p(99), label: 'total p99' }),
      stage.metricIntegrationLatency({ statistic: Stats.p(99), label: 'function p99' }),
    ]),
  ];
}

function lambdaFigures(functions: Record<FunctionName, IFunction>): IWidget[] {
  const fns = functionNames.map((name) => ({ name, fn: functions[name] }));
  return [
    graph(
      'Function invocations and errors',
      fns.map(({ name, fn }) => fn.metricInvocations({ statistic: Stats.SUM, label: name })),
      fns.map(({ name, fn }) => fn.metricErrors({ statistic: Stats.SUM, label: `${name} errors` })),
    ),
    graph(
      'Function duration (p99) and throttles',
      fns.map(({ name, fn }) => fn.metricDuration({ statistic: Stats.p(99), label: name })),
      fns.map(({ name, fn }) => fn.metricThrottles({ statistic: Stats.SUM, label: `${name} throttles` })),
    ),
  ];
}

function queueFigures(queues: Record<QueueName, QueuePair>): IWidget[] {
  return [
    graph(
      'Queue depth (dead letters on the right)',
      queueNames.map((name) =>
        queues[name].queue.metricApproximateNumberOfMessagesVisible({
          statistic: Stats.MAXIMUM,
          label: name,
        }),
      ),
      queueNames.map((name) =>
        queues[name].deadLetters.metricApproximateNumberOfMessagesVisible({
          statistic: Stats.MAXIMUM,
          label: `${name} dead letters`,
        }),
      ),
    ),
    graph(
      'Oldest message age (s)',
      queueNames.map((name) =>
        queues[name].queue.metricApproximateAgeOfOldestMessage({ statistic: Stats.MAXIMUM, label: name }),
      ),
    ),
  ];
}
