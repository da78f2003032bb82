/**
 * The environment each function gets, derived from its grants: a function that may touch the `referrals` table
 * gets REFERRALS_TABLE, one that may send to the `notifications` queue gets NOTIFICATIONS_QUEUE_URL, plus the
 * Powertools names. Both targets fill in the values (CDK with resource tokens, the local stack with local names).
 */
import { functions, type SettingName } from '#system/functions.ts';
import { queues } from '#system/queues.ts';
import type { FunctionName, QueueName, TableName } from '#system/names.ts';

export const serviceName = 'social-prescribing-referrals';
export const metricsNamespace = 'SocialPrescribing';

/**
 * Each function's own name in the system description (e.g. `notifier`), for the `function` dimension of its EMF
 * metrics (shared/platform/observability.ts): Lambda's own name carries the stack's suffixes.
 */
export const functionNameEnvVar = 'SYSTEM_FUNCTION_NAME';
export const functionDimension = 'function';

/** Environment variable holding a table's name, e.g. `REFERRALS_TABLE`. */
export const tableEnvVar = (table: TableName): string => `${table.toUpperCase()}_TABLE`;

/** Environment variable holding a queue's URL, e.g. `NOTIFICATIONS_QUEUE_URL`. */
export const queueEnvVar = (queue: QueueName): string => `${queue.toUpperCase()}_QUEUE_URL`;

/**
 * Where a function granted `recipientSecrets` finds them: `secretsmanager:<name prefix>` in AWS, `file:<path>`
 * locally (shared/platform/secrets.ts reads it).
 */
export const recipientSecretsEnvVar = 'RECIPIENT_SECRETS';

/**
 * Where a function granted `pseudonymKey` finds the evaluation extract's pseudonym key: `secretsmanager:<secret name>`
 * in AWS, `file:<path>` locally (shared/platform/secrets.ts reads it).
 */
export const pseudonymKeyEnvVar = 'PSEUDONYM_KEY';

/**
 * Where a function granted `recipientSecrets` may send (or accept) webhook channels: `https-only` in AWS,
 * `allow-loopback-http` in the local stack (its receivers are plain http on 127.0.0.1). The directory domain's
 * `ChannelPolicy` is the rule; shared/platform/config.ts reads it.
 */
export const webhookChannelsEnvVar = 'WEBHOOK_CHANNELS';
export type WebhookChannels = 'https-only' | 'allow-loopback-http';

/**
 * The backoff of the queue a function consumes with `retryBackoff` (shared/system/queues.ts), as
 * `<baseSeconds>,<capSeconds>`: the local stack shortens it for tests as it shortens visibility timeouts.
 */
export const retryBackoffEnvVar = 'RETRY_BACKOFF';

/**
 * Whether a function traces its AWS SDK calls as X-Ray subsegments (shared/platform/tracing.ts): `true` in the
 * stack, whose functions have active tracing and an X-Ray daemon beside them; `false` locally, where there is none.
 * The Powertools Tracer's own switch, so the name means the same to anyone who knows Powertools.
 */
export const tracingEnvVar = 'POWERTOOLS_TRACE_ENABLED';
export type Tracing = 'active' | 'off';

/** The environment a function needs, given how each table and queue is named or addressed on a target. */
export function functionEnvironment(
  fn: FunctionName,
  tableNameOf: (table: TableName) => string,
  queueUrlOf: (queue: QueueName) => string,
  settingOf: (setting: SettingName) => string = () => '',
  recipientSecretsLocation: () => string = () => '',
  webhookChannels: WebhookChannels = 'https-only',
  pseudonymKeyLocation: () => string = () => '',
  tracing: Tracing = 'off',
): Record<string, string> {
  const spec = functions[fn];
  const env: Record<string, string> = {
    POWERTOOLS_SERVICE_NAME: serviceName,
    POWERTOOLS_METRICS_NAMESPACE: metricsNamespace,
    [tracingEnvVar]: tracing === 'active' ? 'true' : 'false',
    [functionNameEnvVar]: fn,
  };
  for (const table of Object.keys(spec.tables) as TableName[]) env[tableEnvVar(table)] = tableNameOf(table);
  for (const queue of spec.sendsTo) env[queueEnvVar(queue)] = queueUrlOf(queue);
  // A consumer that sets its failed records' visibility needs its own queue's URL (and its backoff).
  for (const [queue, queueSpec] of Object.entries(queues) as Array<[QueueName, (typeof queues)[QueueName]]>) {
    if (queueSpec.consumer !== fn || !queueSpec.retryBackoff) continue;
    env[queueEnvVar(queue)] = queueUrlOf(queue);
    env[retryBackoffEnvVar] = `${queueSpec.retryBackoff.baseSeconds},${queueSpec.retryBackoff.capSeconds}`;
  }
  for (const setting of spec.settings ?? []) env[setting] = settingOf(setting);
  if (spec.recipientSecrets) env[recipientSecretsEnvVar] = recipientSecretsLocation();
  if (spec.recipientSecrets) env[webhookChannelsEnvVar] = webhookChannels;
  if (spec.pseudonymKey) env[pseudonymKeyEnvVar] = pseudonymKeyLocation();
  return env;
}
