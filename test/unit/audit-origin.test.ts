import { setTimeout as sleep } from 'node:timers/promises';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { readEntry, recordReads } from '#audit/application/reads.ts';
import { verifyChain, type AuditEntry, type AuditOrigin } from '#audit/domain/chain.ts';
import type { Caller } from '#auth/caller.ts';
import { requestAudited, requestOriginOf, withRequestOrigin } from '#platform/request-origin.ts';
import { InMemoryAuditLog } from './fakes.ts';

const linkWorker: Caller = {
  subject: 'lw-woodhouse-1',
  role: 'link-worker',
  organisations: ['lw-woodhouse'],
};
const event = (headers: Record<string, string>, requestId = 'gw-1') =>
  ({ headers, requestContext: { requestId } }) as unknown as APIGatewayProxyEvent;
const entry: AuditEntry = {
  referralId: 'r-1',
  eventKey: 'accepted',
  action: 'referral.accepted',
  actor: 'link-worker:lw-woodhouse-1',
  at: '2025-03-04T09:20:00.000Z',
};

describe('the origin of a request', () => {
  it('names the caller from the token and the request ids; keys reads by the gateway request id', () => {
    expect(
      requestOriginOf(event({ 'x-request-id': 'req-1', 'X-Correlation-ID': 'corr-1' }), linkWorker),
    ).toEqual({
      who: { principal: 'lw-woodhouse-1', organisation: 'lw-woodhouse', role: 'link-worker' },
      requestId: 'req-1',
      correlationId: 'corr-1',
      requestKey: 'gw-1',
    });
  });

  it('leaves out header values that are not plain (control characters, spaces, too long), and has no caller for a public route', () => {
    const origin = requestOriginOf(event({ 'X-Request-ID': 'a b', 'X-Correlation-ID': 'x'.repeat(201) }), {
      subject: 'ops-1',
      role: 'ops',
      organisations: [],
    });
    expect(origin).toEqual({ who: { principal: 'ops-1', role: 'ops' }, requestKey: 'gw-1' });
    expect(requestOriginOf(event({}), undefined)).toBeUndefined();
  });
});

describe('requestAudited', () => {
  it('stamps every entry appended while a request is served, and leaves others alone', async () => {
    const log = new InMemoryAuditLog();
    const audited = requestAudited(log);
    await audited.append(entry);
    const origin = requestOriginOf(event({ 'X-Request-ID': 'req-1' }), linkWorker);
    await withRequestOrigin(origin, () => audited.append({ ...entry, eventKey: 'contacted' }));
    expect(log.entries).toEqual([
      entry,
      {
        ...entry,
        eventKey: 'contacted',
        who: { principal: 'lw-woodhouse-1', organisation: 'lw-woodhouse', role: 'link-worker' },
        requestId: 'req-1',
      },
    ]);
  });

  it('two requests served at once never see each other', async () => {
    const log = new InMemoryAuditLog();
    const audited = requestAudited(log);
    const serve = (requestId: string, referralId: string, delay: number) =>
      withRequestOrigin(
        requestOriginOf(event({ 'X-Request-ID': requestId }, requestId), linkWorker),
        async () => {
          await sleep(delay);
          await audited.append({ ...entry, referralId });
        },
      );
    await Promise.all([serve('req-a', 'r-a', 20), serve('req-b', 'r-b', 1)]);
    expect(log.forReferral('r-a')[0]?.requestId).toBe('req-a');
    expect(log.forReferral('r-b')[0]?.requestId).toBe('req-b');
  });
});

describe('reads of patient data', () => {
  const origin: AuditOrigin = {
    who: { principal: 'partner-1', organisation: 'arts-for-all', role: 'partner' },
    requestId: 'req-9',
    requestKey: 'gw-9',
  };

  it('one entry per referral shown, keyed by the request, naming who and the view, never the data', () => {
    expect(
      readEntry(origin, '2025-03-04T10:00:00.000Z', {
        referralId: 'r-1',
        view: 'partner-offer',
        detail: { offerId: 'o-1' },
      }),
    ).toEqual({
      referralId: 'r-1',
      eventKey: 'read.gw-9',
      action: 'referral.read',
      actor: 'partner:partner-1',
      at: '2025-03-04T10:00:00.000Z',
      detail: { view: 'partner-offer', offerId: 'o-1' },
      who: origin.who,
      requestId: 'req-9',
    });
  });

  it('the same request recorded twice adds one link per referral; another request adds its own', async () => {
    const log = new InMemoryAuditLog();
    const reads = ['r-1', 'r-2'].map((referralId) => ({ referralId, view: 'team-worklist' }));
    await recordReads(log, origin, '2025-03-04T10:00:00.000Z', reads);
    await recordReads(log, origin, '2025-03-04T10:00:01.000Z', reads);
    await recordReads(log, { ...origin, requestKey: 'gw-10' }, '2025-03-04T10:05:00.000Z', reads);
    for (const referralId of ['r-1', 'r-2']) {
      const chain = await log.chainOf(referralId);
      expect(chain.map((link) => link.eventKey)).toEqual(['read.gw-9', 'read.gw-10']);
      expect(verifyChain(referralId, chain).ok).toBe(true);
    }
  });
});

describe('the audit log stamped with the origin', () => {
  it("passes the caller's hint on (a new referral's first link is put without reading its chain)", async () => {
    const hints: unknown[] = [];
    const log = requestAudited({
      append: async (_entry, hint) => {
        hints.push(hint);
      },
    });
    await log.append(entry, { chainIsNew: true });
    await withRequestOrigin(requestOriginOf(event({}), linkWorker), () =>
      log.append(entry, { chainIsNew: true }),
    );
    expect(hints).toEqual([{ chainIsNew: true }, { chainIsNew: true }]);
  });
});
