import { LifecycleConflictError } from '#kernel/errors.ts';
import type { LifecycleDecision, LifecycleRefusal } from '#referral/domain/lifecycle.ts';
import type { Referral } from '#referral/domain/referral.ts';
import { referralTransition, type ReferralTransition } from '#referral/domain/transition-refusal.ts';
import type { ReferralStore, TransitionContext } from '#referral/ports.ts';

/** One lifecycle event on one referral, as a use case asks for it. */
export interface ReferralStep {
  referralId: string;
  /** The lifecycle's decision on the referral as read: the first read, then the one after a refused write. */
  decide(referral: Referral): LifecycleDecision<'referral'>;
  /** The write's facts and data, worked out from the referral the transition was decided on. */
  context(referral: Referral, transition: ReferralTransition): TransitionContext | Promise<TransitionContext>;
  /** Reads the referral again after a refused write, with the caller's own checks (whose it is). */
  reread(): Promise<Referral>;
  /**
   * After a refused write, whether a fresh `apply` is written once more. The router judges no message, so it routes
   * the referral as it now is; a practice's message was judged at the version it saw, so a fresh `apply` there means
   * the store's condition saw what `decide` cannot, and the store's refusal is the answer.
   */
  writeAgain: boolean;
}

export type StepOutcome =
  | { kind: 'apply' | 'already'; referral: Referral; transition: ReferralTransition }
  | { kind: 'refused'; referral: Referral; refusal: LifecycleRefusal<'referral'> };

/**
 * Decide, apply in ONE conditional write, and if the write is refused (something landed between the read and the
 * write) read once more and decide again. No loop: a second refused write throws LifecycleConflictError, and the
 * caller's client (or SQS) retries. A refusal by `decide` is returned, so each caller answers it in its own terms
 * (a 409 for the practice, a skip for the router).
 */
export async function transitionReferral(
  referrals: ReferralStore,
  read: Referral,
  step: ReferralStep,
): Promise<StepOutcome> {
  const settle = async (
    referral: Referral,
    decision: LifecycleDecision<'referral'>,
  ): Promise<StepOutcome> => {
    if (!decision.ok) return { kind: 'refused', referral, refusal: decision };
    const transition = referralTransition(decision.transition);
    if (decision.kind === 'already') return { kind: 'already', referral, transition };
    // The worklist entry sorts by when the referral was received, whichever step moves its status.
    const context = { listedAt: referral.receivedAt, ...(await step.context(referral, transition)) };
    const written = await referrals.apply(step.referralId, transition, context);
    return { kind: 'apply', referral: written, transition };
  };

  const decision = step.decide(read);
  if (!decision.ok || decision.kind === 'already') return settle(read, decision);
  try {
    return await settle(read, decision);
  } catch (error) {
    if (!(error instanceof LifecycleConflictError)) throw error;
    const fresh = await step.reread();
    const again = step.decide(fresh);
    if (again.ok && again.kind === 'apply' && !step.writeAgain) throw error;
    return settle(fresh, again);
  }
}
