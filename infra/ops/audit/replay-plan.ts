import { z } from 'zod';
import type { AuditLink, ChainVerdict } from '#audit/domain/chain.ts';
import { NoticeMessage } from '#messages/notice-message.ts';
import { RoutingMessage } from '#messages/routing-message.ts';

/**
 * What `npm run audit -- replay` re-sends for one referral, worked out from its audit trail alone. Each step of the
 * referral's flow that the trail shows never completed is finished by re-sending the message that does it, so the
 * real functions finish it: received but never `routed` → the routing message; routed, but a planned delivery
 * neither `delivered.<id>` nor `delivery-failed.<id>` → that delivery's `assigned` notice. Every consumer is
 * idempotent, so a message for a step done meanwhile changes nothing. Nothing is planned from a broken chain (a
 * trail that cannot be trusted is not acted on), nor for a cancelled or withdrawn referral. Pure: no I/O.
 */

export type ReplayStep =
  | { queue: 'referrals'; id: string; body: RoutingMessage; says: string }
  | { queue: 'notifications'; id: string; body: NoticeMessage; says: string };

export interface ReplayPlan {
  referralId: string;
  /** False when the chain does not verify (or there is no trail): nothing may be re-sent. */
  trusted: boolean;
  steps: ReplayStep[];
  /** Why nothing (more) is planned, in the operator's words. */
  notes: string[];
}

/** What the router records of its decision's deliveries (route-referral.ts), read as strictly as it is needed. */
const RoutedDetail = z.object({
  deliveries: z.array(z.object({ deliveryId: z.string().min(1).max(200), content: z.string() })),
});

export function planReplay(
  referralId: string,
  links: readonly AuditLink[],
  verdict: ChainVerdict,
): ReplayPlan {
  const plan = (trusted: boolean, steps: ReplayStep[], ...notes: string[]): ReplayPlan => ({
    referralId,
    trusted,
    steps,
    notes,
  });
  if (links.length === 0) return plan(false, [], 'Nothing re-sent: there is no trail to act on.');
  if (!verdict.ok)
    return plan(
      false,
      [],
      `Nothing re-sent: the chain is broken at link ${verdict.seq} (${verdict.reason}), and a trail that cannot be ` +
        'trusted is not acted on.',
    );

  const keys = new Set(links.map((link) => link.eventKey));
  const cancelled = links.find((link) => link.action === 'referral.cancelled');
  if (cancelled)
    return plan(
      true,
      [],
      `Cancelled at ${cancelled.at}: nothing re-sent (its cancellation notices are not replayed; see the ` +
        'notifications dead-letter queue).',
    );
  // The latest acceptance: after a withdrawal, the referral may have been submitted again.
  const received = links.findLast(
    (link) => link.action === 'referral.received' && link.eventKey.startsWith('received.'),
  );
  if (!received)
    return plan(
      true,
      [],
      'No referral.received entry: not a referral flow replay can finish; nothing to re-send.',
    );
  if (keys.has(`withdrawn.${received.eventKey.slice('received.'.length)}`))
    return plan(
      true,
      [],
      `Withdrawn by intake (received ${received.at}, never acknowledged): nothing to re-send.`,
    );

  const routed = links.find((link) => link.eventKey === 'routed');
  if (!routed) {
    const body = RoutingMessage.safeParse({ referralId });
    if (!body.success) return plan(true, [], `${referralId} is not a referral id: nothing to re-send.`);
    return plan(true, [
      {
        queue: 'referrals',
        id: referralId,
        body: body.data,
        says:
          `route: received ${received.at} but never routed; re-send its routing message to the referrals ` +
          'queue (the router routes it and queues its deliveries)',
      },
    ]);
  }

  const detail = RoutedDetail.safeParse(routed.detail ?? {});
  if (!detail.success)
    return plan(
      true,
      [],
      `Routed at ${routed.at}, but its entry lists no deliveries: none can be checked from the trail.`,
    );
  const { deliveries } = detail.data;
  const steps: ReplayStep[] = [];
  for (const { deliveryId, content } of deliveries) {
    if (keys.has(`delivered.${deliveryId}`) || keys.has(`delivery-failed.${deliveryId}`)) continue;
    const body = NoticeMessage.safeParse({ referralId, deliveryId, kind: 'assigned' });
    if (!body.success) continue;
    steps.push({
      queue: 'notifications',
      id: deliveryId,
      body: body.data,
      says:
        `deliver: ${deliveryId} (${content}) was planned at routing but never delivered nor failed; re-send ` +
        'its assigned notice to the notifications queue',
    });
  }
  if (steps.length > 0) return plan(true, steps);
  return plan(
    true,
    [],
    deliveries.length === 0
      ? `Routed at ${routed.at} with no deliveries planned: nothing to re-send.`
      : `Routed at ${routed.at}; each of its ${deliveries.length} deliveries was delivered or failed: nothing to re-send.`,
  );
}
