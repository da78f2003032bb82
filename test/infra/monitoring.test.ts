/**
 * The stack's monitoring: every alarm pages through the KMS-encrypted alarm topic the stack exports, each alarm of
 * the issue is there on the metric actually emitted (EMF metrics by `service` and `function`), and the dashboard
 * shows every EMF metric the code emits beside the Lambda, SQS and API Gateway figures.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import {
  latencyThresholdsMs,
  oldestMessageAgeThresholdSeconds,
  surgeJob,
} from '../../infra/constructs/monitoring.ts';
import { constructId } from '../../infra/constructs/naming.ts';
import { projectRoot, ReferralStack, type ReferralStackProps } from '../../infra/stack.ts';
import { interventionCategories } from '#referral/domain/categories.ts';
import { functionNames } from '#system/functions.ts';
import { queueNames, queues } from '#system/queues.ts';

const withoutBundling = { 'aws:cdk:bundling-stacks': [] };
const issuer = { jwtIssuer: 'https://login.example.test/', jwtAudience: 'social-prescribing-api' };
const stackWith = (props: Partial<ReferralStackProps> = {}, id = 'MonitoringTest'): ReferralStack =>
  new ReferralStack(new App({ context: withoutBundling }), id, { ...issuer, ...props });

const stack = stackWith();
const template = Template.fromStack(stack);
const logicalIdOf = (construct: IConstruct): string =>
  stack.getLogicalId(construct.node.defaultChild as CfnElement);
const topicId = logicalIdOf(stack.alarmTopic.topic);

type Properties = Record<string, unknown>;
const alarms = Object.entries(template.findResources('AWS::CloudWatch::Alarm')).map(
  ([logicalId, resource]) => ({ logicalId, props: (resource as { Properties: Properties }).Properties }),
);
const alarm = (id: string): Properties => {
  const found = alarms.filter(({ logicalId }) => logicalId.startsWith(`Monitoring${id}`));
  expect(found, `one alarm ${id}`).toHaveLength(1);
  return found[0]?.props ?? {};
};
/** Every metric an alarm reads, itself or inside its math expression. */
const metricsOf = (
  props: Properties,
): Array<{ Namespace: string; MetricName: string; Dimensions: unknown }> => {
  if (props.MetricName !== undefined)
    return [props as { Namespace: string; MetricName: string; Dimensions: unknown }];
  const inner = (props.Metrics ?? []) as Array<{ MetricStat?: { Metric: never } }>;
  return inner.flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric] : []));
};
/** An EMF metric as the alarms name it: CDK sorts the dimensions by name. */
const emf = (metricName: string, fn: string) => ({
  Namespace: 'SocialPrescribing',
  MetricName: metricName,
  Dimensions: [
    { Name: 'function', Value: fn },
    { Name: 'service', Value: 'social-prescribing-referrals' },
  ],
});

describe('alarm topic', () => {
  it("is encrypted with a customer managed key of its own that rotates and lets this account's CloudWatch alarms use it", () => {
    const keyId = logicalIdOf(stack.alarmTopic.key);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            // No other account's alarms (the confused deputy): the key's statement is scoped as the topic's.
            Condition: {
              ArnLike: { 'aws:SourceArn': Match.anyValue() },
              StringEquals: { 'aws:SourceAccount': Match.anyValue() },
            },
          }),
        ]),
      },
    });
  });

  it("lets this account's CloudWatch alarms publish, and refuses publishing without TLS", () => {
    const policies = Object.values(template.findResources('AWS::SNS::TopicPolicy')) as Array<{
      Properties: { Topics: unknown[]; PolicyDocument: { Statement: unknown[] } };
    }>;
    expect(policies).toHaveLength(1);
    expect(policies[0]?.Properties.Topics).toEqual([{ Ref: topicId }]);
    const statements = policies[0]?.Properties.PolicyDocument.Statement;
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Condition: expect.objectContaining({
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
        }),
      }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });

  it('is exported by the stack, for subscriptions from elsewhere', () => {
    template.hasOutput('AlarmTopicArn', {
      Value: { Ref: topicId },
      Export: { Name: 'MonitoringTest-AlarmTopicArn' },
    });
  });

  it('subscribes the alarmEmail when one is given, and no one otherwise', () => {
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    const subscribed = Template.fromStack(stackWith({ alarmEmail: 'on-call@example.test' }, 'WithEmail'));
    subscribed.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'on-call@example.test',
    });
    expect(() => stackWith({ alarmEmail: 'not an address' }, 'BadEmail')).toThrow(/alarmEmail/);
  });
});

describe('alarms', () => {
  it('every alarm sends its ALARM and its OK to the alarm topic', () => {
    expect(alarms.length).toBeGreaterThan(0);
    for (const { logicalId, props } of alarms) {
      expect(props.AlarmActions, logicalId).toEqual([{ Ref: topicId }]);
      expect(props.OKActions, logicalId).toEqual([{ Ref: topicId }]);
    }
  });

  it('are the ones listed: per queue, per function, the API, deliveries, refused tokens and surges', () => {
    // Dead letters and oldest message per queue; errors and throttles per function; API 5XX, p95 and p99;
    // delivery failure rate, refused for good, GP message not sent; tokens refused; surges.
    expect(alarms).toHaveLength(queueNames.length * 2 + functionNames.length * 2 + 3 + 3 + 1 + 1);
  });

  it.each(queueNames)(
    '%s: a dead letter, or an oldest message older than its retries take, raises one',
    (name) => {
      const { queue, deadLetters } = stack.queues.byName[name];
      expect(alarm(`${constructId(name)}DeadLettersAlarm`)).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalIdOf(deadLetters), 'QueueName'] } }],
        Threshold: 1,
      });
      const threshold = oldestMessageAgeThresholdSeconds(queues[name]);
      expect(alarm(`${constructId(name)}OldestMessageAlarm`)).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalIdOf(queue), 'QueueName'] } }],
        Statistic: 'Maximum',
        Threshold: threshold,
      });
    },
  );

  it('the oldest-message thresholds follow the retries: referrals 5 x 61 s, notifications its backoff', () => {
    expect(oldestMessageAgeThresholdSeconds(queues.referrals)).toBe(5 * 61 + 900);
    expect(oldestMessageAgeThresholdSeconds(queues.notifications)).toBe(
      73 + 60 + 120 + 240 + 480 + 900 + 900,
    );
  });

  it.each(functionNames)('%s: throttles raise an alarm, and so do errors', (name) => {
    const fnRef = { Ref: logicalIdOf(stack.functions.byName[name]) };
    expect(alarm(`${constructId(name)}ThrottlesAlarm`)).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Throttles',
      Dimensions: [{ Name: 'FunctionName', Value: fnRef }],
      Threshold: 1,
    });
    const errors = alarm(`${constructId(name)}ErrorsAlarm`);
    expect(metricsOf(errors)).toContainEqual(
      expect.objectContaining({ MetricName: 'Errors', Dimensions: [{ Name: 'FunctionName', Value: fnRef }] }),
    );
  });

  it("the authorizer's error alarm leaves out refused tokens, which Lambda also counts as errors", () => {
    const errors = alarm('AuthorizerErrorsAlarm');
    expect(JSON.stringify(errors.Metrics)).toContain('errors - FILL(denials, 0)');
    expect(metricsOf(errors)).toContainEqual(emf('AuthorizerDenials', 'authorizer'));
    expect(errors).toMatchObject({ EvaluationPeriods: 2, Threshold: 1 });
  });

  it('most tokens refused (the EMF AuthorizerDenials over invocations) raises an alarm, one refusal does not', () => {
    const denials = alarm('AuthorizerDenialsAlarm');
    expect(denials).toMatchObject({ Threshold: 0.5, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    expect(JSON.stringify(denials.Metrics)).toContain(
      'IF(invocations >= 5, FILL(denials, 0) / invocations, 0)',
    );
    expect(metricsOf(denials)).toContainEqual(emf('AuthorizerDenials', 'authorizer'));
  });

  it('API 5XX, and p95 and p99 latency sustained for 15 minutes, raise alarms', () => {
    expect(alarm('ApiServerErrorsAlarm')).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      MetricName: '5XXError',
    });
    for (const percentile of ['p95', 'p99'] as const) {
      expect(alarm(`ApiLatency${percentile.toUpperCase()}Alarm`)).toMatchObject({
        Namespace: 'AWS/ApiGateway',
        MetricName: 'Latency',
        ExtendedStatistic: percentile,
        Threshold: latencyThresholdsMs[percentile],
        Period: 300,
        EvaluationPeriods: 3,
      });
    }
  });

  it("the delivery failure rate is a math expression over the notifier's EMF delivery metrics", () => {
    const rate = alarm('DeliveryFailureRateAlarm');
    expect(rate.Threshold).toBe(0.25);
    expect(JSON.stringify(rate.Metrics)).toContain('(FILL(retried, 0) + FILL(failed, 0)) / (');
    const read = metricsOf(rate);
    for (const name of ['DeliveriesSucceeded', 'DeliveriesRetried', 'DeliveriesFailedPermanently']) {
      expect(read).toContainEqual(emf(name, 'notifier'));
    }
  });

  it("a delivery refused for good, or a GP message not sent (the notifier's EMF metrics), raises an alarm", () => {
    expect(alarm('DeliveriesFailedPermanentlyAlarm')).toMatchObject({
      ...emf('DeliveriesFailedPermanently', 'notifier'),
      Statistic: 'Sum',
      Threshold: 1,
    });
    expect(alarm('PracticeMessagesNotSentAlarm')).toMatchObject({
      ...emf('PracticeMessagesNotSent', 'notifier'),
      Statistic: 'Sum',
      Threshold: 1,
    });
  });

  it('a surge found by the daily job (its EMF SurgesFound total) raises an alarm', () => {
    expect(alarm('SurgesFoundAlarm')).toMatchObject({ ...emf('SurgesFound', surgeJob), Period: 86400 });
  });

  it('every EMF alarm names the dimension set the code emits: service and a function of the system', () => {
    const emitters = new Set<string>([...functionNames, surgeJob]);
    for (const { logicalId, props } of alarms) {
      for (const metric of metricsOf(props).filter((m) => m.Namespace === 'SocialPrescribing')) {
        const dimensions = metric.Dimensions as Array<{ Name: string; Value: string }>;
        expect(
          dimensions.map((d) => d.Name),
          logicalId,
        ).toEqual(['function', 'service']);
        expect(emitters.has(dimensions[0]?.Value ?? ''), `${logicalId}: ${dimensions[0]?.Value}`).toBe(true);
      }
    }
  });

  it('each is explained in docs/operations.md', () => {
    const runbook = readFileSync(path.join(projectRoot, 'docs', 'operations.md'), 'utf8');
    const generic = (id: string): string =>
      id
        .replace(
          new RegExp(`^(${functionNames.map(constructId).join('|')})(Errors|Throttles)$`),
          '<Function>$2',
        )
        .replace(new RegExp(`^(${queueNames.map(constructId).join('|')})(OldestMessage)$`), '<Queue>$2');
    const ids = stack.monitoring.alarms.map((each) => each.node.id.replace(/Alarm$/, ''));
    for (const id of ids) {
      expect(runbook.includes(`\`${id}\``) || runbook.includes(`\`${generic(id)}\``), id).toBe(true);
    }
  });
});

describe('dashboard', () => {
  const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  const widgets = widgetsOf(dashboards[0]);
  const graphed = widgets.flatMap((widget) => widget.metrics);
  const shows = (namespace: string, name: string, dimensions?: Record<string, string>): boolean =>
    graphed.some(
      (metric) =>
        metric.namespace === namespace &&
        metric.name === name &&
        (dimensions === undefined ||
          JSON.stringify(metric.dimensions) ===
            JSON.stringify(Object.fromEntries(Object.entries(dimensions).sort()))),
    );
  const ours = (fn: string, extra: Record<string, string> = {}) => ({
    service: 'social-prescribing-referrals',
    function: fn,
    ...extra,
  });

  it('is one, with the alarm states of every alarm', () => {
    expect(dashboards).toHaveLength(1);
    const status = widgets.find((widget) => widget.type === 'alarm');
    expect(status?.alarmCount).toBe(alarms.length);
  });

  it('shows every EMF metric the code emits (addMetric and countBy in functions/ and shared/)', () => {
    const emitted = emittedMetricNames();
    expect(emitted.literal.length).toBeGreaterThan(15);
    for (const name of emitted.literal) expect(shows('SocialPrescribing', name), name).toBe(true);
    // A name built at run time (`Responses${class}xx`, `BarsMessages${kind}`) by its prefix.
    for (const prefix of emitted.prefixes) {
      expect(
        graphed.some((metric) => metric.namespace === 'SocialPrescribing' && metric.name.startsWith(prefix)),
        prefix,
      ).toBe(true);
    }
  });

  it('shows them by the dimensions emitted: unmet needs and surges by category, deliveries by channel and outcome, per function', () => {
    for (const category of interventionCategories) {
      expect(shows('SocialPrescribing', 'UnmetNeedsByCategory', ours('router', { category })), category).toBe(
        true,
      );
    }
    for (const name of ['DeliveriesSucceeded', 'DeliveriesRetried', 'DeliveriesFailedPermanently']) {
      expect(shows('SocialPrescribing', name, ours('notifier')), name).toBe(true);
    }
    for (const category of interventionCategories) {
      expect(shows('SocialPrescribing', 'SurgesFound', ours('surges', { category })), category).toBe(true);
    }
    expect(shows('SocialPrescribing', 'SurgesFound', ours('surges'))).toBe(true);
    for (const channel of ['webhook', 'email', 'practice']) {
      for (const outcome of ['delivered', 'failed']) {
        expect(shows('SocialPrescribing', 'DeliveryAttempts', ours('notifier', { channel, outcome }))).toBe(
          true,
        );
      }
    }
    for (const fn of ['router', 'notifier'])
      expect(shows('SocialPrescribing', 'RecordsFailed', ours(fn))).toBe(true);
    expect(shows('SocialPrescribing', 'Responses5xx', ours('intake'))).toBe(true);
    expect(shows('SocialPrescribing', 'ReferralsRouted', ours('router'))).toBe(true);
  });

  it('beside the Lambda, SQS and API Gateway figures', () => {
    for (const name of ['Invocations', 'Errors', 'Throttles', 'Duration']) {
      const perFunction = graphed.filter(
        (metric) => metric.namespace === 'AWS/Lambda' && metric.name === name,
      );
      expect(perFunction, name).toHaveLength(functionNames.length);
    }
    for (const name of ['ApproximateNumberOfMessagesVisible', 'ApproximateAgeOfOldestMessage']) {
      expect(shows('AWS/SQS', name), name).toBe(true);
    }
    for (const name of ['Count', '4XXError', '5XXError', 'Latency'])
      expect(shows('AWS/ApiGateway', name), name).toBe(true);
  });
});

interface GraphedMetric {
  namespace: string;
  name: string;
  dimensions: Record<string, string>;
}

/**
 * The dashboard's widgets, read from its body: CDK writes it as an Fn::Join of JSON text and tokens (a function's
 * name, a queue's), each token read here as "<token>".
 */
function widgetsOf(
  dashboard: unknown,
): Array<{ type: string; metrics: GraphedMetric[]; alarmCount: number }> {
  const join = (dashboard as { Properties: { DashboardBody: { 'Fn::Join': [string, unknown[]] } } })
    .Properties.DashboardBody['Fn::Join'][1];
  const text = join.map((part) => (typeof part === 'string' ? part : '<token>')).join('');
  const body = JSON.parse(text) as {
    widgets: Array<{ type: string; properties: { metrics?: unknown[][]; alarms?: unknown[] } }>;
  };
  return body.widgets.map((widget) => ({
    type: widget.type,
    alarmCount: widget.properties.alarms?.length ?? 0,
    metrics: (widget.properties.metrics ?? []).flatMap((row): GraphedMetric[] => {
      if (typeof row[0] !== 'string') return []; // a math expression's own row
      const [namespace, name, ...rest] = row as string[];
      const pairs = rest.filter((item) => typeof item === 'string');
      const dimensions: Record<string, string> = {};
      for (let i = 0; i + 1 < pairs.length; i += 2) dimensions[pairs[i] ?? ''] = pairs[i + 1] ?? '';
      return [
        {
          namespace: namespace ?? '',
          name: name ?? '',
          dimensions: Object.fromEntries(Object.entries(dimensions).sort()),
        },
      ];
    }),
  }));
}

/** The metric names passed to `metrics.addMetric` / `single.addMetric` / `countBy` in the runtime code. */
function emittedMetricNames(): { literal: string[]; prefixes: string[] } {
  const literal = new Set<string>();
  const prefixes = new Set<string>();
  for (const file of [...sourceFiles('functions'), ...sourceFiles('shared')]) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/\b(?:addMetric|countBy)\(\s*(['`])([A-Za-z0-9]*)(\$\{)?/g)) {
      const [, , name = '', interpolated] = match;
      if (name === '') continue;
      if (interpolated) prefixes.add(name);
      else literal.add(name);
    }
  }
  return { literal: [...literal].sort(), prefixes: [...prefixes].sort() };
}

function sourceFiles(dir: string): string[] {
  const root = path.join(projectRoot, dir);
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .map((relative) => path.join(root, relative))
    .filter((file) => file.endsWith('.ts') && statSync(file).isFile());
}
