import { functionNames, functions } from '#system/functions.ts';
import { type FunctionName, type QueueName } from '#system/names.ts';
import { queueNames, queues } from '#system/queues.ts';
import { startDevIssuer, type DevIssuer } from './dev-issuer.ts';
import { startFaultyRecipients, type FaultProxy } from './fault-injector.ts';
import { startFunctionWorkers } from './function-workers.ts';
import { startLocalGateway } from './gateway.ts';
import { startLocalAws, type LocalAws, type LocalAwsOptions } from './local-aws.ts';
import { readDirectory, sampleDirectoryFile } from './seed.ts';
import { startLocalSchedules, type LocalSchedules } from './schedules.ts';
import { startPoller, type SqsInvoke } from './sqs-poller.ts';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.ts';

/**
 * The whole system on one machine, built from the same topology as the CDK stack: local DynamoDB and SQS with
 * the topology's tables and queues, the sample directory, the HTTP gateway in front of the same handlers Lambda
 * runs, an SQS poller per queue with Lambda's event-source semantics, a webhook receiver standing in for the
 * link-worker teams and partners, and an SES v2 emulator (local-aws.ts) whose mailbox holds the email channel's mail.
 */

export interface LocalStackOptions extends Omit<LocalAwsOptions, 'settings'> {
  /** API port (0: any free port). */
  port?: number;
  webhookPort?: number;
  /**
   * Where the teams' and partners' webhooks go instead of a receiver started here (e.g. one that outlives the
   * stack, as the crash test's does). The sample directory's channels are pointed at it; no receiver is started.
   */
  webhookUrl?: string;
  issuerPort?: number;
  /** Per-client rate limit at the gateway; the topology's by default. */
  throttle?: { ratePerSecond: number; burst: number };
  log?: (line: string) => void;
  /** How much faster than real time the schedules' timers run (`npm start -- --clock-speed N`); 1 by default. */
  clockSpeed?: number;
  /** Poll loops of a queue (sqs-poller.ts; 2 by default, at most its maxConcurrency), as Lambda scales up. */
  pollerConcurrency?: Partial<Record<QueueName, number>>;
}

export interface LocalStack {
  apiUrl: string;
  aws: LocalAws;
  issuer: DevIssuer;
  receiver: WebhookReceiver;
  /** Base URL of the webhook receiver the directory's channels point at. */
  webhookUrl: string;
  /** The scheduled functions' timers; `runNow` invokes one at once. */
  schedules: LocalSchedules;
  stop(): Promise<void>;
}

/** A stack whose webhooks go to a receiver elsewhere (`webhookUrl`): it started none of its own. */
export type LocalStackWithoutReceiver = Omit<LocalStack, 'receiver'> & { receiver: undefined };

export function startLocalStack(
  options?: LocalStackOptions & { webhookUrl?: undefined },
): Promise<LocalStack>;
export function startLocalStack(options: LocalStackOptions): Promise<LocalStack | LocalStackWithoutReceiver>;
export async function startLocalStack(
  options: LocalStackOptions = {},
): Promise<LocalStack | LocalStackWithoutReceiver> {
  const log = options.log ?? (() => undefined);
  const issuer = await startDevIssuer({
    port: options.issuerPort ?? 0,
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
  });
  const aws = await startLocalAws({
    ...options,
    settings: { JWT_ISSUER: issuer.issuer, JWT_AUDIENCE: issuer.audience, JWKS_URL: issuer.jwksUrl },
  });
  const receiver = options.webhookUrl
    ? undefined
    : await startWebhookReceiver({
        port: options.webhookPort ?? 0,
        // The receiver looks secrets up by path, which does not depend on its port.
        directory: readDirectory(sampleDirectoryFile, 'http://127.0.0.1'),
        secrets: aws.recipientSecrets,
        log,
      });
  // With faults, the stack's own receiver is reached through a proxy that fails and delays some webhooks (a test
  // with a receiver of its own, `webhookUrl`, puts that proxy in front of it itself).
  const faultyRecipients: FaultProxy | undefined =
    receiver && options.faults ? await startFaultyRecipients(receiver.url, options.faults) : undefined;
  const webhookUrl = options.webhookUrl ?? faultyRecipients?.endpoint ?? receiver?.url ?? '';
  const [directory, geography] = await Promise.all([aws.seedDirectory(webhookUrl), aws.seedGeography()]);
  log(
    `directory: ${directory.practices.length} practices, ${directory.teams.length} link-worker teams, ` +
      `${directory.partners.length} VCSE partners, ${directory.services.length} services`,
  );
  log(`geography: ${geography.locations} postcodes, ${geography.deprivation} LSOA ranks (IMD 2019 and 2025)`);

  // The gateway listens first, so the notifier's emails can link to its inbox page; it takes no request before the
  // workers below are up (nothing knows its URL until this function returns).
  const running: { workers?: Awaited<ReturnType<typeof startFunctionWorkers>> } = {};
  const gateway = await startLocalGateway({
    port: options.port ?? 0,
    invoke: (fn, event) =>
      running.workers
        ? running.workers.invoke(fn, event)
        : Promise.reject(new Error('the functions are not started yet')),
    log,
    ...(options.throttle ? { throttle: options.throttle } : {}),
  });
  aws.setSettings({ INBOX_URL: `${gateway.url}/inbox` });
  // Each function in its own worker with only its own environment, as each has its own sandbox in Lambda.
  const started = await startFunctionWorkers({
    environmentOf: aws.environmentOf,
    log,
    ...(options.faults ? { faults: options.faults } : {}),
  });
  running.workers = started;
  const pollers = queueNames.map((queue) =>
    startPoller({
      client: aws.sqs,
      queue,
      queueUrl: aws.queues[queue].url,
      invoke: (event) => started.invoke(queues[queue].consumer, event) as ReturnType<SqsInvoke>,
      log,
      ...(options.faults ? { faults: options.faults } : {}),
      ...(options.pollerConcurrency?.[queue] === undefined
        ? {}
        : { concurrency: options.pollerConcurrency[queue] }),
    }),
  );

  const schedules = startLocalSchedules({
    invoke: (fn, event) => started.invoke(fn, event),
    log,
    ...(options.clockSpeed === undefined ? {} : { clockSpeed: options.clockSpeed }),
  });

  return {
    apiUrl: gateway.url,
    aws,
    issuer,
    receiver,
    webhookUrl,
    schedules,
    async stop() {
      // Stop taking work first, let in-flight batches finish, then close the servers they write to.
      await gateway.stop();
      await schedules.stop();
      await Promise.all(pollers.map((p) => p.stop()));
      await started.stop();
      await faultyRecipients?.stop();
      await receiver?.stop();
      await aws.stop();
      await issuer.stop();
    },
  };
}

/**
 * The handlers loaded in this process, the way Lambda loads them: once, after the environment is set. The local
 * stack runs them in workers instead; tests use this to call a handler directly.
 */
export async function importHandlers(): Promise<Record<FunctionName, unknown>> {
  const entries = await Promise.all(
    functionNames.map(async (fn) => {
      const module = (await import(`../../${functions[fn].entry}`)) as { handler: unknown };
      return [fn, module.handler] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<FunctionName, unknown>;
}
