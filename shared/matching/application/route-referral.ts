import type { InterventionCategory } from '#referral/domain/categories.ts';
import {
  decideRouting,
  extendRouting,
  uncoveredNeeds,
  type RoutingInput,
  type ServiceCandidate,
} from '#matching/domain/routing.ts';
import {
  areaKeysOf,
  classifyArea,
  coverageLsoasOf,
  lsoaOf,
  rankedByEnglishImd,
} from '#matching/domain/area.ts';
import { isoWeekOf } from '#matching/domain/week.ts';
import { weeklyMatchCount, type ServiceLoad } from '#matching/ports.ts';
import type {
  AreaClassification,
  DeliveryState,
  Referral,
  RoutingDecision,
  UnmetNeed,
} from '#referral/domain/referral.ts';
import type { ImdEdition } from '#geography/domain/geography.ts';
import type { Geography } from '#geography/ports.ts';
import { imdEdition as configuredImdEdition } from '#system/matching.ts';
import { allowedEvents, decide, isTerminal } from '#referral/domain/lifecycle.ts';
import { referralTransition } from '#referral/domain/transition-refusal.ts';
import { transitionReferral, type StepOutcome } from '#referral/application/transition-referral.ts';
import type { AuditLog } from '#audit/ports.ts';
import type { Clock } from '#kernel/clock.ts';
import { LifecycleConflictError, UnroutableMessageError } from '#kernel/errors.ts';
import type { Directory } from '#directory/ports.ts';
import type { Figures, MetricCount, MetricCounters } from '#reporting/ports.ts';
import { routingFigures } from '#reporting/domain/referral-figures.ts';
import type { NoticeMessage } from '#messages/notice-message.ts';
import type { Queue } from '#messages/queue.ts';
import type { OfferStore, ReferralStore, ServiceTerms } from '#referral/ports.ts';
import { offerMatches } from '#referral/application/make-offer.ts';

/**
 * Routing one referral, safe to repeat at any point. Routing is the lifecycle's `route` (received -> routed): the
 * decision and the pending delivery states are written in the transition's one conditional write, so a repeat finds
 * the referral routed (`already`) and carries on with the stored decision. Audit entries are keyed by step, counts are
 * counted once per referral, and deliveries carry stable ids that the notifier de-duplicates.
 */

export interface RouteReferralDeps {
  referrals: ReferralStore;
  directory: Directory;
  audit: AuditLog;
  counters: MetricCounters;
  /** The observatory's figures: the referral, its needs and the funnel's `referred` (#reporting/domain/referral-figures.ts). */
  figures: Figures;
  deliveryQueue: Queue<NoticeMessage>;
  clock: Clock;
  /** Where a postcode is and how deprived its LSOA is. */
  geography: Geography;
  /**
   * Services' weekly match counts. Read only for candidates that have a weekly limit: no request at all when none
   * has one.
   */
  serviceLoad: ServiceLoad;
  /** The IMD edition to classify with: shared/system/matching.ts unless told. */
  imdEdition?: ImdEdition;
  /**
   * Where each match's offer is kept, and the services' response times its deadline comes from. The router always
   * has them; tests of the decision alone may leave them out, and then no offers are made.
   */
  offers?: { store: OfferStore; services: ServiceTerms };
}

export type RouteOutcome =
  | { outcome: 'routed'; referral: Referral; deliveriesQueued: number }
  | { outcome: 'skipped'; reason: string };

const cancelled: RouteOutcome = { outcome: 'skipped', reason: 'referral was cancelled' };

export async function routeReferral(deps: RouteReferralDeps, referralId: string): Promise<RouteOutcome> {
  const referral = await deps.referrals.get(referralId);
  if (!referral) throw new UnroutableMessageError(`referral ${referralId} does not exist`);
  if (referral.status === 'cancelled') return cancelled;

  const outcome = pastRouting(await routeOnce(deps, referral));
  if (outcome.kind === 'refused') {
    // Cancelled between the read and the write: nothing to route, as when it was cancelled before.
    const { state } = outcome.refusal;
    if (state === 'cancelled') return cancelled;
    // Ended by its team (declined, closed): nothing is routed any more either.
    if (state !== null && isTerminal('referral', state))
      return { outcome: 'skipped', reason: `referral is ${state}` };
    throw new LifecycleConflictError(outcome.refusal);
  }
  const { transition } = outcome;
  let routed: Referral = outcome.referral;
  // An update after routing may have added needs: match those too (what was decided before stands), while the
  // referral is one the system may still re-route (routed, or taken on by its team and not ended).
  if (
    allowedEvents('referral', routed.status, 'system').includes('re-route') &&
    routed.routing &&
    uncoveredNeeds(routed).length > 0
  ) {
    routed = await rerouteAndRecord(deps, routed);
  }
  if (!routed.routing)
    throw new UnroutableMessageError(`referral ${referralId} has no routing decision recorded`);
  if (routed.status === 'cancelled') return cancelled;
  const decision = routed.routing;

  await deps.audit.append({
    referralId,
    eventKey: 'routed',
    action: transition.audit,
    actor: 'system:router',
    at: decision.decidedAt,
    detail: {
      area: decision.area,
      ...(decision.classification ? { classification: auditedClassification(decision.classification) } : {}),
      team: decision.team?.id ?? null,
      teamReason: decision.teamReason,
      ...(decision.noTeam ? { noTeam: decision.noTeam } : {}),
      matches: decision.matches.map(({ category, serviceId, partnerId, reason }) => ({
        category,
        serviceId,
        partnerId,
        reason,
      })),
      unmetNeeds: decision.unmetNeeds,
      // Which rule decided each candidate; the sentences are in the stored decision.
      candidates: (decision.needs ?? []).map((need) => ({
        category: need.category,
        outcome: need.outcome,
        rules: need.candidates.map((c) => `${c.serviceId}:${c.rule}`),
      })),
      deliveries: decision.deliveries.map((d) => ({ deliveryId: d.deliveryId, content: d.content })),
    },
  });
  // Counted from the decision as stored, once per referral: the daily counts by the UTC day it was received, the
  // services' weekly counts by the ISO week it was received (see weeklyMatches for why that is exact).
  const weekly = weeklyCounts(routed);
  await Promise.all([
    deps.counters.countOnce(routingCounts(routed), routed.receivedAt.slice(0, 10), referralId),
    weekly.length > 0 ? deps.counters.countOnce(weekly, isoWeekOf(routed.receivedAt), referralId) : undefined,
    // The observatory's figures, from the same stored decision, each once per its unit (the referral, each need).
    ...routingFigures(routed).map(({ figures, unitId }) => deps.figures.recordOnce(figures, unitId)),
  ]);

  // One offer per match, after the route's write: a crash between is healed by the redelivery, which finds the
  // referral routed (`already`) and makes what is missing (an offer exists once, and is audited and counted once).
  if (deps.offers)
    await offerMatches(
      {
        offers: deps.offers.store,
        services: deps.offers.services,
        audit: deps.audit,
        counters: deps.counters,
      },
      routed,
    );

  // The route's notices name who is told it is assigned; `already` carries them too, so a retry queues again what a
  // crash after the write left unqueued (the notifier drops what it already delivered).
  const told = new Set(transition.notices.filter((n) => n.kind === 'assigned').map((n) => n.to));
  const pending = decision.deliveries.filter(
    (d) => told.has(d.recipient.kind) && routed.deliveryStatus?.[d.deliveryId]?.status !== 'delivered',
  );
  await deps.deliveryQueue.send(
    pending.map((d) => ({
      id: d.deliveryId,
      body: { referralId, deliveryId: d.deliveryId, kind: 'assigned' },
    })),
  );
  return { outcome: 'routed', referral: routed, deliveriesQueued: pending.length };
}

/**
 * A referral its team has already taken on (accepted, contacted, ...) was routed: the `route` is refused there as not
 * allowed, but for a routing message (a redelivery, or needs an update added) it is a repeat, carried on with the
 * stored decision as `already` is.
 */
function pastRouting(outcome: StepOutcome): StepOutcome {
  if (outcome.kind !== 'refused' || !outcome.referral.routing) return outcome;
  const { status, version } = outcome.referral;
  if (!allowedEvents('referral', status, 'system').includes('re-route') || status === 'received')
    return outcome;
  const repeat = decide('referral', { state: 'routed', version }, 'route', 'system', version);
  if (!repeat.ok) return outcome;
  return {
    kind: 'already',
    referral: outcome.referral,
    transition: { ...referralTransition(repeat.transition), from: status, to: status },
  };
}

/**
 * The lifecycle's `route` for the referral as read: `apply` decides the routing of its needs and writes it with the
 * transition; `already` (routed at the version read) writes nothing. A write refused because an update landed
 * meanwhile is read once more and routed again with the referral's current needs; refused again, it throws, so SQS
 * redelivers the message.
 */
function routeOnce(deps: RouteReferralDeps, read: Referral): Promise<StepOutcome> {
  return transitionReferral(deps.referrals, read, {
    referralId: read.referralId,
    decide: (referral) =>
      decide(
        'referral',
        { state: referral.status, version: referral.version },
        'route',
        'system',
        referral.version,
      ),
    context: async (referral) => {
      const routing = decideRouting(await routingInputs(deps, referral, referral.needs));
      const deliveryStatus: Record<string, DeliveryState> = Object.fromEntries(
        routing.deliveries.map((d) => [d.deliveryId, { status: 'pending' }]),
      );
      return { at: routing.decidedAt, changes: { routing, deliveryStatus } };
    },
    reread: async () => {
      const fresh = await deps.referrals.get(read.referralId);
      if (!fresh) throw new UnroutableMessageError(`referral ${read.referralId} does not exist`);
      return fresh;
    },
    writeAgain: true,
  });
}

/**
 * What the decision reads, in three rounds of requests: the practice and the patient's postcode; then the team, the
 * LSOA's IMD rank and the coverage index (one Query per need and area key: never a scan, whatever the size of the
 * directory); then the weekly counts of candidates with a weekly limit, if any. `known` is the area a recorded
 * decision used (an extension matches the added needs where the first needs were matched).
 */
async function routingInputs(
  deps: RouteReferralDeps,
  referral: Referral,
  needs: Referral['needs'],
  known?: AreaClassification,
): Promise<RoutingInput> {
  const edition = deps.imdEdition ?? configuredImdEdition;
  const postcode = referral.patient.postcode;
  const [practice, location] = await Promise.all([
    deps.directory.practice(referral.practiceOds),
    known === undefined && postcode !== undefined ? deps.geography.locate(postcode) : undefined,
  ]);
  if (!practice) throw new UnroutableMessageError(`practice ${referral.practiceOds} left the directory`);
  // Where to look is known once the postcode is located; the IMD rank only adds the decile.
  const located = known ?? classifyArea({ postcode, practice, location, deprivation: undefined, edition });
  const lsoa = location ? lsoaOf(location, edition) : undefined;
  // Coverage under every LSOA code the postcode has (2011 and 2021); the IMD rank and the record, the edition's.
  const lsoas = coverageLsoasOf(located, location);
  const candidates: Partial<Record<InterventionCategory, ServiceCandidate[]>> = {};
  const [team, deprivation] = await Promise.all([
    deps.directory.teamForPcn(practice.pcn),
    lsoa && rankedByEnglishImd(lsoa.code) ? deps.geography.deprivation(lsoa.code, edition) : undefined,
    ...needs.map(async (category) => {
      candidates[category] = await deps.directory.servicesCovering(category, areaKeysOf(located, lsoas));
    }),
  ]);
  const area = known ?? classifyArea({ postcode, practice, location, deprivation, edition });
  return {
    referral,
    practice,
    team,
    area,
    lsoas,
    candidates,
    weeklyMatches: await weeklyMatches(deps, referral, Object.values(candidates).flat()),
    decidedAt: deps.clock.now().toISOString(),
  };
}

/**
 * Referrals matched this week to the candidates that have a weekly limit (and are open: paused and full ones are
 * ruled out anyway); no request when none has one.
 *
 * Why the counts are exact under retries: a referral is counted in the week it was RECEIVED (a fact of the referral,
 * not of the clock), with its id as the unit (countOnce adds nothing for an id already counted), and only after its
 * decision is recorded, from the decision as stored. So a redelivered message, which finds the referral routed and
 * carries on with the stored decision, adds nothing; a crash between the decision's write and the count is finished
 * by the retry; and a decision refused as stale and made again was never counted, so it does not see itself. The
 * counts are exact; the limit is as exact as the routings at the same moment allow: two referrals decided together
 * can both see one place left, and the week's count then shows the limit exceeded by one.
 */
async function weeklyMatches(
  deps: RouteReferralDeps,
  referral: Referral,
  candidates: readonly ServiceCandidate[],
): Promise<Record<string, number>> {
  // A service the recorded decision already matched this referral to (a re-route for added needs) holds a place for
  // it already: the referral is counted once per service, so another need of it takes no second place.
  const holding = new Set(referral.routing?.matches.map((m) => m.serviceId));
  const limited = [
    ...new Set(
      candidates
        .filter(
          (c) =>
            c.service.capacity.weeklyLimit !== undefined &&
            c.service.capacity.state === 'open' &&
            !holding.has(c.service.id),
        )
        .map((c) => c.service.id),
    ),
  ].sort();
  if (limited.length === 0) return {};
  return deps.serviceLoad.matchedInWeek(limited, isoWeekOf(referral.receivedAt));
}

/**
 * The lifecycle's `re-route` by `system` (routed stays routed, the version does not move): the decision extended to
 * the needs an update added, and pending states for its new deliveries, in the transition's one conditional write at
 * the version read, so a decision made before another update landed is refused. A refused write is read once more
 * and re-routed as the referral now is; refused by `decide` (cancelled meanwhile), the referral as it is goes back
 * and the caller skips it, as before.
 */
async function rerouteAndRecord(deps: RouteReferralDeps, read: Referral): Promise<Referral> {
  const outcome = await transitionReferral(deps.referrals, read, {
    referralId: read.referralId,
    decide: (referral) =>
      decide(
        'referral',
        { state: referral.status, version: referral.version },
        're-route',
        'system',
        referral.version,
      ),
    context: async (referral) => {
      const area = referral.routing?.classification;
      const routing = extendRouting(await routingInputs(deps, referral, uncoveredNeeds(referral), area));
      const known = referral.deliveryStatus ?? {};
      // Only the deliveries the extension adds: existing ones keep their states (the store never overwrites them).
      const addedDeliveries: Record<string, DeliveryState> = Object.fromEntries(
        routing.deliveries
          .filter((d) => known[d.deliveryId] === undefined)
          .map((d) => [d.deliveryId, { status: 'pending' }]),
      );
      return { at: deps.clock.now().toISOString(), changes: { routing, addedDeliveries } };
    },
    reread: async () => {
      const fresh = await deps.referrals.get(read.referralId);
      if (!fresh) throw new UnroutableMessageError(`referral ${read.referralId} does not exist`);
      return fresh;
    },
    writeAgain: true,
  });
  if (outcome.kind === 'refused') return outcome.referral;
  const extended = outcome.referral;
  if (extended.routing && uncoveredNeeds(extended).length === 0) {
    await deps.audit.append({
      referralId: read.referralId,
      eventKey: `rerouted.v${extended.version}`,
      action: outcome.transition.audit,
      actor: 'system:router',
      at: deps.clock.now().toISOString(),
      detail: {
        version: extended.version,
        addedMatches: extended.routing.matches.length - (read.routing?.matches.length ?? 0),
        unmetNeeds: extended.routing.unmetNeeds,
      },
    });
  }
  return extended;
}

/** The observatory's counts for one routed referral. Dimensions never include patient data. */
export function routingCounts(referral: Referral): MetricCount[] {
  const decision = referral.routing;
  if (!decision) return [];
  return [
    { name: 'referrals.received', dimensions: { practice: referral.practiceOds } },
    ...referral.needs.map((category) => ({
      name: 'referrals.need',
      dimensions: { category, area: decision.area },
    })),
    ...decision.matches.map((m) => ({
      name: 'referrals.matched',
      dimensions: { category: m.category, area: decision.area },
    })),
    ...decision.unmetNeeds.map((u) => ({
      name: 'referrals.unmet',
      dimensions: { category: u.category, area: u.area },
    })),
    // The same needs by why they are unmet and how deprived the patient's area is, for the gap reports.
    ...decision.unmetNeeds.map((u) => ({
      name: 'referrals.unmet.classified',
      dimensions: { category: u.category, area: u.area, reason: u.code, imd: imdDimension(decision, u) },
    })),
    ...(decision.team ? [] : [{ name: 'referrals.no-team', dimensions: { practice: referral.practiceOds } }]),
  ];
}

/**
 * `<edition>:<decile>` (`2019:3`), or `<edition>:unknown` when the area has no decile: always with the edition, so a
 * count never adds deciles of two editions together (an unknown one included).
 */
export function imdDimension(decision: RoutingDecision, unmet: UnmetNeed): string {
  if (unmet.imd) return `${unmet.imd.edition}:${unmet.imd.decile}`;
  return `${decision.classification?.imdEdition ?? 'none'}:unknown`;
}

/** Each service matched, once per referral, for the services' weekly counts. */
export function weeklyCounts(referral: Referral): MetricCount[] {
  const services = new Set((referral.routing?.matches ?? []).map((m) => m.serviceId));
  return [...services].sort().map(weeklyMatchCount);
}

/** What the audit keeps of the area: where it came from, the district, LSOA and local authority, the IMD decile. */
function auditedClassification(area: AreaClassification): Record<string, unknown> {
  return {
    source: area.source,
    postcodeStatus: area.postcodeStatus,
    district: area.district,
    lsoa: area.lsoa ?? null,
    localAuthority: area.localAuthority ?? null,
    imdEdition: area.imdEdition,
    imd: area.imd,
  };
}
