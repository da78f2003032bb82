import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { InterventionCategory } from '#referral/domain/categories.ts';
import type { ServiceCandidate } from '#directory/domain/coverage.ts';
import type {
  LinkWorkerTeam,
  Practice,
  RecipientChannel,
  RecipientKind,
} from '#directory/domain/directory.ts';
import type { AreaKeys, Directory } from '#directory/ports.ts';
import type { ServiceTerms } from '#referral/ports.ts';
import { oncePerInvocation } from '#platform/invocation-scope.ts';

/**
 * The directory as the router and the notifier read it: practices, teams, the coverage index, recipients' channels
 * and services' terms change rarely (an admin's edit, an import), yet a referral used to read ten of them. So a
 * function keeps what it has read, and each invocation asks ONE question first: has the directory changed? Every
 * writer of the directory (the editor behind the admin API and the CLI, the bulk load) adds one to a version item
 * after its write is complete; a function that sees another version than the one its cache was filled at drops the
 * cache. So an edit is seen by the next invocation in every function, as if nothing were cached, at the price of one
 * consistent GetItem per invocation instead of one read per lookup.
 *
 * A writer that crashes between its write and the version's increment leaves caches one edit behind; the edit's
 * retry (the admin client's, or the CLI's next run) increments it, and entries are dropped after `maxAgeMs` anyway.
 * Outside an invocation (an ops command, a test calling a use case) the version is read before every lookup.
 */

/** The item every directory writer increments. No record has this key (records are `<KIND>#<id>`). */
export const directoryVersionKey = { pk: 'DIRECTORY', sk: 'VERSION' } as const;

/** After a directory write is complete: caches filled before it are dropped by their next invocation. */
export async function markDirectoryChanged(client: DynamoDBDocumentClient, tableName: string): Promise<void> {
  await client.send(
    new UpdateCommand({
      TableName: tableName,
      Key: directoryVersionKey,
      UpdateExpression: 'ADD #version :one SET changedAt = :at',
      ExpressionAttributeNames: { '#version': 'version' },
      ExpressionAttributeValues: { ':one': 1, ':at': new Date().toISOString() },
    }),
  );
}

export interface DirectoryCacheOptions {
  /** Entries older than this are read again whatever the version says (5 minutes). */
  maxAgeMs?: number;
  /** At most this many entries (the coverage index has one per need and area key); the oldest go first. */
  maxEntries?: number;
  now?: () => number;
}

export class DirectoryCache {
  private readonly entries = new Map<string, { value: Promise<unknown>; at: number }>();
  private version: number | undefined;
  private readonly maxAgeMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: DirectoryCacheOptions = {},
  ) {
    this.maxAgeMs = options.maxAgeMs ?? 300_000;
    this.maxEntries = options.maxEntries ?? 5_000;
    this.now = options.now ?? Date.now;
  }

  /** `load`'s answer for `key`, read once while the directory's version stays the same. */
  async read<T>(key: string, load: () => Promise<T>): Promise<T> {
    const version = await oncePerInvocation(`directory-version ${this.tableName}`, () =>
      this.currentVersion(),
    );
    if (version !== this.version) {
      this.entries.clear();
      this.version = version;
    }
    const known = this.entries.get(key);
    if (known && this.now() - known.at < this.maxAgeMs) return known.value as Promise<T>;
    const value = load();
    this.entries.delete(key);
    this.entries.set(key, { value, at: this.now() });
    // A failed read is not kept: the next lookup tries again.
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return value;
  }

  private async currentVersion(): Promise<number> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: directoryVersionKey, ConsistentRead: true }),
    );
    return Number(Item?.version ?? 0);
  }
}

/** The Directory port through the cache. */
export function cachedDirectory(cache: DirectoryCache, directory: Directory): Directory {
  return {
    practice: (ods: string): Promise<Practice | undefined> =>
      cache.read(`practice ${ods}`, () => directory.practice(ods)),
    teamForPcn: (pcn: string): Promise<LinkWorkerTeam | undefined> =>
      cache.read(`team ${pcn}`, () => directory.teamForPcn(pcn)),
    servicesCovering: (category: InterventionCategory, area: AreaKeys): Promise<ServiceCandidate[]> =>
      cache.read(`covering ${category} ${JSON.stringify(area)}`, () =>
        directory.servicesCovering(category, area),
      ),
    channelOf: (kind: RecipientKind, id: string): Promise<RecipientChannel | undefined> =>
      cache.read(`channel ${kind} ${id}`, () => directory.channelOf(kind, id)),
  };
}

/** Services' terms (their response times, which an offer's deadline comes from) through the cache. */
export function cachedServiceTerms(cache: DirectoryCache, terms: ServiceTerms): ServiceTerms {
  return {
    responseDays: (serviceId: string) =>
      cache.read(`terms ${serviceId}`, () => terms.responseDays(serviceId)),
  };
}
