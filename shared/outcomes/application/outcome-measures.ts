import { randomUUID } from 'node:crypto';
import type { AuditLog } from '#audit/ports.ts';
import type { Clock } from '#kernel/clock.ts';
import { ConflictError, NotFoundError } from '#kernel/errors.ts';
import { keyedUuid, requestFingerprint } from '#kernel/ids.ts';
import { instrumentsIn } from '#outcomes/domain/instruments.ts';
import {
  baselineOf,
  newMeasureSet,
  readMeasureSet,
  ukDay,
  type MeasureSetRecord,
  type MeasureSetRequest,
} from '#outcomes/domain/measure-set.ts';
import {
  measureSetView,
  outcomesView,
  type MeasureSetView,
  type OutcomesView,
} from '#outcomes/domain/outcome-views.ts';
import type { OutcomeStore, SwemwbsConversion } from '#outcomes/ports.ts';
import type { Referral } from '#referral/domain/referral.ts';
import type { ReferralStore } from '#referral/ports.ts';
import type { Figures } from '#reporting/ports.ts';
import { outcomeFigures } from '#reporting/domain/outcome-figures.ts';

/**
 * Recording and reading a referral's outcome measures, for the link-worker team the referral was routed to. Any
 * other team is told the referral does not exist (404), so referral ids cannot be probed across teams.
 */

/** The route a measure set is recorded on: the scope its Idempotency-Key means something in. */
export const outcomesRoute = '/team/referrals/{id}/outcomes';

export interface OutcomeDeps {
  referrals: Pick<ReferralStore, 'get'>;
  outcomes: OutcomeStore;
  audit: AuditLog;
  clock: Clock;
  /** The observatory's outcome figures: one per measure of each set, once per set id. */
  figures: Figures;
  /** The licensed SWEMWBS conversion, where one is configured; without it only raw totals are shown. */
  swemwbs?: SwemwbsConversion;
}

/** A link worker, from their token: who they are and the team it is bound to. */
export interface TeamMember {
  subject: string;
  team: string;
}

/** The referral, if it was routed to `team` (else NotFoundError, as for one that does not exist). */
export async function teamReferral(
  referrals: Pick<ReferralStore, 'get'>,
  referralId: string,
  team: string,
): Promise<Referral> {
  const referral = await referrals.get(referralId);
  if (!referral || referral.routing?.team?.id !== team) {
    throw new NotFoundError(`No referral with id ${referralId} routed to team ${team}`);
  }
  return referral;
}

export interface RecordMeasureSetCommand {
  referralId: string;
  by: TeamMember;
  /** The request body as parsed JSON, not yet validated. */
  body: unknown;
  /** The Idempotency-Key header, already checked for its form. */
  idempotencyKey?: string;
}

export interface RecordedMeasureSet {
  referralId: string;
  set: MeasureSetView;
  /** True when this was a retry of a set already recorded: nothing new was written. */
  replayed: boolean;
}

/**
 * Records one measure set: validated (every field's rule, and its day against today, the referral and the
 * baseline), kept beside the referral, audited. A retry (the same `id`, or the same Idempotency-Key from the same
 * link worker) with the same answers writes nothing and is answered as the first; with other answers it is 409.
 * One baseline per referral (a second is 409), and a follow-up needs a baseline to be compared with (409 before it).
 */
export async function recordMeasureSet(
  deps: OutcomeDeps,
  command: RecordMeasureSetCommand,
): Promise<RecordedMeasureSet> {
  const { referralId, by } = command;
  const referral = await teamReferral(deps.referrals, referralId, by.team);
  const sets = await deps.outcomes.list(referralId);
  const baseline = baselineOf(sets);
  const now = deps.clock.now();
  const request = readMeasureSet(command.body, {
    today: ukDay(now),
    referralReceivedOn: ukDay(referral.receivedAt),
    ...(baseline ? { baselineTakenOn: baseline.takenOn } : {}),
  });

  const id =
    request.id ??
    (command.idempotencyKey === undefined
      ? randomUUID()
      : keyedUuid([outcomesRoute, referralId, by.team, by.subject], command.idempotencyKey));
  const fingerprint = fingerprintOf(request);
  const earlier = sets.find((set) => set.id === id);
  if (earlier) return replayOrConflict(deps, earlier, fingerprint, { referral, baseline });

  if (referral.status === 'cancelled') {
    throw new ConflictError(`Referral ${referralId} is cancelled: no outcomes are recorded on it`);
  }
  if (request.timepoint === 'baseline' && baseline) throw secondBaseline(baseline);
  if (request.timepoint === 'follow-up' && !baseline) {
    throw new ConflictError(
      `Referral ${referralId} has no baseline yet: record the baseline before a follow-up`,
    );
  }

  const set = newMeasureSet(request, {
    referralId,
    id,
    recordedAt: now.toISOString(),
    recordedBy: { subject: by.subject, team: by.team },
    fingerprint,
  });
  const result = await deps.outcomes.add(set);
  if (!result.added) {
    // Another request took the place since the read above: this set itself (a concurrent retry), or a baseline.
    if (result.existing.id === id)
      return replayOrConflict(deps, result.existing, fingerprint, { referral, baseline });
    throw secondBaseline(result.existing);
  }
  await audit(deps, set);
  await recordFigures(deps, referral, set, baseline);
  return { referralId, set: measureSetView(set, deps.swemwbs), replayed: false };
}

/** Everything recorded for the referral, scored, with the change from baseline of the latest follow-up. */
export async function showOutcomes(
  deps: Pick<OutcomeDeps, 'referrals' | 'outcomes' | 'swemwbs'>,
  referralId: string,
  by: TeamMember,
): Promise<OutcomesView> {
  await teamReferral(deps.referrals, referralId, by.team);
  return outcomesView(referralId, await deps.outcomes.list(referralId), deps.swemwbs);
}

/** A set's identity is its id; what a retry is compared on is everything else it says. */
function fingerprintOf(request: MeasureSetRequest): string {
  const { id: _id, ...content } = request;
  return requestFingerprint(outcomesRoute, content);
}

/**
 * The set was recorded before: the same answers are a retry (the audit entry is written again, harmlessly, so a
 * retry after a crash between the two writes finishes the first); other answers under the same id are a conflict.
 */
async function replayOrConflict(
  deps: OutcomeDeps,
  earlier: MeasureSetRecord,
  fingerprint: string,
  context: { referral: Referral; baseline: MeasureSetRecord | undefined },
): Promise<RecordedMeasureSet> {
  if (earlier.fingerprint !== fingerprint) {
    throw new ConflictError(
      `Measure set ${earlier.id} was already recorded with other answers: nothing was changed. Send it unchanged, ` +
        'or give a new set its own id (or Idempotency-Key)',
    );
  }
  await audit(deps, earlier);
  // As the audit entry: a retry after a crash between the set's write and its figures counts them now, once.
  await recordFigures(deps, context.referral, earlier, context.baseline);
  return { referralId: earlier.referralId, set: measureSetView(earlier, deps.swemwbs), replayed: true };
}

/**
 * The set's outcome figures (#reporting/domain/outcome-figures.ts), once per set id: a follow-up's change is against
 * the referral's baseline as read before the set was written (a follow-up needs one; a baseline has no change).
 */
function recordFigures(
  deps: OutcomeDeps,
  referral: Referral,
  set: MeasureSetRecord,
  baseline: MeasureSetRecord | undefined,
): Promise<void> {
  return deps.figures.recordOnce(outcomeFigures(referral, set, baseline), set.id);
}

const secondBaseline = (baseline: MeasureSetRecord): ConflictError =>
  new ConflictError(
    `Referral ${baseline.referralId} already has a baseline (set ${baseline.id}, taken on ${baseline.takenOn}): ` +
      'one baseline per referral; record this one as a follow-up',
  );

/** One entry per set, keyed by its id, so a repeat writes nothing. Names the instruments, never the answers. */
function audit(deps: OutcomeDeps, set: MeasureSetRecord): Promise<void> {
  return deps.audit.append({
    referralId: set.referralId,
    eventKey: `outcome.${set.id}`,
    action: 'outcome.recorded',
    actor: `link-worker:${set.recordedBy.subject}`,
    at: set.recordedAt,
    detail: {
      setId: set.id,
      timepoint: set.timepoint,
      takenOn: set.takenOn,
      instruments: instrumentsIn(set),
      team: set.recordedBy.team,
    },
  });
}
