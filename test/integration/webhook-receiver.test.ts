import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { practiceResponseFor } from '#delivery/application/practice-response.ts';
import { practiceResponseBundle } from '#fhir/outbound/servicerequest-response.ts';
import { FileRecipientSecrets } from '#adapters/secrets/file-recipient-secrets.ts';
import { SignedWebhookSender } from '#adapters/webhook/signed-webhook-sender.ts';
import { readDirectory, sampleDirectoryFile } from '../../infra/local/seed.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../../infra/local/webhook-receiver.ts';
import { InMemoryDirectory } from '../unit/fakes.ts';
import { sampleReferral } from '../unit/fixtures.ts';

// The local receiver stands in for every recipient's system: the seeded ones, and those an admin adds after start
// (their secret is in the local secret store, where the admin API put it).

const addedSecret = 'whsec_' + Buffer.from('a partner added through the admin API').toString('base64');
let receiver: WebhookReceiver;
const sender = new SignedWebhookSender(5_000);

beforeAll(async () => {
  const secrets = new FileRecipientSecrets(
    join(mkdtempSync(join(tmpdir(), 'receiver-')), 'recipient-secrets.json'),
  );
  await secrets.putSecret('partner', 'added-later', addedSecret);
  receiver = await startWebhookReceiver({
    port: 0,
    directory: readDirectory(sampleDirectoryFile, 'http://127.0.0.1'),
    secrets,
  });
});
afterAll(() => receiver.stop());

describe('local webhook receiver', () => {
  it('verifies a recipient added after start with the secret the store holds for it', async () => {
    const url = `${receiver.url}/hooks/partner/added-later`;
    expect(
      await sender.send({ kind: 'webhook', url, secret: addedSecret }, 'msg-1', 'referral.assigned', {}),
    ).toEqual({ status: 204 });
    expect(receiver.received.at(-1)).toMatchObject({ recipient: 'partner added-later', verified: true });
  });

  it('refuses a wrong signature for it, and knows nothing of a recipient with no secret', async () => {
    const url = `${receiver.url}/hooks/partner/added-later`;
    const wrong = 'whsec_' + Buffer.from('not the secret').toString('base64');
    expect(
      await sender.send({ kind: 'webhook', url, secret: wrong }, 'msg-2', 'referral.assigned', {}),
    ).toEqual({ status: 401 });
    const unknown = `${receiver.url}/hooks/partner/never-added`;
    expect(
      await sender.send({ kind: 'webhook', url: unknown, secret: addedSecret }, 'msg-3', 'x', {}),
    ).toEqual({ status: 404 });
  });

  it('answers scripted statuses (with their headers) first, listing every attempt, then accepts again', async () => {
    const url = `${receiver.url}/hooks/partner/added-later`;
    receiver.answerNext('/hooks/partner/added-later', [
      { status: 503 },
      { status: 429, headers: { 'Retry-After': '7' } },
    ]);
    const target = { kind: 'webhook' as const, url, secret: addedSecret };
    expect(await sender.send(target, 'msg-4', 'referral.assigned', {})).toEqual({ status: 503 });
    expect(await sender.send(target, 'msg-4', 'referral.assigned', {})).toEqual({
      status: 429,
      retryAfter: '7',
    });
    expect(await sender.send(target, 'msg-4', 'referral.assigned', {})).toEqual({ status: 204 });
    expect(receiver.attempts.filter((a) => a.webhookId === 'msg-4').map((a) => a.status)).toEqual([
      503, 429, 204,
    ]);
    expect(receiver.received.filter((r) => r.webhookId === 'msg-4')).toHaveLength(1);
  });
});

describe('local webhook receiver: the messages back to a practice', () => {
  const directory = readDirectory(sampleDirectoryFile, 'http://127.0.0.1');
  const practice = directory.practices.find((p) => p.ods === 'A81001');
  const secret = directory.secrets?.['practice/A81001'] ?? '';
  const lines: string[] = [];
  let own: WebhookReceiver;

  beforeAll(async () => {
    own = await startWebhookReceiver({ port: 0, directory, log: (line) => lines.push(line) });
  });
  afterAll(() => own.stop());

  const message = practiceResponseBundle({
    referral: sampleReferral('leeds-arts-and-mental-health'),
    event: { kind: 'accepted', at: '2025-03-06T10:00:00.000Z' },
    messageId: '4e5f6a7b-0000-4000-8000-00000000000a',
    timestamp: '2025-03-06T10:00:00.000Z',
    sourceEndpoint: 'https://api.example.org/prod/$process-message',
    destinationEndpoint: 'http://127.0.0.1/hooks/practice/A81001',
  });

  async function post(id: string, signingSecret: string, body = JSON.stringify(message)) {
    const timestamp = new Date();
    const signature = new Webhook(signingSecret).sign(id, timestamp, body);
    const path = new URL(practice?.endpoint?.url ?? '').pathname;
    return fetch(`${own.url}${path}`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/fhir+json',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
        'webhook-signature': signature,
      },
      body,
    });
  }

  it('the sample practices have an endpoint at the receiver and a signing secret', () => {
    expect(practice?.endpoint).toEqual({ kind: 'webhook', url: 'http://127.0.0.1/hooks/practice/A81001' });
    expect(secret).toMatch(/^whsec_/);
  });

  it('accepts a servicerequest-response signed with the practice secret; logs the event, never the NHS number', async () => {
    expect((await post('gp-msg-1', secret)).status).toBe(204);
    expect(own.received.at(-1)).toMatchObject({
      path: '/hooks/practice/A81001',
      recipient: 'practice A81001',
      verified: true,
      duplicate: false,
      payload: { resourceType: 'Bundle', type: 'message' },
    });
    expect(own.attempts.at(-1)).toMatchObject({ type: 'servicerequest-response', status: 204 });
    expect(lines.at(-1)).toMatch(/practice A81001 got servicerequest-response \(accepted\) for referral /);
    expect(lines.join('\n')).not.toContain('9995260182');
    // The same message again is a repeat (dropped by webhook-id).
    expect((await post('gp-msg-1', secret)).status).toBe(200);
  });

  it('a practice notice made into its message and sent by the signed sender: verified, the right codes; codes only on objection', async () => {
    const deps = {
      directory: new InMemoryDirectory(directory),
      sourceEndpoint: 'https://api.example.org/prod/$process-message',
    };
    const closure = {
      at: '2025-05-01T16:00:00.000Z',
      by: 'link-worker-1',
      reason: 'completed' as const,
      code: '1362721000000106',
      text: 'Goals met; joined the Thursday group.',
    };
    const cases = [
      { referralId: '11111111-1111-4111-8111-0000000000f1', sharingBack: 'full' as const },
      { referralId: '11111111-1111-4111-8111-0000000000c1', sharingBack: 'codes-only' as const },
    ];
    for (const { referralId, sharingBack } of cases) {
      const referral = sampleReferral('leeds-arts-and-mental-health', { referralId, sharingBack, closure });
      const plan = await practiceResponseFor(deps, referral, { kind: 'closed' });
      if (plan.outcome !== 'send') throw new Error(`expected a message: ${plan.outcome}`);
      const url = `${own.url}${new URL(plan.endpoint.url).pathname}`;
      const signingSecret = directory.secrets?.[plan.secretName] ?? '';
      expect(
        await sender.send(
          { kind: 'webhook', url, secret: signingSecret },
          plan.deliveryId,
          plan.eventType,
          plan.message,
        ),
      ).toEqual({ status: 204 });
      const got = own.received.at(-1);
      expect(got).toMatchObject({ recipient: 'practice A81001', verified: true, webhookId: plan.deliveryId });
      const data = (got?.payload as { type: string; data: Record<string, unknown> }).data;
      expect((got?.payload as { type: string }).type).toBe('servicerequest-response');
      const task = (data['entry'] as Array<{ resource: Record<string, unknown> }>)[2]?.resource ?? {};
      expect(task['businessStatus']).toMatchObject({
        coding: [{ system: 'http://snomed.info/sct', code: '1362721000000106' }, { code: 'closed' }],
      });
      expect(task['statusReason']).toMatchObject({ coding: [{ code: 'completed' }] });
      if (sharingBack === 'full') expect(task['note']).toEqual([{ text: closure.text }]);
      else expect(JSON.stringify(data)).not.toContain('Goals met');
      expect(lines.at(-1)).toMatch(/got servicerequest-response \(closed\) for referral /);
    }
  });

  it('refuses a message signed with another secret (401)', async () => {
    const teamSecret = directory.secrets?.['team/lw-woodhouse'] ?? '';
    expect((await post('gp-msg-2', teamSecret)).status).toBe(401);
    expect(own.received.some((r) => r.webhookId === 'gp-msg-2')).toBe(false);
  });
});
