import { setTimeout as sleep } from 'node:timers/promises';
import {
  PutCommand,
  QueryCommand,
  ScanCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import {
  genesisHash,
  nextLink,
  requestScopedKeyPrefix,
  type AuditEntry,
  type AuditLink,
} from '#audit/domain/chain.ts';
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

/** How many chains a process remembers the head of (the newest ones it touched); each is a few hundred bytes. */
const knownChainsKept = 256;

/** What this process knows of a chain: its head and every event key in it, as of its last full read or append. */
interface KnownChain {
  head: Pick<AuditLink, 'seq' | 'hash'>;
  eventKeys: Set<string>;
}

/**
 * Audit table: one hash chain per referral, sort key the zero-padded sequence number. An append reads the chain
 * (a consistent Query of its event keys and head), then puts the next link on condition that its sequence number
 * is free: two writers at once cannot both take it (no fork), and the loser re-reads and appends after the winner
 * (nothing lost), or finds its event key already there (a retried step adds nothing). A link is never updated or
 * deleted: the functions' role may only Query and PutItem (shared/system/functions.ts).
 *
 * The read is skipped when this process already knows the chain's head: the router appends the routing and then
 * each offer, the notifier the deliveries of one referral, which arrive in one batch. Appends to one chain from one
 * process go one after another, each building on the link the last one wrote, and a put on the known head is as
 * safe as one after a read: if its sequence number is free, nobody has appended since, so the event keys this
 * process knows are the whole chain's; if it is taken, the process forgets the chain and reads it as before.
 */
export class DynamoAuditLog implements AuditLog, AuditTrail {
  private readonly known = new Map<string, KnownChain>();
  private readonly inOrder = new Map<string, Promise<unknown>>();

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async append(entry: AuditEntry, hint: { chainIsNew?: boolean } = {}): Promise<void> {
    const { referralId } = entry;
    // A referral just created has no chain yet, unless an earlier acceptance of it was withdrawn: its first link
    // is put without a read, and if that sequence number is taken the chain is read as usual.
    if (hint.chainIsNew && !this.known.has(referralId)) {
      this.known.set(referralId, { head: { seq: 0, hash: genesisHash }, eventKeys: new Set() });
    }
    const appended = (this.inOrder.get(referralId) ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => this.appendInTurn(entry));
    this.inOrder.set(referralId, appended);
    try {
      await appended;
    } finally {
      if (this.inOrder.get(referralId) === appended) this.inOrder.delete(referralId);
    }
  }

  private async appendInTurn(entry: AuditEntry): Promise<void> {
    const known = this.known.get(entry.referralId);
    if (known) {
      if (known.eventKeys.has(entry.eventKey)) return;
      const link = nextLink(known.head, entry);
      if (await this.put(link)) return this.remember(entry.referralId, link, known.eventKeys);
      this.known.delete(entry.referralId);
    }
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const { links, whole } = await this.linksToCheck(entry.eventKey, entry.referralId);
      const eventKeys = new Set(links.map((l) => String(l.eventKey)));
      const head = links.length === 0 ? undefined : linkOfItem(links[0]!);
      if (eventKeys.has(entry.eventKey)) {
        if (whole && head) this.remember(entry.referralId, head, eventKeys);
        return;
      }
      const link = nextLink(head, entry);
      if (await this.put(link)) {
        if (whole) this.remember(entry.referralId, link, eventKeys);
        return;
      }
      // Another writer took this sequence number: back off a little (jittered, so racers spread) and re-read.
      await sleep(Math.floor(Math.random() * 10 * attempt));
    }
    throw new Error(`audit: could not append to a contended chain after ${maxAttempts} attempts`);
  }

  private put(link: AuditLink): Promise<boolean> {
    return appliedUnlessConditionFails(() =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...link, seq: seqKey(link.seq) },
          ConditionExpression: 'attribute_not_exists(seq)',
        }),
      ),
    );
  }

  private remember(
    referralId: string,
    head: Pick<AuditLink, 'seq' | 'hash' | 'eventKey'>,
    keys: Set<string>,
  ): void {
    const eventKeys = new Set(keys).add(head.eventKey);
    this.known.delete(referralId);
    this.known.set(referralId, { head: { seq: head.seq, hash: head.hash }, eventKeys });
    // The oldest first out: a Map iterates in insertion order, and a touched chain was just re-inserted.
    if (this.known.size > knownChainsKept) this.known.delete(this.known.keys().next().value!);
  }

  /**
   * The links an append must see, newest first: the whole chain for a step (a retried step may come days later),
   * or only its tail for a key unique to one request (a read), whose repeat can only be moments old; so reads,
   * which make trails long, cost the same however long the trail. `whole` says whether that was every link.
   */
  private async linksToCheck(
    eventKey: string,
    referralId: string,
  ): Promise<{ links: Record<string, unknown>[]; whole: boolean }> {
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
    if (!eventKey.startsWith(requestScopedKeyPrefix))
      return { links: await queryAll(this.client, query), whole: true };
    const page = await this.client.send(new QueryCommand({ ...query, Limit: requestScopedTail }));
    return { links: page.Items ?? [], whole: page.LastEvaluatedKey === undefined };
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
