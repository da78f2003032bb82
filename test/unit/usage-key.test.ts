import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { usageKeyFor } from '#auth/usage-key.ts';

describe('usageKeyFor', () => {
  it('derives the same key from the same subject, so the stack and the authorizer agree', () => {
    const key = usageKeyFor('emis-web-prod');
    expect(usageKeyFor('emis-web-prod')).toBe(key);
    // Pinned (sha256 of the subject, hex): changing the derivation orphans every registered client's API key.
    expect(key).toBe('client-5c8a4397c0ede1271f29dea107d761d91de8bd93093722df698d46c75cee32a1');
  });

  it('differs per subject', () => {
    expect(usageKeyFor('emis-web-prod')).not.toBe(usageKeyFor('tpp-systmone-prod'));
    expect(usageKeyFor('a')).not.toBe(usageKeyFor('A'));
  });

  it('is a value API Gateway accepts as an API key for any subject: 20 to 128 characters, no odd characters', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 0, maxLength: 300 }), (subject) => {
        const key = usageKeyFor(subject);
        expect(key.length).toBeGreaterThanOrEqual(20);
        expect(key.length).toBeLessThanOrEqual(128);
        expect(key).toMatch(/^client-[0-9a-f]{64}$/);
      }),
      { numRuns: 200 },
    );
  });
});
