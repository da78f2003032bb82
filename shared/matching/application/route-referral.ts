import type { InterventionCategory } from '#referral/domain/categories.ts';
import {
  decideRouting,
  extendRouting,
  referralArea,
  uncoveredNeeds,
  type ServiceCandidate,
} from '#matching/domain/routing.ts';
import type { DeliveryState, Referral } from '#referral/domain/referral.ts';
import { decide } from '#referral/domain/lifecycle.ts';
import { transitionReferral, type StepOutcome } from '#referral/application/transition-referral.ts';
import type { AuditLog } from '#audit/ports.ts';
import type { Clock } from '#kernel/clock.ts';
import { LifecycleConflictError, UnroutableMessageError } from '#kernel/errors.ts';
import type { Directory } from '#directory/ports.ts';
import type { MetricCount, MetricCounters } from '#reporting/ports.ts';
import type { NoticeMessage } from '#messages/notice-message.ts';
import type { Queue } from '#messages/queue.ts';
import type { ReferralStore } from '#referral/ports.ts';

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
  deliveryQueue: Queue<NoticeMessage>;
  clock: Clock;
}

export type RouteOutcome =
  | { outcome: 'routed'; referral: Referral; deliveriesQueued: number }
  | { outcome: 'skipped'; reason: string };

const cancelled: RouteOutcome = { outcome: 'skipped', reason: 'referral was cancelled' };

export async function routeReferral(deps: RouteReferralDeps, referralId: string): Promise<RouteOutcome> {
  const referral = await deps.referrals.get(referralId);
  if (!referral) throw new UnroutableMessageError(`referral ${referralId} does not exist`);
  if (referral.status === 'cancelled') return cancelled;

  const outcome = await routeOnce(deps, referral);
  if (outcome.kind === 'refused') {
    // Cancelled between the read and the write: nothing to route, as when it was cancelled before.
    if (outcome.refusal.state === 'cancelled') return cancelled;
    throw new LifecycleConflictError(outcome.refusal);
  }
  const { transition } = outcome;
  let routed: Referral = outcome.referral;
  // An update after routing may have added needs: match those too (what was decided before stands).
  if (routed.status === 'routed' && routed.routing && uncoveredNeeds(routed).length > 0) {
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
      team: decision.team?.id ?? null,
      teamReason: decision.teamReason,
      matches: decision.matches.map(({ category, serviceId, partnerId, reason }) => ({
        category,
        serviceId,
        partnerId,
        reason,
      })),
      unmetNeeds: decision.unmetNeeds,
      deliveries: decision.deliveries.map((d) => ({ deliveryId: d.deliveryId, content: d.content })),
    },
  });
  await deps.counters.countOnce(routingCounts(routed), routed.receivedAt.slice(0, 10), referralId);

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

async function routingInputs(
  deps: RouteReferralDeps,
  referral: Referral,
  needs: Referral['needs'],
  area?: string,
) {
  const practice = await deps.directory.practice(referral.practiceOds);
  if (!practice) throw new UnroutableMessageError(`practice ${referral.practiceOds} left the directory`);
  const team = await deps.directory.teamForPcn(practice.pcn);
  const where = area ?? referralArea(referral, practice).area;
  const candidates: Partial<Record<InterventionCategory, ServiceCandidate[]>> = {};
  await Promise.all(
    needs.map(async (category) => {
      candidates[category] = await deps.directory.servicesCovering(category, { district: where });
    }),
  );
  return { referral, practice, team, candidates, decidedAt: deps.clock.now().toISOString() };
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
      const area = referral.routing?.area;
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
    ...(decision.team ? [] : [{ name: 'referrals.no-team', dimensions: { practice: referral.practiceOds } }]),
  ];
}
