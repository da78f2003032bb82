import * as z from 'zod';
import { LifecycleConflictError } from '#kernel/errors.ts';

/** Thrown for a refusal; it lives in the kernel's error table, which answers it (403 forbidden, else 409). */
export { LifecycleConflictError };

/**
 * The lifecycle of a referral and of each offer made to a VCSE partner, as ONE declarative table (design principle
 * 4, "One lifecycle"): (entity, from-state, event) -> roles allowed, next state, guard, audit action, counts, notices
 * and whether the content version moves. `decide` reads it and nothing else, so no use case invents a status rule,
 * the in-memory fake and the DynamoDB store apply the same transitions, and the docs render the same table.
 *
 * Pure: no I/O, no clock (the caller passes "now" as a fact), no imports but zod and the kernel's error it throws,
 * so the store, the use cases and the tests can all depend on it.
 *
 * Two entities, because issue 9 needs both and they move independently:
 * - the referral is the case the link-worker team holds (direct care), from the GP's request to its end;
 * - an offer is one VCSE partner being asked to take the referral on for one need. A referral has many offers over
 *   time (declined ones are followed by a new offer to the next match), so an offer's answer must not overwrite the
 *   referral's state, and a partner's action is version-checked against the offer it has seen.
 *
 * Transport (a webhook's pending/sending/retrying/delivered) is not a lifecycle here: it changes per attempt, carries
 * no decision anyone takes, and its repeat-safety is the notifier's (docs/architecture.md). A delivery is the way a
 * notice of this table reaches a recipient.
 */

// ---------------------------------------------------------------------------------------------------------------
// Vocabulary
// ---------------------------------------------------------------------------------------------------------------

export const lifecycleEntities = ['referral', 'offer'] as const;
export const LifecycleEntity = z.enum(lifecycleEntities);
export type LifecycleEntity = z.infer<typeof LifecycleEntity>;

/**
 * - `received`: stored and acknowledged, not routed yet (today's state).
 * - `routed`: the routing decision is recorded, the link-worker team and any partners are being told (today's).
 * - `accepted`: the link-worker team has taken it on ("received by the link-worker team": the GP hears).
 * - `contacted`: the link worker has reached the patient (SNOMED "seen by social prescribing link worker").
 * - `in-progress`: an intervention has started.
 * - `escalated`: routed, but the team has not taken it on by its deadline; it stays visible until someone does. It is
 *   entered only from `routed`, so leaving it never needs to remember an earlier state.
 * - `declined`: the team or the patient turned it down before any intervention (SNOMED "social prescribing
 *   declined"); kept apart from `closed` because the funnel counts declines by reason, not as completed cases.
 * - `closed`: the case ended with a closure reason.
 * - `cancelled`: the referrer withdrew it (today's).
 */
export const referralStates = [
  'received',
  'routed',
  'accepted',
  'contacted',
  'in-progress',
  'escalated',
  'declined',
  'closed',
  'cancelled',
] as const;
export const ReferralState = z.enum(referralStates);
export type ReferralState = z.infer<typeof ReferralState>;

/**
 * - `offered`: the partner has been sent (or shown) the referral and must answer by a deadline.
 * - `accepted`, `contacted`, `in-progress`, `closed`: the partner's own progress with the patient.
 * - `declined`: the partner said no, with a coded reason; the referral is offered to the next match.
 * - `expired`: the partner did not answer after its deadline and one reminder; the link worker is told and the next
 *   match is offered. Kept apart from `declined` so response records do not count silence as a coded answer.
 * - `withdrawn`: taken back by the link worker (remove-partner, re-route) or because the referral ended.
 */
export const offerStates = [
  'offered',
  'accepted',
  'contacted',
  'in-progress',
  'declined',
  'expired',
  'withdrawn',
  'closed',
] as const;
export const OfferState = z.enum(offerStates);
export type OfferState = z.infer<typeof OfferState>;

export const lifecycleStates = { referral: referralStates, offer: offerStates } as const;
export type StateOf<E extends LifecycleEntity> = (typeof lifecycleStates)[E][number];

/**
 * States nothing leaves. Declared (not derived) so the tests can hold the table to it: a transition added out of a
 * final state by mistake fails a test instead of silently reopening cases.
 */
export const terminalStates: { [E in LifecycleEntity]: readonly StateOf<E>[] } = {
  referral: ['declined', 'closed', 'cancelled'],
  offer: ['declined', 'expired', 'withdrawn', 'closed'],
};

export const referralEvents = [
  'submit',
  'route',
  'update',
  'cancel',
  'accept',
  'decline',
  'attempt-contact',
  'record-contact',
  'start-intervention',
  'close',
  'escalate',
  're-route',
  'add-partner',
  'remove-partner',
] as const;
export const ReferralEvent = z.enum(referralEvents);
export type ReferralEvent = z.infer<typeof ReferralEvent>;

export const offerEvents = [
  'offer',
  'update',
  'accept',
  'decline',
  'attempt-contact',
  'record-contact',
  'start-intervention',
  'close',
  'nudge',
  'escalate',
  'withdraw',
  'cancel',
] as const;
export const OfferEvent = z.enum(offerEvents);
export type OfferEvent = z.infer<typeof OfferEvent>;

export const lifecycleEvents = { referral: referralEvents, offer: offerEvents } as const;
export type EventOf<E extends LifecycleEntity> = (typeof lifecycleEvents)[E][number];

/**
 * The token roles (shared/system/routes.ts `roles`, repeated because a domain module imports nothing of the system
 * description) plus `system`: our own functions (router, notifier, the deadline job), which no token can claim.
 */
// Every token role (a commissioner's is named though no transition allows it: it reads figures only) and `system`.
export const lifecycleActors = [
  'gp-system',
  'link-worker',
  'partner',
  'ops',
  'admin',
  'commissioner',
  'system',
] as const;
export const LifecycleActor = z.enum(lifecycleActors);
export type LifecycleActor = z.infer<typeof LifecycleActor>;

/**
 * Which of the item's organisations must be the caller's own, per role. The store adds it to the write's condition
 * (as today's cancel checks `practiceOds`), so a race cannot slip another organisation past the use case's read.
 * `ops`, `admin` and `commissioner` have no lifecycle events: operators act through replays, which run as `system`.
 */
export const ownerOf: Record<LifecycleActor, LifecycleOwner | null> = {
  'gp-system': 'practice',
  'link-worker': 'team',
  partner: 'partner',
  ops: null,
  admin: null,
  commissioner: null,
  system: null,
};
export type LifecycleOwner = 'practice' | 'team' | 'partner';

/**
 * Conditions a transition needs beyond state and version. `decide` checks one when the facts it reads are given
 * (so a use case learns early, and the in-memory fake shares the rule); the store must still put it into the write's
 * condition, because only the write sees the item as it is.
 */
export const lifecycleGuards = [
  'newer-message',
  'deadline-passed',
  'deadline-passed-not-nudged',
  'deadline-passed-after-nudge',
] as const;
export const LifecycleGuard = z.enum(lifecycleGuards);
export type LifecycleGuard = z.infer<typeof LifecycleGuard>;

export const guardDescriptions: Record<LifecycleGuard, string> = {
  'newer-message':
    "the sender's message is newer than the last one applied (`lastMessageAt`), so an update delayed in transit cannot overwrite a later one",
  'deadline-passed': 'its response deadline (`deadline`) is at or before now',
  'deadline-passed-not-nudged':
    'its response deadline has passed and no reminder was sent yet (`nudgedAt` unset)',
  'deadline-passed-after-nudge': 'its response deadline has passed after the one reminder (`nudgedAt` set)',
};

/**
 * Who a notice goes to: `holders` every recipient that has (or may have) the referral, `team` the link-worker team,
 * `partner` the offer's partner, `practice` the referring GP practice (a BaRS `servicerequest-response`).
 */
export const noticeAudiences = ['holders', 'team', 'partner', 'practice'] as const;
export const NoticeAudience = z.enum(noticeAudiences);
export type NoticeAudience = z.infer<typeof NoticeAudience>;

/**
 * What a notice says. `assigned`, `updated` and `cancelled` are today's notices (shared/messages, noticeId); the rest
 * come with issue 9. For the practice, the kind picks the national code of the message back to the GP.
 */
export const lifecycleNoticeKinds = [
  'assigned',
  'updated',
  'cancelled',
  'withdrawn',
  'reminder',
  'escalated',
  'offer-declined',
  'offer-expired',
  'offer-closed',
  'accepted',
  'seen',
  'declined',
  'intervention-started',
  'closed',
] as const;
export const LifecycleNoticeKind = z.enum(lifecycleNoticeKinds);
export type LifecycleNoticeKind = z.infer<typeof LifecycleNoticeKind>;

export const LifecycleNotice = z.strictObject({ to: NoticeAudience, kind: LifecycleNoticeKind });
export type LifecycleNotice = z.infer<typeof LifecycleNotice>;

/**
 * The coded reasons of a `decline` (issue 9); `other` comes with free text, which the use case keeps out of counts.
 * The reason is the event's data, not the table's: every reason leads to the same state.
 */
export const declineReasons = [
  'no-capacity',
  'not-eligible',
  'patient-unreachable',
  'declined-by-patient',
  'other',
] as const;
export const DeclineReason = z.enum(declineReasons);
export type DeclineReason = z.infer<typeof DeclineReason>;

// ---------------------------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------------------------

/** One allowed (entity, from, event): `from: null` creates the entity (it must not exist yet). */
export interface LifecycleEntry<E extends LifecycleEntity> {
  entity: E;
  from: StateOf<E> | null;
  event: EventOf<E>;
  to: StateOf<E>;
  roles: readonly LifecycleActor[];
  guard: LifecycleGuard | null;
  audit: `${E}.${string}`;
  /** Counter names this transition feeds; the use case supplies dimensions (never patient data) and which apply. */
  counts: readonly string[];
  notices: readonly LifecycleNotice[];
  /** The content version moves (what the GP sent changed); state changes alone leave it. */
  bumpsVersion: boolean;
}

/**
 * Rules are written per event with their from-states listed, then expanded to one entry per from-state: the same
 * audit, counts and notices apply from every state an event leaves, and spelling them six times would hide the
 * differences that matter.
 */
interface LifecycleRule<E extends LifecycleEntity> {
  event: EventOf<E>;
  from: readonly (StateOf<E> | null)[];
  /** `unchanged`: the event records something without moving the state (an update, a re-route, a reminder). */
  to: StateOf<E> | 'unchanged';
  roles: readonly LifecycleActor[];
  guard?: LifecycleGuard;
  audit: `${E}.${string}`;
  counts?: readonly string[];
  notices?: readonly LifecycleNotice[];
  bumpsVersion?: boolean;
}

const referralOpen = ['received', 'routed', 'accepted', 'contacted', 'in-progress', 'escalated'] as const;
/** Once routed there is a team and there may be offers, so the link worker can work on it. */
const referralRouted = ['routed', 'accepted', 'contacted', 'in-progress', 'escalated'] as const;

const referralRules: readonly LifecycleRule<'referral'>[] = [
  // Intake stores it (attribute_not_exists today); the counts of a new referral are taken at routing, as today.
  { event: 'submit', from: [null], to: 'received', roles: ['gp-system'], audit: 'referral.received' },
  {
    event: 'route',
    from: ['received'],
    to: 'routed',
    roles: ['system'],
    audit: 'referral.routed',
    // Today's routingCounts: counted once per referral when it is routed.
    counts: [
      'referrals.received',
      'referrals.need',
      'referrals.matched',
      'referrals.unmet',
      'referrals.no-team',
    ],
    // The team and each matched partner are told, as the router does today. Once offers arrive (issue 9) partners
    // hear through their own offers (`offer`) instead, and this notice becomes the team's alone.
    notices: [
      { to: 'team', kind: 'assigned' },
      { to: 'partner', kind: 'assigned' },
    ],
  },
  {
    event: 'update',
    from: referralOpen,
    to: 'unchanged',
    roles: ['gp-system'],
    guard: 'newer-message',
    audit: 'referral.amended',
    notices: [{ to: 'holders', kind: 'updated' }],
    bumpsVersion: true,
  },
  {
    event: 'cancel',
    from: referralOpen,
    to: 'cancelled',
    roles: ['gp-system'],
    audit: 'referral.cancelled',
    counts: ['referrals.cancelled'],
    // Partners included: their open offers are cancelled by `system` without a second stop notice.
    notices: [{ to: 'holders', kind: 'cancelled' }],
  },
  {
    event: 'accept',
    from: ['routed', 'escalated'],
    to: 'accepted',
    roles: ['link-worker'],
    audit: 'referral.accepted',
    counts: ['referrals.accepted'],
    notices: [{ to: 'practice', kind: 'accepted' }],
  },
  {
    // The team (not eligible, no capacity) or the patient (once reached) says no; never after an intervention
    // started, which ends with `close` and its reason.
    event: 'decline',
    from: ['routed', 'escalated', 'accepted', 'contacted'],
    to: 'declined',
    roles: ['link-worker'],
    audit: 'referral.declined',
    counts: ['referrals.declined'],
    notices: [{ to: 'practice', kind: 'declined' }],
  },
  {
    // An attempt that did not reach the patient moves nothing, but time to first contact and "unreachable" need it.
    event: 'attempt-contact',
    from: ['accepted'],
    to: 'unchanged',
    roles: ['link-worker'],
    audit: 'referral.contact-attempted',
    counts: ['referrals.contact-attempted'],
  },
  {
    // First contact is the funnel's step; later contacts are case notes, not lifecycle (so a repeat is "already").
    event: 'record-contact',
    from: ['accepted'],
    to: 'contacted',
    roles: ['link-worker'],
    audit: 'referral.contacted',
    counts: ['referrals.contacted'],
    notices: [{ to: 'practice', kind: 'seen' }],
  },
  {
    event: 'start-intervention',
    from: ['contacted'],
    to: 'in-progress',
    roles: ['link-worker'],
    audit: 'referral.intervention-started',
    counts: ['referrals.intervention-started'],
    notices: [{ to: 'practice', kind: 'intervention-started' }],
  },
  {
    // A case may close without an intervention (advice or signposting was enough, the patient moved away).
    event: 'close',
    from: ['accepted', 'contacted', 'in-progress'],
    to: 'closed',
    roles: ['link-worker'],
    audit: 'referral.closed',
    counts: ['referrals.closed'],
    notices: [{ to: 'practice', kind: 'closed' }],
  },
  {
    event: 'escalate',
    from: ['routed'],
    to: 'escalated',
    roles: ['system'],
    guard: 'deadline-passed',
    audit: 'referral.escalated',
    counts: ['referrals.escalated'],
    notices: [{ to: 'team', kind: 'escalated' }],
  },
  {
    // `system`: the router matching needs an update added (today's extendRouting); `link-worker`: by hand. The
    // offers it makes or withdraws carry their own notices and counts, so the referral's entry has none.
    event: 're-route',
    from: referralRouted,
    to: 'unchanged',
    roles: ['link-worker', 'system'],
    audit: 'referral.rerouted',
  },
  {
    event: 'add-partner',
    from: referralRouted,
    to: 'unchanged',
    roles: ['link-worker'],
    audit: 'referral.partner-added',
  },
  {
    event: 'remove-partner',
    from: referralRouted,
    to: 'unchanged',
    roles: ['link-worker'],
    audit: 'referral.partner-removed',
  },
];

const offerOpen = ['offered', 'accepted', 'contacted', 'in-progress'] as const;

const offerRules: readonly LifecycleRule<'offer'>[] = [
  {
    // The router offers each match; a link worker offers by hand (add-partner, re-route).
    event: 'offer',
    from: [null],
    to: 'offered',
    roles: ['system', 'link-worker'],
    audit: 'offer.made',
    counts: ['offers.made'],
    notices: [{ to: 'partner', kind: 'assigned' }],
  },
  {
    // The referral's update tells every holder; this only moves the offer's version, so a partner acting on details
    // it has not seen (a safeguarding flag added) is refused as stale and reads them first.
    event: 'update',
    from: offerOpen,
    to: 'unchanged',
    roles: ['system'],
    audit: 'offer.updated',
    bumpsVersion: true,
  },
  {
    event: 'accept',
    from: ['offered'],
    to: 'accepted',
    roles: ['partner'],
    audit: 'offer.accepted',
    counts: ['offers.accepted'],
  },
  {
    // "Patient unreachable" and "declined by patient" are learnt after accepting, so decline is open until the
    // intervention starts.
    event: 'decline',
    from: ['offered', 'accepted', 'contacted'],
    to: 'declined',
    roles: ['partner'],
    audit: 'offer.declined',
    counts: ['offers.declined'],
    notices: [{ to: 'team', kind: 'offer-declined' }],
  },
  {
    event: 'attempt-contact',
    from: ['accepted'],
    to: 'unchanged',
    roles: ['partner'],
    audit: 'offer.contact-attempted',
    counts: ['offers.contact-attempted'],
  },
  {
    event: 'record-contact',
    from: ['accepted'],
    to: 'contacted',
    roles: ['partner'],
    audit: 'offer.contacted',
    counts: ['offers.contacted'],
  },
  {
    event: 'start-intervention',
    from: ['contacted'],
    to: 'in-progress',
    roles: ['partner'],
    audit: 'offer.intervention-started',
    counts: ['offers.intervention-started'],
  },
  {
    // Before an intervention starts the partner's way out is `decline`, with a coded reason.
    event: 'close',
    from: ['in-progress'],
    to: 'closed',
    roles: ['partner'],
    audit: 'offer.closed',
    counts: ['offers.closed'],
    notices: [{ to: 'team', kind: 'offer-closed' }],
  },
  {
    event: 'nudge',
    from: ['offered'],
    to: 'unchanged',
    roles: ['system'],
    guard: 'deadline-passed-not-nudged',
    audit: 'offer.nudged',
    counts: ['offers.nudged'],
    notices: [{ to: 'partner', kind: 'reminder' }],
  },
  {
    // Silence after the reminder: the link worker is told, the partner told to stop, the next match offered.
    event: 'escalate',
    from: ['offered'],
    to: 'expired',
    roles: ['system'],
    guard: 'deadline-passed-after-nudge',
    audit: 'offer.expired',
    counts: ['offers.expired'],
    notices: [
      { to: 'team', kind: 'offer-expired' },
      { to: 'partner', kind: 'withdrawn' },
    ],
  },
  {
    // `link-worker`: remove-partner or re-route; `system`: the referral was declined or closed around it.
    event: 'withdraw',
    from: offerOpen,
    to: 'withdrawn',
    roles: ['link-worker', 'system'],
    audit: 'offer.withdrawn',
    counts: ['offers.withdrawn'],
    notices: [{ to: 'partner', kind: 'withdrawn' }],
  },
  {
    // The referral's cancellation already tells every holder to stop: no second notice.
    event: 'cancel',
    from: offerOpen,
    to: 'withdrawn',
    roles: ['system'],
    audit: 'offer.cancelled',
    counts: ['offers.cancelled'],
  },
];

function expand<E extends LifecycleEntity>(
  entity: E,
  rules: readonly LifecycleRule<E>[],
): readonly LifecycleEntry<E>[] {
  const entries: LifecycleEntry<E>[] = [];
  const seen = new Set<string>();
  for (const rule of rules) {
    for (const from of rule.from) {
      const key = entryKey(from, rule.event);
      // A second entry for one (state, event) would make the table ambiguous; fail at load, not at run time.
      if (seen.has(key)) throw new Error(`lifecycle: two ${entity} entries for ${rule.event} from ${from}`);
      seen.add(key);
      if (rule.to === 'unchanged' && from === null)
        throw new Error(`lifecycle: ${entity} ${rule.event} creates nothing to leave unchanged`);
      entries.push({
        entity,
        from,
        event: rule.event,
        to: rule.to === 'unchanged' ? (from as StateOf<E>) : rule.to,
        roles: rule.roles,
        guard: rule.guard ?? null,
        audit: rule.audit,
        counts: rule.counts ?? [],
        notices: rule.notices ?? [],
        bumpsVersion: rule.bumpsVersion ?? false,
      });
    }
  }
  return entries;
}

function entryKey(from: string | null, event: string): string {
  return `${from ?? '(new)'} ${event}`;
}

export type LifecycleTable = { [E in LifecycleEntity]: readonly LifecycleEntry<E>[] };

export const lifecycleTable: LifecycleTable = {
  referral: expand('referral', referralRules),
  offer: expand('offer', offerRules),
};

const index: { [E in LifecycleEntity]: ReadonlyMap<string, LifecycleEntry<E>> } = {
  referral: new Map(lifecycleTable.referral.map((e) => [entryKey(e.from, e.event), e])),
  offer: new Map(lifecycleTable.offer.map((e) => [entryKey(e.from, e.event), e])),
};

/** The entry for (entity, from, event), if the table allows that event there for some role. */
export function entryFor<E extends LifecycleEntity>(
  entity: E,
  from: StateOf<E> | null,
  event: EventOf<E>,
): LifecycleEntry<E> | undefined {
  const entries: ReadonlyMap<string, LifecycleEntry<E>> = index[entity];
  return entries.get(entryKey(from, event));
}

/**
 * A caller who says which state it saw (`state` in an action's body) acts on that view only: a version moves with
 * content, not with state, so a colleague's accept leaves the version where it was, and a decline decided on the
 * page that still showed `offered` must not land on the accepted offer. Refused as stale, unless the state is where
 * this very event leads from the one seen (the caller's own action, already done: `decide` answers `already`).
 */
export function staleView<E extends LifecycleEntity>(
  entity: E,
  current: Pick<LifecycleCurrent<E>, 'state' | 'version'>,
  seen: string | undefined,
  event: EventOf<E>,
): LifecycleRefusal<E> | undefined {
  if (seen === undefined || seen === current.state) return undefined;
  const known: readonly string[] = lifecycleStates[entity];
  const entry = known.includes(seen) ? entryFor(entity, seen as StateOf<E>, event) : undefined;
  if (entry && entry.to === current.state) return undefined;
  return {
    ok: false,
    reason: 'stale',
    entity,
    event,
    state: current.state,
    version: current.version,
    message: `${entity} is ${current.state} (version ${current.version}), not ${seen} as the caller saw it: read it again before ${event}`,
  };
}

/** What a role may do from a state: the actions a worklist or inbox page offers. */
export function allowedEvents<E extends LifecycleEntity>(
  entity: E,
  state: StateOf<E> | null,
  role?: LifecycleActor,
): EventOf<E>[] {
  const entries: readonly LifecycleEntry<E>[] = lifecycleTable[entity];
  return entries
    .filter((e) => e.from === state && (role === undefined || e.roles.includes(role)))
    .map((e) => e.event);
}

export function isTerminal<E extends LifecycleEntity>(entity: E, state: StateOf<E>): boolean {
  const terminal: readonly StateOf<E>[] = terminalStates[entity];
  return terminal.includes(state);
}

// ---------------------------------------------------------------------------------------------------------------
// Deciding
// ---------------------------------------------------------------------------------------------------------------

/** The entity as stored: its state, its content version, and the facts guards read. */
export interface LifecycleCurrent<E extends LifecycleEntity> {
  state: StateOf<E>;
  version: number;
  lastMessageAt?: string;
  /** Which message was applied last (BaRS: its X-Request-ID). */
  lastMessageId?: string;
  deadline?: string;
  nudgedAt?: string;
}

/** Facts of the request a guard reads; a guard whose facts are missing is left to the store's condition. */
export interface GuardFacts {
  /** ISO date-time; the caller's clock (the domain has none). */
  now?: string;
  /** The sender's timestamp of the message (BaRS update). */
  messageAt?: string;
  /** Which message it is (BaRS: its X-Request-ID): the same timestamp is a repeat only for the same message. */
  messageId?: string;
}

/** Everything the store and the use case need to apply (or finish) one state change. */
export interface LifecycleTransition<E extends LifecycleEntity> {
  entity: E;
  event: EventOf<E>;
  role: LifecycleActor;
  /** `null`: the entity is created (the store writes with attribute_not_exists). */
  from: StateOf<E> | null;
  to: StateOf<E>;
  /** The write's condition: version = expectedVersion (and state = from); 0 for a creation. */
  expectedVersion: number;
  nextVersion: number;
  guard: LifecycleGuard | null;
  /** The organisation the write's condition must tie to the caller (ownerOf). */
  owner: LifecycleOwner | null;
  audit: `${E}.${string}`;
  counts: readonly string[];
  notices: readonly LifecycleNotice[];
}

export const lifecycleRefusalReasons = ['invalid', 'stale', 'forbidden'] as const;
export const LifecycleRefusalReason = z.enum(lifecycleRefusalReasons);
export type LifecycleRefusalReason = z.infer<typeof LifecycleRefusalReason>;

export interface LifecycleRefusal<E extends LifecycleEntity> {
  ok: false;
  reason: LifecycleRefusalReason;
  entity: E;
  event: EventOf<E>;
  /** As stored; `null` when it does not exist. */
  state: StateOf<E> | null;
  version: number;
  message: string;
}

/**
 * `apply`: write the transition with one version-conditional write, then audit, count and notify.
 *
 * `already`: the event's effect is in place and nothing is to be written (from = to = the current state, versions
 * equal). Said when the event leads into the current state and the caller saw the current version (a retried cancel,
 * a router redelivery on a routed referral, a second accept), when a creation finds the entity existing, or when a
 * guard shows the very same message applied. The transition still carries the audit action, counts and notices, so a
 * use case that crashed after the write can finish them: all three are keyed per step and count once. Whether the
 * earlier write came from *this* request (same message, same idempotency key) is the use case's check where the
 * request carries an identity; the machine only says that repeating would change nothing.
 */
export type LifecycleDecision<E extends LifecycleEntity> =
  | { ok: true; kind: 'apply'; transition: LifecycleTransition<E> }
  | { ok: true; kind: 'already'; transition: LifecycleTransition<E> }
  | LifecycleRefusal<E>;

/**
 * Decides one event for one role against the entity as stored. Checks, in order: the role may do this event to this
 * entity at all (else `forbidden`, whose message names no state, so it reveals nothing); the state allows it (else
 * `already` or `invalid`); the caller saw the current version (else `stale`); the guard, where its facts are given
 * (else `invalid`, or `already` for the same message). `invalid` wins over `stale`: re-reading would not help.
 */
export function decide<E extends LifecycleEntity>(
  entity: E,
  current: LifecycleCurrent<E> | null,
  event: EventOf<E>,
  role: LifecycleActor,
  expectedVersion: number,
  facts: GuardFacts = {},
): LifecycleDecision<E> {
  const state = current?.state ?? null;
  const version = current?.version ?? 0;
  const refuse = (reason: LifecycleRefusalReason, message: string): LifecycleRefusal<E> => ({
    ok: false,
    reason,
    entity,
    event,
    state,
    version,
    message,
  });
  const table: readonly LifecycleEntry<E>[] = lifecycleTable[entity];
  const forEvent = table.filter((e) => e.event === event);
  if (!forEvent.some((e) => e.roles.includes(role)))
    return refuse('forbidden', `${role} may not ${event} ${article(entity)}`);

  const stale = () =>
    refuse(
      'stale',
      `${entity} changed: expected version ${expectedVersion}, ${state === null ? 'it does not exist' : `it is at version ${version} (${state})`}`,
    );
  const notAllowed = (why: string) =>
    refuse(
      'invalid',
      state === null
        ? `${entity} does not exist: ${event} is not allowed`
        : `${entity} is ${state} (version ${version}): ${event} is not allowed; ${why}`,
    );

  const entry = entryFor(entity, state, event);
  if (entry) {
    if (!entry.roles.includes(role)) return refuse('forbidden', `${role} may not ${event} this ${entity}`);
    if (expectedVersion !== version) return stale();
    if (entry.guard !== null && current !== null) {
      const guard = checkGuard(entry.guard, current, facts);
      if (guard !== 'holds' && guard !== 'unknown') {
        if (guard.repeat) return { ok: true, kind: 'already', transition: unchanged(entry, role, current) };
        return notAllowed(guard.why);
      }
    }
    return { ok: true, kind: 'apply', transition: transitionOf(entry, role, entry.from, version) };
  }
  if (current === null) return notAllowed('');

  // A creation that finds the entity is a repeat whatever happened since: existing is its whole effect.
  const creation = forEvent.find((e) => e.from === null && e.roles.includes(role));
  if (creation) return { ok: true, kind: 'already', transition: unchanged(creation, role, current) };
  // No entry here means no self-loop here, so an event that leads into this state has nothing left to do.
  const into = forEvent.find((e) => e.to === current.state && e.from !== e.to && e.roles.includes(role));
  if (into) {
    if (expectedVersion !== version) return stale();
    return { ok: true, kind: 'already', transition: unchanged(into, role, current) };
  }
  const allowed = allowedEvents(entity, current.state);
  return notAllowed(
    allowed.length === 0
      ? `${current.state} is final`
      : `allowed from ${current.state}: ${allowed.join(', ')}`,
  );
}

function transitionOf<E extends LifecycleEntity>(
  entry: LifecycleEntry<E>,
  role: LifecycleActor,
  from: StateOf<E> | null,
  version: number,
): LifecycleTransition<E> {
  return {
    entity: entry.entity,
    event: entry.event,
    role,
    from,
    to: entry.to,
    expectedVersion: version,
    // A creation starts at version 1, as newReferral does today.
    nextVersion: from === null ? 1 : version + (entry.bumpsVersion ? 1 : 0),
    guard: entry.guard,
    owner: ownerOf[role],
    audit: entry.audit,
    counts: entry.counts,
    notices: entry.notices,
  };
}

/** The `already` transition: nothing moves, so the store is not asked to write it. */
function unchanged<E extends LifecycleEntity>(
  entry: LifecycleEntry<E>,
  role: LifecycleActor,
  current: LifecycleCurrent<E>,
): LifecycleTransition<E> {
  return {
    ...transitionOf(entry, role, current.state, current.version),
    to: current.state,
    nextVersion: current.version,
  };
}

type GuardResult = 'holds' | 'unknown' | { repeat: boolean; why: string };

/** The pure reading of each guard, shared by `decide` and (later) the in-memory store. */
export function checkGuard(
  guard: LifecycleGuard,
  current: Pick<
    LifecycleCurrent<LifecycleEntity>,
    'lastMessageAt' | 'lastMessageId' | 'deadline' | 'nudgedAt'
  >,
  facts: GuardFacts,
): GuardResult {
  switch (guard) {
    case 'newer-message': {
      if (facts.messageAt === undefined) return 'unknown';
      if (current.lastMessageAt === undefined) return 'holds';
      const last = Date.parse(current.lastMessageAt);
      const message = Date.parse(facts.messageAt);
      if (message > last) return 'holds';
      // The same timestamp is a repeat only when it is the same message (a retry after a crash). Another message
      // with the same timestamp (senders often send whole seconds) would otherwise be acknowledged and dropped.
      if (message === last) {
        if (facts.messageId !== undefined && facts.messageId === current.lastMessageId)
          return { repeat: true, why: `the message of ${facts.messageAt} was already applied` };
        return {
          repeat: false,
          why: `another message with the same timestamp (${current.lastMessageAt}) was already applied; send this one with a later Bundle.timestamp`,
        };
      }
      return { repeat: false, why: `a newer message (${current.lastMessageAt}) was already applied` };
    }
    case 'deadline-passed':
      return deadlinePassed(current, facts);
    case 'deadline-passed-not-nudged':
      // A reminder is sent once: asked again, it has nothing left to do (the deadline job's retry).
      if (current.nudgedAt !== undefined)
        return { repeat: true, why: `a reminder was already sent at ${current.nudgedAt}` };
      return deadlinePassed(current, facts);
    case 'deadline-passed-after-nudge':
      if (current.nudgedAt === undefined) return { repeat: false, why: 'no reminder has been sent yet' };
      return deadlinePassed(current, facts);
  }
}

function deadlinePassed(current: { deadline?: string }, facts: GuardFacts): GuardResult {
  if (facts.now === undefined) return 'unknown';
  if (current.deadline === undefined) return { repeat: false, why: 'it has no deadline' };
  if (Date.parse(current.deadline) <= Date.parse(facts.now)) return 'holds';
  return { repeat: false, why: `its deadline (${current.deadline}) has not passed` };
}

function article(entity: LifecycleEntity): string {
  return entity === 'offer' ? 'an offer' : 'a referral';
}

/** The decision, or the refusal thrown: for use cases that have nothing to do but fail on a refusal. */
export function decideOrThrow<E extends LifecycleEntity>(
  ...args: Parameters<typeof decide<E>>
): { kind: 'apply' | 'already'; transition: LifecycleTransition<E> } {
  const decision = decide(...args);
  if (!decision.ok) throw new LifecycleConflictError(decision);
  return { kind: decision.kind, transition: decision.transition };
}

// ---------------------------------------------------------------------------------------------------------------
// Documentation
// ---------------------------------------------------------------------------------------------------------------

/**
 * The table as Markdown (states down, events across), for docs. A cell shows the next state (`=` for unchanged), the
 * roles, the guard in brackets and `+v` when the content version moves; `·` is refused for every role.
 */
export function lifecycleMarkdown<E extends LifecycleEntity>(entity: E): string {
  const events: readonly EventOf<E>[] = lifecycleEvents[entity];
  const states: readonly StateOf<E>[] = lifecycleStates[entity];
  const rows: (StateOf<E> | null)[] = [null, ...states];
  const cell = (from: StateOf<E> | null, event: EventOf<E>): string => {
    const entry = entryFor(entity, from, event);
    if (!entry) return '·';
    const to = entry.to === from ? '=' : `→ ${entry.to}`;
    const guard = entry.guard ? ` [${entry.guard}]` : '';
    return `${to} (${entry.roles.join(', ')})${guard}${entry.bumpsVersion ? ' +v' : ''}`;
  };
  const label = (state: StateOf<E> | null): string =>
    state === null ? '(new)' : isTerminal(entity, state) ? `**${state}** (final)` : `**${state}**`;
  const lines = [
    `| ${entity} | ${events.join(' | ')} |`,
    `| --- | ${events.map(() => '---').join(' | ')} |`,
    ...rows.map((state) => `| ${label(state)} | ${events.map((event) => cell(state, event)).join(' | ')} |`),
  ];
  return lines.join('\n');
}
