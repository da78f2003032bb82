import { setTimeout as sleep } from 'node:timers/promises';
import {
  PutCommand,
  QueryCommand,
  ScanCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { nextLink, requestScopedKeyPrefix, type AuditEntry, type AuditLink } from '#audit/domain/chain.ts';
import type { AuditLog, AuditTrail } from '#audit/ports.ts';
import { appliedUnlessConditionFails } from '#adapters/dynamodb/conditional.ts';

/** Sequence numbers are the table's sort key, a string: zero-padded so they sort as numbers (shared/system/tables.ts). */
const seqDigits = 10;
export const seqKey = (seq: number): string => String(seq).padStart(seqDigits, '0');

/** How many of the newest links a request-scoped key (a read) is looked for in. */
const requestScopedTail = 50;

/** Appends that lost the race for the next sequence number re-read the chain and try again, this many times. */
const maxAttempts = 20;

/** A stored link as the chain's domain sees it: the sort key back to a number (NaN if someone wrote nonsense). */
export function linkOfItem(item: Record<string, unknown>): AuditLink {
  const seq = typeof item.seq === 'string' && /^\d+$/.test(item.seq) ? Number(item.seq) : Number.NaN;
  return { ...item, seq } as AuditLink;
}

async function queryAll(
  client: DynamoDBDocumentClient,
  input: QueryCommandInput,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await client.send(new QueryCommand({ ...input, ExclusiveStartKey }));
    items.push(...(page.Items ?? []));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey !== undefined);
  return items;
}

/**
 * Audit table: one hash chain per referral, sort key the zero-padded sequence number. An append reads the chain
 * (a consistent Query of its event keys and head), then puts the next link on condition that its sequence number
 * is free: two writers at once cannot both take it (no fork), and the loser re-reads and appends after the winner
 * (nothing lost), or finds its event key already there (a retried step adds nothing). A link is never updated or
 * deleted: the functions' role may only Query and PutItem (shared/system/functions.ts).
 */
export class DynamoAuditLog implements AuditLog, AuditTrail {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async append(entry: AuditEntry): Promise<void> {
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const links = await this.linksToCheck(entry.eventKey, entry.referralId);
      if (links.some((link) => link.eventKey === entry.eventKey)) return;
      const head = links.length === 0 ? undefined : linkOfItem(links[0]!);
      const link = nextLink(head, entry);
      const applied = await appliedUnlessConditionFails(() =>
        this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...link, seq: seqKey(link.seq) },
            ConditionExpression: 'attribute_not_exists(seq)',
          }),
        ),
      );
      if (applied) return;
      // Another writer took this sequence number: back off a little (jittered, so racers spread) and re-read.
      await sleep(Math.floor(Math.random() * 10 * attempt));
    }
    throw new Error(`audit: could not append to a contended chain after ${maxAttempts} attempts`);
  }

  /**
   * The links an append must see, newest first: the whole chain for a step (a retried step may come days later),
   * or only its tail for a key unique to one request (a read), whose repeat can only be moments old; so reads,
   * which make trails long, cost the same however long the trail.
   */
  private linksToCheck(eventKey: string, referralId: string): Promise<Record<string, unknown>[]> {
    const query: QueryCommandInput = {
      TableName: this.tableName,
      KeyConditionExpression: 'referralId = :id',
      ExpressionAttributeValues: { ':id': referralId },
      // Only what deciding needs: a chain of a few hundred links is then a page or two.
      ProjectionExpression: 'seq, eventKey, #hash',
      ExpressionAttributeNames: { '#hash': 'hash' },
      ConsistentRead: true,
      ScanIndexForward: false,
    };
    if (!eventKey.startsWith(requestScopedKeyPrefix)) return queryAll(this.client, query);
    return this.client
      .send(new QueryCommand({ ...query, Limit: requestScopedTail }))
      .then((page) => page.Items ?? []);
  }

  async chainOf(referralId: string): Promise<AuditLink[]> {
    const items = await queryAll(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'referralId = :id',
      ExpressionAttributeValues: { ':id': referralId },
      ConsistentRead: true,
    });
    return items.map(linkOfItem);
  }
}

/**
 * Every chain's referral id, page by page of a Scan (keys only), each id once: an item collection is stored
 * together and a Scan reads it in order, so an id seen before is mostly the one just seen; the set of ids seen
 * covers a collection split across pages. For operators (npm run audit -- verify), never for functions, whose
 * grant has no Scan. `scanned` counts items, for progress.
 */
export async function* auditChainIds(
  client: DynamoDBDocumentClient,
  tableName: string,
): AsyncGenerator<{ ids: string[]; scanned: number }> {
  const seen = new Set<string>();
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({ TableName: tableName, ProjectionExpression: 'referralId', ExclusiveStartKey }),
    );
    const ids: string[] = [];
    for (const item of page.Items ?? []) {
      const id = String(item.referralId);
      if (seen.has(id)) continue;
      seen.add(id);
      ids.push(id);
    }
    yield { ids, scanned: page.Items?.length ?? 0 };
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey !== undefined);
}
