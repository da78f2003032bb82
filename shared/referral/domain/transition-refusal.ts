import type { LifecycleRefusal, LifecycleTransition } from '#referral/domain/lifecycle.ts';
import type { Referral } from '#referral/domain/referral.ts';

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
