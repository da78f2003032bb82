import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../infra/local/local-stack.ts';
import { DynamoAuditLog } from '#adapters/dynamodb/audit-log.ts';
import { verifyChain, type AuditLink } from '#audit/domain/chain.ts';
import { ukDay } from '#outcomes/domain/measure-set.ts';
import { eventually, sampleReferral, storedReferral } from '../support/local.ts';

// Who and what is recorded, over the whole local stack (gateway, authorizer, each function in its own worker,
// dynalite): a practice's referral, then people reading it: the practice (JSON and FHIR), its link worker (the
// worklist, the referral, the outcomes) and a partner (its offer). Every state change and every read of patient
// data is a link of the referral's chain naming who (principal, organisation, role) and the request's X-Request-ID
// and X-Correlation-ID; a refused read records nothing; a partner's list, which shows no patient, records nothing;
// and the chain verifies.

let stack: LocalStack;
let trail: DynamoAuditLog;
let referralId = '';
const tokens: Record<string, string> = {};
const correlationId = randomUUID();

async function call(token: string, method: 'GET' | 'POST', path: string, body?: unknown) {
  const requestId = randomUUID();
  const response = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      'X-Request-ID': requestId,
      'X-Correlation-ID': correlationId,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text === '' ? undefined : (JSON.parse(text) as unknown),
    requestId,
  };
}

const chain = () => trail.chainOf(referralId);
const linkOf = async (requestId: string): Promise<AuditLink[]> =>
  (await chain()).filter((link) => link.requestId === requestId);

beforeAll(async () => {
  stack = await startLocalStack({ port: 0 });
  trail = new DynamoAuditLog(stack.aws.documentClient, stack.aws.tables.audit);
  tokens.gp = await stack.issuer.mint({ role: 'gp-system', ods: ['A81001'], subject: 'audit-gp' });
  tokens.otherGp = await stack.issuer.mint({ role: 'gp-system', ods: ['B82005'], subject: 'other-gp' });
  tokens.team = await stack.issuer.mint({
    role: 'link-worker',
    team: 'lw-woodhouse',
    subject: 'lw-woodhouse-1',
  });
}, 60_000);

afterAll(() => stack?.stop());

describe('the audit trail names who did or read what, with the request ids', () => {
  let submitted = '';

  it("a practice's referral: received, by the practice system, with its X-Request-ID", async () => {
    const answer = await call(
      tokens.gp!,
      'POST',
      '/referrals',
      sampleReferral('leeds-arts-and-mental-health'),
    );
    expect(answer.status).toBe(202);
    ({ referralId } = answer.body as { referralId: string });
    submitted = answer.requestId;
    await eventually(async () => (await storedReferral(stack.aws, referralId))?.routing, 'routing');
    const [received] = await linkOf(submitted);
    expect(received).toMatchObject({
      seq: 1,
      action: 'referral.received',
      who: { principal: 'audit-gp', organisation: 'A81001', role: 'gp-system' },
      requestId: submitted,
      correlationId,
    });
    // The router's entries are its own (a queue consumer): no request, no who.
    const routed = (await chain()).find((link) => link.action === 'referral.routed');
    expect(routed?.who).toBeUndefined();
    expect(routed?.requestId).toBeUndefined();
  });

  it('the practice reading its referral (JSON and FHIR): one read each, naming the view', async () => {
    const json = await call(tokens.gp!, 'GET', `/referrals/${referralId}`);
    const fhir = await call(tokens.gp!, 'GET', `/ServiceRequest/${referralId}`);
    expect([json.status, fhir.status]).toEqual([200, 200]);
    expect(await linkOf(json.requestId)).toMatchObject([
      {
        action: 'referral.read',
        actor: 'gp-system:audit-gp',
        who: { principal: 'audit-gp', organisation: 'A81001', role: 'gp-system' },
        correlationId,
        detail: { view: 'referral-status' },
      },
    ]);
    expect(await linkOf(fhir.requestId)).toMatchObject([{ detail: { view: 'service-request' } }]);
  });

  it("another practice is told there is no such referral, and nothing is recorded on the referral's trail", async () => {
    const refused = await call(tokens.otherGp!, 'GET', `/referrals/${referralId}`);
    expect(refused.status).toBe(404);
    // By its request id: the notifier may be adding its own links to the trail meanwhile.
    expect(await linkOf(refused.requestId)).toEqual([]);
    expect((await chain()).filter((link) => link.who?.principal === 'other-gp')).toEqual([]);
  });

  it('the link worker: a read for the worklist page, the referral and its outcomes; a change names them too', async () => {
    const list = await call(tokens.team!, 'GET', '/team/referrals?limit=100');
    expect(list.status).toBe(200);
    const listed = (list.body as { items: Array<{ referralId: string }> }).items.map((i) => i.referralId);
    expect(listed).toContain(referralId);
    expect(await linkOf(list.requestId)).toMatchObject([
      {
        action: 'referral.read',
        who: { principal: 'lw-woodhouse-1', organisation: 'lw-woodhouse', role: 'link-worker' },
        detail: { view: 'team-worklist' },
      },
    ]);
    const view = await call(tokens.team!, 'GET', `/team/referrals/${referralId}`);
    const outcomes = await call(tokens.team!, 'GET', `/team/referrals/${referralId}/outcomes`);
    expect([view.status, outcomes.status]).toEqual([200, 200]);
    expect(await linkOf(view.requestId)).toMatchObject([{ detail: { view: 'team-referral' } }]);
    expect(await linkOf(outcomes.requestId)).toMatchObject([{ detail: { view: 'outcomes' } }]);

    const { version } = view.body as { version: number };
    const accepted = await call(tokens.team!, 'POST', `/team/referrals/${referralId}/accept`, { version });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    const who = { principal: 'lw-woodhouse-1', organisation: 'lw-woodhouse', role: 'link-worker' };
    // The step, then the read of the view the action answered with.
    expect(await linkOf(accepted.requestId)).toMatchObject([
      { action: 'referral.accepted', who, requestId: accepted.requestId, correlationId },
      { action: 'referral.read', who, detail: { view: 'team-referral', action: 'accept' } },
    ]);
  });

  it('the same accept again: 200 with the patient, no second step, but a read naming the caller and request', async () => {
    const view = await call(tokens.team!, 'GET', `/team/referrals/${referralId}`);
    const { version } = view.body as { version: number };
    const again = await call(tokens.team!, 'POST', `/team/referrals/${referralId}/accept`, { version });
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body).toMatchObject({ status: 'accepted', details: { patient: expect.any(Object) } });
    expect(await linkOf(again.requestId)).toMatchObject([
      {
        action: 'referral.read',
        actor: 'link-worker:lw-woodhouse-1',
        who: { principal: 'lw-woodhouse-1', organisation: 'lw-woodhouse', role: 'link-worker' },
        requestId: again.requestId,
        correlationId,
        eventKey: expect.stringMatching(/^read\./),
        detail: { view: 'team-referral', action: 'accept' },
      },
    ]);
    expect((await chain()).filter((link) => link.action === 'referral.accepted')).toHaveLength(1);
  });

  it("a retried outcome set is answered with its answers again: the retry's answer is a read", async () => {
    const set = {
      id: randomUUID(),
      timepoint: 'baseline',
      takenOn: ukDay(new Date()),
      ons4: { lifeSatisfaction: 3, worthwhile: 5, happiness: 5, anxiety: 8 },
    };
    const path = `/team/referrals/${referralId}/outcomes`;
    const first = await call(tokens.team!, 'POST', path, set);
    const retry = await call(tokens.team!, 'POST', path, set);
    expect([first.status, retry.status], JSON.stringify(retry.body)).toEqual([201, 200]);
    // The first's answer is what it sent, under its own entry; the retry's adds no second entry, only its read.
    expect(await linkOf(first.requestId)).toMatchObject([{ action: 'outcome.recorded' }]);
    expect(await linkOf(retry.requestId)).toMatchObject([
      {
        action: 'referral.read',
        who: { principal: 'lw-woodhouse-1', organisation: 'lw-woodhouse', role: 'link-worker' },
        requestId: retry.requestId,
        detail: { view: 'outcomes', setId: set.id },
      },
    ]);
  });

  it('a partner reading its offer: one read naming the offer and content level; its list records nothing', async () => {
    const view = await call(tokens.team!, 'GET', `/team/referrals/${referralId}`);
    const [offer] = (view.body as { offers: Array<{ offerId: string; partnerId: string }> }).offers;
    expect(offer).toBeDefined();
    const partner = await stack.issuer.mint({
      role: 'partner',
      partner: offer!.partnerId,
      subject: 'partner-1',
    });
    const list = await call(partner, 'GET', '/partner/offers');
    expect(list.status).toBe(200);
    expect(await linkOf(list.requestId)).toEqual([]);
    const read = await call(partner, 'GET', `/partner/offers/${offer!.offerId}`);
    expect(read.status).toBe(200);
    expect(await linkOf(read.requestId)).toMatchObject([
      {
        action: 'referral.read',
        who: { principal: 'partner-1', organisation: offer!.partnerId, role: 'partner' },
        detail: { view: 'partner-offer', offerId: offer!.offerId, content: expect.any(String) },
      },
    ]);

    // Its accept, then the same accept again: the repeat writes no step, but the view it answers with is a read.
    const { version } = read.body as { version: number };
    const path = `/partner/offers/${offer!.offerId}/accept`;
    const accepted = await call(partner, 'POST', path, { version });
    const again = await call(partner, 'POST', path, { version });
    expect([accepted.status, again.status], JSON.stringify(again.body)).toEqual([200, 200]);
    expect(again.body).toMatchObject({ state: 'accepted', referral: expect.any(Object) });
    const who = { principal: 'partner-1', organisation: offer!.partnerId, role: 'partner' };
    const readOf = (requestId: string) => ({
      action: 'referral.read',
      actor: 'partner:partner-1',
      who,
      requestId,
      correlationId,
      detail: {
        view: 'partner-offer',
        offerId: offer!.offerId,
        content: expect.any(String),
        action: 'accept',
      },
    });
    expect(await linkOf(accepted.requestId)).toMatchObject([
      { action: 'offer.accepted', who },
      readOf(accepted.requestId),
    ]);
    expect(await linkOf(again.requestId)).toMatchObject([readOf(again.requestId)]);
  });

  it("an admin's directory edit names the admin and the request on the record's own trail", async () => {
    const admin = await stack.issuer.mint({ role: 'admin', subject: 'admin-1' });
    const created = await call(admin, 'POST', '/directory/teams', {
      id: 'audit-team',
      name: 'Audit link workers',
      pcn: 'U00004',
      channel: { kind: 'worklist' },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const [link] = await trail.chainOf('directory#team#audit-team');
    expect(link).toMatchObject({
      seq: 1,
      action: 'directory.team.created',
      who: { principal: 'admin-1', role: 'admin' },
      requestId: created.requestId,
      correlationId,
    });
  });

  it('the whole trail is one chain that verifies, every link in order', async () => {
    const links = await chain();
    expect(links.map((link) => link.seq)).toEqual(links.map((_, i) => i + 1));
    expect(verifyChain(referralId, links)).toMatchObject({ ok: true, length: links.length });
  });
});
