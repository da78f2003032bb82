import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { practiceSecretName, secretNameOf, type DirectorySnapshot } from '#directory/domain/directory.ts';
import type { RecipientSecrets } from '#directory/ports.ts';
import { practiceMessageEvent, practiceMessageSummary } from './practice-messages.ts';

/**
 * Stands in for the link-worker teams', partners' and practices' systems: receives their webhooks (a practice's are
 * the messages back to the GP, BaRS `servicerequest-response` Bundles, at its directory endpoint), verifies each
 * Standard Webhooks signature with that recipient's secret, drops repeats by webhook-id, and prints one line per
 * delivery.
 * It prints no patient details, only whether identifiable details were included.
 * GET /received lists what arrived (for the demo and the end-to-end test). A test can script the next answers to a
 * path (`answerNext`: 500, 410, 429 with Retry-After...), and `attempts` lists every verified POST with its answer.
 */

export interface ReceivedDelivery {
  path: string;
  recipient: string;
  webhookId: string;
  verified: boolean;
  duplicate: boolean;
  payload: unknown;
  /** Exactly as received, so a test can verify the signature independently. */
  raw: { body: string; headers: Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> };
  receivedAt: string;
}

/** One answer a test scripts for a path: the status, and headers such as `Retry-After`. */
export interface ScriptedAnswer {
  status: number;
  headers?: Record<string, string>;
}

/** Every verified POST, whatever it was answered (a scripted refusal too), in order of arrival. */
export interface DeliveryAttempt {
  path: string;
  webhookId: string;
  type: string;
  status: number;
  at: number;
}

export interface WebhookReceiver {
  url: string;
  /** What was accepted (2xx). */
  received: ReceivedDelivery[];
  attempts: DeliveryAttempt[];
  /**
   * The next verified POSTs to `path` are answered with these, one each, before it accepts again: a recipient that
   * fails (500), refuses for good (410) or asks to be left alone for a while (429 + Retry-After).
   */
  answerNext(path: string, answers: ScriptedAnswer[]): void;
  stop(): Promise<void>;
}

export async function startWebhookReceiver(options: {
  port: number;
  directory: DirectorySnapshot;
  /**
   * The local secret store: a recipient added through the admin API after start, with its channel at
   * `<receiver>/hooks/<kind>/<id>`, is verified with the secret the API stored for it.
   */
  secrets?: RecipientSecrets;
  log?: (line: string) => void;
}): Promise<WebhookReceiver> {
  const secrets = new Map<string, { recipient: string; secret: string }>();
  const recipients = [
    ...options.directory.teams.map((team) => ({ kind: 'team' as const, record: team })),
    ...options.directory.partners.map((partner) => ({ kind: 'partner' as const, record: partner })),
  ];
  for (const { kind, record } of recipients) {
    const secret = options.directory.secrets?.[secretNameOf(kind, record.id)];
    // An email or worklist recipient is sent no webhook: nothing to verify for it here.
    if (secret && record.channel.kind === 'webhook')
      secrets.set(new URL(record.channel.url).pathname, { recipient: `${kind} ${record.name}`, secret });
  }
  // The practices' systems too: the messages back to the GP (servicerequest-response), signed with `practice/<ods>`.
  for (const practice of options.directory.practices) {
    const secret = options.directory.secrets?.[practiceSecretName(practice.ods)];
    if (secret && practice.endpoint)
      secrets.set(new URL(practice.endpoint.url).pathname, {
        recipient: `practice ${practice.ods}`,
        secret,
      });
  }
  const received: ReceivedDelivery[] = [];
  const attempts: DeliveryAttempt[] = [];
  const scripts = new Map<string, ScriptedAnswer[]>();
  const seen = new Set<string>();
  const addedRecipient = async (path: string) => {
    const [, hooks, kind, id] = path.split('/');
    if (hooks !== 'hooks' || (kind !== 'team' && kind !== 'partner') || !id || !options.secrets)
      return undefined;
    const secret = await options.secrets.secretOf(kind, id);
    return secret ? { recipient: `${kind} ${id}`, secret } : undefined;
  };

  const server = http.createServer((request, response) => {
    void (async () => {
      if (request.method === 'GET' && request.url === '/received') {
        response.writeHead(200, { 'Content-Type': 'application/json' });
        response.end(JSON.stringify(received));
        return;
      }
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      const known = secrets.get(path) ?? (await addedRecipient(path));
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks).toString('utf8');
      if (request.method !== 'POST' || !known) {
        response.writeHead(404).end();
        return;
      }
      const headers = {
        'webhook-id': String(request.headers['webhook-id'] ?? ''),
        'webhook-timestamp': String(request.headers['webhook-timestamp'] ?? ''),
        'webhook-signature': String(request.headers['webhook-signature'] ?? ''),
      };
      let payload: unknown;
      try {
        payload = new Webhook(known.secret).verify(body, headers);
      } catch (error) {
        options.log?.(`webhook ✗ ${known.recipient}: signature rejected (${(error as Error).message})`);
        response.writeHead(401).end();
        return;
      }
      const scripted = scripts.get(path)?.shift();
      // A FHIR Bundle's own `type` is `message`: a practice's message is named by its BaRS event instead.
      const type = practiceMessageEvent(payload) ?? (payload as { type?: string }).type ?? '?';
      const attempt = (status: number) =>
        attempts.push({ path, webhookId: headers['webhook-id'], type, status, at: Date.now() });
      if (scripted) {
        attempt(scripted.status);
        options.log?.(`webhook ✗ ${known.recipient}: answered ${scripted.status} (scripted)`);
        response.writeHead(scripted.status, scripted.headers ?? {}).end();
        return;
      }
      const duplicate = seen.has(headers['webhook-id']);
      seen.add(headers['webhook-id']);
      attempt(duplicate ? 200 : 204);
      received.push({
        path,
        recipient: known.recipient,
        webhookId: headers['webhook-id'],
        verified: true,
        duplicate,
        payload,
        raw: { body, headers },
        receivedAt: new Date().toISOString(),
      });
      const data = (payload as { data?: { referralId?: string; needs?: string[]; patient?: unknown } }).data;
      if (practiceMessageEvent(payload) !== undefined) {
        options.log?.(
          `webhook ✓ ${known.recipient} got ${practiceMessageSummary(payload)} ` +
            `(signature verified${duplicate ? '; repeat, ignored' : ''})`,
        );
      } else
        options.log?.(
          `webhook ✓ ${known.recipient} got referral ${data?.referralId ?? '?'} ` +
            `(needs: ${data?.needs?.join(', ') ?? '?'}; ${data?.patient ? 'identifiable' : 'signposting only'}; ` +
            `signature verified${duplicate ? '; repeat, ignored' : ''})`,
        );
      response.writeHead(duplicate ? 200 : 204).end();
    })();
  });
  await new Promise<void>((resolve) => server.listen(options.port, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    attempts,
    answerNext(path, answers) {
      scripts.set(path, [...(scripts.get(path) ?? []), ...answers]);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
