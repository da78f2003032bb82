import { ForbiddenError, UnauthorizedError } from '#kernel/errors.ts';
import type { Referral } from '#referral/domain/referral.ts';
import type { Caller } from '#auth/caller.ts';

/** Organisation-level rules, applied by handlers after the route's role check. */

/** A GP system may submit only for the practices its token is bound to. */
export function assertActsFor(caller: Caller | undefined, practiceOds: string): asserts caller is Caller {
  if (!caller) throw new UnauthorizedError('A valid bearer token is required');
  if (caller.role !== 'gp-system' || !caller.organisations.includes(practiceOds)) {
    throw new ForbiddenError(`This token may not submit referrals for practice ${practiceOds}`);
  }
}

/** A referral is visible to the practice that referred it. */
export function visibleTo(caller: Caller | undefined): (referral: Referral) => boolean {
  return (referral) =>
    caller !== undefined &&
    caller.role === 'gp-system' &&
    caller.organisations.includes(referral.practiceOds);
}
