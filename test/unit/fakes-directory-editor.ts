import type { InterventionCategory } from '#referral/domain/categories.ts';
import type {
  DirectorySnapshot,
  LinkWorkerTeam,
  Pcn,
  Practice,
  RecipientKind,
  RecipientChannel,
} from '#directory/domain/directory.ts';
import { candidateOf, type ServiceCandidate } from '#directory/domain/coverage.ts';
import type {
  AreaKeys,
  Directory,
  DirectoryEditor,
  DirectoryRecordKind,
  DirectoryRecords,
} from '#directory/ports.ts';
import { ConflictError, NotFoundError, VersionConflictError } from '#kernel/errors.ts';

/**
 * The directory in memory, editable (DirectoryEditor) and readable as matching reads it (Directory), keeping the
 * promises the DynamoDB adapters make (test/contract/directory-editor.contract.ts runs the same cases on both):
 * version-guarded replaces, creates that keep what exists, the same edit sent again answered as a repeat, one active
 * team per PCN, and the coverage index answered from the records themselves (an active service of an active partner,
 * with its partner's current name and status). Everything handed in or out is deep-copied, as a real store would.
 */

const copy = <T>(value: T): T => structuredClone(value);

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item !== null && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(
          Object.entries(item as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : 1)),
        )
      : item,
  );
}
const same = (a: unknown, b: unknown): boolean => canonical(a) === canonical(b);

export class InMemoryDirectoryEditor implements DirectoryEditor, Directory {
  private readonly records: { [K in DirectoryRecordKind]: Map<string, DirectoryRecords[K]> } = {
    team: new Map(),
    partner: new Map(),
    service: new Map(),
  };
  /** The PCN's team as routing reads it (the adapter's `PCN#<code>` / `TEAM` item). */
  private readonly pcnTeams = new Map<string, LinkWorkerTeam>();
  private readonly pcns = new Map<string, Pcn>();
  private readonly practices = new Map<string, Practice>();
  readonly calls = { create: 0, replace: 0 };

  constructor(snapshot?: DirectorySnapshot) {
    if (!snapshot) return;
    for (const pcn of snapshot.pcns) this.pcns.set(pcn.code, copy(pcn));
    for (const practice of snapshot.practices) this.practices.set(practice.ods, copy(practice));
    for (const team of snapshot.teams) {
      this.records.team.set(team.id, copy(team));
      this.pcnTeams.set(team.pcn, copy(team));
    }
    for (const partner of snapshot.partners) this.records.partner.set(partner.id, copy(partner));
    for (const service of snapshot.services) this.records.service.set(service.id, copy(service));
  }

  // ---- DirectoryEditor ------------------------------------------------------------------------------------------

  async get<K extends DirectoryRecordKind>(kind: K, id: string): Promise<DirectoryRecords[K] | undefined> {
    return copy(this.store(kind).get(id));
  }

  async create<K extends DirectoryRecordKind>(
    kind: K,
    record: DirectoryRecords[K],
  ): Promise<DirectoryRecords[K]> {
    this.calls.create++;
    // As the adapter: the PCN is checked before anything else, then whether the id is taken.
    if (kind === 'team') this.assertPcnFree(record as LinkWorkerTeam);
    const stored = this.store(kind).get(record.id);
    if (stored) {
      if (same(stored, record)) return copy(stored);
      throw new VersionConflictError({ kind, id: record.id }, 'exists', stored.version);
    }
    this.store(kind).set(record.id, copy(record));
    if (kind === 'team') this.pointPcn(undefined, record as LinkWorkerTeam);
    return copy(record);
  }

  async replace<K extends DirectoryRecordKind>(
    kind: K,
    record: DirectoryRecords[K],
    expectedVersion: number,
  ): Promise<DirectoryRecords[K]> {
    this.calls.replace++;
    const next = { ...copy(record), version: expectedVersion + 1 } as DirectoryRecords[K];
    const stored = this.store(kind).get(record.id);
    if (!stored) throw new NotFoundError(`There is no ${kind} ${record.id} in the directory`);
    if (stored.version !== expectedVersion) {
      if (stored.version === expectedVersion + 1 && same(stored, next)) return copy(stored);
      throw new VersionConflictError({ kind, id: record.id }, 'stale', stored.version, expectedVersion);
    }
    if (kind === 'team') this.assertPcnFree(next as LinkWorkerTeam);
    this.store(kind).set(record.id, copy(next));
    if (kind === 'team') this.pointPcn(stored as LinkWorkerTeam, next as LinkWorkerTeam);
    return copy(next);
  }

  async *list<K extends DirectoryRecordKind>(kind: K): AsyncIterable<DirectoryRecords[K]> {
    for (const record of [...this.store(kind).values()]) yield copy(record);
  }

  async pcn(code: string): Promise<Pcn | undefined> {
    return copy(this.pcns.get(code));
  }

  async putPractices(pcns: Pcn[], practices: Practice[]): Promise<void> {
    for (const pcn of pcns) this.pcns.set(pcn.code, copy(pcn));
    for (const practice of practices) this.practices.set(practice.ods, copy(practice));
  }

  // ---- Directory (what matching and delivery read) --------------------------------------------------------------

  async practice(ods: string): Promise<Practice | undefined> {
    return copy(this.practices.get(ods));
  }

  async teamForPcn(pcn: string): Promise<LinkWorkerTeam | undefined> {
    return copy(this.pcnTeams.get(pcn));
  }

  async servicesCovering(category: InterventionCategory, area: AreaKeys): Promise<ServiceCandidate[]> {
    const candidates: ServiceCandidate[] = [];
    for (const service of this.records.service.values()) {
      const partner = this.records.partner.get(service.partnerId);
      if (service.status !== 'active' || partner?.status !== 'active') continue;
      if (!service.categories.includes(category)) continue;
      const { districts, lsoas, localAuthorities } = service.coverage;
      const covers =
        districts.includes(area.district) ||
        (area.lsoa !== undefined && lsoas.includes(area.lsoa)) ||
        (area.lsoas ?? []).some((code) => lsoas.includes(code)) ||
        (area.localAuthority !== undefined && localAuthorities.includes(area.localAuthority));
      if (covers) candidates.push(candidateOf(copy(service), copy(partner)));
    }
    return candidates;
  }

  async channelOf(kind: RecipientKind, id: string): Promise<RecipientChannel | undefined> {
    return copy(this.store(kind).get(id)?.channel);
  }

  // ---- As the adapter keeps the PCN's team ----------------------------------------------------------------------

  private store<K extends DirectoryRecordKind>(kind: K): Map<string, DirectoryRecords[K]> {
    return this.records[kind];
  }

  private assertPcnFree(team: LinkWorkerTeam): void {
    if (team.status !== 'active') return;
    const holder = this.pcnTeams.get(team.pcn);
    if (!holder || holder.id === team.id || holder.status !== 'active') return;
    const current = this.records.team.get(holder.id);
    if (current?.status === 'active' && current.pcn === team.pcn)
      throw new ConflictError(
        `PCN ${team.pcn} already has an active link-worker team, ${holder.id} (routing sends a PCN's referrals to one team): retire ${holder.id} first, or give team ${team.id} another PCN`,
      );
    this.pcnTeams.delete(team.pcn);
  }

  private pointPcn(before: LinkWorkerTeam | undefined, team: LinkWorkerTeam): void {
    if (before && before.pcn !== team.pcn && this.pcnTeams.get(before.pcn)?.id === team.id)
      this.pcnTeams.delete(before.pcn);
    const holder = this.pcnTeams.get(team.pcn);
    if (team.status === 'active' || holder?.id === team.id) this.pcnTeams.set(team.pcn, copy(team));
  }
}
