import { Duration } from 'aws-cdk-lib';
import { MathExpression, Metric, Stats, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { functionDimension, metricsNamespace, serviceName } from '#system/environment.ts';
import type { FunctionName } from '#system/names.ts';
import { queueNames, queues } from '#system/queues.ts';
import { routes } from '#system/routes.ts';

/**
 * The service's own EMF metrics as CloudWatch knows them. shared/platform/observability.ts gives every metric the
 * dimensions `service` and `function` (the function's name in shared/system/functions.ts), and a breakdown
 * (`countBy`) adds its own: in CloudWatch each dimension set is a metric of its own, so an alarm or a graph must name
 * exactly the set emitted. These helpers are the one place that knows it.
 */

/** A function of the system by its name in the system description: the value of its metrics' `function`. */
export type EmittingFunction = FunctionName;

export interface ServiceMetricOptions {
  readonly statistic?: string;
  readonly period?: Duration;
  readonly label?: string;
  /** The extra dimensions of a breakdown (`countBy` in observability.ts), e.g. `{ category: 'housing' }`. */
  readonly dimensions?: Readonly<Record<string, string>>;
}

/** One EMF metric of one function, summed over 5 minutes unless told otherwise. */
export function serviceMetric(
  metricName: string,
  fn: EmittingFunction,
  options: ServiceMetricOptions = {},
): Metric {
  return new Metric({
    namespace: metricsNamespace,
    metricName,
    dimensionsMap: { service: serviceName, [functionDimension]: fn, ...options.dimensions },
    statistic: options.statistic ?? Stats.SUM,
    period: options.period ?? Duration.minutes(5),
    ...(options.label === undefined ? {} : { label: options.label }),
  });
}

/** The functions that answer API routes: each emits `Responses2xx`... `Responses5xx` (httpHandler). */
export const httpFunctions: readonly EmittingFunction[] = [...new Set(routes.map((route) => route.function))];

/** The queue consumers: each emits `RecordsProcessed` and `RecordsFailed` per batch (sqsHandler). */
export const queueConsumers: readonly EmittingFunction[] = queueNames.map((name) => queues[name].consumer);

/**
 * One metric emitted by several functions, summed across them into one line (a function that emitted nothing in a
 * period counts 0 there, not a gap).
 */
export function summedOver(
  metricName: string,
  fns: readonly EmittingFunction[],
  options: ServiceMetricOptions & { label: string },
): IMetric {
  // Ids are unique per graph or alarm, which may sum several metrics: named after the metric.
  const idOf = (index: number): string =>
    `${metricName.charAt(0).toLowerCase()}${metricName.slice(1)}_${index}`;
  const usingMetrics: Record<string, IMetric> = {};
  fns.forEach((fn, index) => {
    usingMetrics[idOf(index)] = serviceMetric(metricName, fn, options);
  });
  return new MathExpression({
    expression: fns.map((_, index) => `FILL(${idOf(index)}, 0)`).join(' + '),
    usingMetrics,
    label: options.label,
    period: options.period ?? Duration.minutes(5),
  });
}

/** The EMF metrics of the notifier's deliveries (functions/notifier/handler.ts), one per outcome. */
export const deliveryOutcomes = {
  delivered: 'DeliveriesSucceeded',
  retried: 'DeliveriesRetried',
  failed: 'DeliveriesFailedPermanently',
  notSent: 'PracticeMessagesNotSent',
} as const;

/**
 * The share of delivery attempts in the period that did not succeed (retried, or refused for good), once there are
 * at least `minimumAttempts`: a few failures on a quiet night are not a rate.
 */
export function deliveryFailureRate(period: Duration, minimumAttempts: number): MathExpression {
  const of = (name: string): Metric => serviceMetric(name, 'notifier', { period });
  const attempts = 'FILL(ok, 0) + FILL(retried, 0) + FILL(failed, 0)';
  return new MathExpression({
    expression: `IF((${attempts}) >= ${minimumAttempts}, (FILL(retried, 0) + FILL(failed, 0)) / (${attempts}), 0)`,
    usingMetrics: {
      ok: of(deliveryOutcomes.delivered),
      retried: of(deliveryOutcomes.retried),
      failed: of(deliveryOutcomes.failed),
    },
    period,
    label: 'share of delivery attempts that failed',
  });
}
