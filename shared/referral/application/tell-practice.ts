import { PracticeResponseEvent, practiceDeliveryId, type NoticeMessage } from '#messages/notice-message.ts';
import type { OutboundMessage, Queue } from '#messages/queue.ts';
import type { LifecycleNotice } from '#referral/domain/lifecycle.ts';

/**
 * The practice's notices of a referral's transition (its lifecycle entry's `{ to: 'practice', kind }`: accepted,
 * seen, declined, intervention-started, closed) as `practice-response` notices for the notifier, which sends each as
 * the BaRS `servicerequest-response` message back to the referring practice
 * (#delivery/application/deliver-practice-response.ts). One per referral and event: the queue message's id and the
 * notice id are `practice.<referralId>.<event>`, so an action repeated after a crash may queue it again and the
 * notifier still sends it once.
 */
export function practiceNotices(
  referralId: string,
  notices: ReadonlyArray<Pick<LifecycleNotice, 'to' | 'kind'>>,
): Array<OutboundMessage<NoticeMessage>> {
  return notices.flatMap((notice) => {
    const event = PracticeResponseEvent.safeParse(notice.kind);
    if (notice.to !== 'practice' || !event.success) return [];
    const deliveryId = practiceDeliveryId(referralId);
    const body: NoticeMessage = { referralId, deliveryId, kind: 'practice-response', event: event.data };
    return [{ id: `${deliveryId}.${event.data}`, body }];
  });
}

/** Queues the practice's notices of a transition, if it has any. */
export async function tellPractice(
  deps: { notices: Queue<NoticeMessage> },
  referralId: string,
  notices: ReadonlyArray<Pick<LifecycleNotice, 'to' | 'kind'>>,
): Promise<void> {
  const messages = practiceNotices(referralId, notices);
  if (messages.length > 0) await deps.notices.send(messages);
}
