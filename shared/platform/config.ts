import { queueEnvVar, retryBackoffEnvVar, tableEnvVar, webhookChannelsEnvVar } from '#system/environment.ts';
import type { Backoff } from '#delivery/domain/retry-policy.ts';
import type { ChannelPolicy } from '#directory/domain/directory.ts';
import { channelPolicies } from '#directory/domain/channel-policy.ts';
import { type QueueName, type TableName } from '#system/names.ts';

/**
 * Where a function finds its tables and queues. The variable names come from the topology, which gives each
 * function exactly the variables its grants allow; a missing one is a deployment fault, reported by name.
 */

function required(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(`Environment variable ${name} is not set: is this function granted that resource?`);
  return value;
}

export const tableName = (table: TableName): string => required(tableEnvVar(table));
export const queueUrl = (queue: QueueName): string => required(queueEnvVar(queue));

/** A deployment setting (e.g. the JWT issuer), which each target provides. */
export const requiredSetting = (name: string): string => required(name);

/** A deployment setting a function can do without (the email channel's): undefined when unset or empty. */
export const optionalSetting = (name: string): string | undefined => process.env[name] || undefined;

/** Where webhooks may go (WEBHOOK_CHANNELS): `https-only` in AWS, `allow-loopback-http` locally; anything else is a fault. */
export function channelPolicy(): ChannelPolicy {
  const value = required(webhookChannelsEnvVar);
  const policy = channelPolicies.find((known) => known === value);
  if (policy === undefined)
    throw new Error(
      `Environment variable ${webhookChannelsEnvVar} is ${value}: not one of ${channelPolicies.join(', ')}`,
    );
  return policy;
}

/** The backoff of the queue this function consumes (RETRY_BACKOFF, `<base>,<cap>` seconds); anything else is a fault. */
export function retryBackoff(): Backoff {
  const value = required(retryBackoffEnvVar);
  const [base, cap, ...rest] = value.split(',').map(Number);
  if (base === undefined || cap === undefined || rest.length > 0 || !(base >= 1) || !(cap >= base))
    throw new Error(`Environment variable ${retryBackoffEnvVar} is ${value}: not <base>,<cap> seconds`);
  return { baseSeconds: base, capSeconds: cap };
}
