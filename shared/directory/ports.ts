import type { InterventionCategory } from '#referral/domain/categories.ts';
import type {
  LinkWorkerTeam,
  Partner,
  Pcn,
  Practice,
  RecipientKind,
  SecretOwnerKind,
  Service,
  RecipientChannel,
} from '#directory/domain/directory.ts';
import type { ServiceCandidate } from '#directory/domain/coverage.ts';

/**
 * Where a patient is, as the coverage index is keyed: always a postcode district, and the LSOA and local authority
 * when the postcode was found in the geography.
 */
export interface AreaKeys {
  district: string;
  lsoa?: string;
  /**
   * Every LSOA code the postcode has (its 2011 and 2021 codes, when both are known and differ): a service listing
   * either covers it. Looked up with `lsoa`, each once.
   */
  lsoas?: readonly string[];
  localAuthority?: string;
}

/** The service directory as use cases read it: practices, teams, services by need and area, recipients' channels. */
export interface Directory {
  practice(ods: string): Promise<Practice | undefined>;
  teamForPcn(pcn: string): Promise<LinkWorkerTeam | undefined>;
  /** Services offering `category` that cover any of the area's keys (one indexed lookup per key, never a scan). */
  servicesCovering(category: InterventionCategory, area: AreaKeys): Promise<ServiceCandidate[]>;
  channelOf(kind: RecipientKind, id: string): Promise<RecipientChannel | undefined>;
}

/**
 * Recipients' webhook signing secrets, kept out of the directory table: AWS Secrets Manager in the stack (one secret
 * per recipient), a local file in `npm start`. Reads may be cached for a few minutes, so a rotated secret is used
 * within that time.
 */
export interface RecipientSecrets {
  secretOf(kind: SecretOwnerKind, id: string): Promise<string | undefined>;
}

/** Writing secrets: the directory's import and admin paths, never the delivery path. */
export interface RecipientSecretsWriter extends RecipientSecrets {
  putSecret(kind: SecretOwnerKind, id: string, secret: string): Promise<void>;
}

/** The directory's editable records, by kind. */
export interface DirectoryRecords {
  team: LinkWorkerTeam;
  partner: Partner;
  service: Service;
}
export type DirectoryRecordKind = keyof DirectoryRecords;

/**
 * Changing the directory (the admin API and `npm run directory -- import`). Teams, partners and services are
 * versioned: `create` refuses an id that exists, `replace` writes version + 1 only if the stored version is
 * `expectedVersion` (else a typed conflict saying which version is stored), and a service's coverage index entries
 * are kept equal to its coverage (entries for areas it no longer covers, or for a retired service, are removed).
 * Nothing is ever deleted: retiring is a replace with `status: 'retired'`.
 */
export interface DirectoryEditor {
  get<K extends DirectoryRecordKind>(kind: K, id: string): Promise<DirectoryRecords[K] | undefined>;
  create<K extends DirectoryRecordKind>(kind: K, record: DirectoryRecords[K]): Promise<DirectoryRecords[K]>;
  replace<K extends DirectoryRecordKind>(
    kind: K,
    record: DirectoryRecords[K],
    expectedVersion: number,
  ): Promise<DirectoryRecords[K]>;
  /** Every record of a kind, for export (a full read: never on a referral's path). */
  list<K extends DirectoryRecordKind>(kind: K): AsyncIterable<DirectoryRecords[K]>;
  /**
   * A PCN by its code, as `putPractices` last put it (or the seed loaded it); undefined for a code never put. PCNs
   * are reference data with no status: one is never retired or removed, so a code once known stays known.
   */
  pcn(code: string): Promise<Pcn | undefined>;
  /** PCNs and practices, as an ODS membership file gives them: put as they are (unversioned reference data). */
  putPractices(pcns: Pcn[], practices: Practice[]): Promise<void>;
}
