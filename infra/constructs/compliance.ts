import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, type NagPack } from 'cdk-nag';
import type { Construct, IConstruct } from 'constructs';

/** The rule-id prefixes of the two compliance packs infra/app.ts runs besides AWS Solutions. */
export const compliancePacks = ['HIPAA.Security', 'NIST.800.53.R5'] as const;

/**
 * Acknowledges one rule that the HIPAA Security and NIST 800-53 R5 packs share (they name it the same way), on
 * `construct` and what it contains, with one reason, which docs/deploy.md repeats.
 */
export function acknowledgeCompliance(construct: IConstruct, rule: string, reason: string): void {
  for (const pack of compliancePacks)
    Validations.of(construct).acknowledge({ id: `${pack}-${rule}`, reason });
}

/**
 * The cdk-nag packs every synth runs (infra/app.ts installs them as validation plugins): AWS Solutions, HIPAA
 * Security and NIST 800-53 R5. Any finding of any of them, error or warning, fails the synth unless acknowledged.
 */
export function nagPacks(app: Construct): NagPack[] {
  return [new AwsSolutionsChecks(app), new HIPAASecurityChecks(app), new NIST80053R5Checks(app)];
}
