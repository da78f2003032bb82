import { Duration } from 'aws-cdk-lib';
import type { Stage } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  ComparisonOperator,
  MathExpression,
  Stats,
  TreatMissingData,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { functionNames } from '#system/functions.ts';
import { type FunctionName, type QueueName } from '#system/names.ts';
import { queueNames, queues, type QueueSpec } from '#system/queues.ts';
import { ServiceDashboard } from './dashboard.ts';
import { constructId } from './naming.ts';
import type { QueuePair } from './queues.ts';
import { deliveryFailureRate, deliveryOutcomes, serviceMetric } from './service-metrics.ts';

export interface MonitoringProps {
  readonly functions: Record<FunctionName, IFunction>;
  readonly queues: Record<QueueName, QueuePair>;
  readonly stage: Stage;
  /** Where every alarm and every recovery is sent (alarm-topic.ts). */
  readonly alarmTopic: ITopic;
}

/** The surge job's name in shared/system/functions.ts: the `function` dimension of its `SurgesFound`. */
export const surgeJob: FunctionName = 'surges';

/** API latency that pages when it lasts 15 minutes: intake's own timeout is 6 s, API Gateway's limit 29 s. */
export const latencyThresholdsMs = { p95: 2000, p99: 5000 } as const;

/** A share of delivery attempts failing that pages (15 minutes, at least 10 attempts). */
export const deliveryFailureRateThreshold = 0.25;

/**
 * How old a queue's oldest message may get while everything works: a message is received at most maxReceiveCount
 * times, each held back by the retry backoff (or the visibility timeout), and then dead-lettered. Older than that
 * plus a margin means nobody is consuming (the function throttled, its event source disabled) or a recipient asked
 * for a long Retry-After.
 */
export function oldestMessageAgeThresholdSeconds(spec: QueueSpec): number {
  const margin = 15 * 60;
  const retries = spec.maxReceiveCount - 1;
  let window = spec.visibilityTimeoutSeconds;
  for (let retry = 0; retry < retries; retry += 1) {
    window += spec.retryBackoff
      ? Math.min(spec.retryBackoff.capSeconds, spec.retryBackoff.baseSeconds * 2 ** retry)
      : spec.visibilityTimeoutSeconds;
  }
  return window + margin;
}

/**
 * Alarms for the things that need a person, and one dashboard for the things that explain them. Every alarm sends
 * its ALARM and its OK to the alarm topic. Missing data means no traffic, which is healthy. What each one means and
 * what to do is docs/operations.md, one row per alarm (a test holds the two to the same list).
 */
export class Monitoring extends Construct {
  readonly alarms: Alarm[] = [];
  readonly dashboard: ServiceDashboard;
  private readonly action: SnsAction;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.action = new SnsAction(props.alarmTopic);

    for (const name of queueNames) this.queueAlarms(name, props.queues[name]);
    for (const name of functionNames) this.functionAlarms(name, props.functions[name]);
    this.apiAlarms(props.stage);
    this.deliveryAlarms();
    this.authorizerDenialsAlarm(props.functions.authorizer);

    // The daily surge job (functions/surges): a category in an area well above its usual weekday level.
    this.alarm('SurgesFoundAlarm', {
      description:
        'The daily surge job found referrals for a category in an area well above its usual level for the ' +
        'weekday: see the surges report (GET /reports/surges, or npm run surges) for where and how much.',
      metric: serviceMetric('SurgesFound', surgeJob, { period: Duration.days(1) }),
    });

    this.dashboard = new ServiceDashboard(this, 'Dashboard', { ...props, alarms: this.alarms });
  }

  private queueAlarms(name: QueueName, { queue, deadLetters }: QueuePair): void {
    this.alarm(`${constructId(name)}DeadLettersAlarm`, {
      description: `Messages in the ${name} dead-letter queue: each is undelivered work; find the cause, then redrive.`,
      metric: deadLetters.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: Stats.MAXIMUM,
      }),
    });
    const ageSeconds = oldestMessageAgeThresholdSeconds(queues[name]);
    this.alarm(`${constructId(name)}OldestMessageAlarm`, {
      description:
        `The oldest message on the ${name} queue is over ${Math.round(ageSeconds / 60)} minutes old, longer than ` +
        `its retries take: its consumer (${queues[name].consumer}) is not keeping up, is throttled or stopped.`,
      metric: queue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(5),
        statistic: Stats.MAXIMUM,
      }),
      threshold: ageSeconds,
    });
  }

  /**
   * Errors and throttles of each function. The authorizer refuses a token by throwing "Unauthorized" (API
   * Gateway's contract for a 401), which Lambda counts as an error, so its error alarm counts only the errors that
   * are not refusals (its EMF `AuthorizerDenials`), in two 5-minute periods running: a refusal counted by Lambda in
   * one period and by EMF in the next cannot page alone, a crash at every cold start does.
   */
  private functionAlarms(name: FunctionName, fn: IFunction): void {
    if (name === 'authorizer') {
      this.alarm('AuthorizerErrorsAlarm', {
        description:
          'The authorizer failed other than by refusing a token (a crash, a timeout, a bad setting at start): ' +
          'callers get 500. See its log group for the error.',
        metric: new MathExpression({
          expression: 'errors - FILL(denials, 0)',
          usingMetrics: {
            errors: fn.metricErrors({ statistic: Stats.SUM }),
            denials: serviceMetric('AuthorizerDenials', 'authorizer'),
          },
          period: Duration.minutes(5),
          label: 'errors other than refusals',
        }),
        evaluationPeriods: 2,
      });
    } else {
      this.alarm(`${constructId(name)}ErrorsAlarm`, {
        description: `The ${name} function failed (threw or timed out): see its log group and X-Ray traces.`,
        metric: fn.metricErrors({ period: Duration.minutes(5), statistic: Stats.SUM }),
      });
    }
    this.alarm(`${constructId(name)}ThrottlesAlarm`, {
      description:
        `The ${name} function was throttled: the account's concurrency is used up (or the function's is capped). ` +
        'Queued work waits; API callers get 429 or 500.',
      metric: fn.metricThrottles({ period: Duration.minutes(5), statistic: Stats.SUM }),
    });
  }

  private apiAlarms(stage: Stage): void {
    this.alarm('ApiServerErrorsAlarm', {
      description: 'The API answered 5XX: a caller did not get an acknowledgement and must retry.',
      metric: stage.metricServerError({ period: Duration.minutes(5), statistic: Stats.SUM }),
    });
    for (const percentile of ['p95', 'p99'] as const) {
      const threshold = latencyThresholdsMs[percentile];
      this.alarm(`ApiLatency${percentile.toUpperCase()}Alarm`, {
        description:
          `The API's ${percentile} latency has been over ${threshold} ms for 15 minutes: GP systems wait, and ` +
          'may time out and retry. Compare the integration latency (the functions) with the total (the gateway).',
        metric: stage.metricLatency({ period: Duration.minutes(5), statistic: percentile }),
        threshold,
        evaluationPeriods: 3,
      });
    }
  }

  private deliveryAlarms(): void {
    this.alarm('DeliveryFailureRateAlarm', {
      description:
        `Over ${deliveryFailureRateThreshold * 100}% of delivery attempts in 15 minutes failed (retried or ` +
        "refused): a recipient's endpoint is down or refusing. The notifier's log names each delivery and reason.",
      metric: deliveryFailureRate(Duration.minutes(15), 10),
      threshold: deliveryFailureRateThreshold,
    });
    // A recipient refused a notice for good (a 4xx other than 408/429). It is not retried, so it never reaches a
    // dead-letter queue: without this nobody would know.
    this.alarm('DeliveriesFailedPermanentlyAlarm', {
      description:
        'A recipient refused a delivery for good (HTTP 4xx other than 408/429, or an email refused): it is not ' +
        "retried. The referral's status and audit name the recipient and the status; fix the recipient's channel " +
        'in the directory, then ask the link worker to re-route the need.',
      metric: serviceMetric(deliveryOutcomes.failed, 'notifier'),
    });
    // A message back to the GP could not be sent at all (the practice has no endpoint or signing secret in the
    // directory). It is recorded and not retried, so no dead-letter queue would show it.
    this.alarm('PracticeMessagesNotSentAlarm', {
      description:
        'A message back to a GP practice (accepted, first contact, declined, started, closed) could not be sent: ' +
        "the practice has no endpoint or signing secret in the directory. The referral's audit " +
        '(referral.practice-message-not-sent) gives the practice and the reason; add them (docs/operations.md) and ' +
        'tell the practice by other means: a recorded message is not re-sent.',
      metric: serviceMetric(deliveryOutcomes.notSent, 'notifier'),
    });
  }

  /**
   * One refused token is a caller's expired token; most tokens refused is the issuer's keys unreachable, or a
   * jwtIssuer or jwtAudience that does not match the tokens. Only cache misses invoke the authorizer, so a handful
   * of invocations is enough to judge.
   */
  private authorizerDenialsAlarm(fn: IFunction): void {
    const minimumInvocations = 5;
    this.alarm('AuthorizerDenialsAlarm', {
      description:
        'Most tokens presented in 15 minutes were refused (401): check that the JWKS URL is reachable and that ' +
        "jwtIssuer and jwtAudience match the issuer's tokens; the authorizer's log names each refusal's reason.",
      metric: new MathExpression({
        expression: `IF(invocations >= ${minimumInvocations}, FILL(denials, 0) / invocations, 0)`,
        usingMetrics: {
          denials: serviceMetric('AuthorizerDenials', 'authorizer'),
          invocations: fn.metricInvocations({ statistic: Stats.SUM }),
        },
        period: Duration.minutes(15),
        label: 'share of tokens refused',
      }),
      threshold: 0.5,
    });
  }

  private alarm(
    id: string,
    options: { description: string; metric: IMetric; threshold?: number; evaluationPeriods?: number },
  ): void {
    const alarm = new Alarm(this, id, {
      alarmDescription: options.description,
      metric: options.metric,
      threshold: options.threshold ?? 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: options.evaluationPeriods ?? 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    this.alarms.push(alarm);
  }
}
