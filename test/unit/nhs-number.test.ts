import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isValidNhsNumber, nhsCheckDigit, normaliseNhsNumber } from '#referral/domain/nhs-number.ts';

/**
 * An independent statement of the NHS Data Dictionary Modulus 11 rule, written differently from the source:
 * weights 2..10 applied from the ninth digit backwards; remainder 0 gives check 0, remainder 1 gives 10 (invalid).
 */
function referenceIsValid(candidate: string): boolean {
  if (!/^[0-9]{10}$/.test(candidate)) return false;
  const digits = Array.from(candidate, (c) => c.charCodeAt(0) - 48);
  const total = digits
    .slice(0, 9)
    .reverse()
    .reduce((sum, digit, index) => sum + digit * (index + 2), 0);
  const remainder = total % 11;
  if (remainder === 1) return false; // check digit would be 10
  const expected = remainder === 0 ? 0 : 11 - remainder;
  return expected === digits[9];
}

const digit = fc.integer({ min: 0, max: 9 });
const digitsOf = (length: number) =>
  fc.array(digit, { minLength: length, maxLength: length }).map((ds) => ds.join(''));

describe('isValidNhsNumber', () => {
  it.each(['9434765919', '9000000009', '4010232137'])('accepts the documented valid number %s', (n) => {
    expect(isValidNhsNumber(n)).toBe(true);
  });

  it('accepts the 3-3-4 display format with spaces, and hyphens', () => {
    expect(isValidNhsNumber('943 476 5919')).toBe(true);
    expect(isValidNhsNumber('943-476-5919')).toBe(true);
    expect(normaliseNhsNumber(' 943 476 5919 ')).toBe('9434765919');
  });

  it.each(['3478526985', '9991234560', '9876544321'])('rejects the documented invalid number %s', (n) => {
    expect(isValidNhsNumber(n)).toBe(false);
  });

  it.each([
    ['nine digits', '943476591'],
    ['eleven digits', '94347659190'],
    ['empty', ''],
    ['letters', '94347659A9'],
    ['all letters', 'ABCDEFGHIJ'],
    ['a decimal point', '943476591.'],
    ['a plus sign', '+943476591'],
  ])('rejects %s (%s)', (_label, n) => {
    expect(isValidNhsNumber(n)).toBe(false);
  });

  it('gives check digit 0 when the weighted sum is a multiple of 11 (11 - 0 = 11 -> 0)', () => {
    // 9*10 + 9*9 + 9*8 + 5*2 = 253 = 23 * 11
    expect(nhsCheckDigit('999000005')).toBe(0);
    expect(isValidNhsNumber('9990000050')).toBe(true);
    expect(isValidNhsNumber('9990000051')).toBe(false);
  });

  it('treats a check digit of 10 as invalid: no final digit makes a valid number', () => {
    // 999123456: weighted sum 320, 320 mod 11 = 1, check = 10.
    expect(nhsCheckDigit('999123456')).toBeUndefined();
    for (let last = 0; last <= 9; last++) expect(isValidNhsNumber(`999123456${last}`)).toBe(false);
    expect(nhsCheckDigit('999000000')).toBeUndefined();
  });

  it('computes the documented check digits', () => {
    expect(nhsCheckDigit('943476591')).toBe(9);
    expect(nhsCheckDigit('900000000')).toBe(9);
    expect(nhsCheckDigit('401023213')).toBe(7);
    expect(nhsCheckDigit('347852698')).toBe(1); // the BaRS example ends in 5, so it is invalid
  });

  describe('properties', () => {
    it('agrees with an independent Modulus 11 formulation on any 10-digit string', () => {
      fc.assert(
        fc.property(digitsOf(10), (candidate) => {
          expect(isValidNhsNumber(candidate)).toBe(referenceIsValid(candidate));
        }),
        { numRuns: 2000 },
      );
    });

    it('agrees with the reference on arbitrary short strings of digits and other characters', () => {
      const chars = fc.constantFrom(...'0123456789aZ.+_/'.split(''));
      fc.assert(
        fc.property(fc.array(chars, { minLength: 0, maxLength: 12 }), (cs) => {
          const candidate = cs.join('');
          expect(isValidNhsNumber(candidate)).toBe(referenceIsValid(candidate));
        }),
        { numRuns: 1000 },
      );
    });

    it('for any 9-digit prefix: its check digit completes a valid number and every other final digit does not', () => {
      fc.assert(
        fc.property(digitsOf(9), (prefix) => {
          const check = nhsCheckDigit(prefix);
          for (let last = 0; last <= 9; last++) {
            expect(isValidNhsNumber(`${prefix}${last}`)).toBe(last === check);
          }
          // A prefix with no check digit is exactly one whose reference check would be 10.
          const validEndings = [...Array(10).keys()].filter((last) => referenceIsValid(`${prefix}${last}`));
          expect(validEndings).toEqual(check === undefined ? [] : [check]);
        }),
        { numRuns: 1000 },
      );
    });

    it('a valid number stays valid when written 3-3-4 with spaces', () => {
      const valid = digitsOf(9)
        .filter((prefix) => nhsCheckDigit(prefix) !== undefined)
        .map((prefix) => `${prefix}${nhsCheckDigit(prefix)}`);
      fc.assert(
        fc.property(valid, (n) => {
          expect(isValidNhsNumber(`${n.slice(0, 3)} ${n.slice(3, 6)} ${n.slice(6)}`)).toBe(true);
        }),
      );
    });
  });
});
