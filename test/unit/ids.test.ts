import fc from 'fast-check';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { referralIdFor, scopedKey, uuidPattern, type KeyScope } from '#kernel/ids.ts';

const json: KeyScope = { route: '/referrals', caller: 'gp-system-1', practiceOds: 'A81001' };

describe('referralIdFor', () => {
  it('derives the same UUID from the same scope and key', () => {
    const first = referralIdFor(json, 'order-123');
    expect(first).toMatch(uuidPattern);
    expect(referralIdFor({ ...json }, 'order-123')).toBe(first);
  });

  it('scopes the key by route, caller and practice, and differs by key', () => {
    const id = referralIdFor(json, 'order-123');
    expect(referralIdFor({ ...json, practiceOds: 'A81002' }, 'order-123')).not.toBe(id);
    expect(referralIdFor({ ...json, route: '/$process-message' }, 'order-123')).not.toBe(id);
    expect(referralIdFor({ ...json, caller: 'gp-system-2' }, 'order-123')).not.toBe(id);
    expect(referralIdFor(json, 'order-124')).not.toBe(id);
  });

  it('cannot be aliased by a separator inside a caller or key', () => {
    const a = { ...json, caller: 'gp:A81001' };
    const b = { ...json, caller: 'gp' };
    expect(scopedKey(a, 'k')).not.toBe(scopedKey(b, 'A81001:k'));
    expect(referralIdFor(a, 'k')).not.toBe(referralIdFor(b, 'A81001:k'));
  });

  it('is a lower-case RFC 9562 version 8 UUID that z.uuid() (the queue message schemas) accepts', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 64 }), (key) => {
        const id = referralIdFor({ ...json, practiceOds: 'B82001' }, key);
        expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        expect(z.uuid().safeParse(id).success).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('without a key gives a fresh random UUID each time', () => {
    const a = referralIdFor(json, undefined);
    const b = referralIdFor(json, undefined);
    expect(a).toMatch(uuidPattern);
    expect(b).toMatch(uuidPattern);
    expect(a).not.toBe(b);
  });
});

describe('uuidPattern', () => {
  it('accepts UUIDs in either case and rejects other strings', () => {
    expect(uuidPattern.test('5F81042C-BDF9-83EE-A746-0EB194CB5B7C')).toBe(true);
    expect(uuidPattern.test('5f81042c-bdf9-83ee-a746-0eb194cb5b7c')).toBe(true);
    expect(uuidPattern.test('5f81042c-bdf9-83ee-a746-0eb194cb5b7')).toBe(false);
    expect(uuidPattern.test('../etc/passwd')).toBe(false);
    expect(uuidPattern.test('')).toBe(false);
  });
});
