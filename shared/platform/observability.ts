import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { metricsNamespace, serviceName } from '#system/environment.ts';

/**
 * One Logger and one Metrics instance per function (Powertools), created at module load.
 * Rule: no patient identifier in any log line or metric. Log referral ids, practice ODS codes, categories and
 * counts; never names, NHS numbers, birth dates, contact details or postcodes.
 */
export const logger = new Logger({ serviceName });
export const metrics = new Metrics({ namespace: metricsNamespace, serviceName });
