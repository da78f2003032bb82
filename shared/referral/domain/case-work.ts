import * as z from 'zod';
import {
  InterventionCategory as InterventionCategoryName,
  type InterventionCategory,
} from '#referral/domain/categories.ts';
import { DeclineReason, offerStates, referralStates } from '#referral/domain/lifecycle.ts';
import { text } from '#kernel/text.ts';
import { ClosureReason, closureReasons } from '#referral/domain/closure-reasons.ts';

/**
 * The case work a link worker or a partner records on a referral or an offer (issue 9): the bodies of their actions,
 * validated strictly, and what each action leaves on the item. Pure: the use cases (#referral/application/
 * case-work.ts) decide the lifecycle's transition and write these in the same conditional write.
 *
 * Every action body carries the `version` the caller saw: the lifecycle refuses it as stale (409) when the referral
 * or offer moved on since, so nobody acts on details they have not read.
 */

export const Version = z.number({ error: 'must be the version you read (an integer)' }).int().min(1).max(1e9);

/** How a contact (or an attempt) was made. */
export const contactChannels = ['phone', 'email', 'text-message', 'letter', 'in-person', 'video'] as const;
export const ContactChannel = z.enum(contactChannels);
export type ContactChannel = z.infer<typeof ContactChannel>;

/**
 * Why a case (or a partner's work) ended: the one vocabulary the action and the message back to the GP share
 * (#referral/domain/closure-reasons.ts). The closure's SNOMED CT code defaults to `1362721000000106` "Social
 * prescribing case closed".
 */
export { ClosureReason, closureReasons };
export const caseClosedCode = '1362721000000106';
export const SnomedCode = z.string().regex(/^\d{6,18}$/, 'must be a SNOMED CT concept id (6 to 18 digits)');

/** At most this many characters of free text with a decline or closure (`other`). */
export const maxActionTextLength = 500;
const ActionText = text({ max: maxActionTextLength, min: 1, multiline: true });

/**
 * The state the caller saw, optional: given, an action on a referral or offer that has moved on since is refused as
 * stale (409) rather than applied to a state the caller never saw (lifecycle `staleView`).
 */
const SeenState = z
  .enum([...new Set<string>([...referralStates, ...offerStates])] as [string, ...string[]])
  .meta({ description: 'the state the caller saw; an action on one that has moved on since is 409' });

export const VersionedCaseAction = z.strictObject({ version: Version, state: SeenState.optional() });
export type VersionedCaseAction = z.infer<typeof VersionedCaseAction>;

export const DeclineAction = z
  .strictObject({
    version: Version,
    state: SeenState.optional(),
    reason: DeclineReason,
    text: ActionText.optional(),
  })
  .refine((body) => body.reason !== 'other' || body.text !== undefined, {
    message: 'is required when the reason is `other`: say why in at most 500 characters',
    path: ['text'],
  });
export type DeclineAction = z.infer<typeof DeclineAction>;

export const ContactAction = z.strictObject({
  version: Version,
  state: SeenState.optional(),
  /** `attempted`: tried and did not reach the patient; `made`: reached them (the first contact is the funnel's). */
  outcome: z.enum(['attempted', 'made']),
  channel: ContactChannel,
});
export type ContactAction = z.infer<typeof ContactAction>;

export const CloseAction = z
  .strictObject({
    version: Version,
    state: SeenState.optional(),
    reason: ClosureReason,
    /** The SNOMED CT code for the message back to the GP; the case-closed code when not given. */
    code: SnomedCode.optional(),
    text: ActionText.optional(),
  })
  .refine((body) => body.reason !== 'other' || body.text !== undefined, {
    message: 'is required when the reason is `other`: say why in at most 500 characters',
    path: ['text'],
  });
export type CloseAction = z.infer<typeof CloseAction>;

/** Who did it: the token's subject, kept for the audit trail and the team's view (never a patient identifier). */
export interface ActedBy {
  at: string;
  by: string;
}

export interface DeclineRecord extends ActedBy {
  reason: DeclineReason;
  text?: string;
}

export interface ContactRecord extends ActedBy {
  channel: ContactChannel;
  /** The request's Idempotency-Key, when it had one: the same attempt sent again is known by it. */
  key?: string;
}

export interface ClosureRecord extends ActedBy {
  reason: ClosureReason;
  code: string;
  text?: string;
}

/**
 * A need the partners turned down and no fitting service is left for: it is the link worker's again, with why. Keyed
 * by the offer whose decline (or expiry) returned it, so doing it again finds it done.
 */
export interface ReturnedNeed {
  category: InterventionCategory;
  offerId: string;
  partnerId: string;
  /** Why the last partner said no, as coded (`expired` when it never answered). */
  declineReason: DeclineReason | 'expired';
  reason: string;
  at: string;
}

/** What the referral's item holds of its case work, one field per step. */
export interface CaseWork {
  acceptance?: ActedBy;
  teamDecline?: DeclineRecord;
  lastContactAttempt?: ContactRecord;
  firstContact?: ContactRecord;
  interventionStart?: ActedBy;
  closure?: ClosureRecord;
  returnedNeeds?: ReturnedNeed[];
}

/**
 * The response deadline of an offer made at `offeredAt`: the service's expected response time in working days
 * (Monday to Friday, UTC; bank holidays are not known here), capped by when the referrer needs an answer.
 */
export function offerDeadline(offeredAt: string, responseDays: number, respondBy?: string): string {
  const day = new Date(offeredAt);
  let left = responseDays;
  while (left > 0) {
    day.setUTCDate(day.getUTCDate() + 1);
    const weekday = day.getUTCDay();
    if (weekday !== 0 && weekday !== 6) left--;
  }
  const deadline = day.toISOString();
  if (respondBy === undefined) return deadline;
  const cap = new Date(respondBy).toISOString();
  return cap < deadline ? cap : deadline;
}

/** A link worker's hand to the decision: a need offered to a service of their choice from the directory. */
export const ChooseServiceAction = z.strictObject({
  version: Version,
  category: InterventionCategoryName,
  serviceId: z
    .string()
    .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be a service id from the directory')
    .max(64),
});
export type ChooseServiceAction = z.infer<typeof ChooseServiceAction>;

/** A link worker takes a partner off the referral: the offer withdrawn. */
export const RemovePartnerAction = z.strictObject({
  version: Version,
  offerId: z.string().min(1).max(200),
});
export type RemovePartnerAction = z.infer<typeof RemovePartnerAction>;
