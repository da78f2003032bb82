import { describe, expect, it } from 'vitest';
import {
  practiceMessageId,
  practiceResponseFor,
  type PracticeResponse,
} from '#delivery/application/practice-response.ts';
import type { Referral } from '#referral/domain/referral.ts';
import { InMemoryDirectory } from './fakes.ts';
import { referralIds, sampleDirectory, sampleReferral } from './fixtures.ts';

// A `practice` notice turned into the message back to the GP: what it says comes from the referral's case work,
// where it goes from the directory; the same notice again gives the same message.

const deps = () => ({
  directory: new InMemoryDirectory(sampleDirectory()),
  sourceEndpoint: 'https://api.example.org/prod/$process-message',
});
const id = referralIds['leeds-arts-and-mental-health'];
const by = 'link-worker-1';

/** The Leeds referral (practice A81001) as a BaRS message, with case work recorded. */
function referral(overrides: Partial<Referral> = {}): Referral {
  return sampleReferral('leeds-arts-and-mental-health', {
    source: {
      channel: 'fhir',
      requestId: '9d0c2b1a-0000-4000-8000-000000000001',
      correlationId: '9d0c2b1a-0000-4000-8000-0000000000cc',
      senderEndpoint: 'https://gp.example.org/bars/A81001',
      messageHeaderId: '0a1b2c3d-0000-4000-8000-000000000001',
    },
    acceptance: { at: '2025-03-05T09:00:00.000Z', by },
    firstContact: { at: '2025-03-06T11:00:00.000Z', by, channel: 'phone' },
    interventionStart: { at: '2025-03-10T10:00:00.000Z', by },
    closure: {
      at: '2025-05-01T16:00:00.000Z',
      by,
      reason: 'completed',
      code: '1362721000000106',
      text: 'Goals met; joined the Thursday group.',
    },
    ...overrides,
  });
}

type Sent = Extract<PracticeResponse, { outcome: 'send' }>;
async function sent(r: Referral, kind: Parameters<typeof practiceResponseFor>[2]['kind']): Promise<Sent> {
  const answer = await practiceResponseFor(deps(), r, { kind });
  if (answer.outcome !== 'send') throw new Error(`expected a message, got ${JSON.stringify(answer)}`);
  return answer;
}
type Json = Record<string, unknown>;
const resource = (message: Json, type: string) =>
  ((message['entry'] as Array<{ resource: Json }>).find((e) => e.resource['resourceType'] === type)
    ?.resource ?? {}) as Json;
const taskCodes = (message: Json) =>
  (((resource(message, 'Task')['businessStatus'] as Json)['coding'] as Json[]) ?? []).map((c) => c['code']);

describe('practiceResponseFor', () => {
  it('accepted: to the directory endpoint, signed with practice/<ods>, answering the BaRS request', async () => {
    const answer = await sent(referral(), 'accepted');
    expect(answer).toMatchObject({
      deliveryId: `practice.${id}.accepted`,
      eventType: 'servicerequest-response',
      endpoint: { kind: 'webhook', url: 'http://127.0.0.1:3001/hooks/practice/A81001' },
      secretName: 'practice/A81001',
    });
    const header = resource(answer.message, 'MessageHeader');
    expect(header['id']).toBe(practiceMessageId(id, 'accepted'));
    expect(header['response']).toEqual({ identifier: '0a1b2c3d-0000-4000-8000-000000000001', code: 'ok' });
    // BaRS: responses are addressed to the sender's source.endpoint.
    expect(header['destination']).toMatchObject([{ endpoint: 'https://gp.example.org/bars/A81001' }]);
    expect(header['reason']).toEqual({
      coding: [{ system: 'https://fhir.nhs.uk/CodeSystem/message-reason-bars', code: 'new' }],
    });
    expect(answer.message['timestamp']).toBe('2025-03-05T09:00:00.000Z');
    expect(taskCodes(answer.message)).toEqual(['871731000000106', 'accepted']);
  });

  it('each event from its case-work record: seen, intervention started, closed (with the closure text)', async () => {
    expect(taskCodes((await sent(referral(), 'seen')).message)).toEqual(['1362931000000106', 'seen']);
    const started = await sent(referral(), 'intervention-started');
    expect(taskCodes(started.message)).toEqual(['intervention-started']);
    expect(resource(started.message, 'Task')['output']).toHaveLength(2); // the needs: arts, mental health
    const closed = await sent(referral(), 'closed');
    expect(taskCodes(closed.message)).toEqual(['1362721000000106', 'closed']);
    expect(resource(closed.message, 'Task')['note']).toEqual([
      { text: 'Goals met; joined the Thursday group.' },
    ]);
  });

  it('declined straight after routing is the first message back (reason new); after acceptance an update', async () => {
    const teamDecline = { at: '2025-03-05T09:30:00.000Z', by, reason: 'declined-by-patient' as const };
    const first = await sent(referral({ acceptance: undefined, teamDecline }), 'declined');
    expect(resource(first.message, 'MessageHeader')['reason']).toMatchObject({ coding: [{ code: 'new' }] });
    expect(taskCodes(first.message)).toEqual(['871711000000103', 'declined']);
    const later = await sent(referral({ teamDecline }), 'declined');
    expect(resource(later.message, 'MessageHeader')['reason']).toMatchObject({
      coding: [{ code: 'update' }],
    });
  });

  it('codes only when the patient objected: the closure text stays out', async () => {
    const closed = await sent(referral({ sharingBack: 'codes-only' }), 'closed');
    expect(JSON.stringify(closed.message)).not.toContain('Goals met');
    expect(resource(closed.message, 'Task')['note']).toBeUndefined();
  });

  it('the same notice again is the same message (a retry, a redelivery)', async () => {
    const once = await sent(referral(), 'closed');
    const again = await sent(referral(), 'closed');
    expect(JSON.stringify(again)).toBe(JSON.stringify(once));
  });

  it('a JSON referral is addressed to the directory endpoint and answers its referral id', async () => {
    const answer = await sent(referral({ source: { channel: 'json' } }), 'seen');
    const header = resource(answer.message, 'MessageHeader');
    expect(header['destination']).toMatchObject([
      { endpoint: 'http://127.0.0.1:3001/hooks/practice/A81001' },
    ]);
    expect(header['response']).toEqual({ identifier: id, code: 'ok' });
  });

  it('nothing to send: a notice for someone else, a record not written yet, a practice without an endpoint', async () => {
    expect(await practiceResponseFor(deps(), referral(), { kind: 'assigned' })).toEqual({
      outcome: 'not-for-practice',
    });
    expect(await practiceResponseFor(deps(), referral({ closure: undefined }), { kind: 'closed' })).toEqual({
      outcome: 'not-recorded',
      reason: 'the referral has no closure recorded',
    });
    // C83002 (St Leonards) has no endpoint in the sample directory; X99999 is not in it.
    expect(
      await practiceResponseFor(deps(), referral({ practiceOds: 'C83002' }), { kind: 'accepted' }),
    ).toEqual({ outcome: 'no-endpoint', reason: 'practice C83002 has no endpoint in the directory' });
    expect(
      await practiceResponseFor(deps(), referral({ practiceOds: 'X99999' }), { kind: 'accepted' }),
    ).toEqual({ outcome: 'no-endpoint', reason: 'practice X99999 is not in the directory' });
  });
});
