import {
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
  type BatchWriteCommandOutput,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { LinkWorkerTeam, Pcn, Practice, Service } from '#directory/domain/directory.ts';
import { candidateOf } from '#directory/domain/coverage.ts';
import type { DirectoryEditor, DirectoryRecordKind, DirectoryRecords } from '#directory/ports.ts';
import {
  ConflictError,
  DependencyUnavailableError,
  NotFoundError,
  VersionConflictError,
} from '#kernel/errors.ts';
import { appliedUnlessConditionFails } from '#adapters/dynamodb/conditional.ts';
import { coverageKeysOf } from '#adapters/dynamodb/directory-store.ts';
import { markDirectoryChanged } from '#adapters/dynamodb/directory-cache.ts';

/**
 * Changing the directory table (layout in directory-store.ts) through the DirectoryEditor port: the admin API and
 * the directory import. What this adapter writes beside what the reader (DynamoDirectory) reads:
 *   TEAM#<id> | PARTNER#<id> | SERVICE#<id>   PROFILE       the record, plus `indexKeys` (teams and services): the
 *                                                           index partitions that may hold an entry for it
 *   PCN#<code>                                TEAM          the PCN's team (one per PCN: routing reads one)
 *   COVERAGE#<category>#<area>                SERVICE#<id>  the coverage index, as directory-store.ts
 *   PARTNER#<id>                              SERVICE#<id>  a partner's services, so a change of the partner's name,
 *                                                           status or response record finds the index entries that
 *                                                           embed them with one Query (never a Scan)
 *
 * dynalite has no transactions, so a record and its index entries are separate writes. What makes that safe:
 *
 * 1. The profile is written first, with one conditional put (`attribute_not_exists` for a create, `version =
 *    :expected` for a replace), so a stale or duplicate edit writes nothing at all.
 * 2. The profile's `indexKeys` is a superset of the index partitions that may hold an entry for the record: a
 *    replace writes the old `indexKeys` plus the new record's keys, and only once the index entries are written and
 *    the stale ones deleted is it narrowed to the current keys. A crash between the profile write and the index
 *    diff therefore loses nothing: the next write of the record (or the same edit sent again) still knows every
 *    partition an out-of-date entry may be in, and removes it.
 * 3. Sending the same edit again is a repeat, not a conflict: a create of a record identical to the one stored, or
 *    a replace whose result (version expected + 1, same content) is what is stored, answers the stored record and
 *    re-does the index work. So a client that got no 2xx answer retries until it does, and a 2xx answer means the
 *    index is equal to the record.
 * 4. The index work reads the record (and a service's partner) afresh, writes the entries, then reads both again;
 *    if either moved on meanwhile (a concurrent edit of the service or of its partner), it goes round again with the
 *    fresh ones, deleting whatever it wrote that the fresh record does not cover. So two edits racing leave the index
 *    equal to the last of them.
 */

const profile = 'PROFILE';
const prefixOf: Record<DirectoryRecordKind, string> = {
  team: 'TEAM',
  partner: 'PARTNER',
  service: 'SERVICE',
};
const profileKey = (kind: DirectoryRecordKind, id: string) => ({
  pk: `${prefixOf[kind]}#${id}`,
  sk: profile,
});
const pcnTeamKey = (pcn: string) => ({ pk: `PCN#${pcn}`, sk: 'TEAM' });
const pcnTeamPk = (pcn: string): string => `PCN#${pcn}`;
const serviceSk = (serviceId: string): string => `SERVICE#${serviceId}`;

type AnyRecord = DirectoryRecords[DirectoryRecordKind];

interface ProfileItem<K extends DirectoryRecordKind> {
  value: DirectoryRecords[K];
  /** Absent on items loaded by `loadDirectory`: their index is exactly what their record gives. */
  indexKeys?: string[];
}

/** Records compared by content, whatever the order of their keys. */
export function sameRecord(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item !== null && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(
          Object.entries(item as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : 1)),
        )
      : item,
  );
}

const unique = (keys: Iterable<string>): string[] => [...new Set(keys)];

/** Every index partition a record may be listed under, whatever its status (a superset is always safe). */
function indexKeysOf(kind: DirectoryRecordKind, record: AnyRecord): string[] | undefined {
  if (kind === 'team') return [pcnTeamPk((record as LinkWorkerTeam).pcn)];
  if (kind === 'service') return unique(coverageKeysOf(record as Service));
  return undefined;
}

export interface DynamoDirectoryEditorOptions {
  /** Rounds of index work before giving up when the record keeps changing under it (the client then retries). */
  maxIndexRounds?: number;
}

export class DynamoDirectoryEditor implements DirectoryEditor {
  private readonly maxIndexRounds: number;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: DynamoDirectoryEditorOptions = {},
  ) {
    this.maxIndexRounds = options.maxIndexRounds ?? 5;
  }

  async get<K extends DirectoryRecordKind>(kind: K, id: string): Promise<DirectoryRecords[K] | undefined> {
    return (await this.profileOf(kind, id))?.value;
  }

  async create<K extends DirectoryRecordKind>(
    kind: K,
    record: DirectoryRecords[K],
  ): Promise<DirectoryRecords[K]> {
    if (kind === 'team') await this.assertPcnFree(record as LinkWorkerTeam);
    // Listed under its partner before it exists, so a partner's change made meanwhile finds it (a listing whose
    // service turns out to be another's is skipped when read).
    if (kind === 'service') await this.listUnderPartner(record as Service);
    const indexKeys = indexKeysOf(kind, record);
    const created = await appliedUnlessConditionFails(() =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...profileKey(kind, record.id), value: record, ...(indexKeys ? { indexKeys } : {}) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
    if (!created) {
      const stored = await this.profileOf(kind, record.id);
      if (!stored || !sameRecord(stored.value, record))
        throw new VersionConflictError({ kind, id: record.id }, 'exists', stored?.value.version ?? 0);
      // The same create again (its answer was lost, or it crashed before its index was written): finish it.
    }
    await this.reindex(kind, record.id);
    await markDirectoryChanged(this.client, this.tableName);
    return record;
  }

  async replace<K extends DirectoryRecordKind>(
    kind: K,
    record: DirectoryRecords[K],
    expectedVersion: number,
  ): Promise<DirectoryRecords[K]> {
    const next = { ...record, version: expectedVersion + 1 } as DirectoryRecords[K];
    const stored = await this.profileOf(kind, record.id);
    if (!stored) throw new NotFoundError(`There is no ${kind} ${record.id} in the directory`);
    if (stored.value.version !== expectedVersion)
      return this.repeatOrStale(kind, next, expectedVersion, stored);
    if (kind === 'team') await this.assertPcnFree(next as LinkWorkerTeam);
    if (kind === 'service') await this.listUnderPartner(next as Service);
    const newKeys = indexKeysOf(kind, next);
    const indexKeys =
      newKeys && unique([...(stored.indexKeys ?? indexKeysOf(kind, stored.value) ?? []), ...newKeys]);
    const written = await appliedUnlessConditionFails(() =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...profileKey(kind, record.id), value: next, ...(indexKeys ? { indexKeys } : {}) },
          ConditionExpression: '#value.#version = :expected',
          ExpressionAttributeNames: { '#value': 'value', '#version': 'version' },
          ExpressionAttributeValues: { ':expected': expectedVersion },
        }),
      ),
    );
    if (!written) {
      const now = await this.profileOf(kind, record.id);
      if (!now) throw new NotFoundError(`There is no ${kind} ${record.id} in the directory`);
      return this.repeatOrStale(kind, next, expectedVersion, now);
    }
    await this.afterWrite(kind, record.id);
    return next;
  }

  async *list<K extends DirectoryRecordKind>(kind: K): AsyncIterable<DirectoryRecords[K]> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: 'sk = :profile AND begins_with(pk, :prefix)',
          ExpressionAttributeValues: { ':profile': profile, ':prefix': `${prefixOf[kind]}#` },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) yield item.value as DirectoryRecords[K];
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  async pcn(code: string): Promise<Pcn | undefined> {
    // Where loadDirectory and putPractices put it. Read consistently, as the profiles are: an admin who has just
    // imported a PCN's membership file may create its team at once.
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: `PCN#${code}`, sk: profile },
        ConsistentRead: true,
      }),
    );
    return (Item as { value: Pcn } | undefined)?.value;
  }

  async putPractices(pcns: Pcn[], practices: Practice[]): Promise<void> {
    await this.batchWrite([
      ...pcns.map((pcn) => ({ PutRequest: { Item: { pk: `PCN#${pcn.code}`, sk: profile, value: pcn } } })),
      ...practices.map((practice) => ({
        PutRequest: { Item: { pk: `PRACTICE#${practice.ods}`, sk: profile, value: practice } },
      })),
    ]);
    await markDirectoryChanged(this.client, this.tableName);
  }

  // ---- Reading --------------------------------------------------------------------------------------------------

  private async profileOf<K extends DirectoryRecordKind>(
    kind: K,
    id: string,
  ): Promise<ProfileItem<K> | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: profileKey(kind, id), ConsistentRead: true }),
    );
    return Item as ProfileItem<K> | undefined;
  }

  /** A replace refused by its version: the same edit already applied (finish it), or a stale one. */
  private async repeatOrStale<K extends DirectoryRecordKind>(
    kind: K,
    next: DirectoryRecords[K],
    expectedVersion: number,
    stored: ProfileItem<K>,
  ): Promise<DirectoryRecords[K]> {
    if (stored.value.version === expectedVersion + 1 && sameRecord(stored.value, next)) {
      await this.afterWrite(kind, next.id);
      return stored.value;
    }
    throw new VersionConflictError({ kind, id: next.id }, 'stale', stored.value.version, expectedVersion);
  }

  // ---- Index work -----------------------------------------------------------------------------------------------

  private async afterWrite(kind: DirectoryRecordKind, id: string): Promise<void> {
    await this.reindex(kind, id);
    // Its services' index entries embed a partner's name, status and response record.
    if (kind === 'partner') await this.reindexServicesOf(id);
    // Last, once the record and its index are as they will stay: the functions' caches drop what they read before.
    await markDirectoryChanged(this.client, this.tableName);
  }

  private reindex(kind: DirectoryRecordKind, id: string): Promise<void> {
    if (kind === 'team') return this.reindexTeam(id);
    if (kind === 'service') return this.reindexService(id);
    return Promise.resolve();
  }

  /**
   * Makes the coverage index equal to the service as stored: an entry (service + partner) under each key it covers
   * while it and its partner are active, none anywhere else. See 4. above for the re-check.
   */
  private async reindexService(serviceId: string): Promise<void> {
    const written = new Set<string>();
    for (let round = 0; round < this.maxIndexRounds; round++) {
      const stored = await this.profileOf('service', serviceId);
      if (!stored) return;
      const service = stored.value;
      const partner = (await this.profileOf('partner', service.partnerId))?.value;
      const listed = service.status === 'active' && partner?.status === 'active';
      const keys = listed ? unique(coverageKeysOf(service)) : [];
      const mayHoldEntry = [...(stored.indexKeys ?? coverageKeysOf(service)), ...written];
      const stale = unique(mayHoldEntry).filter((key) => !keys.includes(key));
      const candidate = partner && candidateOf(service, partner);
      await this.batchWrite([
        ...keys.map((pk) => ({ PutRequest: { Item: { pk, sk: serviceSk(serviceId), value: candidate } } })),
        ...stale.map((pk) => ({ DeleteRequest: { Key: { pk, sk: serviceSk(serviceId) } } })),
      ]);
      for (const key of keys) written.add(key);

      const after = await this.profileOf('service', serviceId);
      const partnerAfter = await this.profileOf('partner', service.partnerId);
      if (after?.value.version === service.version && partnerAfter?.value.version === partner?.version) {
        await this.narrowIndexKeys('service', stored, keys);
        return;
      }
    }
    throw this.keptChanging('service', serviceId);
  }

  /**
   * Points the team's PCN at it while it is active (refusing if another active team holds the PCN), keeps a retired
   * team's PCN pointing at it only if it already did (so routing finds no active team there), and removes it from a
   * PCN it has left.
   */
  private async reindexTeam(teamId: string): Promise<void> {
    for (let round = 0; round < this.maxIndexRounds; round++) {
      const stored = await this.profileOf('team', teamId);
      if (!stored) return;
      const team = stored.value;
      const own = pcnTeamPk(team.pcn);
      if (team.status === 'active') {
        const claimed = await appliedUnlessConditionFails(() =>
          this.client.send(
            new PutCommand({
              TableName: this.tableName,
              Item: { ...pcnTeamKey(team.pcn), value: team },
              ConditionExpression:
                'attribute_not_exists(pk) OR #value.#id = :id OR #value.#status = :retired',
              ExpressionAttributeNames: { '#value': 'value', '#id': 'id', '#status': 'status' },
              ExpressionAttributeValues: { ':id': teamId, ':retired': 'retired' },
            }),
          ),
        );
        // Only when another team took the PCN between the check before the profile write and here.
        if (!claimed) throw await this.pcnTaken(team, true);
      } else {
        await this.putIfPointing(own, team);
      }
      for (const pk of (stored.indexKeys ?? [own]).filter((key) => key !== own)) {
        await appliedUnlessConditionFails(() =>
          this.client.send(
            new DeleteCommand({
              TableName: this.tableName,
              Key: { pk, sk: 'TEAM' },
              ConditionExpression: '#value.#id = :id',
              ExpressionAttributeNames: { '#value': 'value', '#id': 'id' },
              ExpressionAttributeValues: { ':id': teamId },
            }),
          ),
        );
      }
      const after = await this.profileOf('team', teamId);
      if (after?.value.version === team.version) {
        await this.narrowIndexKeys('team', stored, [own]);
        return;
      }
    }
    throw this.keptChanging('team', teamId);
  }

  private putIfPointing(pk: string, team: LinkWorkerTeam): Promise<boolean> {
    return appliedUnlessConditionFails(() =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk, sk: 'TEAM', value: team },
          ConditionExpression: '#value.#id = :id',
          ExpressionAttributeNames: { '#value': 'value', '#id': 'id' },
          ExpressionAttributeValues: { ':id': team.id },
        }),
      ),
    );
  }

  /**
   * Routing reads one team per PCN, so an active team may not join a PCN another active team serves. Checked before
   * anything is written. A PCN item naming a team that no longer serves there (it moved, or was retired, and a
   * crash kept its index from following) does not count: it is removed.
   */
  private async assertPcnFree(team: LinkWorkerTeam): Promise<void> {
    if (team.status !== 'active') return;
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: pcnTeamKey(team.pcn), ConsistentRead: true }),
    );
    const holder = Item?.value as LinkWorkerTeam | undefined;
    if (!holder || holder.id === team.id || holder.status !== 'active') return;
    const current = await this.get('team', holder.id);
    if (current?.status === 'active' && current.pcn === team.pcn) throw await this.pcnTaken(team);
    await appliedUnlessConditionFails(() =>
      this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: pcnTeamKey(team.pcn),
          ConditionExpression: '#value.#id = :id',
          ExpressionAttributeNames: { '#value': 'value', '#id': 'id' },
          ExpressionAttributeValues: { ':id': holder.id },
        }),
      ),
    );
  }

  /** `stored`: the team's record is already written (another team took the PCN in between): say so. */
  private async pcnTaken(team: LinkWorkerTeam, stored = false): Promise<ConflictError> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: pcnTeamKey(team.pcn), ConsistentRead: true }),
    );
    const holder = (Item?.value as LinkWorkerTeam | undefined)?.id ?? 'another team';
    if (stored)
      return new ConflictError(
        `team ${team.id} is stored (version ${team.version}), but meanwhile ${holder} became PCN ${team.pcn}'s ` +
          `active team, which routing uses: retire one of the two`,
      );
    return new ConflictError(
      `PCN ${team.pcn} already has an active link-worker team, ${holder} (routing sends a PCN's referrals to one ` +
        `team): retire ${holder} first, or give team ${team.id} another PCN`,
    );
  }

  private async listUnderPartner(service: Service): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: `PARTNER#${service.partnerId}`, sk: serviceSk(service.id), serviceId: service.id },
      }),
    );
  }

  private async reindexServicesOf(partnerId: string): Promise<void> {
    const serviceIds: string[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :service)',
          ExpressionAttributeValues: { ':pk': `PARTNER#${partnerId}`, ':service': 'SERVICE#' },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) serviceIds.push(item.serviceId as string);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    // A service that has since moved to another partner is re-indexed with its own partner: harmless.
    for (let i = 0; i < serviceIds.length; i += 10) {
      await Promise.all(serviceIds.slice(i, i + 10).map((id) => this.reindexService(id)));
    }
  }

  /** Once the index is done: the profile's `indexKeys` becomes exactly what is indexed (if it is still that version). */
  private async narrowIndexKeys<K extends DirectoryRecordKind>(
    kind: K,
    stored: ProfileItem<K>,
    keys: string[],
  ): Promise<void> {
    if (stored.indexKeys && sameRecord([...stored.indexKeys].sort(), [...keys].sort())) return;
    await appliedUnlessConditionFails(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: profileKey(kind, stored.value.id),
          UpdateExpression: 'SET indexKeys = :keys',
          ConditionExpression: '#value.#version = :version',
          ExpressionAttributeNames: { '#value': 'value', '#version': 'version' },
          ExpressionAttributeValues: { ':keys': keys, ':version': stored.value.version },
        }),
      ),
    );
  }

  private keptChanging(kind: DirectoryRecordKind, id: string): DependencyUnavailableError {
    return new DependencyUnavailableError(
      `The index of ${kind} ${id} kept changing under concurrent edits; the record is written, send the same edit again to finish`,
    );
  }

  /** Puts and deletes in batches of 25, retrying what DynamoDB leaves unprocessed. */
  private async batchWrite(requests: Array<Record<string, unknown>>): Promise<void> {
    for (let i = 0; i < requests.length; i += 25) {
      let pending: Array<Record<string, unknown>> | undefined = requests.slice(i, i + 25);
      for (let attempt = 0; pending && pending.length > 0; attempt++) {
        if (attempt > 5)
          throw new DependencyUnavailableError('DynamoDB kept directory writes unprocessed after 5 retries');
        const result: BatchWriteCommandOutput = await this.client.send(
          new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }),
        );
        pending = result.UnprocessedItems?.[this.tableName];
        if (pending?.length) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
      }
    }
  }
}
