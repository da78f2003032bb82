/**
 * The stack's protections that the cdk-nag packs check only loosely, asserted on the template itself: customer
 * managed keys (not AWS managed ones) on every table, queue, topic, log group and secret; TLS-only queues; a WAF
 * web ACL with AWS managed rule groups and a rate limit on the API stage; access logs; active tracing everywhere, SDK
 * calls included.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { wafManagedRuleGroups } from '../../infra/constructs/api.ts';
import { ReferralStack } from '../../infra/stack.ts';
import { functionEnvironment, tracingEnvVar } from '#system/environment.ts';
import { functionNames } from '#system/functions.ts';

type Resource = { Type: string; Properties?: Record<string, unknown> };

let template: Template;
let resources: Record<string, Resource>;

beforeAll(() => {
  const stack = new ReferralStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'SecurityTest', {
    jwtIssuer: 'https://login.example.test',
    jwtAudience: 'social-prescribing-api',
    apiClients: ['emis-web-prod'],
  });
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources as Record<string, Resource>;
});

const ofType = (type: string): Array<[string, Resource]> =>
  Object.entries(resources).filter(([, resource]) => resource.Type === type);

/** The logical id of the stack's own AWS::KMS::Key that a property refers to, or undefined (e.g. alias/aws/sqs). */
function customerKeyOf(reference: unknown): string | undefined {
  const ref = reference as { Ref?: string; 'Fn::GetAtt'?: [string, string] } | undefined;
  const id = ref?.Ref ?? ref?.['Fn::GetAtt']?.[0];
  return id !== undefined && resources[id]?.Type === 'AWS::KMS::Key' ? id : undefined;
}

describe('customer managed keys', () => {
  it.each([
    [
      'AWS::DynamoDB::Table',
      (p: Record<string, unknown>) => (p.SSESpecification as Record<string, unknown>)?.KMSMasterKeyId,
    ],
    ['AWS::SQS::Queue', (p: Record<string, unknown>) => p.KmsMasterKeyId],
    ['AWS::SNS::Topic', (p: Record<string, unknown>) => p.KmsMasterKeyId],
    ['AWS::Logs::LogGroup', (p: Record<string, unknown>) => p.KmsKeyId],
    ['AWS::SecretsManager::Secret', (p: Record<string, unknown>) => p.KmsKeyId],
  ])('every %s is encrypted with a key of the stack', (type, keyOf) => {
    const all = ofType(type);
    expect(all.length).toBeGreaterThan(0);
    for (const [id, resource] of all)
      expect(customerKeyOf(keyOf(resource.Properties ?? {})), id).toBeDefined();
  });

  it('tables say KMS, and every key rotates and is kept', () => {
    for (const [id, table] of ofType('AWS::DynamoDB::Table')) {
      expect(table.Properties?.SSESpecification, id).toMatchObject({ SSEEnabled: true, SSEType: 'KMS' });
    }
    for (const [id, key] of ofType('AWS::KMS::Key')) {
      expect(key.Properties?.EnableKeyRotation, id).toBe(true);
      expect((resources[id] as { DeletionPolicy?: string }).DeletionPolicy, id).toBe('Retain');
    }
  });
});

describe('TLS-only queues', () => {
  it('every queue has a policy denying any request not over TLS', () => {
    const policies = ofType('AWS::SQS::QueuePolicy');
    for (const [id] of ofType('AWS::SQS::Queue')) {
      const denying = policies.filter(([, policy]) => {
        const queues = policy.Properties?.Queues as Array<{ Ref?: string }>;
        const statements = (
          policy.Properties?.PolicyDocument as { Statement: Array<Record<string, unknown>> }
        ).Statement;
        return (
          queues.some((queue) => queue.Ref === id) &&
          statements.some(
            (statement) =>
              statement.Effect === 'Deny' &&
              JSON.stringify(statement.Condition) ===
                JSON.stringify({ Bool: { 'aws:SecureTransport': 'false' } }),
          )
        );
      });
      expect(denying.length, id).toBe(1);
    }
  });
});

describe('the API stage', () => {
  it('has a regional WAF web ACL with a rate limit and the AWS managed rule groups', () => {
    const [[, webAcl] = []] = ofType('AWS::WAFv2::WebACL');
    expect(webAcl?.Properties?.Scope).toBe('REGIONAL');
    const rules = webAcl?.Properties?.Rules as Array<{
      Statement: Record<string, { Name?: string; VendorName?: string; AggregateKeyType?: string }>;
    }>;
    const managed = rules.flatMap((rule) => rule.Statement.ManagedRuleGroupStatement ?? []);
    expect(managed.map((group) => `${group.VendorName}/${group.Name}`).sort()).toEqual(
      [...wafManagedRuleGroups].map((name) => `AWS/${name}`).sort(),
    );
    expect(wafManagedRuleGroups).toEqual(
      expect.arrayContaining([
        'AWSManagedRulesCommonRuleSet',
        'AWSManagedRulesKnownBadInputsRuleSet',
        'AWSManagedRulesAmazonIpReputationList',
      ]),
    );
    expect(rules.some((rule) => rule.Statement.RateBasedStatement?.AggregateKeyType === 'IP')).toBe(true);
  });

  it('is associated with that web ACL, which logs with the token redacted', () => {
    const [[webAclId] = []] = ofType('AWS::WAFv2::WebACL');
    const [[stageId] = []] = ofType('AWS::ApiGateway::Stage');
    const associations = ofType('AWS::WAFv2::WebACLAssociation');
    expect(associations).toHaveLength(1);
    const association = JSON.stringify(associations[0]?.[1].Properties);
    expect(association).toContain(`"${webAclId}","Arn"`);
    expect(association).toContain(`"Ref":"${stageId}"`);
    template.hasResourceProperties('AWS::WAFv2::LoggingConfiguration', {
      RedactedFields: [{ SingleHeader: { Name: 'authorization' } }, { QueryString: {} }],
    });
  });

  it('traces with X-Ray and writes access logs', () => {
    const [[, stage] = []] = ofType('AWS::ApiGateway::Stage');
    expect(stage?.Properties?.TracingEnabled).toBe(true);
    expect(stage?.Properties?.AccessLogSetting).toMatchObject({ DestinationArn: expect.anything() });
  });
});

describe('functions', () => {
  it('every function traces actively with X-Ray', () => {
    const all = ofType('AWS::Lambda::Function');
    expect(all.length).toBeGreaterThan(0);
    for (const [id, fn] of all) expect(fn.Properties?.TracingConfig, id).toEqual({ Mode: 'Active' });
  });

  it("and traces its SDK calls as subsegments (shared/platform/tracing.ts); the local stack's functions do not", () => {
    for (const [id, fn] of ofType('AWS::Lambda::Function')) {
      const variables = (fn.Properties?.Environment as { Variables?: Record<string, unknown> })?.Variables;
      expect(variables?.[tracingEnvVar], id).toBe('true');
    }
    // What the local runtime gives each function (infra/local/local-aws.ts): no X-Ray daemon runs there.
    for (const name of functionNames)
      expect(functionEnvironment(name, String, String)[tracingEnvVar], name).toBe('false');
  });
});
