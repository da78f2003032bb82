import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { functionDimension, functionNameEnvVar, metricsNamespace, serviceName } from '#system/environment.ts';

/**
 * One Logger and one Metrics instance per function (Powertools), created at module load.
 * Rule: no patient identifier in any log line or metric. Log referral ids, practice ODS codes, categories and
 * counts; never names, NHS numbers, birth dates, contact details or postcodes.
 */
export const logger = new Logger({ serviceName });

/**
 * Which function a metric comes from: its name in the system description (shared/system/functions.ts, given in its
 * environment by functionEnvironment), so `RecordsFailed` of the router and of the notifier are two metrics.
 * Outside a function of the system (an ops command run from a laptop) it is Lambda's own name, or `cli`.
 */
export const emittingFunction =
  process.env[functionNameEnvVar] || process.env.AWS_LAMBDA_FUNCTION_NAME || 'cli';

/**
 * Every metric carries the dimensions `service` and `function` (the set the alarms and dashboard in
 * infra/constructs/monitoring.ts name: in CloudWatch a metric with another dimension set is another metric).
 */
export const metrics = new Metrics({
  namespace: metricsNamespace,
  serviceName,
  defaultDimensions: { [functionDimension]: emittingFunction },
});

/**
 * A count broken down by a few low-cardinality dimensions (a need category, a channel and outcome), emitted at once
 * as its own EMF record: `service`, `function` and these. Never a value that could single out a patient.
 */
export function countBy(name: string, dimensions: Readonly<Record<string, string>>, value = 1): void {
  const single = metrics.singleMetric();
  single.addDimensions({ ...dimensions });
  single.addMetric(name, 'Count', value);
}
