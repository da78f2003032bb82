import { readdirSync, readFileSync } from 'node:fs';
import type { z } from 'zod';
import { nhsCheckDigit } from '#referral/domain/nhs-number.ts';
import { ReferralRequest } from '#referral/domain/referral.ts';

/**
 * Referral bodies for the load: the sample referrals in events/referrals/, each sent with a fresh NHS number from
 * the 999 test range (never a real patient's) and spread over the sample practices of the template's own area, so
 * routing takes the same path as the sample (same team, partners and unmet needs).
 */

export type ReferralBody = z.input<typeof ReferralRequest>;

const referralsDir = new URL('../events/referrals/', import.meta.url);

/** Practices in the sample directory, by the PCN a template's practice belongs to. */
const practicesByPcnOf: Record<string, string[]> = {
  A81001: ['A81001', 'A81002'],
  A81002: ['A81001', 'A81002'],
  B82001: ['B82001', 'B82002'],
  B82002: ['B82001', 'B82002'],
  C83001: ['C83001'],
};

/** Every practice the load may refer from: the GP system's token must be bound to all of them. */
export const samplePractices = Object.keys(practicesByPcnOf);

export function loadTemplates(): ReferralBody[] {
  const files = readdirSync(referralsDir)
    .filter((file) => file.endsWith('.json'))
    .sort();
  return files.map((file) => {
    const text = readFileSync(new URL(file, referralsDir), 'utf8');
    const body = JSON.parse(text) as ReferralBody;
    // A template the intake would refuse would make every "202 expected" check fail for the wrong reason.
    const parsed = ReferralRequest.safeParse(body);
    if (!parsed.success) throw new Error(`sample referral ${file} is not valid: ${parsed.error.message}`);
    return body;
  });
}

/** Valid 999-range NHS numbers in order, skipping the stems Modulus 11 cannot complete (check digit 10). */
export class TestNhsNumbers {
  private stem: number;

  constructor(firstStem = 999_000_001) {
    this.stem = firstStem;
  }

  next(): string {
    for (;;) {
      const firstNine = String(this.stem++);
      if (!firstNine.startsWith('999')) throw new Error('ran out of 999-range test NHS numbers');
      const check = nhsCheckDigit(firstNine);
      if (check !== undefined) return `${firstNine}${check}`;
    }
  }
}

/** The same number with a wrong check digit: well formed, but fails Modulus 11 (the check digit is unique). */
export function withWrongCheckDigit(nhsNumber: string): string {
  const check = Number(nhsNumber[9]);
  return `${nhsNumber.slice(0, 9)}${(check + 1) % 10}`;
}

export class ReferralFactory {
  private readonly numbers = new TestNhsNumbers();
  private issued = 0;

  constructor(private readonly templates: readonly ReferralBody[]) {
    if (templates.length === 0) throw new Error('no sample referrals in events/referrals/');
  }

  /** A valid referral for a new patient, rotating through the templates and their area's practices. */
  valid(): ReferralBody {
    const index = this.issued++;
    const template = this.templates[index % this.templates.length] as ReferralBody;
    const practices = practicesByPcnOf[template.practiceOds] ?? [template.practiceOds];
    const round = Math.floor(index / this.templates.length);
    return {
      ...template,
      practiceOds: practices[round % practices.length] ?? template.practiceOds,
      patient: { ...template.patient, nhsNumber: this.numbers.next() },
    };
  }

  /** A referral that fails validation only on its NHS number (the commonest real mistake: a mistyped digit). */
  badNhsNumber(): ReferralBody {
    const body = this.valid();
    return { ...body, patient: { ...body.patient, nhsNumber: withWrongCheckDigit(body.patient.nhsNumber) } };
  }
}
