import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileRecipientSecrets } from '#adapters/secrets/file-recipient-secrets.ts';
import { SignedWebhookSender } from '#adapters/webhook/signed-webhook-sender.ts';
import { readDirectory, sampleDirectoryFile } from '../../infra/local/seed.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../../infra/local/webhook-receiver.ts';

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
