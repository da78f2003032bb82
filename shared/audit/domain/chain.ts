import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/**
 * The audit trail as a hash chain, one chain per referral (or per directory record, `directory#<kind>#<id>`).
 * Each link carries its sequence number (1, 2, ...), the previous link's hash, and its own hash: SHA-256 over the
 * previous hash and the RFC 8785 canonical JSON of the link without its hash. Changing, removing, moving or
 * inserting a link breaks the chain at that link; verifyChain names the first break and why. Pure: no I/O.
 */

/** Who acted, as the authorizer established it (never from the request body). */
export interface AuditWho {
  /** The person's or system's id, e.g. `link-worker:lw-woodhouse-1`, `system:router`. */
  principal: string;
  /** The organisation they act for (practice ODS code, partner or team id), when there is one. */
  organisation?: string;
  role: string;
}

/**
 * Where an entry comes from when an HTTP request causes it: who made the request and its ids. `requestKey` is
 * unique per HTTP request and chosen by the gateway, never by the client (API Gateway's request id), so it keys a
 * read's entry: the same request audited twice adds one link, and a client reusing an X-Request-ID cannot make a
 * second read go unrecorded.
 */
export interface AuditOrigin {
  who: AuditWho;
  requestId?: string;
  correlationId?: string;
  requestKey: string;
}

export interface AuditEntry {
  referralId: string;
  /** Stable per step (e.g. `routed`, `delivered.<deliveryId>`, `read.<requestId>`), so a retried step writes nothing new. */
  eventKey: string;
  action: string;
  actor: string;
  at: string;
  detail?: Record<string, unknown>;
  who?: AuditWho;
  /** The HTTP request's X-Request-ID, when the entry comes from one. */
  requestId?: string;
  /** The HTTP request's X-Correlation-ID, when it has one. */
  correlationId?: string;
}

/** One link of a chain: the entry, where it sits, and the hashes that bind it to the links before it. */
export interface AuditLink extends AuditEntry {
  seq: number;
  prevHash: string;
  hash: string;
}

/**
 * Event keys made unique by the request that writes them (`read.<gateway request id>`): such a key can only be
 * repeated by that request's own retry, moments later, so a writer need check only the chain's tail for it.
 */
export const requestScopedKeyPrefix = 'read.';

/** The previous hash of a chain's first link. */
export const genesisHash = '0'.repeat(64);

/**
 * The entry as JSON would carry it: undefined members dropped, so what is hashed is exactly what DynamoDB stores
 * and gives back (the document client drops undefined values too).
 */
export function normalisedEntry(entry: AuditEntry): AuditEntry {
  return JSON.parse(JSON.stringify(entry)) as AuditEntry;
}

/** RFC 8785 (JSON Canonicalization Scheme): one byte string per JSON value, whatever the key order. */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new Error('canonicalJson: the value has no JSON form');
  return text;
}

/** The hash of a link: SHA-256 (hex) over the previous hash, a newline, and the canonical link without its hash. */
export function linkHash(link: Omit<AuditLink, 'hash'> & { hash?: string }): string {
  const { hash: _ignored, ...body } = link;
  return createHash('sha256')
    .update(`${link.prevHash}\n${canonicalJson(body)}`, 'utf8')
    .digest('hex');
}

/** The link that follows `head` (undefined: the chain is empty). */
export function nextLink(head: Pick<AuditLink, 'seq' | 'hash'> | undefined, entry: AuditEntry): AuditLink {
  const body = {
    ...normalisedEntry(entry),
    seq: (head?.seq ?? 0) + 1,
    prevHash: head?.hash ?? genesisHash,
  };
  return { ...body, hash: linkHash(body) };
}

export type ChainBreakReason = 'tampered' | 'missing' | 'reordered' | 'fork';

export interface ChainBreak {
  referralId: string;
  /** The sequence number where the chain breaks (for `missing`, the first absent one). */
  seq: number;
  reason: ChainBreakReason;
  why: string;
}

export type ChainVerdict =
  { ok: true; referralId: string; length: number; head: string } | ({ ok: false } & ChainBreak);

/**
 * Checks a chain's links in the order given (a Query returns them by sequence number) and names the first break:
 * - `fork`: two links at one sequence number, or two links naming the same previous link;
 * - `reordered`: links out of sequence order, or an intact link moved to another sequence number;
 * - `tampered`: a link whose hash does not match its content (changed after it was written);
 * - `missing`: a sequence number skipped, or a link naming a previous link the chain does not hold (deleted).
 * A chain cut short at its end cannot be told from a shorter chain by the links alone; the head hash verifyChain
 * returns is what an operator records to detect that later (docs/audit.md).
 */
export function verifyChain(referralId: string, links: readonly AuditLink[]): ChainVerdict {
  const byHash = new Map(links.map((link) => [link.hash, link]));
  const claimed = new Map<string, number>();
  const broken = (seq: number, reason: ChainBreakReason, why: string): ChainVerdict => ({
    ok: false,
    referralId,
    seq,
    reason,
    why,
  });

  for (const [index, link] of links.entries()) {
    const previous = index === 0 ? undefined : links[index - 1];
    const expectedSeq = (previous?.seq ?? 0) + 1;
    const expectedPrev = previous?.hash ?? genesisHash;

    if (link.referralId !== referralId)
      return broken(link.seq, 'tampered', `link ${link.seq} names referral ${link.referralId}`);
    if (previous !== undefined && link.seq === previous.seq)
      return broken(link.seq, 'fork', `two links at seq ${link.seq}`);
    if (!Number.isSafeInteger(link.seq) || link.seq < expectedSeq)
      return broken(link.seq, 'reordered', `link ${link.seq} comes after link ${previous?.seq ?? 0}`);

    if (linkHash(link) !== link.hash) {
      // An intact link moved elsewhere matches its hash at another sequence number. Searched only once a link
      // fails (verification stops at the first break), so checking a whole chain stays linear.
      const last = Math.max(links.length, ...links.map((l) => (Number.isSafeInteger(l.seq) ? l.seq : 0)));
      for (let seq = 1; seq <= last; seq++)
        if (seq !== link.seq && linkHash({ ...link, seq }) === link.hash)
          return broken(link.seq, 'reordered', `the link at seq ${link.seq} is link ${seq}, moved`);
      return broken(
        link.seq,
        'tampered',
        `link ${link.seq} does not match its hash: changed after it was written`,
      );
    }
    if (link.seq > expectedSeq && links.some((other) => other.seq === expectedSeq))
      return broken(link.seq, 'reordered', `link ${link.seq} comes before link ${expectedSeq}`);
    if (link.seq > expectedSeq)
      return broken(
        expectedSeq,
        'missing',
        link.seq === expectedSeq + 1
          ? `link ${expectedSeq} is missing (link ${link.seq} follows link ${expectedSeq - 1})`
          : `links ${expectedSeq}-${link.seq - 1} are missing`,
      );
    const rival = claimed.get(link.prevHash);
    if (rival !== undefined)
      return broken(link.seq, 'fork', `links ${rival} and ${link.seq} follow the same link`);
    claimed.set(link.prevHash, link.seq);
    if (link.prevHash !== expectedPrev) {
      const named = byHash.get(link.prevHash);
      if (named !== undefined)
        return broken(
          link.seq,
          'reordered',
          `link ${link.seq} follows link ${named.seq}, not link ${expectedSeq - 1}`,
        );
      return broken(
        link.seq,
        'missing',
        `link ${link.seq} follows a link the chain does not hold (link ${expectedSeq - 1} was deleted or replaced)`,
      );
    }
  }
  return { ok: true, referralId, length: links.length, head: links.at(-1)?.hash ?? genesisHash };
}
