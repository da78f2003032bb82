import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  genesisHash,
  linkHash,
  nextLink,
  verifyChain,
  type AuditEntry,
  type AuditLink,
} from '#audit/domain/chain.ts';

const referralId = '3f2b8a0e-9c1d-4e5f-8a7b-6c5d4e3f2a1b';
const entry = (i: number, overrides: Partial<AuditEntry> = {}): AuditEntry => ({
  referralId,
  eventKey: `step.${i}`,
  action: 'referral.accepted',
  actor: 'link-worker:lw-woodhouse-1',
  at: `2025-03-04T09:${String(10 + i).padStart(2, '0')}:00.000Z`,
  detail: { i },
  ...overrides,
});
const chainOf = (n: number): AuditLink[] => {
  const links: AuditLink[] = [];
  for (let i = 1; i <= n; i++) links.push(nextLink(links.at(-1), entry(i)));
  return links;
};

describe('canonical JSON (RFC 8785)', () => {
  it('orders keys and writes numbers and strings one way, whatever the input order', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: { z: 1e21, y: 0.1 } })).toBe(
      '{"a":[true,null,"x"],"b":1,"c":{"y":0.1,"z":1e+21}}',
    );
    expect(canonicalJson({ y: 0.1, z: 1e21 })).toBe(canonicalJson({ z: 1e21, y: 0.1 }));
  });
});

describe('a link', () => {
  it('is SHA-256 over the previous hash and the canonical link without its hash', () => {
    const [first] = chainOf(1);
    const { hash, ...body } = first!;
    expect(first).toMatchObject({ seq: 1, prevHash: genesisHash });
    expect(hash).toBe(
      createHash('sha256')
        .update(`${genesisHash}\n${canonicalJson(body)}`)
        .digest('hex'),
    );
    expect(linkHash(first!)).toBe(hash);
  });

  it('follows its head: the next seq and the head hash as its previous hash; undefined members dropped', () => {
    const [first, second] = chainOf(2);
    expect(second).toMatchObject({ seq: 2, prevHash: first!.hash });
    const withUndefined = nextLink(first, { ...entry(2), requestId: undefined });
    expect('requestId' in withUndefined).toBe(false);
    expect(withUndefined.hash).toBe(second!.hash);
  });
});

describe('verifyChain', () => {
  it('an intact chain verifies, with its length and head; an empty chain too', () => {
    const links = chainOf(5);
    expect(verifyChain(referralId, links)).toEqual({ ok: true, referralId, length: 5, head: links[4]!.hash });
    expect(verifyChain(referralId, [])).toEqual({ ok: true, referralId, length: 0, head: genesisHash });
  });

  it('tampered: a changed field, even one nested in detail, is found at its link', () => {
    const links = chainOf(4);
    links[2] = { ...links[2]!, detail: { i: 99 } };
    expect(verifyChain(referralId, links)).toMatchObject({ ok: false, seq: 3, reason: 'tampered' });
    const actor = chainOf(4);
    actor[1] = { ...actor[1]!, actor: 'someone-else' };
    expect(verifyChain(referralId, actor)).toMatchObject({ ok: false, seq: 2, reason: 'tampered' });
  });

  it('tampered: a link re-hashed after its change still breaks the next link', () => {
    const links = chainOf(4);
    const changed = { ...links[1]!, actor: 'someone-else' };
    links[1] = { ...changed, hash: linkHash(changed) };
    expect(verifyChain(referralId, links)).toMatchObject({ ok: false, seq: 3, reason: 'missing' });
  });

  it('missing: a deleted link in the middle or at the start is named by its seq', () => {
    const links = chainOf(5);
    expect(verifyChain(referralId, [...links.slice(0, 2), ...links.slice(3)])).toMatchObject({
      ok: false,
      seq: 3,
      reason: 'missing',
    });
    expect(verifyChain(referralId, links.slice(1))).toMatchObject({ ok: false, seq: 1, reason: 'missing' });
    expect(verifyChain(referralId, [links[0]!, ...links.slice(3)])).toMatchObject({
      seq: 2,
      reason: 'missing',
      why: 'links 2-3 are missing',
    });
  });

  it('missing: a deleted link with the later ones renumbered to hide the gap is still found', () => {
    const links = chainOf(4);
    const renumbered = [links[0]!, { ...links[2]!, seq: 2 }, { ...links[3]!, seq: 3 }];
    expect(verifyChain(referralId, renumbered)).toMatchObject({ ok: false, seq: 2, reason: 'reordered' });
  });

  it('reordered: two links swapped (their sequence numbers exchanged) are found at the first', () => {
    const links = chainOf(5);
    const swapped = [links[0]!, { ...links[2]!, seq: 2 }, { ...links[1]!, seq: 3 }, links[3]!, links[4]!];
    expect(verifyChain(referralId, swapped)).toMatchObject({
      ok: false,
      seq: 2,
      reason: 'reordered',
      why: 'the link at seq 2 is link 3, moved',
    });
    // Given out of order (as stored, not sorted), the verdict names the link out of place.
    expect(verifyChain(referralId, [links[0]!, links[2]!, links[1]!])).toMatchObject({
      seq: 3,
      reason: 'reordered',
    });
  });

  it('fork: two links at one seq, or two links after the same link', () => {
    const links = chainOf(3);
    const rival = nextLink(links[1], entry(9));
    expect(verifyChain(referralId, [...links, rival])).toMatchObject({ ok: false, seq: 3, reason: 'fork' });
    const later = { ...rival, seq: 4 };
    const forked = [...links, { ...later, hash: linkHash(later) }];
    expect(verifyChain(referralId, forked)).toMatchObject({ ok: false, seq: 4, reason: 'fork' });
  });

  it("a link of another referral's chain is not part of this one", () => {
    const links = chainOf(2);
    const foreign = nextLink(links[1], entry(3, { referralId: 'other' }));
    expect(verifyChain(referralId, [...links, foreign])).toMatchObject({ seq: 3, reason: 'tampered' });
  });
});
