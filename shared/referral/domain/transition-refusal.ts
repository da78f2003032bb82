import {
  referralStates,
  type LifecycleRefusal,
  type LifecycleTransition,
} from '#referral/domain/lifecycle.ts';
// Types only from the referral model: the statuses are the lifecycle's (referral.ts's referralStatuses is the same
// list), so the store adapters that import this do not build the referral's schemas at import.
import type { Referral, ReferralStatus } from '#referral/domain/referral.ts';

/**
 * A transition of the referral between statuses the referral model has today. The lifecycle has more (accepted,
 * declined, ...); the stored `status` takes them once the model does, and this type widens with it.
 */
export type ReferralTransition = LifecycleTransition<'referral'> & {
  from: ReferralStatus;
  to: ReferralStatus;
};

const isStatus = (state: unknown): state is ReferralStatus =>
  (referralStates as readonly unknown[]).includes(state);

/** The transition as the store takes it; one into or out of a state the model lacks yet is a fault of ours. */
export function referralTransition(transition: LifecycleTransition<'referral'>): ReferralTransition {
  const { from, to } = transition;
  if (!isStatus(from) || !isStatus(to))
    throw new Error(`lifecycle: ${String(from)} -> ${to} is not a status the referral model has yet`);
  return { ...transition, from, to };
}

/**
 * `decide` said `already` (the event's effect is in place), but the referral's last message is not this one: another
 * message did it first (a second cancel), so this one is refused, naming the state and the version, as `decide`
 * names them. The same message again is a retry, which the use case finishes instead.
 */
export function doneByAnotherMessage(
  referral: Referral,
  event: LifecycleTransition<'referral'>['event'],
): LifecycleRefusal<'referral'> {
  return {
    ok: false,
    reason: 'invalid',
    entity: 'referral',
    event,
    state: referral.status,
    version: referral.version,
    message: `referral is ${referral.status} (version ${referral.version}): ${event} is not allowed; an earlier message (${referral.lastMessageAt ?? 'unknown'}) already did it`,
  };
}

/**
 * Why a store refused a transition's write, said from the referral as it stands after the refusal. `decide` was
 * right when it was asked; the write found something else first, so this is the typed conflict a caller gets instead
 * of working it out from a read-back. Shared by the DynamoDB store and the in-memory fake, so both say the same.
 */

/** The attribute of the referral that names the organisation a transition's owner must be, if the referral has one. */
export function ownerIdOf(
  referral: Referral,
  owner: LifecycleTransition<'referral'>['owner'],
): string | undefined {
  switch (owner) {
    case 'practice':
      return referral.practiceOds;
    case 'team':
      return referral.routing?.team?.id ?? undefined;
    case 'partner':
    case null:
      return undefined;
  }
}

export function refusalOf(
  referral: Referral | undefined,
  transition: LifecycleTransition<'referral'>,
  ownerId: string | undefined,
): LifecycleRefusal<'referral'> {
  const base = { ok: false as const, entity: 'referral' as const, event: transition.event };
  if (referral === undefined)
    return { ...base, reason: 'invalid', state: null, version: 0, message: 'referral does not exist' };
  // Another organisation's referral: say nothing of its state, as the use cases answer "not found".
  if (transition.owner !== null && ownerIdOf(referral, transition.owner) !== ownerId)
    return {
      ...base,
      reason: 'forbidden',
      state: null,
      version: 0,
      message: `${transition.role} may not ${transition.event} this referral`,
    };
  const state = referral.status;
  const moved = state !== transition.from || referral.version !== transition.expectedVersion;
  return {
    ...base,
    reason: moved ? 'stale' : 'invalid',
    state,
    version: referral.version,
    message: moved
      ? `referral changed: expected version ${transition.expectedVersion} (${transition.from ?? 'new'}), it is at version ${referral.version} (${state})`
      : `referral is ${state} (version ${referral.version}): ${transition.event} is not allowed; a newer message (${referral.lastMessageAt ?? 'unknown'}) was already applied`,
  };
}
