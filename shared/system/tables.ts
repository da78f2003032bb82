/**
 * The system's DynamoDB tables: keys, indexes, expiry. Part of the ONE system description (shared/system/), pure
 * data read by both the CDK stack (infra/stack.ts) and the local runtime (infra/local/), so a table key cannot
 * differ between a laptop and AWS.
 */
import type { TableName } from '#system/names.ts';

export interface TableSpec {
  /** Why the table exists, shown in docs and as the CloudFormation description. */
  purpose: string;
  partitionKey: string;
  sortKey?: string;
  /** Attribute holding an epoch-seconds expiry; DynamoDB deletes the item some time after it. */
  timeToLiveAttribute?: string;
  /** Global secondary indexes, created with the table (CDK and locally) from this one description. */
  indexes?: readonly IndexSpec[];
}

/**
 * A global secondary index. Both keys are strings. `projection` is what an index item carries besides the keys:
 * every attribute, or only the keys (a reader then fetches the item itself).
 */
export interface IndexSpec {
  name: string;
  purpose: string;
  partitionKey: string;
  sortKey?: string;
  projection: 'all' | 'keys-only';
}

export const tables: Record<TableName, TableSpec> = {
  referrals: {
    purpose:
      'Each referral and what belongs to it, one partition per referral: the referral (status, routing, deliveries) ' +
      'at sk "referral"; its offers to partners, responses and outcomes as items beside it.',
    partitionKey: 'referralId',
    // The sort key is there before anything but the referral item needs it: adding one later means a new table
    // and a copy of every referral (the key schema of a DynamoDB table cannot change). Item kinds are prefixes:
    // `referral` (shared/adapters/dynamodb/referral-store.ts); outcome measure sets at `outcome#baseline` (one per
    // referral, so the key refuses a second) and `outcome#follow-up#<takenOn>#<id>`
    // (shared/adapters/dynamodb/outcome-store.ts); then e.g. `response#<at>#<id>`.
    sortKey: 'sk',
    indexes: [
      {
        name: 'worklist',
        purpose:
          "A recipient's worklist, by status, newest first: Query recipientKey = 'team#<id>' or 'partner#<id>', " +
          "optionally begins_with(worklistSortKey, '<status>#'), ScanIndexForward false.",
        // Sparse: only items that set recipientKey are listed. A referral's item is listed on its link-worker
        // team's worklist once routed (`team#<id>`, `<status>#<receivedAt>`); each offer's item (sk
        // `offer#<offerId>`) on its partner's (`partner#<id>`, `<state>#<offeredAt>`). The sort key is rewritten
        // in the same write as every state change (shared/adapters/dynamodb/referral-store.ts, offer-store.ts).
        partitionKey: 'recipientKey',
        // `<status>#<listedAt ISO timestamp>`: one status's entries are contiguous and sort by time.
        sortKey: 'worklistSortKey',
        // A worklist page is then one Query with no GetItem per row. A projection cannot be changed without
        // rebuilding the index, so guessing a list of attributes now would be the migration this avoids; the
        // cost is only that listed items are written twice, and only listed items are.
        projection: 'all',
      },
      {
        name: 'deadlines',
        purpose:
          "Offers waiting for their partner's answer, by deadline: Query deadlineKey = 'open' AND deadlineAt <= now " +
          '(the deadline job), oldest first.',
        // Sparse: an offer carries the pair only while it is `offered` (shared/adapters/dynamodb/offer-store.ts), so
        // the index holds what is waiting, not every offer ever made. One partition: waiting offers number in the
        // thousands, far below a partition's limits; a hot day could shard it by deadline day.
        partitionKey: 'deadlineKey',
        sortKey: 'deadlineAt',
        // The job reads each due offer with a consistent read before acting on it anyway.
        projection: 'keys-only',
      },
      {
        name: 'received',
        purpose:
          "Referrals by when they were received, for the evaluation extract: Query receivedMonth = 'YYYY-MM' AND " +
          'receivedAt BETWEEN from AND to, one Query per month of the range, never a scan.',
        // Sparse: only the referral's own item carries receivedMonth (set once, when it is created:
        // shared/adapters/dynamodb/referral-store.ts), so offers and outcome sets are not listed. One partition per
        // month: a month's referrals are tens of thousands at most, far within a partition's limits.
        partitionKey: 'receivedMonth',
        sortKey: 'receivedAt',
        // The extract reads each referral's whole partition (the referral with its offers and outcome sets) anyway.
        projection: 'keys-only',
      },
    ],
  },
  audit: {
    purpose:
      'Append-only, tamper-evident record of who did what to which referral: one hash chain per referral, one ' +
      'item per step or read (never updated or deleted).',
    partitionKey: 'referralId',
    // The link's sequence number, zero-padded to 10 digits ("0000000001") so it sorts as a number: an append puts
    // the next one on condition it is free, so two writers cannot fork a chain (shared/adapters/dynamodb/audit-log.ts,
    // docs/audit.md). This is a NEW table: the sort key was `eventKey`, and a key schema cannot change, so the stack
    // replaces the table (CloudFormation makes a new one under a new name; the old one is retained, not deleted,
    // and its entries are not chained). No data migration is attempted: the old entries stay readable there.
    sortKey: 'seq',
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
  geography: {
    purpose:
      'Postcode locations (LSOA, local authority, country; live or terminated) from the ONS NSPL/ONSPD, and each ' +
      'English LSOA\'s IMD rank and decile by edition, imported with "npm run geography".',
    // pk `PC#<compact postcode>` sk `LOCATION`; pk `LSOA#<code>` sk `IMD#<edition>` (shared/adapters/dynamodb/geography-store.ts).
    partitionKey: 'pk',
    sortKey: 'sk',
  },
};

export const tableNames = Object.keys(tables) as TableName[];
