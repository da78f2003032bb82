import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../infra/local/local-stack.ts';
import type { ReferralStatusView } from '#referral/application/referral-status.ts';
import type { OperationOutcome } from '#http/operation-outcome.ts';
import { eventually, sampleReferral } from '../support/local.ts';

// The directory's admin API over real HTTP against one in-process local stack (each function in its own worker):
// a partner and its service created by an admin, the partner's signing secret answered once and used to sign what
// it is sent; a stale edit refused and changing nothing; a paused service ruled out of a referral in its area, and
// matched again once resumed (signed with the rotated secret); a retired one kept and readable, and matched no more;
// a team for a PCN the directory does not know refused with 422 on `pcn`.

const partnerId = 'e2e-coaching';
const serviceId = 'e2e-coaching-walks';
/** A need nothing in the sample directory meets in LS6, so what matches it is this test's service. */
const need = 'health-coaching';

let stack: LocalStack;
let admin: string;
let gp: string;
let hooks: http.Server;
let hooksUrl = '';
const received: Array<{ path: string; headers: Record<string, string>; body: string }> = [];

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: Record<string, unknown>;
}

async function call(method: string, path: string, token: string, body?: unknown): Promise<Answer> {
  const response = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    json: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

const partnerBody = () => ({
  id: partnerId,
  name: 'E2E Health Coaching',
  identifiers: { charityNumber: '1099999' },
  channel: { kind: 'webhook', url: `${hooksUrl}/hooks/partner/${partnerId}` },
});
const serviceBody = (overrides: Record<string, unknown> = {}) => ({
  id: serviceId,
  partnerId,
  name: 'Coaching Walks',
  categories: [need],
  coverage: { districts: ['LS6'] },
  ...overrides,
});

/** Submits a referral from A81001 (patient in LS6) with the one need, and waits until it is routed. */
async function referAndRoute(): Promise<ReferralStatusView> {
  const answer = await call('POST', '/referrals', gp, {
    ...sampleReferral('leeds-arts-and-mental-health'),
    needs: [need],
  });
  expect(answer.status, answer.text).toBe(202);
  const referralId = answer.json.referralId as string;
  return eventually(async () => {
    const view = (await call('GET', `/referrals/${referralId}`, gp)).json as unknown as ReferralStatusView;
    return view.status === 'routed' ? view : undefined;
  }, `referral ${referralId} to be routed`);
}

/** The webhook our partner received for a referral. */
const deliveryTo = (referralId: string) =>
  eventually(
    async () =>
      received.find((hook) => hook.path === `/hooks/partner/${partnerId}` && hook.body.includes(referralId)),
    `the partner's webhook for ${referralId}`,
  );

const verifies = (secret: string, hook: { headers: Record<string, string>; body: string }): boolean => {
  try {
    new Webhook(secret).verify(hook.body, {
      'webhook-id': hook.headers['webhook-id'] ?? '',
      'webhook-timestamp': hook.headers['webhook-timestamp'] ?? '',
      'webhook-signature': hook.headers['webhook-signature'] ?? '',
    });
    return true;
  } catch {
    return false;
  }
};

const candidateOf = (view: ReferralStatusView) =>
  view.matching.find((m) => m.category === need)?.candidates.find((c) => c.serviceId === serviceId);

beforeAll(async () => {
  // The partner's own system: records what arrives, verifies nothing itself (the test does, with the secret).
  hooks = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({
        path: request.url ?? '',
        headers: Object.fromEntries(
          Object.entries(request.headers).map(([name, value]) => [name, String(value)]),
        ),
        body: Buffer.concat(chunks).toString('utf8'),
      });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
  hooksUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}`;
  stack = await startLocalStack({ port: 0, throttle: { ratePerSecond: 10_000, burst: 10_000 } });
  admin = await stack.issuer.mint({ role: 'admin', subject: 'e2e-directory-admin' });
  gp = await stack.issuer.mint({ role: 'gp-system', ods: ['A81001'], subject: 'e2e-directory-gp' });
});

afterAll(async () => {
  await stack?.stop();
  await new Promise<void>((resolve) => (hooks ? hooks.close(() => resolve()) : resolve()));
});

describe('the directory admin API, over HTTP', () => {
  let firstSecret = '';
  let rotatedSecret = '';

  it('creates a partner: 201 with its signing secret, once; reading it back never shows the secret', async () => {
    const created = await call('POST', '/directory/partners', admin, partnerBody());
    expect(created.status, created.text).toBe(201);
    expect(created.headers.get('location')).toBe(`/directory/partners/${partnerId}`);
    expect(created.json.partner).toMatchObject({ id: partnerId, version: 1, status: 'active' });
    firstSecret = created.json.signingSecret as string;
    expect(firstSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);

    const read = await call('GET', `/directory/partners/${partnerId}`, admin);
    expect(read.status).toBe(200);
    expect(read.json).toEqual(created.json.partner);
    expect(read.text).not.toContain(firstSecret.slice('whsec_'.length));

    // A second create of the id is refused, and does not replace the secret (shown below: it still signs).
    const again = await call('POST', '/directory/partners', admin, partnerBody());
    expect(again.status, again.text).toBe(409);
    expect(again.text).not.toContain('whsec_');
  });

  it('refuses a service body with an unknown field, naming it (400), and creates the corrected one', async () => {
    const { categories, ...rest } = serviceBody();
    const misspelt = await call('POST', '/directory/services', admin, { ...rest, categorys: categories });
    expect(misspelt.status).toBe(400);
    const outcome = misspelt.json as unknown as OperationOutcome;
    expect(outcome.issue.flatMap((issue) => issue.expression ?? [])).toContain('categorys');

    const created = await call('POST', '/directory/services', admin, serviceBody());
    expect(created.status, created.text).toBe(201);
    expect(created.json).toMatchObject({ id: serviceId, version: 1, capacity: { state: 'open' } });
  });

  it('a referral in the area is matched to the new service, and its webhook is signed with that secret', async () => {
    const view = await referAndRoute();
    expect(view.partners).toContainEqual(expect.objectContaining({ category: need, partnerId }));
    const hook = await deliveryTo(view.referralId);
    expect(verifies(firstSecret, hook)).toBe(true);
    expect(verifies('whsec_' + Buffer.alloc(32, 1).toString('base64'), hook)).toBe(false);
  });

  it('rotate-secret answers a new secret, once', async () => {
    const rotated = await call('POST', `/directory/partners/${partnerId}/rotate-secret`, admin);
    expect(rotated.status, rotated.text).toBe(200);
    rotatedSecret = rotated.json.signingSecret as string;
    expect(rotated.json).toMatchObject({ kind: 'partner', id: partnerId });
    expect(rotatedSecret).toMatch(/^whsec_/);
    expect(rotatedSecret).not.toBe(firstSecret);
    expect((await call('GET', `/directory/partners/${partnerId}`, admin)).text).not.toContain('whsec_');
  });

  it('a PUT on the version read is stored as the next; a stale PUT is 409 naming the stored version, changing nothing', async () => {
    const updated = await call(
      'PUT',
      `/directory/services/${serviceId}`,
      admin,
      serviceBody({ version: 1, name: 'Coaching Walks and Talks' }),
    );
    expect(updated.status, updated.text).toBe(200);
    expect(updated.json).toMatchObject({ name: 'Coaching Walks and Talks', version: 2 });

    const stale = await call(
      'PUT',
      `/directory/services/${serviceId}`,
      admin,
      serviceBody({ version: 1, name: 'A late edit', coverage: { districts: ['LS2'] } }),
    );
    expect(stale.status, stale.text).toBe(409);
    const outcome = stale.json as unknown as OperationOutcome;
    expect(outcome.issue[0]?.details.coding[0]?.code).toBe('REC_CONFLICT');
    expect(outcome.issue[0]?.diagnostics).toContain('is at version 2, not 1');
    const read = await call('GET', `/directory/services/${serviceId}`, admin);
    expect(read.json).toMatchObject({
      name: 'Coaching Walks and Talks',
      version: 2,
      coverage: { districts: ['LS6'] },
    });
  });

  it('paused, the service is ruled out of a referral in its area, saying so, and its partner is sent nothing', async () => {
    const paused = await call('POST', `/directory/services/${serviceId}/pause`, admin, { version: 2 });
    expect(paused.status, paused.text).toBe(200);
    expect(paused.json).toMatchObject({ capacity: { state: 'paused' }, version: 3 });

    const view = await referAndRoute();
    expect(candidateOf(view)).toMatchObject({ verdict: 'ruled-out', rule: 'paused' });
    expect(view.partners.map((p) => p.partnerId)).not.toContain(partnerId);
    expect(view.deliveries.map((d) => d.recipient.id)).not.toContain(partnerId);
    // With nothing else offering the need in LS6, it is unmet because what covers it is paused.
    expect(view.unmetNeeds).toContainEqual(expect.objectContaining({ category: need }));
  });

  it('resumed, it is matched again, and the webhook is signed with the rotated secret only', async () => {
    const resumed = await call('POST', `/directory/services/${serviceId}/resume`, admin, { version: 3 });
    expect(resumed.status, resumed.text).toBe(200);
    expect(resumed.json).toMatchObject({ capacity: { state: 'open' }, version: 4 });

    const view = await referAndRoute();
    expect(candidateOf(view)).toMatchObject({ verdict: 'chosen' });
    const hook = await deliveryTo(view.referralId);
    expect(verifies(rotatedSecret, hook)).toBe(true);
    expect(verifies(firstSecret, hook)).toBe(false);
  });

  it('retired, it keeps its record (GET still answers) and is matched no more', async () => {
    const retired = await call('POST', `/directory/services/${serviceId}/retire`, admin, { version: 4 });
    expect(retired.status, retired.text).toBe(200);
    expect(retired.json).toMatchObject({ status: 'retired', version: 5 });
    const read = await call('GET', `/directory/services/${serviceId}`, admin);
    expect(read.status).toBe(200);
    expect(read.json).toEqual(retired.json);

    const view = await referAndRoute();
    expect(candidateOf(view)).toBeUndefined();
    expect(view.partners.map((p) => p.partnerId)).not.toContain(partnerId);
    // Retiring is final: neither resuming nor a PUT makes it active again.
    const resume = await call('POST', `/directory/services/${serviceId}/resume`, admin, { version: 5 });
    expect(resume.status).toBe(409);
    const revive = await call('PUT', `/directory/services/${serviceId}`, admin, serviceBody({ version: 5 }));
    expect(revive.status).toBe(409);
  });

  it('audited each change once, by version, under directory#service#<id>', async () => {
    const { Items = [] } = await stack.aws.documentClient.send(
      new QueryCommand({
        TableName: stack.aws.tables.audit,
        KeyConditionExpression: 'referralId = :id',
        ExpressionAttributeValues: { ':id': `directory#service#${serviceId}` },
        ConsistentRead: true,
      }),
    );
    expect(Items.map((item) => [item.eventKey, item.action, item.actor])).toEqual([
      ['v1', 'directory.service.created', 'admin:e2e-directory-admin'],
      ['v2', 'directory.service.updated', 'admin:e2e-directory-admin'],
      ['v3', 'directory.service.paused', 'admin:e2e-directory-admin'],
      ['v4', 'directory.service.resumed', 'admin:e2e-directory-admin'],
      ['v5', 'directory.service.retired', 'admin:e2e-directory-admin'],
    ]);
    expect(JSON.stringify(Items)).not.toContain('whsec_');
  });

  it('refuses a team for a PCN not in the directory (422 naming pcn), storing nothing; one for a seeded PCN is created', async () => {
    const teamBody = (pcn: string) => ({
      id: 'e2e-team',
      name: 'E2E link workers',
      pcn,
      channel: { kind: 'webhook', url: `${hooksUrl}/hooks/team/e2e-team` },
    });
    const unknown = await call('POST', '/directory/teams', admin, teamBody('U09999'));
    expect(unknown.status, unknown.text).toBe(422);
    expect(unknown.headers.get('content-type')).toContain('application/fhir+json');
    const outcome = unknown.json as unknown as OperationOutcome;
    expect(outcome.issue).toEqual([
      expect.objectContaining({
        code: 'value',
        expression: ['pcn'],
        diagnostics: expect.stringMatching(/^pcn: must be a PCN in the directory, and U09999 is not/),
      }),
    ]);
    expect(unknown.text).not.toContain('whsec_');
    expect((await call('GET', '/directory/teams/e2e-team', admin)).status).toBe(404);

    // U00004 is in the sample directory the stack is seeded with, and has no team yet.
    const created = await call('POST', '/directory/teams', admin, teamBody('U00004'));
    expect(created.status, created.text).toBe(201);
    expect(created.json).toMatchObject({ team: { id: 'e2e-team', pcn: 'U00004', version: 1 } });
  });

  it('is for admins only', async () => {
    const gpAnswer = await call('GET', `/directory/services/${serviceId}`, gp);
    expect(gpAnswer.status).toBe(403);
  });
});
