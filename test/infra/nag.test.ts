/**
 * cdk-nag's AWS Solutions rules, run the two ways that matter: directly on the stack (a readable list of findings
 * when one appears) and as the synth-time validation plugin that infra/app.ts installs (what `npm run synth` and
 * `cdk deploy` do). Every finding must be fixed, or acknowledged next to its resource with a reason that
 * docs/deploy.md repeats.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
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
  'AwsSolutions-APIG3',
  'AwsSolutions-APIG4',
  'AwsSolutions-COG4',
  'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
  'AwsSolutions-IAM5[Resource::*]',
  'AwsSolutions-IAM5[Resource::<FunctionsDeadlinesDEB6701C.Arn>:*]',
  'AwsSolutions-IAM5[Resource::<FunctionsResponseRecordsF58E8368.Arn>:*]',
  'AwsSolutions-IAM5[Resource::<FunctionsSurges676B60BE.Arn>:*]',
  'AwsSolutions-IAM5[Resource::<TablesReferrals5089D39F.Arn>/index/*]',
  'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:<stack name>/recipients/*]',
  'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:identity/*]',
  'AwsSolutions-SMG4',
];

describe('cdk-nag AWS Solutions checks', () => {
  it('find nothing unacknowledged in the stack', () => {
    const stack = new ReferralStack(new App({ context: withoutBundling }), 'NagTest', props);
    const report = new AwsSolutionsChecks().validateScope(stack);

    const findings = report.violations.map(
      (violation) =>
        `${violation.ruleName} (${violation.severity}) at ${violation.violatingResources
          .map((resource) => resource.constructPath)
          .join(', ')}`,
    );
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('do find problems in a stack that has them, so the clean report above means something', () => {
    const stack = new Stack(new App(), 'Careless');
    new Queue(stack, 'NoDeadLettersNoTls');

    const rules = new AwsSolutionsChecks()
      .validateScope(stack)
      .violations.map((violation) => violation.ruleName);
    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-SQS3', 'AwsSolutions-SQS4']));
  });

  it('pass as a synth-time validation plugin, the way infra/app.ts installs them', () => {
    const app = new App({ context: withoutBundling });
    new ReferralStack(app, 'PluginTest', props);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

    expect(() => app.synth()).not.toThrow();
  });

  it('as a plugin, fail the synth when a finding is not acknowledged', () => {
    const app = new App({ context: withoutBundling });
    const stack = new ReferralStack(app, 'PluginFailureTest', props);
    new Queue(stack, 'NoDeadLettersNoTls');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

    expect(() => app.synth()).toThrow(/AwsSolutions-SQS3/);
  });

  it('are acknowledged only where docs/deploy.md explains why, each with a reason', () => {
    const stack = new ReferralStack(new App({ context: withoutBundling }), 'AcknowledgementTest', props);
    const acknowledgements = acknowledgementsIn(stack);
    const deployGuide = readFileSync(path.join(projectRoot, 'docs', 'deploy.md'), 'utf8');

    // A rule naming this stack's own resources by name carries the stack name: compared as `<stack name>`.
    const rules = acknowledgements.map(({ rule }) =>
      rule.replaceAll('AcknowledgementTest/', '<stack name>/'),
    );
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
