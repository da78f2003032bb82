import { randomBytes } from 'node:crypto';
import { channelProblem, Partner, Service, type ChannelPolicy } from '#directory/domain/directory.ts';
import {
  importOruk,
  partnerDraftOf,
  serviceDraftOf,
  type ImportProblem,
  type PartnerDraft,
  type ServiceDraft,
  type UnsaidPartnerField,
  type UnsaidServiceField,
} from '#directory/domain/oruk.ts';
import { canChange, retiringIsFinal } from '#directory/domain/retiring.ts';
import type { DirectoryEditor, DirectoryRecords, RecipientSecretsWriter } from '#directory/ports.ts';
import { audit } from '#directory/application/edit-directory.ts';
import type { AuditLog } from '#audit/ports.ts';
import { systemClock, type Clock } from '#kernel/clock.ts';
import { canonicalJson } from '#kernel/ids.ts';
import { mapLimit } from './map-limit.ts';

/**
 * `npm run directory -- import FILE`: an Open Referral UK file into the directory, all or nothing.
 *
 * 1. The whole file is read (`importOruk`): every bad record is found, with its path and rule.
 * 2. Each record is compared with the directory: new (created), different (replaced at the version read), or equal
 *    (left alone). What only our extension can say and the file does not (a partner's channel and status, a
 *    service's signposting, response days, capacity, criteria, contact phone) is kept from the stored record, so a
 *    feed that knows nothing of the extension does not reset it; a new record takes the model's defaults, except
 *    that a new partner needs its channel in the file (ORUK has no field for it). A partner always keeps its
 *    response record (the answer loop's, never the file's).
 * 3. Only when 1 and 2 found no problem is anything written: partners first (a new one gets a signing secret in the
 *    secret store before it is created, unless one is there already), then services. Each record created or changed
 *    is audited as the admin API audits it (`directory#<kind>#<id>`, event key `v<version>`), naming the actor
 *    `import:<file name>`.
 *
 * A write that fails part-way (DynamoDB down, someone editing the same record meanwhile) stops the import: what was
 * written stays, and running the import again finishes it (written records are then unchanged). The secret's value
 * is never printed: the result says where it is.
 */

export type Outcome = 'created' | 'updated' | 'unchanged';

export interface RecordOutcome {
  id: string;
  outcome: Outcome;
}

export interface OrukImportResult {
  /** When any, nothing was written. */
  problems: ImportProblem[];
  notes: ImportProblem[];
  partners: RecordOutcome[];
  services: RecordOutcome[];
  /** Secrets of new partners: generated now, or already in the store (kept). */
  secrets: Array<{ partnerId: string; outcome: 'generated' | 'kept' }>;
  written: boolean;
}

export interface OrukImportDependencies {
  editor: DirectoryEditor;
  secrets: RecipientSecretsWriter;
  /** Each record created or changed is audited as the admin API audits it (`directory#<kind>#<id>`, `v<version>`). */
  audit: AuditLog;
  /** Who the audit trail names: `import:<file name>`. */
  actor: string;
  clock?: Clock;
  /** Where a partner's webhook may go: `https-only` against AWS, `allow-loopback-http` against the local stack. */
  channels: ChannelPolicy;
  newSecret?: () => string;
  /** After each write: how many of the planned writes are done. */
  onProgress?: (done: number, total: number) => void;
  concurrency?: number;
}

/** A Standard Webhooks signing secret: `whsec_` and 24 random bytes in base64. */
export const newWebhookSecret = (): string => `whsec_${randomBytes(24).toString('base64')}`;

/** Stopped part-way through writing: `written` of `total` writes are done and stay. */
export class ImportWriteError extends Error {
  override readonly name = 'ImportWriteError';
  constructor(
    readonly record: string,
    readonly written: number,
    readonly total: number,
    override readonly cause: unknown,
  ) {
    super(`writing ${record} failed after ${written} of ${total} writes: ${(cause as Error).message}`);
  }
}

type Plan<T> =
  | { id: string; outcome: 'created'; record: T }
  | { id: string; outcome: 'updated'; record: T; expectedVersion: number; stored: T }
  | { id: string; outcome: 'unchanged' };

const same = (a: unknown, b: unknown): boolean => canonicalJson(a) === canonicalJson(b);

function planPartner(
  draft: PartnerDraft,
  path: string,
  unsaid: readonly UnsaidPartnerField[],
  stored: Partner | undefined,
  channels: ChannelPolicy,
): Plan<Partner> | ImportProblem {
  // A channel the file gives is checked as the admin API checks it (a stored one was checked when it was stored).
  // Only a webhook has an address the channel policy judges; an email or worklist channel has none to refuse.
  const refused = draft.channel?.kind === 'webhook' && channelProblem(draft.channel.url, channels);
  if (refused)
    return {
      path: `${path}.x_social_prescribing.channel.url`,
      rule: refused,
      record: `organisation "${draft.name}"`,
    };
  if (!stored) {
    if (!draft.channel) {
      return {
        path: `${path}.x_social_prescribing.channel`,
        rule: `is required for partner "${draft.id}", which is not in the directory yet: ORUK has no field for where referrals reach a partner ({ "kind": "webhook", "url": "https://..." }, { "kind": "email", "address": "..." } or { "kind": "worklist" })`,
        record: `organisation "${draft.name}"`,
      };
    }
    return { id: draft.id, outcome: 'created', record: Partner.parse(draft) };
  }
  const merged: PartnerDraft = {
    ...draft,
    channel: draft.channel ?? stored.channel,
    status: unsaid.includes('status') ? stored.status : draft.status,
  };
  if (!canChange(stored, merged))
    return {
      path: `${path}.x_social_prescribing.status`,
      rule: `partner "${draft.id}" is ${retiringIsFinal}: create a new partner instead`,
      record: `organisation "${draft.name}"`,
    };
  if (same(merged, partnerDraftOf(stored))) return { id: draft.id, outcome: 'unchanged' };
  return {
    id: draft.id,
    outcome: 'updated',
    record: Partner.parse({
      ...merged,
      ...(stored.responseRecord ? { responseRecord: stored.responseRecord } : {}),
      version: stored.version,
    }),
    expectedVersion: stored.version,
    stored,
  };
}

/** The file's service, with what it did not say taken from the stored one. */
function mergedService(
  draft: ServiceDraft,
  unsaid: readonly UnsaidServiceField[],
  stored: Service,
): ServiceDraft {
  const kept = (field: UnsaidServiceField) => unsaid.includes(field);
  const contact = draft.contact && {
    ...draft.contact,
    phone: kept('contactPhone') ? stored.contact?.phone : draft.contact.phone,
  };
  return serviceDraftOf({
    ...draft,
    acceptsSignposting: kept('acceptsSignposting') ? stored.acceptsSignposting : draft.acceptsSignposting,
    responseDays: kept('responseDays') ? stored.responseDays : draft.responseDays,
    capacity: {
      state: kept('capacityState') ? stored.capacity.state : draft.capacity.state,
      weeklyLimit: kept('weeklyLimit') ? stored.capacity.weeklyLimit : draft.capacity.weeklyLimit,
    },
    eligibility: {
      ...draft.eligibility,
      criteria: kept('criteria') ? stored.eligibility.criteria : draft.eligibility.criteria,
    },
    ...(contact ? { contact } : {}),
    version: stored.version,
  });
}

function planService(
  draft: ServiceDraft,
  path: string,
  unsaid: readonly UnsaidServiceField[],
  stored: Service | undefined,
): Plan<Service> | ImportProblem {
  if (!stored) return { id: draft.id, outcome: 'created', record: Service.parse(draft) };
  const merged = mergedService(draft, unsaid, stored);
  if (!canChange(stored, merged))
    return {
      path: `${path}.status`,
      rule: `service "${draft.id}" is ${retiringIsFinal}: create a new service instead`,
      record: `service "${draft.name}"`,
    };
  if (same(merged, serviceDraftOf(stored))) return { id: draft.id, outcome: 'unchanged' };
  return {
    id: draft.id,
    outcome: 'updated',
    record: Service.parse({ ...merged, version: stored.version }),
    expectedVersion: stored.version,
    stored,
  };
}

export async function importOrukFile(
  file: unknown,
  dependencies: OrukImportDependencies,
  options: { dryRun?: boolean } = {},
): Promise<OrukImportResult> {
  const { editor, secrets, newSecret = newWebhookSecret, onProgress, concurrency = 8, actor } = dependencies;
  const auditing = { audit: dependencies.audit, clock: dependencies.clock ?? systemClock };
  const created = async <K extends 'partner' | 'service'>(kind: K, record: DirectoryRecords[K]) =>
    audit(auditing, kind, await editor.create(kind, record), 'created', actor);
  const replaced = async <K extends 'partner' | 'service'>(
    kind: K,
    plan: { record: DirectoryRecords[K]; expectedVersion: number; stored: DirectoryRecords[K] },
  ) => {
    const written = await editor.replace(kind, plan.record, plan.expectedVersion);
    const retired = plan.stored.status === 'active' && written.status === 'retired';
    await audit(auditing, kind, written, retired ? 'retired' : 'updated', actor, plan.stored);
  };
  const empty = { notes: [], partners: [], services: [], secrets: [], written: false };
  const read = importOruk(file);
  if (!read.ok) return { ...empty, problems: read.problems };
  const { records } = read;

  const partnerPlans = await mapLimit(records.partners, concurrency, async ({ partner, path, unsaid }) =>
    planPartner(partner, path, unsaid, await editor.get('partner', partner.id), dependencies.channels),
  );
  const serviceOrProblems = await mapLimit(records.services, concurrency, async ({ service, path, unsaid }) =>
    planService(service, path, unsaid, await editor.get('service', service.id)),
  );
  const problems = [...partnerPlans, ...serviceOrProblems].filter(
    (plan): plan is ImportProblem => 'rule' in plan,
  );
  const partners = partnerPlans.filter((plan): plan is Plan<Partner> => !('rule' in plan));
  const servicePlans = serviceOrProblems.filter((plan): plan is Plan<Service> => !('rule' in plan));
  const outcomes = {
    notes: records.notes,
    partners: partners.map(({ id, outcome }) => ({ id, outcome })),
    services: servicePlans.map(({ id, outcome }) => ({ id, outcome })),
  };
  if (problems.length > 0) return { ...empty, ...outcomes, problems };
  if (options.dryRun) return { ...outcomes, problems, secrets: [], written: false };

  const writes = [...partners, ...servicePlans].filter((plan) => plan.outcome !== 'unchanged').length;
  let done = 0;
  const step = async (what: string, write: () => Promise<unknown>): Promise<void> => {
    try {
      await write();
    } catch (error) {
      throw new ImportWriteError(what, done, writes, error);
    }
    done++;
    onProgress?.(done, writes);
  };

  const secretOutcomes: OrukImportResult['secrets'] = [];
  await mapLimit(partners, concurrency, async (plan) => {
    if (plan.outcome === 'created') {
      await step(`partner ${plan.id}`, async () => {
        // The secret first: a partner that exists always has one. One already there (an import that stopped
        // between the two writes) is kept, so a secret already given to the partner stays valid.
        if ((await secrets.secretOf('partner', plan.id)) === undefined) {
          await secrets.putSecret('partner', plan.id, newSecret());
          secretOutcomes.push({ partnerId: plan.id, outcome: 'generated' });
        } else secretOutcomes.push({ partnerId: plan.id, outcome: 'kept' });
        await created('partner', plan.record);
      });
    } else if (plan.outcome === 'updated') {
      await step(`partner ${plan.id}`, () => replaced('partner', plan));
    }
  });
  await mapLimit(servicePlans, concurrency, async (plan) => {
    if (plan.outcome === 'created') await step(`service ${plan.id}`, () => created('service', plan.record));
    else if (plan.outcome === 'updated') await step(`service ${plan.id}`, () => replaced('service', plan));
  });
  return { ...outcomes, problems, secrets: secretOutcomes, written: true };
}
