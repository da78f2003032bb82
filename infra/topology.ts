/**
 * The ONE description of the system's resources: tables, queues, functions and routes.
 *
 * Both targets read it: the CDK stack (infra/stack.ts) turns it into CloudFormation, and the local runtime
 * (infra/local/) turns it into dynalite tables, fauxqs queues, an HTTP gateway and SQS pollers. A table key, a
 * queue setting, a route or an environment variable therefore cannot differ between a laptop and AWS.
 *
 * Environment variables are derived from the grants: a function that may touch the `referrals` table gets
 * REFERRALS_TABLE, one that may send to the `notifications` queue gets NOTIFICATIONS_QUEUE_URL.
 */

export type TableName = 'referrals' | 'audit' | 'metrics' | 'directory' | 'idempotency';
export type QueueName = 'referrals' | 'notifications';
export type FunctionName = 'authorizer' | 'intake' | 'referralStatus' | 'metadata' | 'router' | 'notifier';
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface TableSpec {
  /** Why the table exists, shown in docs and as the CloudFormation description. */
  purpose: string;
  partitionKey: string;
  sortKey?: string;
  /** Attribute holding an epoch-seconds expiry; DynamoDB deletes the item some time after it. */
  timeToLiveAttribute?: string;
}

export interface QueueSpec {
  purpose: string;
  /** The function that consumes the queue through an SQS event source. */
  consumer: FunctionName;
  batchSize: number;
  /** How long Lambda may wait to fill a batch; it adds to a message's time in flight. */
  maxBatchingWindowSeconds: number;
  /** Receives before a message is moved to the queue's dead-letter queue. */
  maxReceiveCount: number;
  /**
   * Lambda's guidance: at least six times the consumer's timeout plus the batching window, so a message still
   * being worked on is not received a second time.
   */
  visibilityTimeoutSeconds: number;
  /** Upper bound on concurrent consumer invocations, to protect partners and tables from a burst. */
  maxConcurrency: number;
  /** How long a message (and its dead letter) is kept. */
  retentionDays: number;
}

export type TableAccess = 'read' | 'readWrite';

/** Settings a target must provide (CDK from context, the local stack from its development issuer). */
export const settingNames = ['JWT_ISSUER', 'JWT_AUDIENCE', 'JWKS_URL'] as const;
export type SettingName = (typeof settingNames)[number];

export interface FunctionSpec {
  purpose: string;
  /** Source file, relative to the project root, exporting `handler`. */
  entry: string;
  timeoutSeconds: number;
  memoryMb: number;
  tables: Partial<Record<TableName, TableAccess>>;
  sendsTo: QueueName[];
  settings?: readonly SettingName[];
}

/**
 * Who calls us. A token carries one role and the organisation it is bound to: a GP system one or more practice ODS
 * codes, a link worker a team, a partner a partner id.
 */
export const roles = ['gp-system', 'link-worker', 'partner', 'ops', 'admin'] as const;
export type Role = (typeof roles)[number];

export interface RouteSpec {
  method: HttpMethod;
  /** API Gateway resource path; `{name}` is a path parameter. */
  path: string;
  function: FunctionName;
  /**
   * Roles that may call the route; every other role is refused (deny by default). `public` routes (service
   * metadata only) need no token.
   */
  access: readonly Role[] | 'public';
}

/**
 * Rate limits. Per client (a usage plan keyed by the caller in AWS; the local gateway keeps a token bucket per
 * token subject): sustained requests per second and the burst allowed at once. The stage as a whole has its own.
 */
export const clientThrottle = { ratePerSecond: 50, burst: 100 };
export const stageThrottle = { ratePerSecond: 500, burst: 1000 };

/** JWT bearer tokens are verified by the `authorizer` function; its results are cached this long per token. */
export const authorizerCacheSeconds = 300;

export const serviceName = 'social-prescribing-referrals';
export const metricsNamespace = 'SocialPrescribing';

/**
 * How long the notifier waits for a recipient to answer one webhook POST. It bounds a delivery's work, so the
 * notifier's timeout is this plus a margin for its few DynamoDB requests (records of a batch run in parallel).
 */
export const webhookTimeoutSeconds = 10;

/** API Gateway's own payload limit is 10 MB; a referral never needs more than this, so larger bodies get 413. */
export const maxRequestBodyBytes = 256 * 1024;

export const tables: Record<TableName, TableSpec> = {
  referrals: {
    purpose: 'One item per referral: the request, its status, the routing decision and each delivery.',
    partitionKey: 'referralId',
  },
  audit: {
    purpose: 'Append-only record of who did what to which referral, one item per step (never updated).',
    partitionKey: 'referralId',
    sortKey: 'eventKey',
  },
  metrics: {
    purpose:
      'Exact daily counters by dimension; each counter remembers what it counted, so repeats add nothing.',
    partitionKey: 'metric',
    sortKey: 'day',
  },
  directory: {
    purpose:
      'Practices, PCNs, link-worker teams, VCSE partners, services and a coverage index by need and area.',
    partitionKey: 'pk',
    sortKey: 'sk',
  },
  idempotency: {
    purpose:
      'Powertools idempotency records: a retried request or redelivered message replays its first result.',
    partitionKey: 'id',
    timeToLiveAttribute: 'expiration',
  },
};

export const functions: Record<FunctionName, FunctionSpec> = {
  authorizer: {
    purpose:
      "Verifies a caller's JWT (signature against the issuer's JWKS, issuer, audience, expiry) and passes on role and organisation.",
    entry: 'functions/authorizer/handler.ts',
    timeoutSeconds: 5,
    memoryMb: 256,
    tables: {},
    sendsTo: [],
    settings: ['JWT_ISSUER', 'JWT_AUDIENCE', 'JWKS_URL'],
  },
  intake: {
    purpose:
      'Validates a referral (plain JSON or BaRS FHIR message), records it durably, enqueues it and acknowledges.',
    entry: 'functions/intake/handler.ts',
    // A handful of DynamoDB requests and one SQS send, well under a second. An in-progress idempotency record
    // outlives a crashed request by the function's timeout (a retry meanwhile gets 409 + Retry-After), so the
    // timeout is kept short: 6 s, far inside API Gateway's 29 s integration limit.
    timeoutSeconds: 6,
    memoryMb: 512,
    tables: {
      referrals: 'readWrite',
      audit: 'readWrite',
      metrics: 'readWrite',
      directory: 'read',
      idempotency: 'readWrite',
    },
    // Updates and cancellations notify recipients who already hold the referral.
    sendsTo: ['referrals', 'notifications'],
  },
  referralStatus: {
    purpose: 'Shows a referral: status, link-worker team, matched partners, deliveries and unmet needs.',
    entry: 'functions/referral-status/handler.ts',
    timeoutSeconds: 5,
    memoryMb: 256,
    tables: { referrals: 'read' },
    sendsTo: [],
  },
  metadata: {
    purpose:
      'Describes the API: the FHIR CapabilityStatement and the OpenAPI document generated from the schemas.',
    entry: 'functions/metadata/handler.ts',
    timeoutSeconds: 5,
    memoryMb: 256,
    tables: {},
    sendsTo: [],
  },
  router: {
    purpose:
      'Assigns the link-worker team, matches VCSE services by need and area, records the decision, fans out deliveries.',
    entry: 'functions/router/handler.ts',
    // About fifteen DynamoDB requests and one SQS batch per referral, the records of a batch in parallel: tens of
    // milliseconds in AWS. 10 s leaves room for SDK retries and a loaded local machine; a crashed batch then
    // returns after 61 s (visibility), not 181 s.
    timeoutSeconds: 10,
    memoryMb: 512,
    tables: {
      referrals: 'readWrite',
      audit: 'readWrite',
      metrics: 'readWrite',
      directory: 'read',
      idempotency: 'readWrite',
    },
    sendsTo: ['notifications'],
  },
  notifier: {
    purpose: 'Delivers one referral to one recipient as a signed webhook and records the delivery.',
    entry: 'functions/notifier/handler.ts',
    // One webhook POST per record (bounded by webhookTimeoutSeconds) and about five DynamoDB requests, the records
    // of a batch in parallel (Powertools BatchProcessor). A stop notice after a cancellation that raced the POST is
    // a second POST; if both are slow it does not fit, the invocation times out and the retry sends the stop notice.
    timeoutSeconds: webhookTimeoutSeconds + 2,
    memoryMb: 256,
    tables: {
      referrals: 'readWrite',
      audit: 'readWrite',
      metrics: 'readWrite',
      directory: 'read',
      idempotency: 'readWrite',
    },
    sendsTo: [],
  },
};

/**
 * Lambda's advice for an SQS event source: visibility timeout at least six times the function's timeout, plus the
 * batching window. It is also what a crash costs: a message in flight in a crashed or timed-out invocation waits
 * this long before it is received again.
 */
export const visibilityTimeoutFor = (consumer: FunctionName, maxBatchingWindowSeconds: number): number =>
  6 * functions[consumer].timeoutSeconds + maxBatchingWindowSeconds;

export const queues: Record<QueueName, QueueSpec> = {
  referrals: {
    purpose: 'Accepted referrals waiting to be routed.',
    consumer: 'router',
    batchSize: 10,
    maxBatchingWindowSeconds: 1,
    maxReceiveCount: 5,
    visibilityTimeoutSeconds: visibilityTimeoutFor('router', 1), // 61 s
    maxConcurrency: 10,
    retentionDays: 14,
  },
  notifications: {
    purpose: 'One message per (referral, recipient) delivery.',
    consumer: 'notifier',
    // A crashed or timed-out invocation strands its whole batch for the visibility timeout: 5 keeps that small,
    // and with maxConcurrency 10 still allows 50 POSTs at once, more than any partner needs.
    batchSize: 5,
    maxBatchingWindowSeconds: 1,
    maxReceiveCount: 6,
    visibilityTimeoutSeconds: visibilityTimeoutFor('notifier', 1), // 73 s
    maxConcurrency: 10,
    retentionDays: 14,
  },
};

export const routes: RouteSpec[] = [
  { method: 'POST', path: '/referrals', function: 'intake', access: ['gp-system'] },
  { method: 'POST', path: '/$process-message', function: 'intake', access: ['gp-system'] },
  { method: 'GET', path: '/referrals/{id}', function: 'referralStatus', access: ['gp-system'] },
  { method: 'GET', path: '/ServiceRequest/{id}', function: 'referralStatus', access: ['gp-system'] },
  { method: 'GET', path: '/metadata', function: 'metadata', access: 'public' },
  { method: 'GET', path: '/openapi.json', function: 'metadata', access: 'public' },
];

/** Environment variable holding a table's name, e.g. `REFERRALS_TABLE`. */
export const tableEnvVar = (table: TableName): string => `${table.toUpperCase()}_TABLE`;

/** Environment variable holding a queue's URL, e.g. `NOTIFICATIONS_QUEUE_URL`. */
export const queueEnvVar = (queue: QueueName): string => `${queue.toUpperCase()}_QUEUE_URL`;

/** The environment a function needs, given how each table and queue is named or addressed on a target. */
export function functionEnvironment(
  fn: FunctionName,
  tableNameOf: (table: TableName) => string,
  queueUrlOf: (queue: QueueName) => string,
  settingOf: (setting: SettingName) => string = () => '',
): Record<string, string> {
  const spec = functions[fn];
  const env: Record<string, string> = {
    POWERTOOLS_SERVICE_NAME: serviceName,
    POWERTOOLS_METRICS_NAMESPACE: metricsNamespace,
  };
  for (const table of Object.keys(spec.tables) as TableName[]) env[tableEnvVar(table)] = tableNameOf(table);
  for (const queue of spec.sendsTo) env[queueEnvVar(queue)] = queueUrlOf(queue);
  for (const setting of spec.settings ?? []) env[setting] = settingOf(setting);
  return env;
}

export const tableNames = Object.keys(tables) as TableName[];
export const queueNames = Object.keys(queues) as QueueName[];
export const functionNames = Object.keys(functions) as FunctionName[];
