import { beforeEach, describe, expect, it } from 'vitest';
import { actOnTeamReferral, type CaseWorkDeps } from '#referral/application/case-work.ts';
import { practiceNotices } from '#referral/application/tell-practice.ts';
import { practiceResponseKinds } from '#fhir/outbound/servicerequest-response.ts';
import { noticeId, PracticeResponseEvent, type NoticeMessage } from '#messages/notice-message.ts';
import type { RecordingQueue } from './fakes.ts';
import { referralIds } from './fixtures.ts';
import { routedCase } from './routed-case.ts';

// Case work queues the message back to the GP after each link-worker transition whose lifecycle entry names the
// practice: one `practice-response` notice per referral and event, the same again on a repeat.

const id = referralIds['leeds-arts-and-mental-health'];
const team = { organisation: 'lw-woodhouse', subject: 'lw-user-1' };
const body = (fields: Record<string, unknown>) => () => fields;

let notices: RecordingQueue<NoticeMessage>;
let deps: CaseWorkDeps;

beforeEach(async () => {
  ({ notices, deps } = await routedCase(['arts'], { clearNotices: true }));
});

const practiceMessages = () => notices.messages.filter((m) => m.body.kind === 'practice-response');

describe('the message back to the GP is queued by case work', () => {
  it('accepted, first contact, intervention started and closed: one notice each, named by referral and event', async () => {
    await actOnTeamReferral(deps, team, id, 'accept', body({ version: 1 }));
    // An attempt that did not reach the patient tells the practice nothing.
    await actOnTeamReferral(
      deps,
      team,
      id,
      'contact',
      body({ version: 1, outcome: 'attempted', channel: 'phone' }),
    );
    await actOnTeamReferral(
      deps,
      team,
      id,
      'contact',
      body({ version: 1, outcome: 'made', channel: 'phone' }),
    );
    await actOnTeamReferral(deps, team, id, 'start', body({ version: 1 }));
    await actOnTeamReferral(deps, team, id, 'close', body({ version: 1, reason: 'completed' }));

    expect(practiceMessages()).toEqual(
      ['accepted', 'seen', 'intervention-started', 'closed'].map((event) => ({
        id: `practice.${id}.${event}`,
        body: { referralId: id, deliveryId: `practice.${id}`, kind: 'practice-response', event },
      })),
    );
    // The notice id the notifier de-duplicates on is the message's webhook-id (practiceResponseFor's deliveryId).
    expect(practiceMessages().map((m) => noticeId(m.body))).toEqual(practiceMessages().map((m) => m.id));
  });

  it('a decline by the patient is told to the practice', async () => {
    await actOnTeamReferral(deps, team, id, 'accept', body({ version: 1 }));
    await actOnTeamReferral(deps, team, id, 'decline', body({ version: 1, reason: 'declined-by-patient' }));
    expect(practiceMessages().map((m) => m.body.event)).toEqual(['accepted', 'declined']);
  });

  it('a repeated action queues the same notice again (same id), so the notifier sends it once', async () => {
    await actOnTeamReferral(deps, team, id, 'accept', body({ version: 1 }));
    await actOnTeamReferral(deps, team, id, 'accept', body({ version: 1 }));
    const ids = practiceMessages().map((m) => m.id);
    expect(ids).toEqual([`practice.${id}.accepted`, `practice.${id}.accepted`]);
  });

  it('a refused action queues nothing for the practice', async () => {
    await expect(actOnTeamReferral(deps, team, id, 'start', body({ version: 1 }))).rejects.toThrow();
    expect(practiceMessages()).toEqual([]);
  });
});

describe('practiceNotices', () => {
  it("takes only the practice's notices", () => {
    expect(
      practiceNotices(id, [
        { to: 'team', kind: 'offer-declined' },
        { to: 'practice', kind: 'closed' },
        { to: 'practice', kind: 'updated' },
      ]).map((m) => m.body.event),
    ).toEqual(['closed']);
  });

  it("the queue's practice events are the FHIR builder's", () => {
    expect(PracticeResponseEvent.options).toEqual([...practiceResponseKinds]);
  });
});
