import { decide, entryFor, type LifecycleTransition } from '#referral/domain/lifecycle.ts';
import { reminderDeadline } from '#referral/domain/deadlines.ts';
import type { Offer } from '#referral/domain/offer.ts';
import type { Referral } from '#referral/domain/referral.ts';
import type { OfferDeadlines } from '#referral/ports.ts';
import type { NoticeMessage } from '#messages/notice-message.ts';
import type { OutboundMessage } from '#messages/queue.ts';
import { LifecycleConflictError } from '#kernel/errors.ts';
import { recordPartnerAnswer } from '#reporting/application/record-partner-answer.ts';
import { offerNextMatch, type CaseWorkDeps, type NextMatchOutcome } from '#referral/application/case-work.ts';

/**
 * The deadline job (a scheduled function, every few minutes): every offer past its deadline with no answer from its
 * partner is chased, never left waiting forever.
 *
 * - First time past the deadline: the partner is sent ONE reminder (`nudge`), and the offer's deadline moves to the
 *   reminder's (`reminderDeadline`), so the next runs leave it alone until that passes too.
 * - Past the reminder's deadline as well: the offer `expires` (`escalate`): the link-worker team is told its partner
 *   never answered, the partner is told to stop, and the need is offered to the next fitting service, or returned to
 *   the link worker when none is left (the same `offerNextMatch` a decline uses).
 *
 * An expired offer stays in the index (its `expired` partition) until its need has been offered on: a run that
 * stops between the expiry and the next offer is finished by the next run, which starts with those.
 *
 * Found through the `deadlines` index (no scan). Each step is one conditional write that re-checks the deadline
 * against the run's "now" (the store's guard), so two overlapping runs, a retried run, or a partner answering at the
 * same moment cannot remind twice, expire an answered offer, or offer the need twice; every step is audited once
 * and counted once (per offer id), and its notices carry stable ids the notifier de-duplicates on.
 */

export interface OfferDeadlineDeps extends CaseWorkDeps {
  deadlines: OfferDeadlines;
}

export interface DeadlineRunOptions {
  /** At most this many due offers in one run; the next run takes the rest (a run must fit the function's timeout). */
  limit: number;
  /** Look, decide and report, but write and send nothing. */
  dryRun?: boolean;
}

export type DeadlineStep = 'reminded' | 'expired' | 'answered-meanwhile';

export interface DeadlineRunSummary {
  now: string;
  due: number;
  reminded: number;
  expired: number;
  /** Of the expired: offered to the next match, or returned to the link worker. */
  reoffered: number;
  returned: number;
  /** Answered, withdrawn or already chased by the time this run came to it. */
  skipped: number;
  /** Reminders and expiries an earlier run left half done (written, not yet followed up), finished by this one. */
  finished: number;
  /** Offers whose step failed this run (left pending or due: the next run tries again). */
  failed: number;
  /** True when `limit` offers were due: more may be waiting for the next run. */
  more: boolean;
  /** What was decided per offer (ids only, never patient data). */
  steps: Array<{
    offerId: string;
    step: DeadlineStep | 'would-remind' | 'would-expire' | 'failed';
    next?: string;
    reason?: string;
  }>;
}

export async function runOfferDeadlines(
  deps: OfferDeadlineDeps,
  options: DeadlineRunOptions,
): Promise<DeadlineRunSummary> {
  const now = deps.clock.now().toISOString();
  const summary: DeadlineRunSummary = {
    now,
    due: 0,
    reminded: 0,
    expired: 0,
    reoffered: 0,
    returned: 0,
    skipped: 0,
    finished: 0,
    failed: 0,
    more: false,
    steps: [],
  };
  // First what an earlier run left half done: a reminder or an expiry written, its follow-up not (or not all) done.
  // Each is finished on its own: one that keeps failing is reported and does not hold up the others.
  const unfinished = options.dryRun ? [] : await deps.deadlines.awaitingFollowUp(options.limit);
  for (const key of unfinished) {
    try {
      const offer = await deps.offers.get(key.referralId, key.offerId);
      if (key.step === 'reminded' && offer?.state === 'offered' && offer.nudgedAt !== undefined) {
        await followUpReminder(deps, offer);
        summary.finished++;
      } else if (key.step === 'expired' && offer?.state === 'expired') {
        count(summary, await followUpExpiry(deps, offer));
        summary.finished++;
      } else {
        // Answered (or gone) since the step was written: nothing is left to follow up.
        await deps.deadlines.followedUp(key, key.step);
      }
    } catch (error) {
      summary.failed++;
      summary.steps.push({ offerId: key.offerId, step: 'failed', reason: errorText(error) });
    }
  }
  const keys = await deps.deadlines.due(now, options.limit);
  summary.due = keys.length;
  summary.more = keys.length >= options.limit || unfinished.length >= options.limit;
  // One at a time: a run is a handful of offers, and two expiries of one referral's offers must not race for its
  // next match (each re-route is version-conditional, so a race would only cost a retry, but there is no need).
  for (const key of keys) {
    const offer = await deps.offers.get(key.referralId, key.offerId);
    // The index lags the table: an offer answered since it was listed is no longer waiting.
    if (!offer || offer.state !== 'offered' || offer.deadline > now) {
      summary.skipped++;
      summary.steps.push({ offerId: key.offerId, step: 'answered-meanwhile' });
      continue;
    }
    const event = offer.nudgedAt === undefined ? 'nudge' : 'escalate';
    if (options.dryRun) {
      summary.steps.push({
        offerId: offer.offerId,
        step: event === 'nudge' ? 'would-remind' : 'would-expire',
      });
      continue;
    }
    let outcome: Awaited<ReturnType<typeof remind | typeof expire>>;
    try {
      outcome = event === 'nudge' ? await remind(deps, offer, now) : await expire(deps, offer, now);
    } catch (error) {
      // Left pending in the index if its step was written: the next run finishes it first.
      summary.failed++;
      summary.steps.push({ offerId: offer.offerId, step: 'failed', reason: errorText(error) });
      continue;
    }
    if (outcome === undefined) {
      summary.skipped++;
      summary.steps.push({ offerId: offer.offerId, step: 'answered-meanwhile' });
    } else if (outcome === 'reminded') {
      summary.reminded++;
      summary.steps.push({ offerId: offer.offerId, step: 'reminded' });
    } else {
      summary.expired++;
      count(summary, outcome);
      summary.steps.push({
        offerId: offer.offerId,
        step: 'expired',
        next: outcome.kind === 'offered' ? outcome.offer.offerId : outcome.kind,
      });
    }
  }
  return summary;
}

function count(summary: DeadlineRunSummary, outcome: NextMatchOutcome): void {
  if (outcome.kind === 'offered') summary.reoffered++;
  if (outcome.kind === 'returned') summary.returned++;
}

/**
 * Applies `event` by `system` at `now`, or finds it already applied (a retried run); undefined when the offer moved
 * on meanwhile (the partner answered: their answer wins).
 */
async function applyDeadlineStep(
  deps: OfferDeadlineDeps,
  offer: Offer,
  event: 'nudge' | 'escalate',
  now: string,
  changes: { nudgedAt: string; deadline: string } | Record<string, never>,
): Promise<{ offer: Offer; transition: LifecycleTransition<'offer'> } | undefined> {
  const decision = decide(
    'offer',
    {
      state: offer.state,
      version: offer.version,
      deadline: offer.deadline,
      ...(offer.nudgedAt === undefined ? {} : { nudgedAt: offer.nudgedAt }),
    },
    event,
    'system',
    offer.version,
    { now },
  );
  if (!decision.ok) return undefined;
  if (decision.kind === 'already') return { offer, transition: decision.transition };
  try {
    const written = await deps.offers.apply(offer, decision.transition, { at: now, changes });
    return { offer: written, transition: decision.transition };
  } catch (error) {
    if (error instanceof LifecycleConflictError) return undefined;
    throw error;
  }
}

/**
 * The reminder: its write (which leaves the offer pending in the index), then its follow-up. A crash between the two
 * leaves it pending, and the next run sends what was not sent.
 */
async function remind(deps: OfferDeadlineDeps, offer: Offer, now: string): Promise<'reminded' | undefined> {
  const applied = await applyDeadlineStep(deps, offer, 'nudge', now, {
    nudgedAt: now,
    deadline: reminderDeadline(offer.deadline, now),
  });
  if (!applied) return undefined;
  await followUpReminder(deps, applied.offer);
  return 'reminded';
}

/** The reminder's audit entry, count and notice (each once, whatever is repeated), then waiting again. */
async function followUpReminder(deps: OfferDeadlineDeps, offer: Offer): Promise<void> {
  await record(deps, offer, entryOf('nudge'), 'nudged', offer.nudgedAt ?? offer.updatedAt, {
    deadline: offer.deadline,
  });
  await deps.notices.send([notice(offer.referralId, offer.deliveryId, 'reminder', offer)]);
  await deps.deadlines.followedUp(offer, 'reminded');
}

/** The expiry: its write (pending in the index), then its follow-up, which a later run finishes after a crash. */
async function expire(
  deps: OfferDeadlineDeps,
  offer: Offer,
  now: string,
): Promise<NextMatchOutcome | undefined> {
  const applied = await applyDeadlineStep(deps, offer, 'escalate', now, {});
  if (!applied) return undefined;
  return followUpExpiry(deps, applied.offer);
}

/**
 * The expiry's audit entry and count, the partner's response record, the partner's and the team's notices, and the
 * need offered on (or returned): each safe to repeat; the offer leaves the index only once all are done.
 */
async function followUpExpiry(deps: OfferDeadlineDeps, expired: Offer): Promise<NextMatchOutcome> {
  await record(deps, expired, entryOf('escalate'), 'expired', expired.updatedAt, {
    nudgedAt: expired.nudgedAt,
  });
  // Silence, for the partner's response record: counted apart from its answers.
  await recordPartnerAnswer(deps.responses, expired, 'expired', expired.updatedAt, deps.figures);
  const referral = await deps.referrals.get(expired.referralId);
  const messages = [notice(expired.referralId, expired.deliveryId, 'withdrawn', expired)];
  const team = teamDeliveryOf(referral);
  if (team) messages.push(notice(expired.referralId, team, 'offer-expired', expired));
  await deps.notices.send(messages);
  const next = await offerNextMatch(deps, expired);
  await deps.deadlines.followedUp(expired, 'expired');
  return next;
}

/** The lifecycle's entry for a deadline step (its audit action and counts), as `decide` gave it when applied. */
function entryOf(event: 'nudge' | 'escalate'): Pick<LifecycleTransition<'offer'>, 'audit' | 'counts'> {
  const entry = entryFor('offer', 'offered', event);
  if (!entry) throw new Error(`the lifecycle has no offer ${event} from offered`);
  return entry;
}

const errorText = (error: unknown): string =>
  (error instanceof Error ? error.message : String(error)).slice(0, 300);

/** The step's audit entry and count, each once per offer however often a run reaches it. */
async function record(
  deps: OfferDeadlineDeps,
  offer: Offer,
  transition: Pick<LifecycleTransition<'offer'>, 'audit' | 'counts'>,
  step: string,
  at: string,
  detail: Record<string, unknown>,
): Promise<void> {
  await deps.audit.append({
    referralId: offer.referralId,
    eventKey: `offer.${offer.offerId}.${step}`,
    action: transition.audit,
    actor: 'system:deadlines',
    at,
    detail: { offerId: offer.offerId, partnerId: offer.partnerId, category: offer.category, ...detail },
  });
  const dimensions = { partner: offer.partnerId, category: offer.category };
  const counts = transition.counts.map((name) => ({ name, dimensions }));
  if (counts.length > 0) await deps.counters.countOnce(counts, at.slice(0, 10), offer.offerId);
}

function notice(
  referralId: string,
  deliveryId: string,
  kind: 'reminder' | 'withdrawn' | 'offer-expired',
  offer: Offer,
): OutboundMessage<NoticeMessage> {
  const body: NoticeMessage = { referralId, deliveryId, kind, offerId: offer.offerId };
  return { id: `${deliveryId}.${kind}.${offer.offerId}`, body };
}

const teamDeliveryOf = (referral: Referral | undefined): string | undefined =>
  referral?.routing?.deliveries.find((d) => d.recipient.kind === 'team')?.deliveryId;
