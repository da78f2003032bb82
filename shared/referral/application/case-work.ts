import * as z from 'zod';
import type { AuditLog } from '#audit/ports.ts';
import type { Clock } from '#kernel/clock.ts';
import { ConflictError, LifecycleConflictError, NotFoundError, UnprocessableError } from '#kernel/errors.ts';
import { parseWith } from '#kernel/validation.ts';
import { NoticeKind, noticeId, type NoticeMessage } from '#messages/notice-message.ts';
import type { Queue } from '#messages/queue.ts';
import type { Figures, MetricCount, MetricCounters, PartnerResponses } from '#reporting/ports.ts';
import { funnelFigure, funnelUnit } from '#reporting/domain/referral-figures.ts';
import type { FunnelStage } from '#reporting/domain/figures.ts';
import { recordPartnerAnswer } from '#reporting/application/record-partner-answer.ts';
import {
  allowedEvents,
  decide,
  isTerminal,
  OfferState,
  ReferralState,
  staleView,
  type EventOf,
  type LifecycleNotice,
  type LifecycleTransition,
} from '#referral/domain/lifecycle.ts';
import {
  caseClosedCode,
  CloseAction,
  ContactAction,
  DeclineAction,
  VersionedCaseAction,
  ChooseServiceAction,
  RemovePartnerAction,
  type ActedBy,
  type ReturnedNeed,
} from '#referral/domain/case-work.ts';
import type { DirectoryEditor } from '#directory/ports.ts';
import { partnerDeliveryOf, partnerView, referralOfOffer, type Offer } from '#referral/domain/offer.ts';
import type { DeliveryState, Referral } from '#referral/domain/referral.ts';
import { hasConsentFor } from '#referral/domain/sharing.ts';
import { buildDeliveryPayload, type DeliveryPayload } from '#delivery/domain/minimisation.ts';
import { transitionReferral } from '#referral/application/transition-referral.ts';
import { tellPractice } from '#referral/application/tell-practice.ts';
import { makeOffer, offerTermsFor } from '#referral/application/make-offer.ts';
import type {
  OfferChanges,
  OfferStore,
  ReferralStore,
  ServiceTerms,
  TransitionChanges,
  Worklists,
} from '#referral/ports.ts';

/**
 * The link-worker team's and the partners' case work (issue 9): their worklists, their view of one referral or
 * offer, and their actions. Every action is one event of the lifecycle (#referral/domain/lifecycle.ts) decided on
 * the item as read and the `version` the caller saw, then ONE version-conditional write that also records what the
 * action says; then its audit entry, counts and follow-ups, each keyed by the step so a retry adds nothing.
 *
 * Scoped by the token's organisation only: a referral routed to another team, or another partner's offer, is "not
 * found", exactly as one that does not exist (never 403, which would say it exists).
 *
 * A partner's decline offers the need to the next fitting service of the stored routing decision, or returns the
 * need to the link worker with the reason when none is left (`offerNextMatch`).
 */

export interface CaseWorkDeps {
  referrals: ReferralStore;
  offers: OfferStore;
  worklists: Worklists;
  services: ServiceTerms;
  /**
   * The directory's records, for a service a link worker chooses by hand (re-route, add-partner); only those routes
   * read it, so the system's own callers (the deadline job) need not wire it.
   */
  directory?: Pick<DirectoryEditor, 'get'>;
  audit: AuditLog;
  counters: MetricCounters;
  /** The observatory's figures: the team's steps are the funnel's stages, partners' answers their responses. */
  figures: Figures;
  /** Partners' answers for their response records: wired where partners answer (and the deadline job). */
  responses?: PartnerResponses;
  /** The notifications queue: a re-offer's new delivery is told to its partner as an `assigned` notice. */
  notices: Queue<NoticeMessage>;
  clock: Clock;
}

/** Who acts: the organisation the token is bound to (a team or a partner id) and the token's subject. */
export interface Actor {
  organisation: string;
  subject: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Worklists

export const maxWorklistPage = 100;
const defaultWorklistPage = 20;

const Limit = z
  .string()
  .regex(/^\d{1,3}$/, `must be a whole number from 1 to ${maxWorklistPage}`)
  .transform(Number)
  .refine((n) => n >= 1 && n <= maxWorklistPage, `must be a whole number from 1 to ${maxWorklistPage}`);
const Cursor = z.string().min(1).max(1000);

export const TeamWorklistQuery = z.strictObject({
  status: ReferralState.optional(),
  limit: Limit.optional(),
  cursor: Cursor.optional(),
});
export const PartnerWorklistQuery = z.strictObject({
  status: OfferState.optional(),
  limit: Limit.optional(),
  cursor: Cursor.optional(),
});

export interface TeamWorklistEntry {
  referralId: string;
  status: Referral['status'];
  version: number;
  receivedAt: string;
  updatedAt: string;
  practiceOds: string;
  needs: Referral['needs'];
  respondBy?: string;
  /** Direct care: the link worker sees who the patient is. */
  patientName: { given: string; family: string };
  safeguardingConcern: boolean;
  /** Needs back with the link worker because no partner is left to offer them to. */
  returnedNeeds: number;
}

export interface PartnerWorklistEntry {
  offerId: string;
  referralId: string;
  state: Offer['state'];
  version: number;
  category: Offer['category'];
  serviceId: string;
  serviceName: string;
  content: Offer['content'];
  offeredAt: string;
  deadline: string;
}

export async function listTeamReferrals(
  deps: Pick<CaseWorkDeps, 'worklists'>,
  team: string,
  query: Record<string, string | undefined>,
): Promise<{ items: TeamWorklistEntry[]; cursor?: string }> {
  const { status, limit, cursor } = parseWith(TeamWorklistQuery, definedOnly(query));
  const page = await deps.worklists.teamReferrals(team, {
    limit: limit ?? defaultWorklistPage,
    ...(status === undefined ? {} : { status }),
    ...(cursor === undefined ? {} : { cursor }),
  });
  return {
    items: page.items.map((r) => ({
      referralId: r.referralId,
      status: r.status,
      version: r.version,
      receivedAt: r.receivedAt,
      updatedAt: r.updatedAt,
      practiceOds: r.practiceOds,
      needs: r.needs,
      ...(r.respondBy === undefined ? {} : { respondBy: r.respondBy }),
      patientName: { given: r.patient.name.given, family: r.patient.name.family },
      safeguardingConcern: r.flags?.safeguarding ?? false,
      returnedNeeds: r.returnedNeeds?.length ?? 0,
    })),
    ...(page.cursor === undefined ? {} : { cursor: page.cursor }),
  };
}

export async function listPartnerOffers(
  deps: Pick<CaseWorkDeps, 'worklists'>,
  partner: string,
  query: Record<string, string | undefined>,
): Promise<{ items: PartnerWorklistEntry[]; cursor?: string }> {
  const { status, limit, cursor } = parseWith(PartnerWorklistQuery, definedOnly(query));
  const page = await deps.worklists.partnerOffers(partner, {
    limit: limit ?? defaultWorklistPage,
    ...(status === undefined ? {} : { status }),
    ...(cursor === undefined ? {} : { cursor }),
  });
  // No patient detail in a partner's list: the view of one offer shows what its content level allows.
  return {
    items: page.items.map((o) => ({
      offerId: o.offerId,
      referralId: o.referralId,
      state: o.state,
      version: o.version,
      category: o.category,
      serviceId: o.serviceId,
      serviceName: o.serviceName,
      content: o.content,
      offeredAt: o.offeredAt,
      deadline: o.deadline,
    })),
    ...(page.cursor === undefined ? {} : { cursor: page.cursor }),
  };
}

const definedOnly = (query: Record<string, string | undefined>): Record<string, string> =>
  Object.fromEntries(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined));

// ---------------------------------------------------------------------------------------------------------------
// Views

/** The actions of the API, by the lifecycle event each one is (`contact` is two: attempted or made). */
export const caseActions = ['accept', 'decline', 'contact', 'start', 'close'] as const;
export type CaseAction = (typeof caseActions)[number];
const actionOfEvent: Partial<Record<EventOf<'referral'> | EventOf<'offer'>, CaseAction>> = {
  accept: 'accept',
  decline: 'decline',
  'attempt-contact': 'contact',
  'record-contact': 'contact',
  'start-intervention': 'start',
  close: 'close',
};
const actionsFrom = (events: readonly string[]): CaseAction[] => [
  ...new Set(events.flatMap((e) => actionOfEvent[e as EventOf<'referral'>] ?? [])),
];

export interface OfferSummary {
  offerId: string;
  partnerId: string;
  partnerName: string;
  serviceId: string;
  serviceName: string;
  category: Offer['category'];
  state: Offer['state'];
  version: number;
  content: Offer['content'];
  offeredAt: string;
  deadline: string;
  follows?: string;
  decline?: Offer['decline'];
  closure?: Offer['closure'];
}

/** The link worker's view: direct care, so the team's content level (minimisation.ts), plus the case's state. */
export interface TeamReferralView {
  referralId: string;
  status: Referral['status'];
  version: number;
  /** What the caller may do now, by the API's action names. */
  actions: CaseAction[];
  details: DeliveryPayload;
  caseWork: Pick<
    Referral,
    'acceptance' | 'teamDecline' | 'lastContactAttempt' | 'firstContact' | 'interventionStart' | 'closure'
  >;
  returnedNeeds: ReturnedNeed[];
  offers: OfferSummary[];
}

/** The partner's view: the offer, and the referral as minimisation.ts lets this partner see it now. */
export interface PartnerOfferView {
  offerId: string;
  referralId: string;
  state: Offer['state'];
  version: number;
  actions: CaseAction[];
  category: Offer['category'];
  serviceId: string;
  serviceName: string;
  offeredAt: string;
  deadline: string;
  referral: DeliveryPayload;
  caseWork: Pick<
    Offer,
    | 'acceptance'
    | 'decline'
    | 'lastContactAttempt'
    | 'firstContact'
    | 'interventionStart'
    | 'closure'
    | 'withdrawal'
  >;
}

/** The referral, if it is routed to this team; else "not found", as for one that does not exist. */
async function teamReferral(
  deps: Pick<CaseWorkDeps, 'referrals'>,
  team: string,
  referralId: string,
): Promise<Referral> {
  const referral = await deps.referrals.get(referralId);
  if (!referral || referral.routing?.team?.id !== team)
    throw new NotFoundError(`There is no referral ${referralId}`);
  return referral;
}

async function partnerOffer(
  deps: Pick<CaseWorkDeps, 'offers'>,
  partner: string,
  offerId: string,
): Promise<Offer> {
  const referralId = referralOfOffer(offerId);
  const offer = referralId === undefined ? undefined : await deps.offers.get(referralId, offerId);
  if (!offer || offer.partnerId !== partner) throw new NotFoundError(`There is no offer ${offerId}`);
  return offer;
}

export async function teamReferralView(
  deps: Pick<CaseWorkDeps, 'referrals' | 'offers'>,
  team: string,
  referralId: string,
): Promise<TeamReferralView> {
  const referral = await teamReferral(deps, team, referralId);
  return teamViewOf(referral, await deps.offers.ofReferral(referralId));
}

function teamViewOf(referral: Referral, offers: Offer[]): TeamReferralView {
  const delivery = referral.routing?.deliveries.find((d) => d.recipient.kind === 'team');
  if (!delivery || !referral.routing) throw new Error(`referral ${referral.referralId} has no team delivery`);
  const pick = <K extends keyof Referral>(keys: K[]) =>
    Object.fromEntries(keys.filter((k) => referral[k] !== undefined).map((k) => [k, referral[k]]));
  return {
    referralId: referral.referralId,
    status: referral.status,
    version: referral.version,
    actions: actionsFrom(allowedEvents('referral', referral.status, 'link-worker')),
    details: buildDeliveryPayload(referral, delivery, referral.routing.area),
    caseWork: pick([
      'acceptance',
      'teamDecline',
      'lastContactAttempt',
      'firstContact',
      'interventionStart',
      'closure',
    ]) as TeamReferralView['caseWork'],
    returnedNeeds: referral.returnedNeeds ?? [],
    offers: offers.map((o) => ({
      offerId: o.offerId,
      partnerId: o.partnerId,
      partnerName: o.partnerName,
      serviceId: o.serviceId,
      serviceName: o.serviceName,
      category: o.category,
      state: o.state,
      version: o.version,
      content: o.content,
      offeredAt: o.offeredAt,
      deadline: o.deadline,
      ...(o.follows ? { follows: o.follows } : {}),
      ...(o.decline ? { decline: o.decline } : {}),
      ...(o.closure ? { closure: o.closure } : {}),
    })),
  };
}

export async function partnerOfferView(
  deps: Pick<CaseWorkDeps, 'referrals' | 'offers'>,
  partner: string,
  offerId: string,
): Promise<PartnerOfferView> {
  const offer = await partnerOffer(deps, partner, offerId);
  return partnerViewOf(offer, await deps.referrals.get(offer.referralId));
}

function partnerViewOf(offer: Offer, referral: Referral | undefined): PartnerOfferView {
  const view = referral ? partnerView(referral, offer) : offer.view;
  // A partner that said no, was taken off or whose referral ended no longer needs to know who the patient is.
  const ended =
    (isTerminal('offer', offer.state) && offer.state !== 'closed') || referral?.status === 'cancelled';
  const { patient: _patient, ...signposting } = view;
  const pick = <K extends keyof Offer>(keys: K[]) =>
    Object.fromEntries(keys.filter((k) => offer[k] !== undefined).map((k) => [k, offer[k]]));
  return {
    offerId: offer.offerId,
    referralId: offer.referralId,
    state: offer.state,
    version: offer.version,
    actions: actionsFrom(allowedEvents('offer', offer.state, 'partner')),
    category: offer.category,
    serviceId: offer.serviceId,
    serviceName: offer.serviceName,
    offeredAt: offer.offeredAt,
    deadline: offer.deadline,
    referral: ended ? { ...signposting, content: 'signposting' } : view,
    caseWork: pick([
      'acceptance',
      'decline',
      'lastContactAttempt',
      'firstContact',
      'interventionStart',
      'closure',
      'withdrawal',
    ]) as PartnerOfferView['caseWork'],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Actions

/** An action's body as validated, and the event and record it makes. */
interface ActionStep<E extends 'referral' | 'offer'> {
  version: number;
  /** The state the caller saw, when it said (lifecycle `staleView`). */
  seen?: string;
  event: EventOf<E>;
  /** The record the action leaves (`acceptance`, `decline`, ...), written with the transition. */
  field: string;
  record: ActedBy & Partial<Record<'reason' | 'text' | 'channel' | 'code' | 'key', string>>;
  /** Stable per step, for the audit entry and the counts: a repeat finds both done. */
  step: string;
  dimensions: Record<string, string>;
}

/**
 * The body of `action`, validated (400 naming the field), and what it makes. `field` names the record on the
 * referral (`teamDecline`) or the offer (`decline`): they are kept apart on the referral because its decline is the
 * team's, not a partner's.
 */
function stepOf<E extends 'referral' | 'offer'>(
  entity: E,
  action: CaseAction,
  body: unknown,
  by: ActedBy,
  key?: string,
): ActionStep<E> {
  const step = stepWithoutView(entity, action, body, by, key);
  // Every action's schema has the optional `state` the caller saw; read from the validated body.
  const seen = (body as { state?: string } | null)?.state;
  return seen === undefined ? step : { ...step, seen };
}

function stepWithoutView<E extends 'referral' | 'offer'>(
  entity: E,
  action: CaseAction,
  body: unknown,
  by: ActedBy,
  key?: string,
): ActionStep<E> {
  const event = <T extends EventOf<'referral'> & EventOf<'offer'>>(e: T) => e as EventOf<E>;
  switch (action) {
    case 'accept': {
      const { version } = parseWith(VersionedCaseAction, body);
      return {
        version,
        event: event('accept'),
        field: 'acceptance',
        record: by,
        step: 'accepted',
        dimensions: {},
      };
    }
    case 'decline': {
      const { version, reason, text } = parseWith(DeclineAction, body);
      return {
        version,
        event: event('decline'),
        field: entity === 'referral' ? 'teamDecline' : 'decline',
        record: { ...by, reason, ...(text === undefined ? {} : { text }) },
        step: 'declined',
        // The coded reason only: free text never goes into a count.
        dimensions: { reason },
      };
    }
    case 'contact': {
      const { version, outcome, channel } = parseWith(ContactAction, body);
      return outcome === 'made'
        ? {
            version,
            event: event('record-contact'),
            field: 'firstContact',
            record: { ...by, channel },
            step: 'contacted',
            dimensions: { channel },
          }
        : {
            version,
            event: event('attempt-contact'),
            field: 'lastContactAttempt',
            record: { ...by, channel, ...(key === undefined ? {} : { key }) },
            // Each attempt is its own step: keyed by the request's Idempotency-Key, else by when it was made.
            step: `contact-attempted.${key ?? by.at}`,
            dimensions: { channel },
          };
    }
    case 'start': {
      const { version } = parseWith(VersionedCaseAction, body);
      return {
        version,
        event: event('start-intervention'),
        field: 'interventionStart',
        record: by,
        step: 'intervention-started',
        dimensions: {},
      };
    }
    case 'close': {
      const { version, reason, code, text } = parseWith(CloseAction, body);
      return {
        version,
        event: event('close'),
        field: 'closure',
        record: { ...by, reason, code: code ?? caseClosedCode, ...(text === undefined ? {} : { text }) },
        step: 'closed',
        dimensions: { reason },
      };
    }
  }
}

/**
 * An attempted contact moves no state, so the lifecycle cannot tell its retry from a second attempt: a request that
 * carries an Idempotency-Key is the same attempt as the last one recorded with that key.
 */
function sameAttempt(
  last: { key?: string } | undefined,
  step: { event: string },
  requestKey: string | undefined,
): boolean {
  return step.event === 'attempt-contact' && requestKey !== undefined && last?.key === requestKey;
}

/** An `apply` turned into `already`: the effect is in place, nothing is written, the step is finished again. */
function alreadyDone<E extends 'referral' | 'offer'>(
  decision: ReturnType<typeof decide<E>>,
): ReturnType<typeof decide<E>> {
  return decision.ok ? { ...decision, kind: 'already' } : decision;
}

/** When a step already in place was done: its record's time, so a retry counts it on the same day. */
const recordedAt = (item: object, field: string): string | undefined =>
  (Reflect.get(item, field) as ActedBy | undefined)?.at;

/**
 * A link worker's action on a referral routed to their team. The body is read only once the referral is known to be
 * the team's (`readBody`), so another team's referral is 404 whatever the body says.
 */
export async function actOnTeamReferral(
  deps: CaseWorkDeps,
  actor: Actor,
  referralId: string,
  action: CaseAction,
  readBody: () => unknown,
  requestKey?: string,
): Promise<TeamReferralView> {
  const read = await teamReferral(deps, actor.organisation, referralId);
  const at = deps.clock.now().toISOString();
  const step = stepOf('referral', action, readBody(), { at, by: actor.subject }, requestKey);
  const outcome = await transitionReferral(deps.referrals, read, {
    referralId,
    decide: (referral) =>
      staleView('referral', { state: referral.status, version: referral.version }, step.seen, step.event) ??
      (sameAttempt(referral.lastContactAttempt, step, requestKey)
        ? alreadyDone(
            decide(
              'referral',
              { state: referral.status, version: referral.version },
              step.event,
              'link-worker',
              step.version,
            ),
          )
        : decide(
            'referral',
            { state: referral.status, version: referral.version },
            step.event,
            'link-worker',
            step.version,
          )),
    context: () => ({
      at,
      ownerId: actor.organisation,
      changes: { [step.field]: step.record } as TransitionChanges,
    }),
    reread: () => teamReferral(deps, actor.organisation, referralId),
    // The caller judged the version it saw: a write refused meanwhile is the answer (409), not retried for it.
    writeAgain: false,
  });
  if (outcome.kind === 'refused') throw new LifecycleConflictError(outcome.refusal);
  const { referral, transition } = outcome;
  const done = outcome.kind === 'apply' ? at : (recordedAt(referral, step.field) ?? at);
  const team = actor.organisation;
  await finishStep(deps, referralId, transition, {
    eventKey: step.step,
    unitId: step.step.startsWith('contact-attempted') ? `${referralId}.${step.step}` : referralId,
    at: done,
    actor: `link-worker:${actor.subject}`,
    dimensions: { team, ...step.dimensions },
    detail: { team, version: referral.version, ...step.dimensions },
  });
  await recordFunnelStage(deps, referral, step.step, done);
  // The message back to the GP (accepted, seen, declined, started, closed); a repeat queues it again, sent once.
  await tellPractice(deps, referralId, transition.notices);
  // The case ended before any partner finished: their open offers are withdrawn by the system.
  const offers = await deps.offers.ofReferral(referralId);
  if (referral.status === 'declined' || referral.status === 'closed') {
    const open = offers.filter((o) => !isTerminal('offer', o.state) && o.state !== 'in-progress');
    await Promise.all(open.map((o) => withdrawOffer(deps, o, `the referral was ${referral.status}`)));
    return teamViewOf(referral, await deps.offers.ofReferral(referralId));
  }
  return teamViewOf(referral, offers);
}

/**
 * A partner's action on its own offer. A decline (new, or repeated after a crash) then offers the need to the next
 * match, or returns it to the link worker.
 */
export async function actOnPartnerOffer(
  deps: CaseWorkDeps,
  actor: Actor,
  offerId: string,
  action: CaseAction,
  readBody: () => unknown,
  requestKey?: string,
): Promise<PartnerOfferView> {
  const read = await partnerOffer(deps, actor.organisation, offerId);
  const at = deps.clock.now().toISOString();
  const step = stepOf('offer', action, readBody(), { at, by: actor.subject }, requestKey);
  // The referrer cancelled it: its offers are withdrawn by the intake, and none may be acted on meanwhile.
  const held = await deps.referrals.get(read.referralId);
  if (held?.status === 'cancelled')
    throw new LifecycleConflictError({
      reason: 'invalid',
      entity: 'offer',
      event: step.event,
      state: read.state,
      version: read.version,
      message: `offer is ${read.state} (version ${read.version}) but its referral was cancelled: ${step.event} is not allowed`,
    });
  const decided = decide(
    'offer',
    {
      state: read.state,
      version: read.version,
      deadline: read.deadline,
      ...(read.nudgedAt === undefined ? {} : { nudgedAt: read.nudgedAt }),
    },
    step.event,
    'partner',
    step.version,
    { now: at },
  );
  const decision =
    staleView('offer', read, step.seen, step.event) ??
    (sameAttempt(read.lastContactAttempt, step, requestKey) ? alreadyDone(decided) : decided);
  if (!decision.ok) throw new LifecycleConflictError(decision);
  const offer =
    decision.kind === 'apply'
      ? await deps.offers.apply(read, decision.transition, {
          at,
          ownerId: actor.organisation,
          changes: { [step.field]: step.record } as OfferChanges,
        })
      : read;
  const done = decision.kind === 'apply' ? at : (recordedAt(offer, step.field) ?? at);
  await finishStep(deps, offer.referralId, decision.transition, {
    eventKey: `offer.${offerId}.${step.step}`,
    unitId: step.step.startsWith('contact-attempted') ? `${offerId}.${step.step}` : offerId,
    at: done,
    actor: `partner:${actor.subject}`,
    dimensions: { partner: offer.partnerId, category: offer.category, ...step.dimensions },
    detail: {
      offerId,
      partnerId: offer.partnerId,
      category: offer.category,
      version: offer.version,
      ...step.dimensions,
    },
  });
  // The partner's answer to the offer is its first: a decline after accepting (the patient unreachable, say) is
  // what became of an accepted offer, not a second answer, so the response record counts the acceptance only.
  if (step.step === 'accepted' || (step.step === 'declined' && offer.acceptance === undefined))
    await recordPartnerAnswer(deps.responses, offer, step.step, done, deps.figures);
  const referral = await deps.referrals.get(offer.referralId);
  if (referral) await tell(deps, referral, offer, decision.transition.notices);
  if (offer.state === 'declined') await offerNextMatch(deps, offer);
  return partnerViewOf(offer, referral ? await deps.referrals.get(offer.referralId) : undefined);
}

/** The step's audit entry and its counts (the lifecycle entry's), each once per step however often it is asked. */
async function finishStep(
  deps: Pick<CaseWorkDeps, 'audit' | 'counters'>,
  referralId: string,
  transition: Pick<LifecycleTransition<'referral' | 'offer'>, 'audit' | 'counts'>,
  step: {
    eventKey: string;
    unitId: string;
    at: string;
    actor: string;
    dimensions: Record<string, string>;
    detail: Record<string, unknown>;
  },
): Promise<void> {
  await deps.audit.append({
    referralId,
    eventKey: step.eventKey,
    action: transition.audit,
    actor: step.actor,
    at: step.at,
    detail: step.detail,
  });
  const counts: MetricCount[] = transition.counts.map((name) => ({ name, dimensions: step.dimensions }));
  if (counts.length > 0) await deps.counters.countOnce(counts, step.at.slice(0, 10), step.unitId);
}

/** The team's steps as the funnel's stages; an attempted contact is not a stage. */
const funnelStageOf: Partial<Record<string, FunnelStage>> = {
  accepted: 'received',
  contacted: 'contacted',
  'intervention-started': 'started',
  closed: 'closed',
  declined: 'declined',
};

/**
 * The funnel's figure for a team step, after the step's write and audit, once per referral and stage (unit
 * `<referralId>#<stage>`), on the day the step was recorded: a retry, or the same step asked again, adds nothing.
 * The reason is the decline's or closure's code as stored (never free text, never a retry's body, which could name
 * another reason and so another cell).
 */
async function recordFunnelStage(
  deps: Pick<CaseWorkDeps, 'figures'>,
  referral: Referral,
  step: string,
  at: string,
): Promise<void> {
  const stage = funnelStageOf[step];
  const reason =
    stage === 'declined'
      ? referral.teamDecline?.reason
      : stage === 'closed'
        ? referral.closure?.reason
        : undefined;
  const figure = stage === undefined ? undefined : funnelFigure(referral, stage, at, reason);
  if (stage !== undefined && figure)
    await deps.figures.recordOnce([figure], funnelUnit(referral.referralId, stage));
}

/** The system withdraws an open offer around a referral that ended (lifecycle `withdraw` by `system`). */
async function withdrawOffer(
  deps: CaseWorkDeps,
  offer: Offer,
  reason: string,
  by: { role: 'system' } | { role: 'link-worker'; subject: string } = { role: 'system' },
): Promise<void> {
  const decision = decide(
    'offer',
    { state: offer.state, version: offer.version },
    'withdraw',
    by.role,
    offer.version,
  );
  if (!decision.ok) return;
  const at = deps.clock.now().toISOString();
  let withdrawn = offer;
  if (decision.kind === 'apply') {
    try {
      withdrawn = await deps.offers.apply(offer, decision.transition, {
        at,
        changes: { withdrawal: { at, by: by.role === 'system' ? 'system' : by.subject, reason } },
      });
    } catch (error) {
      // The partner answered meanwhile (declined, closed): nothing is left to withdraw.
      if (error instanceof LifecycleConflictError) return;
      throw error;
    }
  }
  await finishStep(deps, offer.referralId, decision.transition, {
    eventKey: `offer.${offer.offerId}.withdrawn`,
    unitId: offer.offerId,
    at: withdrawn.withdrawal?.at ?? at,
    actor: by.role === 'system' ? 'system:case-work' : `link-worker:${by.subject}`,
    dimensions: { partner: offer.partnerId, category: offer.category },
    detail: { offerId: offer.offerId, reason },
  });
  const referral = await deps.referrals.get(offer.referralId);
  if (referral) await tell(deps, referral, withdrawn, decision.transition.notices);
}

/**
 * The notices a transition's lifecycle entry lists, for the team and the offer's partner, queued for the notifier
 * (one per notice: the notifier de-duplicates by notice id, so a retry may queue again). The practice's (the
 * message back to the GP) are queued by tellPractice (#referral/application/tell-practice.ts), not from here.
 */
async function tell(
  deps: Pick<CaseWorkDeps, 'notices'>,
  referral: Referral,
  offer: Offer,
  notices: ReadonlyArray<Pick<LifecycleNotice, 'to'> & { kind: string }>,
): Promise<void> {
  const team = referral.routing?.deliveries.find((d) => d.recipient.kind === 'team')?.deliveryId;
  const messages = notices.flatMap((notice) => {
    const kind = NoticeKind.safeParse(notice.kind);
    const deliveryId = notice.to === 'team' ? team : notice.to === 'partner' ? offer.deliveryId : undefined;
    if (!kind.success || deliveryId === undefined) return [];
    const body: NoticeMessage = {
      referralId: referral.referralId,
      deliveryId,
      kind: kind.data,
      offerId: offer.offerId,
    };
    return [{ id: `${deliveryId}.${kind.data}.${offer.offerId}`, body }];
  });
  if (messages.length > 0) await deps.notices.send(messages);
}

// ---------------------------------------------------------------------------------------------------------------
// Decline -> next match

export type NextMatchOutcome =
  | { kind: 'offered'; offer: Offer }
  | { kind: 'returned'; need: ReturnedNeed }
  | { kind: 'none'; reason: string };

/**
 * After `declined` (a partner's decline; later, an expiry) the need goes to the next fitting service of the stored
 * decision: its candidates for that need that fit but were ranked lower (`eligible` / `ranked-lower`), in the order
 * decided, skipping any service already offered that need. The new offer is made first (it names the offer it
 * follows, so a repeat finds it instead of choosing again), then the referral's `re-route` by `system` adds its
 * partner's delivery (`addedDeliveries`: the notifier tells the partner as an `assigned` notice) in a write
 * conditional on the decision's revision. With no candidate left the same write records the need as returned to the
 * link worker, with the reason. Safe to repeat at every point.
 */
export async function offerNextMatch(deps: CaseWorkDeps, declined: Offer): Promise<NextMatchOutcome> {
  const referral = await deps.referrals.get(declined.referralId);
  if (!referral?.routing) return { kind: 'none', reason: 'the referral has no routing decision' };
  const offers = await deps.offers.ofReferral(declined.referralId);
  const following = offers.find((o) => o.follows === declined.offerId);
  if (following) {
    await addDelivery(deps, referral, following, rerouteAudit(declined, following));
    return { kind: 'offered', offer: following };
  }
  const returned = referral.returnedNeeds?.find((n) => n.offerId === declined.offerId);
  if (returned) return { kind: 'returned', need: returned };

  const offered = new Set(offers.filter((o) => o.category === declined.category).map((o) => o.serviceId));
  const need = referral.routing.needs?.find((n) => n.category === declined.category);
  const next = need?.candidates.find(
    (c) => c.verdict === 'eligible' && c.rule === 'ranked-lower' && !offered.has(c.serviceId),
  );
  const at = deps.clock.now().toISOString();
  if (next) {
    // Is the referral still one a partner may be offered? (Cancelled or closed meanwhile: offer nothing.)
    const check = decide(
      'referral',
      { state: referral.status, version: referral.version },
      're-route',
      'system',
      referral.version,
    );
    if (!check.ok) return { kind: 'none', reason: check.message };
    const terms = await offerTermsFor(
      deps,
      referral,
      { ...next, category: declined.category, content: next.content ?? 'signposting' },
      at,
      declined.offerId,
    );
    const offer = await makeOffer(deps, referral, terms, 'system:case-work');
    await addDelivery(deps, referral, offer, rerouteAudit(declined, offer));
    return { kind: 'offered', offer };
  }

  const why =
    declined.state === 'expired'
      ? `${declined.partnerName} did not answer in time`
      : `${declined.partnerName} declined (${declined.decline?.reason ?? 'no reason given'})`;
  const returnedNeed: ReturnedNeed = {
    category: declined.category,
    offerId: declined.offerId,
    partnerId: declined.partnerId,
    declineReason: declined.state === 'expired' ? 'expired' : (declined.decline?.reason ?? 'other'),
    reason: `${why} and no other fitting service in the directory is left to offer ${declined.category} to: find another way for this need`,
    at,
  };
  const outcome = await reroute(deps, referral, (current) =>
    current.returnedNeeds?.some((n) => n.offerId === declined.offerId)
      ? undefined
      : { returnedNeeds: [...(current.returnedNeeds ?? []), returnedNeed] },
  );
  if (outcome === 'refused') return { kind: 'none', reason: 'the referral can no longer be re-routed' };
  await deps.audit.append({
    referralId: referral.referralId,
    eventKey: `need-returned.${declined.offerId}`,
    action: 'referral.need-returned',
    actor: 'system:case-work',
    at,
    detail: {
      category: declined.category,
      offerId: declined.offerId,
      declineReason: returnedNeed.declineReason,
    },
  });
  await tell(deps, referral, declined, [{ to: 'team', kind: 'need-returned' }]);
  return { kind: 'returned', need: returnedNeed };
}

/** The system's re-route of a declined offer's need to its next match, audited once per declined offer. */
const rerouteAudit = (declined: Offer, offer: Offer) => ({
  eventKey: `rerouted.${declined.offerId}`,
  action: 'referral.rerouted',
  actor: 'system:case-work',
  detail: {
    category: offer.category,
    from: { offerId: declined.offerId, partnerId: declined.partnerId },
    to: { offerId: offer.offerId, partnerId: offer.partnerId, serviceId: offer.serviceId },
  },
});

/**
 * The referral's `re-route` by `system`, writing what `changes` makes of the referral as read (undefined: nothing
 * left to write) with the decision's revision moved on, conditional on the revision it read; a write refused because
 * another landed first is worked out again on the referral as it then is.
 */
/** Who changes the decision: the system (a decline's next match) or a link worker by hand, at the version read. */
type DecisionChanger =
  | { role: 'system' }
  | {
      role: 'link-worker';
      event: 're-route' | 'add-partner' | 'remove-partner';
      version: number;
      team: string;
    };
const bySystem: DecisionChanger = { role: 'system' };

async function reroute(
  deps: CaseWorkDeps,
  read: Referral,
  changes: (referral: Referral) => TransitionChanges | undefined,
  by: DecisionChanger = bySystem,
): Promise<'written' | 'nothing' | 'refused'> {
  if (changes(read) === undefined) return 'nothing';
  const outcome = await transitionReferral(deps.referrals, read, {
    referralId: read.referralId,
    decide: (referral) =>
      by.role === 'system'
        ? decide(
            'referral',
            { state: referral.status, version: referral.version },
            're-route',
            'system',
            referral.version,
          )
        : decide(
            'referral',
            { state: referral.status, version: referral.version },
            by.event,
            'link-worker',
            by.version,
          ),
    context: (referral) => {
      const revision = referral.routing?.revision ?? 0;
      const made = changes(referral) ?? {};
      const decided = made.routing ?? referral.routing;
      return {
        at: deps.clock.now().toISOString(),
        ...(by.role === 'link-worker' ? { ownerId: by.team } : {}),
        routingRevision: revision,
        changes: { ...made, ...(decided ? { routing: { ...decided, revision: revision + 1 } } : {}) },
      };
    },
    reread: async () => {
      const fresh = await deps.referrals.get(read.referralId);
      if (!fresh) throw new NotFoundError(`There is no referral ${read.referralId}`);
      return fresh;
    },
    // The system works on the referral as it is; a link worker judged the version it saw.
    writeAgain: by.role === 'system',
  });
  if (outcome.kind === 'refused' && by.role === 'link-worker')
    throw new LifecycleConflictError(outcome.refusal);
  return outcome.kind === 'refused' ? 'refused' : 'written';
}

/**
 * The new offer's partner delivery, planned on the decision and added as `pending` (unless that partner already has
 * one), then its `assigned` notice queued unless already delivered: the notifier drops what it delivered before.
 */
async function addDelivery(
  deps: CaseWorkDeps,
  read: Referral,
  offer: Offer,
  audit: { eventKey: string; action: string; actor: string; detail: Record<string, unknown> },
  by: DecisionChanger = bySystem,
): Promise<void> {
  const delivery = partnerDeliveryOf(read, offer);
  // A partner that already holds the referral (offered it for another need) has this delivery already: it is told
  // of the new offer by a notice of its own, since its first `assigned` went out (or goes out) for the other need.
  const heldAlready = read.routing?.deliveries.some((d) => d.deliveryId === delivery.deliveryId) ?? false;
  const outcome = await reroute(
    deps,
    read,
    (referral) => {
      const planned = referral.routing?.deliveries.some((d) => d.deliveryId === delivery.deliveryId) ?? false;
      const stated = referral.deliveryStatus?.[delivery.deliveryId] !== undefined;
      if (planned && stated) return undefined;
      const added: Record<string, DeliveryState> = stated
        ? {}
        : { [delivery.deliveryId]: { status: 'pending' } };
      return {
        ...(planned || !referral.routing
          ? {}
          : { routing: { ...referral.routing, deliveries: [...referral.routing.deliveries, delivery] } }),
        addedDeliveries: added,
      };
    },
    by,
  );
  if (outcome === 'refused') return;
  await deps.audit.append({ referralId: read.referralId, at: offer.offeredAt, ...audit });
  if (heldAlready) {
    const notice = {
      referralId: read.referralId,
      deliveryId: delivery.deliveryId,
      kind: 'offered' as const,
      offerId: offer.offerId,
    };
    await deps.notices.send([{ id: noticeId(notice), body: notice }]);
    return;
  }
  const current = await deps.referrals.get(read.referralId);
  if (current?.deliveryStatus?.[delivery.deliveryId]?.status === 'delivered') return;
  await deps.notices.send([
    {
      id: delivery.deliveryId,
      body: { referralId: read.referralId, deliveryId: delivery.deliveryId, kind: 'assigned' },
    },
  ]);
}

// ---------------------------------------------------------------------------------------------------------------
// A link worker's hand on the decision: re-route a need, add a partner, remove one

export const partnerChanges = ['re-route', 'add-partner', 'remove-partner'] as const;
export type PartnerChange = (typeof partnerChanges)[number];

/**
 * A link worker changes who is offered the referral: `re-route` offers a need to a service they choose from the
 * directory and withdraws the offers still open for that need; `add-partner` offers it beside them; `remove-partner`
 * withdraws one offer. Each is the referral's event of that name (its version checked against the body's), the
 * offer's creation or withdrawal by `link-worker`, and the new partner's delivery added to the decision (conditional
 * on its revision), which the notifier sends as `referral.assigned`. The same change again finds it made.
 */
export async function changeTeamReferralPartners(
  deps: CaseWorkDeps,
  actor: Actor,
  referralId: string,
  change: PartnerChange,
  readBody: () => unknown,
): Promise<TeamReferralView> {
  const read = await teamReferral(deps, actor.organisation, referralId);
  const at = deps.clock.now().toISOString();
  const by = { role: 'link-worker' as const, subject: actor.subject };
  const changer: DecisionChanger = {
    role: 'link-worker',
    event: change,
    version: 0,
    team: actor.organisation,
  };
  if (change === 'remove-partner') {
    const { version, offerId } = parseWith(RemovePartnerAction, readBody());
    const check = decide(
      'referral',
      { state: read.status, version: read.version },
      change,
      'link-worker',
      version,
    );
    if (!check.ok) throw new LifecycleConflictError(check);
    const offer =
      referralOfOffer(offerId) === referralId ? await deps.offers.get(referralId, offerId) : undefined;
    if (!offer) throw new NotFoundError(`The referral has no offer ${offerId}`);
    const withdraw = decide(
      'offer',
      { state: offer.state, version: offer.version },
      'withdraw',
      'link-worker',
      offer.version,
    );
    // Withdrawn already is done; another final state (declined, closed) cannot be withdrawn.
    if (!withdraw.ok && offer.state !== 'withdrawn') throw new LifecycleConflictError(withdraw);
    await withdrawOffer(deps, offer, 'removed by the link worker', by);
    await finishStep(deps, referralId, check.transition, {
      eventKey: `partner-removed.${offerId}`,
      unitId: `${referralId}.partner-removed.${offerId}`,
      at: (await deps.offers.get(referralId, offerId))?.withdrawal?.at ?? at,
      actor: `link-worker:${actor.subject}`,
      dimensions: { team: actor.organisation },
      detail: { offerId, partnerId: offer.partnerId, category: offer.category },
    });
    return teamViewOf(
      (await deps.referrals.get(referralId)) ?? read,
      await deps.offers.ofReferral(referralId),
    );
  }

  const { version, category, serviceId } = parseWith(ChooseServiceAction, readBody());
  const check = decide(
    'referral',
    { state: read.status, version: read.version },
    change,
    'link-worker',
    version,
  );
  if (!check.ok) throw new LifecycleConflictError(check);
  if (!read.needs.includes(category))
    throw new UnprocessableError('category', `is not one of the referral's needs (${read.needs.join(', ')})`);
  const { directory } = deps;
  if (!directory) throw new Error('case work: re-route and add-partner need the directory');
  const service = await directory.get('service', serviceId);
  const partner = service ? await directory.get('partner', service.partnerId) : undefined;
  if (!service || !partner || service.status !== 'active' || partner.status !== 'active')
    throw new UnprocessableError(
      'serviceId',
      `is not an active service of an active partner in the directory`,
    );
  if (!service.categories.includes(category))
    throw new UnprocessableError(
      'serviceId',
      `does not offer ${category} (it offers ${service.categories.join(', ')})`,
    );
  const content = hasConsentFor(read.consent, partner.id) ? 'identifiable' : 'signposting';
  if (content === 'signposting' && !service.acceptsSignposting)
    throw new UnprocessableError(
      'serviceId',
      'takes no signposting, and the patient has not consented to share their details with its partner',
    );

  const offers = await deps.offers.ofReferral(referralId);
  const existing = offers.find((o) => o.category === category && o.serviceId === serviceId);
  // The same need and service is the same offer (its id is fixed): an open one is this change made already, and one
  // that ended (declined, withdrawn, ...) cannot be made again.
  if (existing && isTerminal('offer', existing.state))
    throw new ConflictError(
      `${serviceId} was offered ${category} already and its offer is ${existing.state}`,
    );
  if (change === 're-route')
    await Promise.all(
      offers
        .filter((o) => o.category === category && o.serviceId !== serviceId && !isTerminal('offer', o.state))
        .map((o) => withdrawOffer(deps, o, `${category} re-routed by the link worker to ${serviceId}`, by)),
    );
  const terms = await offerTermsFor(
    deps,
    read,
    {
      category,
      serviceId,
      serviceName: service.name,
      partnerId: partner.id,
      partnerName: partner.name,
      content,
    },
    existing?.offeredAt ?? at,
  );
  const offer = existing ?? (await makeOffer(deps, read, terms, `link-worker:${actor.subject}`));
  await addDelivery(
    deps,
    read,
    offer,
    {
      eventKey: `${change === 're-route' ? 'rerouted' : 'partner-added'}.${offer.offerId}`,
      action: check.transition.audit,
      actor: `link-worker:${actor.subject}`,
      detail: { category, serviceId, partnerId: partner.id, offerId: offer.offerId },
    },
    { ...changer, version },
  );
  return teamViewOf((await deps.referrals.get(referralId)) ?? read, await deps.offers.ofReferral(referralId));
}
