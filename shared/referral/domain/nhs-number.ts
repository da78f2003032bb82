/**
 * NHS number: 10 digits whose last is a Modulus 11 check digit (NHS Data Dictionary).
 * Digits 1-9 are weighted 10 down to 2; check = 11 - (sum mod 11); 11 means 0 and 10 means the number is invalid.
 */

/** Removes the spaces and hyphens people type (`943 476 5919`, `943-476-5919`). */
export function normaliseNhsNumber(input: string): string {
  return input.replace(/[\s-]/g, '');
}

/** The check digit for the first nine digits, or undefined when no valid number can start with them. */
export function nhsCheckDigit(firstNine: string): number | undefined {
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(firstNine[i]) * (10 - i);
  const check = 11 - (sum % 11);
  if (check === 11) return 0;
  if (check === 10) return undefined;
  return check;
}

export function isValidNhsNumber(input: string): boolean {
  const digits = normaliseNhsNumber(input);
  if (!/^\d{10}$/.test(digits)) return false;
  return nhsCheckDigit(digits.slice(0, 9)) === Number(digits[9]);
}
