import fc from 'fast-check';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { referralIdFor, uuidPattern } from '../../shared/domain/ids.ts';

describe('referralIdFor', () => {
  it('derives the same UUID from the same practice and key', () => {
    const first = referralIdFor('A81001', 'order-123');
    expect(first).toMatch(uuidPattern);
    expect(referralIdFor('A81001', 'order-123')).toBe(first);
  });

  it('scopes the key by practice, and differs by key', () => {
    const id = referralIdFor('A81001', 'order-123');
    expect(referralIdFor('A81002', 'order-123')).not.toBe(id);
    expect(referralIdFor('A81001', 'order-124')).not.toBe(id);
  });

  it('is a lower-case RFC 9562 version 8 UUID that z.uuid() (the queue message schemas) accepts', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 64 }), (key) => {
        const id = referralIdFor('B82001', key);
        expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        expect(z.uuid().safeParse(id).success).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('without a key gives a fresh random UUID each time', () => {
    const a = referralIdFor('A81001', undefined);
    const b = referralIdFor('A81001', undefined);
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
