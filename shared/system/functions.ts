/**
 * The system's functions and their grants: what each Lambda is for, its entry file, timeout and memory, the tables
 * it may read or write and the queues it may send to. Grants are least privilege, and a function's environment is
 * derived from them (shared/system/environment.ts). Part of the ONE system description (shared/system/).
 */
import { notifierTimeoutSeconds } from '#system/limits.ts';
import type { FunctionName, QueueName, TableName } from '#system/names.ts';

/**
 * - `read`: get, query, scan.
 * - `readWrite`: read, put, update, delete.
 * - `append`: Query and PutItem, nothing else (no get, scan, update, delete or batch write), for the append-only
 *   audit table: a function reads its chain's head and adds the next link but never changes or removes one. IAM
 *   cannot require the put's condition; the audit adapter always writes with `attribute_not_exists(seq)`, the
 *   contract suite shows a repeat or a race adds no second link, and `npm run audit -- verify` finds any link
 *   changed, removed or moved after it was written (docs/audit.md).
 */
export type TableAccess = 'read' | 'readWrite' | 'append';

/** Settings a target must provide (CDK from context, the local stack from its development issuer). */
export const settingNames = ['JWT_ISSUER', 'JWT_AUDIENCE', 'JWKS_URL', 'INBOX_URL', 'EMAIL_FROM'] as const;
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
  /**
   * Recipients' webhook signing secrets: `read` (to sign what it sends) or `write` (to store a recipient's secret).
   * In the stack, one Secrets Manager secret per recipient under the stack's prefix; locally, a file.
   */
  recipientSecrets?: 'read' | 'write';
  /**
   * Reads the evaluation extract's pseudonym key (a keyed hash's secret): in the stack one generated Secrets Manager
   * secret that no other function may read; locally a file in the secret store.
   */
  pseudonymKey?: 'read';
  /**
   * Sends email through SES v2 (`ses:SendEmail`), only from the EMAIL_FROM address: the email channel's nudges,
   * which carry no patient data.
   */
  sendsEmail?: boolean;
  /** A folder of static files (relative to the project root) the function reads beside its code. */
  assets?: string;
  /**
   * Run on a timer: EventBridge Scheduler in the stack (infra/constructs/schedules.ts), a timer in the local stack
   * (infra/local/schedules.ts). Each run must be safe to repeat and to overlap: a schedule may fire twice.
   */
  schedule?: { everyMinutes: number };
}

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
      audit: 'append',
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
    // Each read of a referral by a person or partner is audited.
    tables: { referrals: 'read', audit: 'append' },
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
    // About twenty-five DynamoDB requests and one SQS batch per referral, the records of a batch in parallel: tens of
    // milliseconds in AWS. 10 s leaves room for SDK retries and a loaded local machine; a crashed batch then
    // returns after 61 s (visibility), not 181 s.
    timeoutSeconds: 10,
    memoryMb: 512,
    tables: {
      referrals: 'readWrite',
      audit: 'append',
      // Also read: services' weekly match counts, for weekly limits.
      metrics: 'readWrite',
      directory: 'read',
      // Where the patient's postcode is and how deprived its LSOA is.
      geography: 'read',
    },
    sendsTo: ['notifications'],
  },
  notifier: {
    purpose:
      'Delivers one notice to one recipient by its channel (a signed webhook, an email with no patient data, or ' +
      'the worklist only) and records the delivery; retries with backoff.',
    entry: 'functions/notifier/handler.ts',
    // One webhook POST per record (bounded by webhookTimeoutSeconds) and about five DynamoDB requests, the records
    // of a batch in parallel (Powertools BatchProcessor). A stop notice after a cancellation that raced the POST is
    // a second POST; if both are slow it does not fit, the invocation times out and the retry sends the stop notice.
    timeoutSeconds: notifierTimeoutSeconds,
    memoryMb: 256,
    tables: {
      referrals: 'readWrite',
      audit: 'append',
      metrics: 'readWrite',
      directory: 'read',
      idempotency: 'readWrite',
    },
    sendsTo: [],
    recipientSecrets: 'read',
    // Email recipients are sent a nudge (no patient data) from EMAIL_FROM with a link to INBOX_URL.
    sendsEmail: true,
    settings: ['INBOX_URL', 'EMAIL_FROM'],
  },
  directoryAdmin: {
    purpose:
      'Creates, updates, pauses and retires link-worker teams, VCSE partners and services (version-guarded, ' +
      "audited) and makes recipients' signing secrets.",
    entry: 'functions/directory-admin/handler.ts',
    // A few DynamoDB requests per edit; a partner's change re-indexes each of its services (a handful of requests
    // each) and a new or rotated secret is one Secrets Manager call.
    timeoutSeconds: 10,
    memoryMb: 256,
    tables: { directory: 'readWrite', audit: 'append' },
    sendsTo: [],
    recipientSecrets: 'write',
  },
  caseWork: {
    purpose:
      "Link workers' and partners' worklists and actions: accept, decline, contact, start, close; a partner's decline " +
      'offers the need to the next match or returns it to the link worker.',
    entry: 'functions/case-work/handler.ts',
    // A read, one conditional write, an audit entry and a count per action; a decline's next match adds an offer,
    // a re-route write and one SQS send. Well under a second; 6 s leaves room for SDK retries.
    timeoutSeconds: 6,
    memoryMb: 256,
    tables: {
      referrals: 'readWrite',
      audit: 'append',
      metrics: 'readWrite',
      // The next match's response days (its service's profile).
      directory: 'read',
    },
    // A re-offer's partner is told through the notifier.
    sendsTo: ['notifications'],
  },
  inboxPage: {
    purpose:
      "Serves the partners' and link workers' inbox page (HTML, script, style): static, public, no data of its own.",
    entry: 'functions/inbox-page/handler.ts',
    timeoutSeconds: 3,
    memoryMb: 128,
    tables: {},
    sendsTo: [],
    // The page's files, copied beside the bundle (the handler reads them when it loads).
    assets: 'functions/inbox-page/assets',
  },
  outcomes: {
    purpose:
      "Records a referral's outcome measures (ONS4, UCLA-3 and the direct loneliness question, SWEMWBS) at baseline " +
      'and follow-up for its link-worker team, and shows them with the change from baseline.',
    entry: 'functions/outcomes/handler.ts',
    // A GetItem, a Query of the referral's few sets, one conditional put and an audit entry: tens of milliseconds.
    timeoutSeconds: 5,
    memoryMb: 256,
    // The referral (to check its team) and its sets beside it; each recording audited. A retry is told apart by the
    // set's id (its key), so no idempotency table is needed. Each set's outcome figures are counted in metrics.
    tables: { referrals: 'readWrite', audit: 'append', metrics: 'readWrite' },
    sendsTo: [],
  },
  deadlines: {
    purpose:
      'Chases offers past their deadline: one reminder to the partner, then expiry, the link worker told and the need offered to the next match.',
    entry: 'functions/deadlines/handler.ts',
    // At most 200 due offers a run, a few DynamoDB requests each, one at a time: well under a minute.
    timeoutSeconds: 60,
    memoryMb: 256,
    tables: {
      referrals: 'readWrite',
      audit: 'append',
      metrics: 'readWrite',
      // Services' response days, for the deadline of a re-offer.
      directory: 'read',
    },
    // Reminders, withdrawals and the re-offer's notice.
    sendsTo: ['notifications'],
    schedule: { everyMinutes: 5 },
  },
  responseRecords: {
    purpose:
      "Recomputes every active partner's response record (acceptance, median response time, decline reasons, expiries over 90 days) for matching.",
    entry: 'functions/response-records/handler.ts',
    // One Query of the partner's days and at most one write per partner, partners one at a time: a few thousand
    // partners in well under the timeout.
    timeoutSeconds: 300,
    memoryMb: 256,
    tables: {
      // Partners' answers, counted once per offer by the case-work and deadline functions.
      metrics: 'read',
      // The partner's record, and its services' coverage index entries, which embed it.
      directory: 'readWrite',
    },
    sendsTo: [],
    schedule: { everyMinutes: 1440 },
  },
  surges: {
    purpose:
      "Finds yesterday's surges: each intervention category x area's needs against the same weekday over the 8 weeks before, each surge recorded once for the surges report.",
    entry: 'functions/surges/handler.ts',
    // Two or three Queries of the needs figures over 57 days, one of the day's surges, a write per surge: seconds.
    timeoutSeconds: 60,
    memoryMb: 256,
    // The figures (read) and the surge rows (written, each once) are in the metrics table.
    tables: { metrics: 'readWrite' },
    sendsTo: [],
    schedule: { everyMinutes: 1440 },
  },
  evaluation: {
    purpose:
      'Makes the evaluation extract: one pseudonymised row per referral received in a date range (codes, bands and ' +
      'ISO weeks only), refused when a combination of the quasi-identifiers holds fewer than k people.',
    entry: 'functions/evaluation/handler.ts',
    // One Query per month and one per referral, eight at a time, then the k check in memory: a few thousand
    // referrals in seconds. API Gateway answers after 29 s whatever the function does, so a range is capped (the
    // route allows 93 days; the CLI any).
    timeoutSeconds: 28,
    memoryMb: 1024,
    // The referrals through their `received` index, and each practice's PCN.
    tables: { referrals: 'read', directory: 'read' },
    sendsTo: [],
    pseudonymKey: 'read',
  },
  reports: {
    purpose:
      "Answers the observatory's reports (volumes, surges, funnel, deprivation, gaps, partners, outcomes) as JSON or " +
      'CSV from the pre-aggregated figures only; small counts suppressed for commissioners.',
    entry: 'functions/reports/handler.ts',
    // One or two families a report, each one Query a month of the range (at most 13 for 366 days), in parallel:
    // well under a second. 10 s leaves room for SDK retries and paging.
    timeoutSeconds: 10,
    memoryMb: 256,
    // The figures only: never a referral, never the directory.
    tables: { metrics: 'read' },
    sendsTo: [],
  },
  // (issue 10 functions)
  observatoryPage: {
    purpose:
      "Serves the observatory page (HTML, scripts, style): commissioners' and ops' charts of the reports API; static, public, no data of its own.",
    entry: 'functions/observatory-page/handler.ts',
    timeoutSeconds: 3,
    memoryMb: 128,
    tables: {},
    sendsTo: [],
    // The page's files, copied beside the bundle (the handler reads them when it loads).
    assets: 'functions/observatory-page/assets',
  },
};

export const functionNames = Object.keys(functions) as FunctionName[];
