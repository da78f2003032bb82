import { randomBytes, randomUUID } from 'node:crypto';
import type { AuditLog } from '#audit/ports.ts';
import {
  channelProblem,
  DirectoryId,
  type ChannelPolicy,
  type CapacityState,
  type LinkWorkerTeam,
  type RecipientKind,
  type Service,
} from '#directory/domain/directory.ts';
import type {
  Directory,
  DirectoryEditor,
  DirectoryRecordKind,
  DirectoryRecords,
  RecipientSecretsWriter,
} from '#directory/ports.ts';
import type { Clock } from '#kernel/clock.ts';
import {
  ConflictError,
  NotFoundError,
  UnprocessableError,
  ValidationError,
  VersionConflictError,
} from '#kernel/errors.ts';
import { parseWith } from '#kernel/validation.ts';
import { canChange } from '#directory/domain/retiring.ts';
import {
  EmptyRequest,
  requestSchemas,
  VersionedActionRequest,
  type RotatedSecretAnswer,
} from '#directory/application/admin-requests.ts';

/**
 * The directory's admin use cases: create, update and retire link-worker teams, VCSE partners and services; pause
 * and resume a service; rotate a recipient's signing secret. Every change is version-guarded (the caller names the
 * version it read; a stale change is a 409 that writes nothing), retiring is final and deletes nothing (a retired
 * service takes no new referrals and keeps its history), and every change is audited under
 * `directory#<kind>#<id>` with event key `v<version>`, so a repeated change is audited once.
 *
 * Sending the same change again (its answer was lost) is safe: the editor answers the record as stored and
 * finishes its index, and the audit entry of that version is written once.
 *
 * Creating a team or partner makes its webhook signing secret, stores it in the secret store and answers it once;
 * it is never readable through the API afterwards (rotate-secret makes a new one). The record is created before the
 * secret is stored, so a create that hits an existing id never touches that recipient's secret; a create whose
 * secret was never stored (a crash in between) is finished by sending it again.
 */

export interface DirectoryAdminDeps {
  editor: DirectoryEditor;
  /** Practices, to check a team's list of practices. */
  directory: Pick<Directory, 'practice'>;
  secrets: RecipientSecretsWriter;
  audit: AuditLog;
  clock: Clock;
  /** Where a team's or partner's webhook may go (a deployment setting): a channel it refuses is a 422. */
  channels: ChannelPolicy;
  /** A new signing secret; random unless a test fixes it. */
  newSecret?: () => string;
}

/** Who made the change, as the audit trail names them. */
export type AdminActor = string;

/** A Standard Webhooks signing secret: `whsec_` and the base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export interface Created<K extends DirectoryRecordKind> {
  record: DirectoryRecords[K];
  /** Teams and partners only: their new signing secret, answered this once. */
  signingSecret?: string;
}

/** Records compared by content, whatever the order of their keys. */
function sameRecord(a: unknown, b: unknown): boolean {
  const canonical = (value: unknown) =>
    JSON.stringify(value, (_key, item: unknown) =>
      item !== null && typeof item === 'object' && !Array.isArray(item)
        ? Object.fromEntries(
            Object.entries(item as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : 1)),
          )
        : item,
    );
  return canonical(a) === canonical(b);
}

const isRecipient = (kind: DirectoryRecordKind): kind is RecipientKind => kind !== 'service';

/** A directory id from the path (400 if it cannot be one). */
export function directoryIdFrom(raw: string | undefined): string {
  const parsed = DirectoryId.safeParse(raw ?? '');
  if (!parsed.success)
    throw new ValidationError([
      {
        field: 'id',
        rule: 'must be a directory id: lower-case letters, digits and single hyphens, at most 64 characters',
        kind: 'value',
      },
    ]);
  return parsed.data;
}

export async function getRecord<K extends DirectoryRecordKind>(
  deps: Pick<DirectoryAdminDeps, 'editor'>,
  kind: K,
  id: string,
): Promise<DirectoryRecords[K]> {
  const record = await deps.editor.get(kind, id);
  if (!record) throw new NotFoundError(`There is no ${kind} ${id} in the directory`);
  return record;
}

export async function createRecord<K extends DirectoryRecordKind>(
  deps: DirectoryAdminDeps,
  kind: K,
  body: unknown,
  actor: AdminActor,
): Promise<Created<K>> {
  const record = parseWith(requestSchemas[kind].create, body) as DirectoryRecords[K];
  await checkReferences(deps, kind, record, undefined);
  const existing = await deps.editor.get(kind, record.id);
  if (existing) {
    // The one create that may meet its own record: the same create again, whose secret was never stored.
    const unfinished =
      sameRecord(existing, record) &&
      (!isRecipient(kind) || (await deps.secrets.secretOf(kind, record.id)) === undefined);
    if (!unfinished) throw new VersionConflictError({ kind, id: record.id }, 'exists', existing.version);
  }
  const created = await deps.editor.create(kind, record);
  await audit(deps, kind, created, 'created', actor);
  if (!isRecipient(kind)) return { record: created };
  const signingSecret = (deps.newSecret ?? newWebhookSecret)();
  await deps.secrets.putSecret(kind, created.id, signingSecret);
  return { record: created, signingSecret };
}

/** PUT: the whole record, with `version` the version the edit was made on. */
export async function updateRecord<K extends DirectoryRecordKind>(
  deps: DirectoryAdminDeps,
  kind: K,
  id: string,
  body: unknown,
  actor: AdminActor,
): Promise<DirectoryRecords[K]> {
  const edited = parseWith(requestSchemas[kind].edit, body) as DirectoryRecords[K];
  if (edited.id !== id)
    throw new ValidationError([
      { field: 'id', rule: `must be the id in the path (${id}): an id never changes`, kind: 'value' },
    ]);
  const stored = await getRecord(deps, kind, id);
  if (!canChange(stored, edited))
    throw new ConflictError(
      `${kind} ${id} is retired (version ${stored.version}), and retiring is final: create a new ${kind} instead`,
    );
  await checkReferences(deps, kind, edited, stored);
  const action = stored.status === 'active' && edited.status === 'retired' ? 'retired' : 'updated';
  return change(deps, kind, stored, edited, edited.version, action, actor);
}

export async function retireRecord<K extends DirectoryRecordKind>(
  deps: DirectoryAdminDeps,
  kind: K,
  id: string,
  body: unknown,
  actor: AdminActor,
): Promise<DirectoryRecords[K]> {
  const { version } = parseWith(VersionedActionRequest, body);
  const stored = await getRecord(deps, kind, id);
  return change(deps, kind, stored, { ...stored, status: 'retired' }, version, 'retired', actor);
}

/** Pausing stops new referrals to a service for a while (matching rules it out, saying so); resuming opens it. */
export function pauseService(deps: DirectoryAdminDeps, id: string, body: unknown, actor: AdminActor) {
  return changeCapacity(deps, id, body, 'paused', actor);
}

export function resumeService(deps: DirectoryAdminDeps, id: string, body: unknown, actor: AdminActor) {
  return changeCapacity(deps, id, body, 'open', actor);
}

async function changeCapacity(
  deps: DirectoryAdminDeps,
  id: string,
  body: unknown,
  state: Extract<CapacityState, 'paused' | 'open'>,
  actor: AdminActor,
): Promise<Service> {
  const { version } = parseWith(VersionedActionRequest, body);
  const stored = await getRecord(deps, 'service', id);
  if (stored.status === 'retired')
    throw new ConflictError(
      `service ${id} is retired (version ${stored.version}): it takes no referrals, so it cannot be ${state === 'open' ? 'resumed' : 'paused'}`,
    );
  const next = { ...stored, capacity: { ...stored.capacity, state } };
  return change(deps, 'service', stored, next, version, state === 'open' ? 'resumed' : 'paused', actor);
}

/** A new signing secret for a team or partner (retired ones too: they may still be sent a cancellation). */
export async function rotateSigningSecret(
  deps: DirectoryAdminDeps,
  kind: RecipientKind,
  id: string,
  body: unknown,
  actor: AdminActor,
): Promise<RotatedSecretAnswer> {
  parseWith(EmptyRequest, body ?? {});
  const record = await getRecord(deps, kind, id);
  const signingSecret = (deps.newSecret ?? newWebhookSecret)();
  await deps.secrets.putSecret(kind, id, signingSecret);
  const rotatedAt = deps.clock.now().toISOString();
  await deps.audit.append({
    referralId: auditKeyOf(kind, id),
    // Each rotation is its own entry (the record's version does not change).
    eventKey: `secret#${rotatedAt}#${randomUUID().slice(0, 8)}`,
    action: `directory.${kind}.secret-rotated`,
    actor,
    at: rotatedAt,
    detail: { version: record.version },
  });
  return { kind, id, signingSecret, rotatedAt };
}

// ---- Shared steps -----------------------------------------------------------------------------------------------

export type Action = 'created' | 'updated' | 'retired' | 'paused' | 'resumed';

/**
 * One version-guarded change: `next` stored as version + 1 if `version` is still the stored version. No change
 * at all writes nothing; a stale version is the editor's 409; the same change sent again is answered as stored.
 */
async function change<K extends DirectoryRecordKind>(
  deps: DirectoryAdminDeps,
  kind: K,
  stored: DirectoryRecords[K],
  next: DirectoryRecords[K],
  version: number,
  action: Action,
  actor: AdminActor,
): Promise<DirectoryRecords[K]> {
  if (stored.version === version && sameRecord({ ...next, version }, stored)) return stored;
  const written = await deps.editor.replace(kind, next, version);
  await audit(deps, kind, written, action, actor, stored.version === version ? stored : undefined);
  return written;
}

const auditKeyOf = (kind: DirectoryRecordKind, id: string): string => `directory#${kind}#${id}`;

/** The fields that differ between two versions of a record (for the audit entry; never their values). */
function changedFields(before: object, after: object): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  keys.delete('version');
  return [...keys]
    .filter(
      (key) =>
        !sameRecord(
          (before as Record<string, unknown>)[key] ?? null,
          (after as Record<string, unknown>)[key] ?? null,
        ),
    )
    .sort();
}

/** The audit entry of one change, as the admin API writes it (the ORUK import writes the same). */
export async function audit<K extends DirectoryRecordKind>(
  deps: Pick<DirectoryAdminDeps, 'audit' | 'clock'>,
  kind: K,
  record: DirectoryRecords[K],
  action: Action,
  actor: AdminActor,
  before?: DirectoryRecords[K],
): Promise<void> {
  await deps.audit.append({
    referralId: auditKeyOf(kind, record.id),
    eventKey: `v${record.version}`,
    action: `directory.${kind}.${action}`,
    actor,
    at: deps.clock.now().toISOString(),
    detail: {
      version: record.version,
      status: record.status,
      ...(kind === 'service' ? { capacity: (record as Service).capacity.state } : {}),
      ...(before ? { changed: changedFields(before, record) } : {}),
    },
  });
}

/**
 * What a record names must exist: a team's PCN and its practices (in that PCN), a service's partner (active, when
 * the service is new or moves to it); a team's or partner's channel must be one the channel policy allows. 422,
 * naming the field.
 */
async function checkReferences<K extends DirectoryRecordKind>(
  deps: DirectoryAdminDeps,
  kind: K,
  record: DirectoryRecords[K],
  stored: DirectoryRecords[K] | undefined,
): Promise<void> {
  if (isRecipient(kind)) {
    const { channel } = record as DirectoryRecords[RecipientKind];
    // Only a webhook has an address the policy judges: an email goes through SES, a worklist is pushed nothing.
    const problem = channel.kind === 'webhook' ? channelProblem(channel.url, deps.channels) : undefined;
    if (problem) throw new UnprocessableError('channel.url', problem);
  }
  if (kind === 'team') {
    const team = record as LinkWorkerTeam;
    // Routing finds a team through its PCN's practices, so a team for a PCN the directory does not know would be
    // stored and never sent a referral. PCNs have no status (none is retired), so being known is the whole rule.
    if (!(await deps.editor.pcn(team.pcn)))
      throw new UnprocessableError(
        'pcn',
        `must be a PCN in the directory, and ${team.pcn} is not: PCNs come from the ODS membership file (npm run directory -- import-practices)`,
      );
    for (const [index, ods] of (team.practices ?? []).entries()) {
      const practice = await deps.directory.practice(ods);
      if (!practice)
        throw new UnprocessableError(`practices.${index}`, `practice ${ods} is not in the directory`);
      if (practice.pcn !== team.pcn)
        throw new UnprocessableError(
          `practices.${index}`,
          `practice ${ods} is in PCN ${practice.pcn}, not the team's PCN ${team.pcn}`,
        );
    }
  }
  if (kind === 'service') {
    const service = record as Service;
    const partner = await deps.editor.get('partner', service.partnerId);
    if (!partner)
      throw new UnprocessableError('partnerId', `partner ${service.partnerId} is not in the directory`);
    const joining = (stored as Service | undefined)?.partnerId !== service.partnerId;
    if (joining && partner.status !== 'active')
      throw new UnprocessableError(
        'partnerId',
        `partner ${service.partnerId} is retired: a service needs an active partner`,
      );
  }
}
