import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { genesisHash, verifyChain } from '#audit/domain/chain.ts';
import type { AuditEntry, AuditLog, AuditTrail } from '#audit/ports.ts';

/**
 * What every audit log promises, run against the in-memory fake (test/unit/audit-log.contract.test.ts) and the
 * DynamoDB adapter on dynalite (test/integration/audit-log.contract.test.ts): each referral's entries form one hash
 * chain that verifies; an event key is in a chain once, however often and however concurrently it is appended; and
 * concurrent appends of different entries neither fork the chain nor lose an entry.
 */
export type AuditUnderTest = AuditLog & AuditTrail;

export function describeAuditLogContract(
  name: string,
  make: () => AuditUnderTest | Promise<AuditUnderTest>,
): void {
  describe(`AuditLog contract: ${name}`, () => {
    let log: AuditUnderTest;
    let referralId: string;
    const entry = (overrides: Partial<AuditEntry> = {}): AuditEntry => ({
      referralId,
      eventKey: 'routed',
      action: 'referral.routed',
      actor: 'system:router',
      at: '2025-03-04T09:20:00.000Z',
      detail: { team: 'lw-woodhouse' },
      ...overrides,
    });
    const entriesOf = async (id: string) =>
      (await log.chainOf(id)).map(({ seq: _seq, prevHash: _prev, hash: _hash, ...rest }) => rest);

    beforeEach(async () => {
      log = await make();
      referralId = randomUUID();
    });

    it('the first entry is link 1 after the genesis hash, and the chain verifies', async () => {
      await log.append(entry());
      const chain = await log.chainOf(referralId);
      expect(chain).toMatchObject([{ ...entry(), seq: 1, prevHash: genesisHash }]);
      expect(chain[0]?.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(verifyChain(referralId, chain)).toMatchObject({ ok: true, length: 1, head: chain[0]?.hash });
    });

    it('a repeat append with the same eventKey adds no link: the first entry stands', async () => {
      await log.append(entry());
      await log.append(entry({ actor: 'someone-else', at: '2025-03-04T11:00:00.000Z', detail: {} }));
      await expect(entriesOf(referralId)).resolves.toEqual([entry()]);
    });

    it('entries with other event keys follow in order; another referral has a chain of its own', async () => {
      await log.append(entry());
      await log.append(entry({ eventKey: 'cancelled', action: 'referral.cancelled' }));
      const otherReferral = randomUUID();
      await log.append(entry({ referralId: otherReferral }));
      const chain = await log.chainOf(referralId);
      expect(chain.map((link) => [link.seq, link.eventKey])).toEqual([
        [1, 'routed'],
        [2, 'cancelled'],
      ]);
      expect(chain[1]?.prevHash).toBe(chain[0]?.hash);
      expect(verifyChain(referralId, chain).ok).toBe(true);
      await expect(entriesOf(otherReferral)).resolves.toEqual([entry({ referralId: otherReferral })]);
    });

    it('who, request ids and nested detail are kept as given and hashed as kept; undefined members are dropped', async () => {
      const read = entry({
        eventKey: 'read.5b0e1c1e-6a43-4a56-9d2a-3f0f8f5d2b11',
        action: 'referral.read',
        actor: 'link-worker:lw-woodhouse-1',
        who: { principal: 'lw-woodhouse-1', organisation: 'lw-woodhouse', role: 'link-worker' },
        requestId: '5b0e1c1e-6a43-4a56-9d2a-3f0f8f5d2b11',
        correlationId: 'c0f7d9a2-1111-4f4e-8a55-3a9b3c1d2e3f',
        detail: {
          view: 'team-referral',
          fields: ['patient', 'needs'],
          count: 2,
          nested: { a: 1.5, b: null },
        },
      });
      await log.append({ ...read, detail: { ...read.detail, dropped: undefined } });
      await expect(entriesOf(referralId)).resolves.toEqual([read]);
      expect(verifyChain(referralId, await log.chainOf(referralId)).ok).toBe(true);
    });

    it('concurrent appends of different entries: every entry once, no fork, the chain verifies', async () => {
      const keys = Array.from({ length: 8 }, (_, i) => `step.${i}`);
      await Promise.all(keys.map((eventKey) => log.append(entry({ eventKey }))));
      const chain = await log.chainOf(referralId);
      expect(chain.map((link) => link.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(chain.map((link) => link.eventKey).sort()).toEqual(keys);
      expect(new Set(chain.map((link) => link.prevHash)).size).toBe(chain.length);
      expect(verifyChain(referralId, chain).ok).toBe(true);
    });

    it('a read (a key unique to its request) repeated at once after many links is still one link', async () => {
      for (let i = 0; i < 60; i++) await log.append(entry({ eventKey: `step.${i}` }));
      const read = entry({ eventKey: 'read.gw-1', action: 'referral.read' });
      await Promise.all(Array.from({ length: 4 }, () => log.append(read)));
      await log.append(read);
      const chain = await log.chainOf(referralId);
      expect(chain.filter((link) => link.eventKey === 'read.gw-1').map((link) => link.seq)).toEqual([61]);
      expect(verifyChain(referralId, chain).ok).toBe(true);
    });

    it('the same step appended at once from several places (a retry racing the original) is one link', async () => {
      await log.append(entry({ eventKey: 'received', action: 'referral.received' }));
      await Promise.all(Array.from({ length: 6 }, (_, i) => log.append(entry({ actor: `attempt-${i}` }))));
      const chain = await log.chainOf(referralId);
      expect(chain.map((link) => link.eventKey)).toEqual(['received', 'routed']);
      expect(verifyChain(referralId, chain).ok).toBe(true);
    });
  });
}
