import type { AuditEntry, AuditLink, AuditLog, AuditTrail } from '#audit/ports.ts';
import { nextLink, normalisedEntry } from '#audit/domain/chain.ts';
import type { Clock } from '#kernel/clock.ts';
import type { AreaKeys, Directory, RecipientSecretsWriter } from '#directory/ports.ts';
import type { MetricCount, MetricCounters } from '#reporting/ports.ts';
import type { z } from 'zod';
import { assertMessages, type OutboundMessage, type Queue } from '#messages/queue.ts';
import type {
  DeliveredState,
  ReferralStore,
  ReferralTransition,
  TransitionContext,
} from '#referral/ports.ts';
import { LifecycleConflictError } from '#referral/domain/lifecycle.ts';
import { ownerIdOf, refusalOf } from '#referral/domain/transition-refusal.ts';
import type {
  EmailMessage,
  EmailOutcome,
  EmailSender,
  SignedTarget,
  WebhookResponse,
  WebhookSender,
} from '#delivery/ports.ts';
import type { ChannelPolicy } from '#directory/domain/directory.ts';
import {
  IdempotencyItemAlreadyExistsError,
  IdempotencyItemNotFoundError,
  IdempotencyRecordStatus,
} from '@aws-lambda-powertools/idempotency';
import { BasePersistenceLayer, type IdempotencyRecord } from '@aws-lambda-powertools/idempotency/persistence';
import type { InterventionCategory } from '#referral/domain/categories.ts';
import {
  secretNameOf,
  type DirectorySnapshot,
  type LinkWorkerTeam,
  type Practice,
  type RecipientKind,
  type SecretOwnerKind,
  type RecipientChannel,
} from '#directory/domain/directory.ts';
import type { PracticeMessageState, Referral } from '#referral/domain/referral.ts';
import { candidateOf, type ServiceCandidate } from '#directory/domain/coverage.ts';

/**
 * In-memory fakes of the ports in shared/application/ports.ts. They keep the contracts the DynamoDB and SQS
 * adapters promise (conditional writes, append-only audit, count-once counters), so use cases can be tested
 * for idempotency without any AWS. Everything handed in or out is deep-copied, as a real store would.
 */

const copy = <T>(value: T): T => structuredClone(value);

export class InMemoryReferralStore implements ReferralStore {
  readonly items = new Map<string, Referral>();
  readonly calls = {
    create: 0,
    get: 0,
    apply: 0,
    markSending: 0,
    markDelivered: 0,
    markAttemptFailed: 0,
    markFailed: 0,
    deleteUnacknowledged: 0,
  };

  /** Puts a referral directly (test setup), bypassing the create condition. */
  seed(referral: Referral): void {
    this.items.set(referral.referralId, copy(referral));
  }

  async create(referral: Referral): Promise<boolean> {
    this.calls.create++;
    if (this.items.has(referral.referralId)) return false;
    this.items.set(referral.referralId, copy(referral));
    return true;
  }

  async get(referralId: string): Promise<Referral | undefined> {
    this.calls.get++;
    const item = this.items.get(referralId);
    return item === undefined ? undefined : copy(item);
  }

  /** As the DynamoDB store: one conditional write that returns the referral as written (ALL_NEW). */
  async markSending(
    referralId: string,
    deliveryId: string,
    attemptedAt: string,
    claimsLapseBefore: string,
  ): Promise<Referral | undefined> {
    this.calls.markSending++;
    const item = this.items.get(referralId);
    const state = item?.deliveryStatus?.[deliveryId];
    if (!item || !state || state.status === 'delivered' || state.status === 'failed') return undefined;
    if (state.status === 'sending' && !((state.attemptedAt ?? '') < claimsLapseBefore)) return undefined;
    if (item.status === 'cancelled') return undefined;
    Object.assign(state, { status: 'sending', attemptedAt, attempts: (state.attempts ?? 0) + 1 });
    return copy(item);
  }

  async markDelivered(
    referralId: string,
    deliveryId: string,
    state: DeliveredState,
  ): Promise<Referral | undefined> {
    this.calls.markDelivered++;
    const item = this.items.get(referralId);
    const current = item?.deliveryStatus?.[deliveryId];
    if (!item || !current || current.status === 'delivered') return undefined;
    const { lastFailure: _failure, ...kept } = current;
    item.deliveryStatus = { ...item.deliveryStatus, [deliveryId]: { ...kept, ...copy(state) } };
    item.updatedAt = state.deliveredAt;
    return copy(item);
  }

  async markAttemptFailed(referralId: string, deliveryId: string, reason: string): Promise<boolean> {
    this.calls.markAttemptFailed++;
    const state = this.items.get(referralId)?.deliveryStatus?.[deliveryId];
    if (state?.status !== 'sending') return false;
    Object.assign(state, { status: 'retrying', lastFailure: reason });
    return true;
  }

  async markFailed(
    referralId: string,
    deliveryId: string,
    failure: { reason: string; failedAt: string },
  ): Promise<boolean> {
    this.calls.markFailed++;
    const state = this.items.get(referralId)?.deliveryStatus?.[deliveryId];
    if (state?.status !== 'sending') return false;
    Object.assign(state, { status: 'failed', lastFailure: failure.reason, failedAt: failure.failedAt });
    return true;
  }

  async deleteUnacknowledged(referralId: string): Promise<void> {
    this.calls.deleteUnacknowledged++;
    if (this.items.get(referralId)?.status === 'received') this.items.delete(referralId);
  }

  /** As the DynamoDB store: one write conditional on state, version, owner and (for updates) a newer message. */
  async apply(
    referralId: string,
    transition: ReferralTransition,
    context: TransitionContext,
  ): Promise<Referral> {
    this.calls.apply++;
    if (transition.owner !== null && (transition.owner === 'partner' || context.ownerId === undefined))
      throw new Error(
        `apply: a ${transition.owner}'s ${transition.event} needs the owner's id on the referral`,
      );
    if (transition.guard === 'newer-message' && context.messageAt === undefined)
      throw new Error('apply: the newer-message guard needs messageAt');
    if (transition.guard !== null && transition.guard !== 'newer-message')
      throw new Error(`apply: the store cannot hold guard ${transition.guard} in a condition yet`);
    const { addedDeliveries, ...replaced } = copy(context.changes ?? {});
    if (addedDeliveries !== undefined && 'deliveryStatus' in replaced)
      throw new Error('apply: addedDeliveries and deliveryStatus cannot be written together');
    const item = this.items.get(referralId);
    const holds =
      item !== undefined &&
      item.status === transition.from &&
      item.version === transition.expectedVersion &&
      (transition.owner === null || ownerIdOf(item, transition.owner) === context.ownerId) &&
      (transition.guard === null ||
        context.messageAt === undefined ||
        item.lastMessageAt === undefined ||
        item.lastMessageAt < context.messageAt) &&
      (context.routingRevision === undefined || (item.routing?.revision ?? 0) === context.routingRevision);
    if (!item || !holds) throw new LifecycleConflictError(refusalOf(copy(item), transition, context.ownerId));
    item.status = transition.to;
    item.version = transition.nextVersion;
    item.updatedAt = context.at;
    if (context.messageAt !== undefined) item.lastMessageAt = context.messageAt;
    if (context.messageId !== undefined) item.lastMessageId = context.messageId;
    // A field named as undefined is removed, as the DynamoDB store's REMOVE does.
    for (const [field, value] of Object.entries(replaced)) {
      if (value === undefined) Reflect.deleteProperty(item, field);
      else Reflect.set(item, field, value);
    }
    // As the DynamoDB store's if_not_exists per delivery: a delivery that already has a state keeps it.
    if (addedDeliveries !== undefined) {
      const deliveryStatus = (item.deliveryStatus ??= {});
      for (const [deliveryId, state] of Object.entries(addedDeliveries)) deliveryStatus[deliveryId] ??= state;
    }
    return copy(item);
  }

  async recordPracticeMessage(
    referralId: string,
    event: string,
    state: PracticeMessageState,
  ): Promise<boolean> {
    const referral = this.items.get(referralId);
    if (!referral || referral.practiceMessages?.[event] !== undefined) return false;
    referral.practiceMessages = { ...referral.practiceMessages, [event]: copy(state) };
    return true;
  }

  async recordNotice(
    referralId: string,
    deliveryId: string,
    notice: { cancellationNoticeAt: string } | { updateNoticeVersion: number },
  ): Promise<boolean> {
    const state = this.items.get(referralId)?.deliveryStatus?.[deliveryId];
    if (!state) return false;
    if ('cancellationNoticeAt' in notice) {
      if (state.cancellationNoticeAt !== undefined) return false;
      state.cancellationNoticeAt = notice.cancellationNoticeAt;
      return true;
    }
    if ((state.updateNoticeVersion ?? 0) >= notice.updateNoticeVersion) return false;
    state.updateNoticeVersion = notice.updateNoticeVersion;
    return true;
  }
}

/** The directory, answered straight from a snapshot (the same one events/directory.json gives). */
export class InMemoryDirectory implements Directory {
  constructor(readonly snapshot: DirectorySnapshot) {}

  async practice(ods: string): Promise<Practice | undefined> {
    return copy(this.snapshot.practices.find((p) => p.ods === ods));
  }

  async teamForPcn(pcn: string): Promise<LinkWorkerTeam | undefined> {
    return copy(this.snapshot.teams.find((t) => t.pcn === pcn));
  }

  async servicesCovering(category: InterventionCategory, area: AreaKeys): Promise<ServiceCandidate[]> {
    return candidatesIn(this.snapshot, category, area);
  }

  async channelOf(kind: RecipientKind, id: string): Promise<RecipientChannel | undefined> {
    const recipients = kind === 'team' ? this.snapshot.teams : this.snapshot.partners;
    return copy(recipients.find((r) => r.id === id)?.channel);
  }
}

/** Signing secrets from a snapshot's `secrets`, as the secret store holds them once the snapshot is loaded. */
export class InMemoryRecipientSecrets implements RecipientSecretsWriter {
  readonly secrets: Map<string, string>;
  reads = 0;

  constructor(snapshot?: Pick<DirectorySnapshot, 'secrets'>) {
    this.secrets = new Map(Object.entries(snapshot?.secrets ?? {}));
  }

  async secretOf(kind: SecretOwnerKind, id: string): Promise<string | undefined> {
    this.reads++;
    return this.secrets.get(secretNameOf(kind, id));
  }

  async putSecret(kind: SecretOwnerKind, id: string, secret: string): Promise<void> {
    this.secrets.set(secretNameOf(kind, id), secret);
  }
}

/**
 * Services in a snapshot that offer `category` in any of the area's keys, as the directory's coverage index answers
 * (active services of active partners, each once).
 */
export function candidatesIn(
  snapshot: DirectorySnapshot,
  category: InterventionCategory,
  area: AreaKeys | string,
): ServiceCandidate[] {
  const keys: AreaKeys = typeof area === 'string' ? { district: area } : area;
  const lsoas = [...(keys.lsoa !== undefined ? [keys.lsoa] : []), ...(keys.lsoas ?? [])];
  return snapshot.services
    .filter(
      (s) =>
        s.status === 'active' &&
        s.categories.includes(category) &&
        (s.coverage.districts.includes(keys.district) ||
          lsoas.some((lsoa) => s.coverage.lsoas.includes(lsoa)) ||
          (keys.localAuthority !== undefined && s.coverage.localAuthorities.includes(keys.localAuthority))),
    )
    .flatMap((service) => {
      const partner = snapshot.partners.find((p) => p.id === service.partnerId);
      if (!partner) throw new Error(`test directory: no partner ${service.partnerId}`);
      return partner.status === 'active' ? [candidateOf(copy(service), partner)] : [];
    });
}

/** Append-only: the first entry for (referralId, eventKey) stands; repeats are recorded as attempts only. */
/**
 * The audit trail in memory, keeping the AuditLog contract (test/contract/audit-log.contract.ts): each referral's
 * entries a hash chain, an event key once per chain. `entries` are the entries as appended, in order.
 */
export class InMemoryAuditLog implements AuditLog, AuditTrail {
  readonly entries: AuditEntry[] = [];
  private readonly chains = new Map<string, AuditLink[]>();
  attempts = 0;

  async append(entry: AuditEntry): Promise<void> {
    this.attempts++;
    const chain = this.chains.get(entry.referralId) ?? [];
    if (chain.some((link) => link.eventKey === entry.eventKey)) return;
    chain.push(nextLink(chain.at(-1), entry));
    this.chains.set(entry.referralId, chain);
    this.entries.push(normalisedEntry(entry));
  }

  async chainOf(referralId: string): Promise<AuditLink[]> {
    return copy(this.chains.get(referralId) ?? []);
  }

  forReferral(referralId: string): AuditEntry[] {
    return this.entries.filter((e) => e.referralId === referralId);
  }
}

/** Exact counters, keyed independently of the adapter's metricKey: a unit id counts once per counter and day. */
export class InMemoryMetricCounters implements MetricCounters {
  private readonly counters = new Map<string, { count: number; units: Set<string> }>();
  calls = 0;

  private static key(name: string, dimensions: Record<string, string> | undefined, day: string): string {
    const dims = Object.keys(dimensions ?? {})
      .sort()
      .map((k) => [k, dimensions?.[k]]);
    return JSON.stringify([name, dims, day]);
  }

  async countOnce(counts: MetricCount[], day: string, unitId: string): Promise<void> {
    this.calls++;
    for (const { name, dimensions } of counts) {
      const key = InMemoryMetricCounters.key(name, dimensions, day);
      const counter = this.counters.get(key) ?? { count: 0, units: new Set<string>() };
      if (!counter.units.has(unitId)) {
        counter.units.add(unitId);
        counter.count++;
      }
      this.counters.set(key, counter);
    }
  }

  value(name: string, dimensions: Record<string, string> | undefined, day: string): number {
    return this.counters.get(InMemoryMetricCounters.key(name, dimensions, day))?.count ?? 0;
  }

  /** Every counter as `name` + dimensions -> count, for whole-state assertions. */
  snapshot(): Array<{ name: string; dimensions: Record<string, string>; day: string; count: number }> {
    return [...this.counters.entries()].map(([key, { count }]) => {
      const [name, dims, day] = JSON.parse(key) as [string, Array<[string, string]>, string];
      return { name, dimensions: Object.fromEntries(dims), day, count };
    });
  }
}

/**
 * Records every send; `failWith` makes the next sends throw (as SQS would when unavailable). Like SqsQueue, it is
 * bound to its message's schema and refuses a body that does not match, so use-case tests catch a wrong shape too.
 */
export class RecordingQueue<T> implements Queue<T> {
  readonly sends: Array<Array<OutboundMessage<T>>> = [];
  failWith: Error | undefined;

  constructor(private readonly schema: z.ZodType<T>) {}

  async send(messages: Array<OutboundMessage<T>>): Promise<void> {
    if (this.failWith) throw this.failWith;
    assertMessages(this.schema, messages);
    this.sends.push(copy(messages));
  }

  get messages(): Array<OutboundMessage<T>> {
    return this.sends.flat();
  }
}

export interface WebhookCall {
  /** Where it went and the secret it was signed with. */
  channel: SignedTarget;
  messageId: string;
  eventType: string;
  data: unknown;
}

/** The local stack's channel policy, which the tests' loopback http receivers need (AWS is `https-only`). */
export const localChannels: ChannelPolicy = 'allow-loopback-http';

/** Answers every webhook with `status` (202 unless told otherwise) and records what was sent. */
export class FakeWebhookSender implements WebhookSender {
  readonly calls: WebhookCall[] = [];
  /** Runs as the POST goes out: a test inspects the store then, or throws to stand for a network failure. */
  onSend: ((call: WebhookCall) => void | Promise<void>) | undefined;
  /** A Retry-After header to answer with, if any. */
  retryAfter: string | undefined;
  constructor(public status = 202) {}

  async send(
    channel: SignedTarget,
    messageId: string,
    eventType: string,
    data: unknown,
  ): Promise<WebhookResponse> {
    const call = copy({ channel, messageId, eventType, data });
    this.calls.push(call);
    await this.onSend?.(call);
    return this.retryAfter === undefined
      ? { status: this.status }
      : { status: this.status, retryAfter: this.retryAfter };
  }
}

/** Takes every email (or answers `outcome`) and keeps what was sent. */
export class FakeEmailSender implements EmailSender {
  readonly sent: EmailMessage[] = [];
  outcome: EmailOutcome = { ok: true, messageId: 'fake-1' };
  /** Runs as the email goes out: throws to stand for the mail service unreachable. */
  onSend: ((email: EmailMessage) => void) | undefined;

  async send(email: EmailMessage): Promise<EmailOutcome> {
    this.sent.push(copy(email));
    this.onSend?.(email);
    return copy(this.outcome);
  }
}

/** The notifier's retry deps in unit tests: a small backoff and a fixed jitter (half the ceiling). */
export const testRetries = { backoff: { baseSeconds: 10, capSeconds: 80 }, random: () => 0.5 };

/** A clock the test moves by hand. */
export class FakeClock implements Clock {
  private current: Date;
  constructor(iso = '2025-03-04T09:15:00.000Z') {
    this.current = new Date(iso);
  }
  now(): Date {
    return new Date(this.current);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

/**
 * Powertools idempotency records in memory, with the DynamoDB layer's put condition (a record blocks a new one
 * until it expires, or while in progress until its in-progress expiry). `failNext` makes the next write of that
 * kind throw, as a throttled or unreachable table would.
 */
export class InMemoryIdempotencyStore extends BasePersistenceLayer {
  readonly records = new Map<string, IdempotencyRecord>();
  failNext: { put?: Error; update?: Error; delete?: Error } = {};

  private failIfTold(kind: 'put' | 'update' | 'delete'): void {
    const error = this.failNext[kind];
    this.failNext[kind] = undefined;
    if (error) throw error;
  }

  protected async _putRecord(record: IdempotencyRecord): Promise<void> {
    this.failIfTold('put');
    const existing = this.records.get(record.idempotencyKey);
    const stale =
      existing === undefined ||
      existing.isExpired() ||
      (existing.getStatus() === IdempotencyRecordStatus.INPROGRESS &&
        (existing.inProgressExpiryTimestamp ?? 0) < Date.now());
    if (!stale) throw new IdempotencyItemAlreadyExistsError('record exists', existing);
    this.records.set(record.idempotencyKey, record);
  }

  protected async _getRecord(idempotencyKey: string): Promise<IdempotencyRecord> {
    const record = this.records.get(idempotencyKey);
    if (!record) throw new IdempotencyItemNotFoundError(idempotencyKey);
    return record;
  }

  protected override async _updateRecord(record: IdempotencyRecord): Promise<void> {
    this.failIfTold('update');
    this.records.set(record.idempotencyKey, record);
  }

  protected async _deleteRecord(record: IdempotencyRecord): Promise<void> {
    this.failIfTold('delete');
    this.records.delete(record.idempotencyKey);
  }
}
