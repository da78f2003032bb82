/**
 * cdk-nag's AWS Solutions, HIPAA Security and NIST 800-53 R5 rules, run the two ways that matter: directly on the stack (a readable list of findings
 * when one appears) and as the synth-time validation plugin that infra/app.ts installs (what `npm run synth` and
 * `cdk deploy` do). Every finding must be fixed, or acknowledged next to its resource with a reason that
 * docs/deploy.md repeats.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, type NagPack } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { nagPacks } from '../../infra/constructs/compliance.ts';
import { projectRoot, ReferralStack } from '../../infra/stack.ts';

const withoutBundling = { 'aws:cdk:bundling-stacks': [] };
/** A configured stack: issuer settings, and a registered client so its API key and usage plan key are checked too. */
const props = {
  jwtIssuer: 'https://login.example.test',
  jwtAudience: 'social-prescribing-api',
  apiClients: ['emis-web-prod'],
  // The email channel configured, so the notifier's ses:SendEmail statement is checked too.
  emailFrom: 'referrals@social-prescribing.example.test',
  inboxUrl: 'https://referrals.example.test/inbox',
};

/** Every acknowledgement in the stack; adding one means explaining it in docs/deploy.md and listing it here. */
const acknowledgedRules = [
  'AwsSolutions-APIG4',
  'AwsSolutions-COG4',
  'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
  'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
  'AwsSolutions-IAM5[Action::kms:ReEncrypt*]',
  'AwsSolutions-IAM5[Resource::*]',
  'AwsSolutions-IAM5[Resource::<FunctionsDeadlinesDEB6701C.Arn>:*]',
  'AwsSolutions-IAM5[Resource::<FunctionsResponseRecordsF58E8368.Arn>:*]',
  'AwsSolutions-IAM5[Resource::<FunctionsSurges676B60BE.Arn>:*]',
  'AwsSolutions-IAM5[Resource::<TablesReferrals5089D39F.Arn>/index/*]',
  'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:<stack name>/recipients/*]',
  'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:identity/*]',
  'AwsSolutions-SMG4',
  ...[
    'APIGWCacheEnabledAndEncrypted',
    'APIGWSSLEnabled',
    'DynamoDBInBackupPlan',
    'IAMNoInlinePolicy',
    'LambdaConcurrency',
    'LambdaDLQ',
    'LambdaInsideVPC',
    'SecretsManagerRotationEnabled',
  ].flatMap((rule) => [`HIPAA.Security-${rule}`, `NIST.800.53.R5-${rule}`]),
];

/** Findings of one pack, one readable line each. */
function findingsOf(pack: NagPack, stack: Stack): string[] {
  return pack
    .validateScope(stack)
    .violations.map(
      (violation) =>
        `${violation.ruleName} (${violation.severity}) at ${violation.violatingResources
          .map((resource) => resource.constructPath)
          .join(', ')}`,
    );
}

describe('cdk-nag AWS Solutions, HIPAA Security and NIST 800-53 R5 checks', () => {
  // One stack for the direct checks and the acknowledgements: building it is most of this file's time.
  let stack: ReferralStack;
  beforeAll(() => {
    stack = new ReferralStack(new App({ context: withoutBundling }), 'NagTest', props);
  });

  it('are the three packs infra/app.ts installs', () => {
    expect(nagPacks(new App()).map((pack) => pack.constructor.name)).toEqual([
      'AwsSolutionsChecks',
      'HIPAASecurityChecks',
      'NIST80053R5Checks',
    ]);
  });

  it.each([
    ['AWS Solutions', () => new AwsSolutionsChecks()],
    ['HIPAA Security', () => new HIPAASecurityChecks()],
    ['NIST 800-53 R5', () => new NIST80053R5Checks()],
  ])('%s: find nothing unacknowledged in the stack, error or warning', (_pack, pack) => {
    expect(findingsOf(pack(), stack)).toEqual([]);
  });

  it('do find problems in a stack that has them, so the clean reports above mean something', () => {
    const careless = new Stack(new App(), 'Careless');
    new Queue(careless, 'NoDeadLettersNoTls');
    new LogGroup(careless, 'Unencrypted');

    const rules = (pack: NagPack): string[] =>
      pack.validateScope(careless).violations.map((violation) => violation.ruleName);
    expect(rules(new AwsSolutionsChecks())).toEqual(
      expect.arrayContaining(['AwsSolutions-SQS3', 'AwsSolutions-SQS4']),
    );
    expect(rules(new HIPAASecurityChecks())).toContain('HIPAA.Security-CloudWatchLogGroupEncrypted');
    expect(rules(new NIST80053R5Checks())).toContain('NIST.800.53.R5-CloudWatchLogGroupEncrypted');
  });

  it('pass as synth-time validation plugins, the way infra/app.ts installs them', () => {
    const app = new App({ context: withoutBundling });
    new ReferralStack(app, 'PluginTest', props);
    Validations.of(app).addPlugins(...nagPacks(app));

    expect(() => app.synth()).not.toThrow();
  });

  it('as plugins, fail the synth when a finding is not acknowledged', () => {
    const app = new App();
    new Queue(new Stack(app, 'PluginFailureTest'), 'NoDeadLettersNoTls');
    Validations.of(app).addPlugins(...nagPacks(app));

    expect(() => app.synth()).toThrow(/AwsSolutions-SQS3/);
  });

  it('are acknowledged only where docs/deploy.md explains why, each with a reason', () => {
    const acknowledgements = acknowledgementsIn(stack);
    const deployGuide = readFileSync(path.join(projectRoot, 'docs', 'deploy.md'), 'utf8');

    // A rule naming this stack's own resources by name carries the stack name: compared as `<stack name>`.
    const rules = acknowledgements.map(({ rule }) => rule.replaceAll('NagTest/', '<stack name>/'));
    expect([...new Set(rules)].sort()).toEqual([...acknowledgedRules].sort());
    for (const { rule, reason, path } of acknowledgements) {
      expect(reason.length, `reason for ${rule} at ${path}`).toBeGreaterThan(60);
    }
    for (const rule of acknowledgedRules) expect(deployGuide).toContain(rule);
  });
});

/** Acknowledgements are recorded as construct metadata, which is also where cdk-nag looks for them. */
function acknowledgementsIn(scope: IConstruct): Array<{ rule: string; reason: string; path: string }> {
  return scope.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          // aws-cdk-lib records an acknowledged rule as `Annotation::<rule id>`.
          rule: id.replace(/^annotation::/i, ''),
          reason,
          path: construct.node.path,
        })),
      ),
  );
}
