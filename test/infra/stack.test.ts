/**
 * The CloudFormation the stack produces, checked against infra/topology.ts: every table, queue, function, grant,
 * event source and route the topology describes is there with the settings it describes, and nothing else is.
 *
 * Bundling is skipped (`aws:cdk:bundling-stacks: []`) so the whole file runs in well under a second;
 * bundle.test.ts bundles the functions for real.
 */
import { App, Duration, type CfnElement } from 'aws-cdk-lib';
import { ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { dailyRequestQuota } from '../../infra/constructs/api.ts';
import { constructId } from '../../infra/constructs/naming.ts';
import { pseudonymKeyLocationOf, recipientSecretsLocationOf } from '../../infra/constructs/functions.ts';
import { ReferralStack, type ReferralStackProps } from '../../infra/stack.ts';
import {
  authorizerCacheSeconds,
  clientThrottle,
  stageThrottle,
  webhookTimeoutSeconds,
} from '#system/limits.ts';
import { functionEnvironment } from '#system/environment.ts';
import { functionNames, functions, type SettingName } from '#system/functions.ts';
import { type FunctionName } from '#system/names.ts';
import { queueNames, queues } from '#system/queues.ts';
import { tableNames, tables } from '#system/tables.ts';
import { routes } from '#system/routes.ts';
import { usageKeyFor } from '#auth/usage-key.ts';
import { gatewayOutcomes } from '#http/operation-outcome.ts';

const withoutBundling = { 'aws:cdk:bundling-stacks': [] };
// A trailing slash, as some issuers put in `iss`: kept in JWT_ISSUER, not doubled in the derived JWKS URL.
const issuer = { jwtIssuer: 'https://login.example.test/tenant/', jwtAudience: 'social-prescribing-api' };
const settings: Record<SettingName, string> = {
  JWT_ISSUER: 'https://login.example.test/tenant/',
  JWT_AUDIENCE: 'social-prescribing-api',
  JWKS_URL: 'https://login.example.test/tenant/.well-known/jwks.json',
  // The email channel's settings are optional: the shared stack has none.
  INBOX_URL: '',
  EMAIL_FROM: '',
};
const apiClients = ['emis-web-prod', 'tpp-systmone-prod'];

const app = new App({ context: withoutBundling });
const stack = new ReferralStack(app, 'ReferralsTest', { ...issuer, apiClients });
const template = Template.fromStack(stack);

/** A stack of its own, for settings the shared one does not have. */
function stackWith(props: Partial<ReferralStackProps>, id = 'Other'): ReferralStack {
  return new ReferralStack(new App({ context: withoutBundling }), id, { ...issuer, ...props });
}

describe('tables', () => {
  it('has one DynamoDB table per topology entry', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', tableNames.length);
  });

  it.each(tableNames)(
    '%s: keys from the topology, on demand, PITR, encrypted, TTL as declared, retained',
    (name) => {
      const spec = tables[name];
      const table = resource(logicalIdOf(stack.tables.byName[name]));

      expect(table.DeletionPolicy).toBe('Retain');
      expect(table.UpdateReplacePolicy).toBe('Retain');
      expect(table.Properties).toMatchObject({
        KeySchema: [
          { AttributeName: spec.partitionKey, KeyType: 'HASH' },
          ...(spec.sortKey === undefined ? [] : [{ AttributeName: spec.sortKey, KeyType: 'RANGE' }]),
        ],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        DeletionProtectionEnabled: true,
      });
      expect(table.Properties.TimeToLiveSpecification).toEqual(
        spec.timeToLiveAttribute === undefined
          ? undefined
          : { AttributeName: spec.timeToLiveAttribute, Enabled: true },
      );
      expect(table.Properties.GlobalSecondaryIndexes).toEqual(
        spec.indexes?.map((index) => ({
          IndexName: index.name,
          KeySchema: [
            { AttributeName: index.partitionKey, KeyType: 'HASH' },
            ...(index.sortKey === undefined ? [] : [{ AttributeName: index.sortKey, KeyType: 'RANGE' }]),
          ],
          Projection: { ProjectionType: index.projection === 'all' ? 'ALL' : 'KEYS_ONLY' },
        })),
      );
    },
  );

  it('referrals: a referral partition with a sort key, a worklist index by recipient, status and time, a deadline index and a received index by month', () => {
    const props = resource(logicalIdOf(stack.tables.byName.referrals)).Properties;
    expect(props.KeySchema).toEqual([
      { AttributeName: 'referralId', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(props.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: 'worklist',
        KeySchema: [
          { AttributeName: 'recipientKey', KeyType: 'HASH' },
          { AttributeName: 'worklistSortKey', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
      {
        IndexName: 'deadlines',
        KeySchema: [
          { AttributeName: 'deadlineKey', KeyType: 'HASH' },
          { AttributeName: 'deadlineAt', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
      {
        IndexName: 'received',
        KeySchema: [
          { AttributeName: 'receivedMonth', KeyType: 'HASH' },
          { AttributeName: 'receivedAt', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
    ]);
  });
});

describe('schedules', () => {
  const scheduled = functionNames.filter((name) => functions[name].schedule);

  it('one EventBridge Scheduler schedule per scheduled function, and none other', () => {
    expect(scheduled).toEqual(['deadlines', 'responseRecords', 'surges']);
    template.resourceCountIs('AWS::Scheduler::Schedule', scheduled.length);
  });

  it.each(scheduled)(
    '%s: at its rate, invoking it with its name, not retried, by a role of its own',
    (name) => {
      const every = functions[name].schedule?.everyMinutes;
      const schedule = (
        Object.values(template.findResources('AWS::Scheduler::Schedule')) as Array<{
          Properties: {
            ScheduleExpression: string;
            State?: string;
            Target: {
              Arn: unknown;
              Input: string;
              RoleArn: unknown;
              RetryPolicy: { MaximumRetryAttempts: number };
            };
          };
        }>
      ).find((s) => (JSON.parse(s.Properties.Target.Input) as { schedule?: string }).schedule === name);
      expect(schedule?.Properties.ScheduleExpression).toBe(
        ScheduleExpression.rate(Duration.minutes(every ?? 0)).expressionString,
      );
      expect(JSON.parse(schedule?.Properties.Target.Input ?? '{}')).toEqual({ schedule: name });
      expect(schedule?.Properties.Target.RetryPolicy.MaximumRetryAttempts).toBe(0);
      expect(schedule?.Properties.Target.Arn).toEqual({
        'Fn::GetAtt': [logicalIdOf(stack.functions.byName[name]), 'Arn'],
      });
      const roleId = (schedule?.Properties.Target.RoleArn as { 'Fn::GetAtt': [string, string] })[
        'Fn::GetAtt'
      ][0];
      const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
        JSON.stringify(policy).includes(roleId),
      );
      const actions = policies.flatMap((policy) =>
        (
          policy as { Properties: { PolicyDocument: { Statement: Array<{ Action: string | string[] }> } } }
        ).Properties.PolicyDocument.Statement.flatMap((statement) => statement.Action),
      );
      expect(actions).toEqual(['lambda:InvokeFunction']);
    },
  );
});

describe('queues', () => {
  it('has a work queue and a dead-letter queue per topology entry', () => {
    template.resourceCountIs('AWS::SQS::Queue', 2 * queueNames.length);
  });

  it.each(queueNames)(
    '%s: dead-letter queue, receive count, visibility, retention and encryption',
    (name) => {
      const spec = queues[name];
      const { queue, deadLetters } = stack.queues.byName[name];
      const props = resource(logicalIdOf(queue)).Properties;

      expect(props).toMatchObject({
        VisibilityTimeout: spec.visibilityTimeoutSeconds,
        MessageRetentionPeriod: spec.retentionDays * DAY,
        KmsMasterKeyId: { 'Fn::GetAtt': [logicalIdOf(stack.keys.data), 'Arn'] },
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [logicalIdOf(deadLetters), 'Arn'] },
          maxReceiveCount: spec.maxReceiveCount,
        },
      });
      expect(spec.maxReceiveCount).toBeGreaterThanOrEqual(5);
      // Dead letters are kept as long as SQS allows, so there is time to find the cause before replaying them.
      expect(resource(logicalIdOf(deadLetters)).Properties).toMatchObject({
        MessageRetentionPeriod: 14 * DAY,
        KmsMasterKeyId: { 'Fn::GetAtt': [logicalIdOf(stack.keys.data), 'Arn'] },
      });
    },
  );

  it.each(queueNames)("%s: visibility timeout is at least six times its consumer's timeout", (name) => {
    const consumer = resource(logicalIdOf(stack.functions.byName[queues[name].consumer]));
    const queue = resource(logicalIdOf(stack.queues.byName[name].queue));

    expect(numberIn(queue.Properties, 'VisibilityTimeout')).toBeGreaterThanOrEqual(
      6 * numberIn(consumer.Properties, 'Timeout'),
    );
  });

  it.each(queueNames)(
    '%s: visibility is exactly six times the deployed consumer timeout plus its batching window',
    (name) => {
      // Not more: the visibility timeout is what a crashed invocation's messages wait before they are retried.
      const consumer = resource(logicalIdOf(stack.functions.byName[queues[name].consumer]));
      const queue = resource(logicalIdOf(stack.queues.byName[name].queue));
      const [, mapping] =
        resourcesOfType('AWS::Lambda::EventSourceMapping').find(
          ([, each]) =>
            JSON.stringify(each.Properties.EventSourceArn) ===
            JSON.stringify({ 'Fn::GetAtt': [logicalIdOf(stack.queues.byName[name].queue), 'Arn'] }),
        ) ?? [];
      expect(numberIn(queue.Properties, 'VisibilityTimeout')).toBe(
        6 * numberIn(consumer.Properties, 'Timeout') +
          numberIn(mapping?.Properties ?? {}, 'MaximumBatchingWindowInSeconds'),
      );
    },
  );

  it('timeouts fit the work: one webhook POST plus a margin, intake well inside API Gateway, short retries', () => {
    const timeoutOf = (fn: FunctionName): number =>
      numberIn(resource(logicalIdOf(stack.functions.byName[fn])).Properties, 'Timeout');
    expect(timeoutOf('notifier')).toBe(webhookTimeoutSeconds + 2);
    expect(timeoutOf('intake')).toBe(6); // an in-progress idempotency record outlives a crash by this
    expect(timeoutOf('intake')).toBeLessThan(29); // API Gateway's integration limit
    expect(timeoutOf('router')).toBe(10);
    // What a crash costs: messages in flight wait this long (was 181 s for both queues).
    expect(queues.referrals.visibilityTimeoutSeconds).toBe(61);
    expect(queues.notifications.visibilityTimeoutSeconds).toBe(73);
    expect(queues.notifications.batchSize).toBe(5);
  });

  it.each(queueNames)('%s and its dead letters refuse requests not made over TLS', (name) => {
    const { queue, deadLetters } = stack.queues.byName[name];
    for (const each of [queue, deadLetters]) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: logicalIdOf(each) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Principal: { AWS: '*' },
              Action: 'sqs:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    }
  });
});

describe('functions', () => {
  it('has one Lambda function per topology entry, and no helper functions', () => {
    template.resourceCountIs('AWS::Lambda::Function', functionNames.length);
  });

  it.each(functionNames)(
    '%s: Node 24 on arm64, ESM handler, traced, timeout and memory from the topology',
    (name) => {
      const spec = functions[name];
      const props = resource(logicalIdOf(stack.functions.byName[name])).Properties;

      expect(props).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        Timeout: spec.timeoutSeconds,
        MemorySize: spec.memoryMb,
        TracingConfig: { Mode: 'Active' },
        Description: spec.purpose,
      });
      const logGroup = resource(logicalIdIn(path(props, 'LoggingConfig', 'LogGroup')));
      expect(logGroup.Type).toBe('AWS::Logs::LogGroup');
      expect(logGroup.Properties.RetentionInDays).toBe(90);
    },
  );

  it.each(functionNames)('%s: environment is exactly what the topology derives, plus source maps', (name) => {
    const variables = path(
      resource(logicalIdOf(stack.functions.byName[name])).Properties,
      'Environment',
      'Variables',
    );
    const derived = functionEnvironment(
      name,
      (table) => stack.tables.byName[table].tableName,
      (queue) => stack.queues.byName[queue].queue.queueUrl,
      (setting) => settings[setting],
      () => recipientSecretsLocationOf(stack),
      'https-only',
      () => pseudonymKeyLocationOf(stack),
      'active',
    );

    expect(variables).toEqual(stack.resolve({ ...derived, NODE_OPTIONS: '--enable-source-maps' }));
  });

  it("recipients' signing secrets: only functions granted them may read them, and only under the stack's prefix", () => {
    const secretsStatements = (name: FunctionName) =>
      Object.values(template.findResources('AWS::IAM::Policy'))
        .filter((policy) =>
          JSON.stringify(path(policy.Properties, 'Roles')).includes(
            logicalIdOf(stack.functions.byName[name].role!),
          ),
        )
        .flatMap(
          (policy) =>
            path(policy.Properties, 'PolicyDocument', 'Statement') as Array<Record<string, unknown>>,
        )
        .filter((statement) => JSON.stringify(statement.Action).includes('secretsmanager:'))
        // The pseudonym key's grant has a test of its own (below).
        .filter((statement) => !JSON.stringify(statement.Resource).includes(pseudonymKeyId));
    const pseudonymKeyId = logicalIdOf(stack.functions.pseudonymKey!);
    for (const name of functionNames) {
      const statements = secretsStatements(name);
      if (!functions[name].recipientSecrets) {
        expect(statements, name).toEqual([]);
        continue;
      }
      expect(statements.map((s) => s.Action).flat(), name).toContain('secretsmanager:GetSecretValue');
      expect(JSON.stringify(statements.map((s) => s.Resource)), name).toContain(
        ':secret:ReferralsTest/recipients/*',
      );
    }
    expect(functions.notifier.recipientSecrets).toBe('read');
    // The admin paths make and rotate secrets (create, or a new value of one that exists); the notifier only reads.
    const actionsOf = (name: FunctionName) =>
      secretsStatements(name)
        .flatMap((s) => [s.Action].flat())
        .sort();
    expect(functions.directoryAdmin.recipientSecrets).toBe('write');
    expect(actionsOf('directoryAdmin')).toEqual(
      expect.arrayContaining([
        'secretsmanager:CreateSecret',
        'secretsmanager:GetSecretValue',
        'secretsmanager:PutSecretValue',
      ]),
    );
    expect(actionsOf('notifier')).toEqual(['secretsmanager:GetSecretValue']);
    for (const name of ['directoryAdmin', 'notifier'] as const)
      for (const statement of secretsStatements(name))
        expect(JSON.stringify(statement.Resource), name).toContain(':secret:ReferralsTest/recipients/*');
  });

  it('the pseudonym key: one generated secret of the stack, kept, readable by the evaluation function alone', () => {
    const keyId = logicalIdOf(stack.functions.pseudonymKey!);
    const secret = resource(keyId);
    expect(secret.Type).toBe('AWS::SecretsManager::Secret');
    expect(secret.Properties).toMatchObject({
      Name: 'ReferralsTest/evaluation/pseudonym-key',
      GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true },
    });
    expect(secret.DeletionPolicy).toBe('Retain');
    const readers = functionNames.filter((name) =>
      Object.values(template.findResources('AWS::IAM::Policy')).some(
        (policy) =>
          JSON.stringify(path(policy.Properties, 'Roles')).includes(
            logicalIdOf(stack.functions.byName[name].role!),
          ) && JSON.stringify(path(policy.Properties, 'PolicyDocument')).includes(keyId),
      ),
    );
    expect(readers).toEqual(['evaluation']);
    expect(functionNames.filter((name) => functions[name].pseudonymKey)).toEqual(['evaluation']);
    const variables = path(
      resource(logicalIdOf(stack.functions.byName.evaluation)).Properties,
      'Environment',
      'Variables',
    );
    expect(variables).toMatchObject({
      PSEUDONYM_KEY: 'secretsmanager:ReferralsTest/evaluation/pseudonym-key',
    });
    for (const name of functionNames.filter((n) => n !== 'evaluation')) {
      const others = path(
        resource(logicalIdOf(stack.functions.byName[name])).Properties,
        'Environment',
        'Variables',
      );
      expect(others, name).not.toHaveProperty('PSEUDONYM_KEY');
    }
  });

  it('the authorizer gets the configured issuer, audience and JWKS URL', () => {
    const variables = path(
      resource(logicalIdOf(stack.functions.byName.authorizer)).Properties,
      'Environment',
      'Variables',
    );
    const { JWT_ISSUER, JWT_AUDIENCE, JWKS_URL } = settings;
    expect(variables).toMatchObject({ JWT_ISSUER, JWT_AUDIENCE, JWKS_URL });
    expect(variables).not.toHaveProperty('EMAIL_FROM');
  });

  it('the email channel: the notifier alone may send email, only as the configured address, and gets its settings', () => {
    const emailFrom = 'referrals@social-prescribing.example.test';
    const inboxUrl = 'https://referrals.example.test/inbox';
    const other = stackWith({ emailFrom, inboxUrl }, 'WithEmail');
    const sesStatements = Object.values(Template.fromStack(other).findResources('AWS::IAM::Policy')).flatMap(
      (policy) =>
        (path(policy.Properties, 'PolicyDocument', 'Statement') as Array<Record<string, unknown>>)
          .filter((statement) => JSON.stringify(statement.Action).includes('ses:'))
          .map((statement) => ({ roles: JSON.stringify(path(policy.Properties, 'Roles')), statement })),
    );
    expect(sesStatements).toHaveLength(1);
    expect(sesStatements[0]?.roles).toContain(
      other.getLogicalId(other.functions.byName.notifier.role!.node.defaultChild as CfnElement),
    );
    expect(sesStatements[0]?.statement).toMatchObject({
      Action: 'ses:SendEmail',
      Effect: 'Allow',
      Condition: { StringEquals: { 'ses:FromAddress': emailFrom } },
    });
    Template.fromStack(other).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ EMAIL_FROM: emailFrom, INBOX_URL: inboxUrl }) },
    });
    // Without an address, no grant at all.
    expect(JSON.stringify(template.toJSON())).not.toContain('ses:SendEmail');
  });

  it.each([
    [{ inboxUrl: 'http://referrals.example.test/inbox' }, /inboxUrl must be an https URL/],
    [{ emailFrom: 'not an address' }, /emailFrom must be an email address/],
  ])('refuses the email settings %j', (props, message) => {
    expect(() => stackWith(props, 'RefusedEmail')).toThrow(message);
  });

  it('uses a JWKS URL given explicitly as it is', () => {
    const jwksUrl = 'https://keys.example.test/oauth2/certs';
    const other = Template.fromStack(stackWith({ jwksUrl }, 'ExplicitJwks'));
    other.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ JWT_ISSUER: issuer.jwtIssuer, JWKS_URL: jwksUrl }) },
    });
  });

  it.each([
    [{ jwtIssuer: 'http://login.example.test' }, /jwtIssuer must be an https URL/],
    [{ jwtIssuer: 'login.example.test' }, /jwtIssuer must be an https URL/],
    [{ jwtIssuer: '' }, /jwtIssuer must be an https URL/],
    [{ jwtIssuer: 'https://login.example.test/?tenant=1' }, /jwtIssuer must have no query or fragment/],
    [{ jwksUrl: 'http://login.example.test/keys' }, /jwksUrl must be an https URL/],
    [{ jwksUrl: 'https://user:secret@login.example.test/keys' }, /jwksUrl must not carry credentials/],
    [{ jwtAudience: '' }, /jwtAudience must be a non-empty name/],
  ])('refuses the token issuer settings %j', (props, message) => {
    expect(() => stackWith(props, 'Refused')).toThrow(message);
  });

  it.each(functionNames)(
    '%s: may use exactly the tables the topology grants, at the level it grants',
    (name) => {
      const grants = grantsOf(name);
      for (const table of tableNames) {
        const actions = grants.get(logicalIdOf(stack.tables.byName[table])) ?? new Set<string>();
        switch (functions[name].tables[table]) {
          case 'readWrite':
            expect([...actions]).toEqual(expect.arrayContaining([...readActions, ...writeActions]));
            break;
          case 'read':
            expect([...actions]).toEqual(expect.arrayContaining(readActions));
            expect(writeActions.filter((action) => actions.has(action))).toEqual([]);
            break;
          case 'append':
            expect([...actions].sort()).toEqual(['dynamodb:PutItem', 'dynamodb:Query']);
            break;
          case undefined:
            expect(actions.size, `${name} must not touch the ${table} table`).toBe(0);
        }
      }
    },
  );

  it('the audit table is append-only for every function: query and put, never update, delete or batch-write', () => {
    const audit = logicalIdOf(stack.tables.byName.audit);
    const writers = functionNames.filter((name) => functions[name].tables.audit !== undefined);
    expect(writers).toEqual([
      'intake',
      'referralStatus',
      'router',
      'notifier',
      'directoryAdmin',
      'caseWork',
      'outcomes',
      'deadlines',
    ]);
    for (const name of functionNames) {
      const grants = grantsOf(name);
      const actions = [...(grants.get(audit) ?? []), ...(grants.get(`${audit}/index/*`) ?? [])];
      expect(actions.sort(), `${name} on the audit table`).toEqual(
        writers.includes(name) ? ['dynamodb:PutItem', 'dynamodb:Query'] : [],
      );
      for (const forbidden of ['UpdateItem', 'DeleteItem', 'BatchWriteItem', '*'])
        expect(actions.some((action) => action === `dynamodb:${forbidden}`)).toBe(false);
    }
  });

  it('no role or policy in the stack may update, delete or batch-write audit items, whatever it is for', () => {
    const audit = logicalIdOf(stack.tables.byName.audit);
    // Every statement anywhere (policies, roles' inline policies, managed policies) that could reach the table: by
    // its ARN, its indexes, or any resource at all.
    const documents = [
      ...resourcesOfType('AWS::IAM::Policy').map(([, p]) => path(p.Properties, 'PolicyDocument')),
      ...resourcesOfType('AWS::IAM::ManagedPolicy').map(([, p]) => path(p.Properties, 'PolicyDocument')),
      ...resourcesOfType('AWS::IAM::Role').flatMap(([, role]) =>
        asArray(role.Properties.Policies ?? []).map((p) => path(p, 'PolicyDocument')),
      ),
    ];
    const statements = documents.flatMap((doc) => asArray(path(doc, 'Statement')));
    expect(statements.length).toBeGreaterThan(0);
    const referenceIn = (target: Json): string | undefined => {
      try {
        return logicalIdIn(target);
      } catch {
        return indexArnIn(target);
      }
    };
    const reaches = (target: Json) =>
      target === '*' ||
      (typeof target !== 'string' && [audit, `${audit}/index/*`].includes(referenceIn(target) ?? ''));
    const destructive =
      /^(dynamodb:(\*|Update.*|Delete.*|BatchWrite.*|PartiQL(Update|Delete).*|Restore.*|Import.*)|\*)$/;
    for (const statement of statements) {
      if (!isObject(statement) || statement.Effect !== 'Allow') continue;
      if (!asArray(statement.Resource ?? []).some(reaches)) continue;
      const actions = asArray(statement.Action ?? []).map(String);
      expect(
        actions.filter((action) => destructive.test(action)),
        JSON.stringify(statement),
      ).toEqual([]);
    }
    // And no role is handed an AWS managed policy that could (e.g. AmazonDynamoDBFullAccess).
    for (const [, role] of resourcesOfType('AWS::IAM::Role'))
      expect(JSON.stringify(role.Properties.ManagedPolicyArns ?? [])).not.toMatch(
        /DynamoDB|AdministratorAccess|PowerUser/,
      );
  });

  it.each(functionNames)(
    '%s: may send to the queues it sends to and consume only the queue it consumes',
    (name) => {
      const grants = grantsOf(name);
      for (const queue of queueNames) {
        const { queue: workQueue, deadLetters } = stack.queues.byName[queue];
        const actions = grants.get(logicalIdOf(workQueue)) ?? new Set<string>();
        expect(actions.has('sqs:SendMessage')).toBe(functions[name].sendsTo.includes(queue));
        expect(actions.has('sqs:DeleteMessage')).toBe(queues[queue].consumer === name);
        // Dead letters are for people to inspect and redrive, not for functions.
        expect(grants.get(logicalIdOf(deadLetters))).toBeUndefined();
      }
    },
  );
});

describe('event sources', () => {
  it('has one SQS event source per queue', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', queueNames.length);
  });

  it.each(queueNames)('%s feeds its consumer in batches, reporting failures per message', (name) => {
    const spec = queues[name];
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalIdOf(stack.queues.byName[name].queue), 'Arn'] },
      FunctionName: { Ref: logicalIdOf(stack.functions.byName[spec.consumer]) },
      BatchSize: spec.batchSize,
      MaximumBatchingWindowInSeconds: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: spec.maxConcurrency },
    });
  });
});

describe('API', () => {
  it('has one method per route, and no others', () => {
    template.resourceCountIs('AWS::ApiGateway::Method', routes.length);
  });

  it.each(routes)('$method $path calls $function through a Lambda proxy integration', (route) => {
    const resourceId = [...apiResourcePaths()].find(([, path]) => path === route.path)?.[0];
    expect(resourceId, `no API resource for ${route.path}`).toBeDefined();
    const parameters = [...route.path.matchAll(/\{([^}]+)\}/g)].map(
      (match) => `method.request.path.${match[1]}`,
    );

    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: route.method,
      ResourceId: { Ref: resourceId },
      RequestValidatorId: Match.anyValue(),
      ...(parameters.length === 0
        ? {}
        : { RequestParameters: Object.fromEntries(parameters.map((parameter) => [parameter, true])) }),
      Integration: { Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' },
    });
    const method = resourcesOfType('AWS::ApiGateway::Method').find(
      ([, each]) =>
        each.Properties.HttpMethod === route.method && logicalIdIn(each.Properties.ResourceId) === resourceId,
    );
    const target = logicalIdOf(stack.functions.byName[route.function]);
    expect(JSON.stringify(method?.[1].Properties.Integration)).toContain(`"${target}"`);
  });

  it.each(routes)('$method $path: a token and a registered client unless public', (route) => {
    const method = methodOf(route.method, route.path);
    if (route.access === 'public') {
      expect(method.AuthorizationType).toBe('NONE');
      expect(method.AuthorizerId).toBeUndefined();
      expect(method.ApiKeyRequired ?? false).toBe(false);
    } else {
      expect(method.AuthorizationType).toBe('CUSTOM');
      expect(method.AuthorizerId).toEqual({ Ref: logicalIdOf(stack.api.authorizer) });
      expect(method.ApiKeyRequired).toBe(true);
    }
  });

  it('has both public and authenticated routes, so the test above checks both kinds', () => {
    expect(routes.some((route) => route.access === 'public')).toBe(true);
    expect(routes.some((route) => route.access !== 'public')).toBe(true);
  });

  it('verifies bearer tokens with a TOKEN authorizer on the Authorization header, cached per token', () => {
    template.resourceCountIs('AWS::ApiGateway::Authorizer', 1);
    const [, authorizer] = resourcesOfType('AWS::ApiGateway::Authorizer')[0] ?? [];
    expect(authorizer?.Properties).toMatchObject({
      Type: 'TOKEN',
      IdentitySource: 'method.request.header.Authorization',
      AuthorizerResultTtlInSeconds: authorizerCacheSeconds,
    });
    expect(JSON.stringify(authorizer?.Properties.AuthorizerUri)).toContain(
      `"${logicalIdOf(stack.functions.byName.authorizer)}"`,
    );
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [logicalIdOf(stack.functions.byName.authorizer), 'Arn'] },
      Principal: 'apigateway.amazonaws.com',
    });
  });

  it('takes the API key from the authorizer, never from a request header', () => {
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { ApiKeySourceType: 'AUTHORIZER' });
  });

  it("limits each client by a usage plan on the stage: the topology's client throttle and a daily quota", () => {
    template.resourceCountIs('AWS::ApiGateway::UsagePlan', 1);
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: clientThrottle.ratePerSecond, BurstLimit: clientThrottle.burst },
      Quota: { Limit: dailyRequestQuota, Period: 'DAY' },
      ApiStages: [
        {
          ApiId: { Ref: logicalIdOf(stack.api.restApi) },
          Stage: { Ref: logicalIdOf(stack.api.restApi.deploymentStage) },
        },
      ],
    });
  });

  it('gives each registered client an API key valued usageKeyFor(sub), in the usage plan', () => {
    const keys = resourcesOfType('AWS::ApiGateway::ApiKey');
    expect(keys.map(([, key]) => key.Properties.Value).sort()).toEqual(apiClients.map(usageKeyFor).sort());
    const planKeys = resourcesOfType('AWS::ApiGateway::UsagePlanKey');
    expect(planKeys).toHaveLength(apiClients.length);
    for (const [keyId, key] of keys) {
      expect(key.Properties.Enabled).toBe(true);
      // Keys belong to the usage plan only, not to a stage directly (the legacy way, which bypasses the plan).
      expect(key.Properties.StageKeys).toBeUndefined();
      const planKey = planKeys.find(([, each]) => logicalIdIn(each.Properties.KeyId) === keyId);
      expect(planKey?.[1].Properties).toEqual({
        KeyId: { Ref: keyId },
        KeyType: 'API_KEY',
        UsagePlanId: { Ref: logicalIdOf(stack.api.usagePlan) },
      });
    }
  });

  it("keeps each client's key where it is when another client is added or removed", () => {
    const keyIdsOf = (clients: string[]): Map<string, string> =>
      new Map(
        resourcesOfType(
          'AWS::ApiGateway::ApiKey',
          Template.fromStack(stackWith({ apiClients: clients })),
        ).map(([logicalId, key]) => [String(key.Properties.Value), logicalId]),
      );
    const before = keyIdsOf(['emis-web-prod', 'tpp-systmone-prod']);
    const after = keyIdsOf(['tpp-systmone-prod', 'new-gp-system']);
    const kept = usageKeyFor('tpp-systmone-prod');
    expect(after.get(kept)).toBeDefined();
    expect(after.get(kept)).toBe(before.get(kept));
  });

  it('registers no client unless told to', () => {
    const other = Template.fromStack(stackWith({}, 'NoClients'));
    other.resourceCountIs('AWS::ApiGateway::ApiKey', 0);
    other.resourceCountIs('AWS::ApiGateway::UsagePlan', 1);
  });

  // What API Gateway answers before any function runs: the brief's status codes, the topology's bodies.
  it.each([
    { type: 'MISSING_AUTHENTICATION_TOKEN', status: 404, outcome: gatewayOutcomes.notFound },
    { type: 'REQUEST_TOO_LARGE', status: 413, outcome: gatewayOutcomes.payloadTooLarge },
    { type: 'UNAUTHORIZED', status: 401, outcome: gatewayOutcomes.unauthorized },
    { type: 'ACCESS_DENIED', status: 403, outcome: gatewayOutcomes.forbidden },
    { type: 'INVALID_API_KEY', status: 403, outcome: gatewayOutcomes.forbidden },
    { type: 'THROTTLED', status: 429, outcome: gatewayOutcomes.throttled },
    { type: 'QUOTA_EXCEEDED', status: 429, outcome: gatewayOutcomes.throttled },
    { type: 'BAD_REQUEST_BODY', status: 400, outcome: gatewayOutcomes.badRequestBody },
    { type: 'BAD_REQUEST_PARAMETERS', status: 400, outcome: gatewayOutcomes.badRequestBody },
  ])('gateway response $type is $status with the OperationOutcome body', ({ type, status, outcome }) => {
    expect(outcome.status).toBe(status);
    const found = resourcesOfType('AWS::ApiGateway::GatewayResponse').filter(
      ([, each]) => each.Properties.ResponseType === type,
    );
    expect(found).toHaveLength(1);
    const props = found[0]?.[1].Properties ?? {};
    expect(props.StatusCode).toBe(String(status));
    for (const contentType of ['application/json', 'application/fhir+json']) {
      expect(JSON.parse(String(path(props, 'ResponseTemplates', contentType)))).toEqual(outcome.body);
    }
  });

  it('tells a throttled client when to retry', () => {
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'THROTTLED',
      ResponseParameters: { 'gatewayresponse.header.Retry-After': "'1'" },
    });
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'QUOTA_EXCEEDED',
      ResponseParameters: { 'gatewayresponse.header.Retry-After': "'3600'" },
    });
  });

  it('tells an unauthenticated client to send a bearer token', () => {
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'UNAUTHORIZED',
      ResponseParameters: { 'gatewayresponse.header.WWW-Authenticate': "'Bearer'" },
    });
  });

  it('every answer API Gateway gives itself carries no-store and nosniff, catch-alls included', () => {
    const responses = resourcesOfType('AWS::ApiGateway::GatewayResponse');
    expect(responses.map(([, each]) => each.Properties.ResponseType)).toEqual(
      expect.arrayContaining(['DEFAULT_4XX', 'DEFAULT_5XX', 'UNAUTHORIZED', 'THROTTLED']),
    );
    for (const [, each] of responses) {
      expect(each.Properties.ResponseParameters, String(each.Properties.ResponseType)).toMatchObject({
        'gatewayresponse.header.Cache-Control': "'no-store'",
        'gatewayresponse.header.X-Content-Type-Options': "'nosniff'",
      });
    }
  });

  it('a 5xx of the gateway keeps its status and answers an OperationOutcome', () => {
    const [found] = resourcesOfType('AWS::ApiGateway::GatewayResponse').filter(
      ([, each]) => each.Properties.ResponseType === 'DEFAULT_5XX',
    );
    const props = found?.[1].Properties ?? {};
    expect(props.StatusCode).toBeUndefined();
    expect(JSON.parse(String(path(props, 'ResponseTemplates', 'application/json')))).toEqual(
      gatewayOutcomes.gatewayError.body,
    );
  });

  it('stage is throttled, traced and access-logged, and never logs request or response bodies', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      TracingEnabled: true,
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
      MethodSettings: [
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: stageThrottle.ratePerSecond,
          ThrottlingBurstLimit: stageThrottle.burst,
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
        }),
      ],
    });
  });
});

// The alarms, the alarm topic and the dashboard: test/infra/monitoring.test.ts.

describe('outputs', () => {
  it('gives the API URL, the usage plan, every table name and every queue URL', () => {
    template.hasOutput('ApiUrl', {});
    template.hasOutput('ClientUsagePlanId', { Value: { Ref: logicalIdOf(stack.api.usagePlan) } });
    for (const name of tableNames) {
      template.hasOutput(`${constructId(name)}TableName`, {
        Value: { Ref: logicalIdOf(stack.tables.byName[name]) },
      });
    }
    for (const name of queueNames) {
      const { queue, deadLetters } = stack.queues.byName[name];
      template.hasOutput(`${constructId(name)}QueueUrl`, { Value: { Ref: logicalIdOf(queue) } });
      template.hasOutput(`${constructId(name)}DeadLetterQueueUrl`, {
        Value: { Ref: logicalIdOf(deadLetters) },
      });
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Reading the template

const DAY = 24 * 60 * 60;

/** The least a function needs to read and write a table; the grants must include these. */
const readActions = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem'];
const writeActions = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
];

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface CfnResource {
  Type: string;
  Properties: JsonObject;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

const allResources = (template.toJSON() as { Resources: Record<string, CfnResource> }).Resources;

function resource(logicalId: string): CfnResource {
  const found = allResources[logicalId];
  if (found === undefined) throw new Error(`No resource ${logicalId} in the template`);
  return { ...found, Properties: found.Properties ?? {} };
}

function resourcesOfType(type: string, from: Template = template): Array<[string, CfnResource]> {
  const resources = (from.toJSON() as { Resources: Record<string, CfnResource> }).Resources;
  return Object.entries(resources)
    .map(([logicalId, each]): [string, CfnResource] => [
      logicalId,
      { ...each, Properties: each.Properties ?? {} },
    ])
    .filter(([, each]) => each.Type === type);
}

/** The properties of the method for a route. */
function methodOf(httpMethod: string, routePath: string): JsonObject {
  const resourceId = [...apiResourcePaths()].find(([, each]) => each === routePath)?.[0];
  const found = resourcesOfType('AWS::ApiGateway::Method').find(
    ([, each]) =>
      each.Properties.HttpMethod === httpMethod && logicalIdIn(each.Properties.ResourceId) === resourceId,
  );
  if (found === undefined) throw new Error(`No method ${httpMethod} ${routePath}`);
  return found[1].Properties;
}

function logicalIdOf(construct: IConstruct): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnElement);
}

/** The logical id in `{ Ref: id }` or `{ 'Fn::GetAtt': [id, attribute] }`. */
function logicalIdIn(reference: Json | undefined): string {
  if (isObject(reference)) {
    const ref = reference.Ref;
    if (typeof ref === 'string') return ref;
    const getAtt = reference['Fn::GetAtt'];
    if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  }
  throw new Error(`Not a reference to a resource: ${JSON.stringify(reference)}`);
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `path(props, 'Environment', 'Variables')`, failing loudly if a step is missing. */
function path(value: Json, ...keys: string[]): Json {
  let current: Json = value;
  for (const key of keys) {
    const next: Json | undefined = isObject(current) ? current[key] : undefined;
    if (next === undefined) throw new Error(`No ${keys.join('.')} in ${JSON.stringify(value)}`);
    current = next;
  }
  return current;
}

function numberIn(props: JsonObject, key: string): number {
  const value = props[key];
  if (typeof value !== 'number') throw new Error(`${key} is not a number: ${JSON.stringify(value)}`);
  return value;
}

function setOf(...items: string[]): Set<string> {
  return new Set(items);
}

/** The actions a function's role allows, by the logical id of the resource each statement names. */
function grantsOf(name: FunctionName): Map<string, Set<string>> {
  const roleId = logicalIdIn(resource(logicalIdOf(stack.functions.byName[name])).Properties.Role);
  const grants = new Map<string, Set<string>>();
  for (const [, policy] of resourcesOfType('AWS::IAM::Policy')) {
    const roles = policy.Properties.Roles;
    if (!Array.isArray(roles) || !roles.some((role) => logicalIdIn(role) === roleId)) continue;
    for (const statement of asArray(path(policy.Properties, 'PolicyDocument', 'Statement'))) {
      if (!isObject(statement) || statement.Effect !== 'Allow') continue;
      const actions = asArray(statement.Action ?? []).map(String);
      for (const target of asArray(statement.Resource ?? [])) {
        const key =
          typeof target === 'string'
            ? target
            : (indexArnIn(target) ?? recipientSecretsArnIn(target) ?? logicalIdIn(target));
        grants.set(key, setOf(...(grants.get(key) ?? []), ...actions));
      }
    }
  }
  return grants;
}

/** `recipient-secrets` for the ARN pattern of this stack's recipients' secrets (a Fn::Join ending in the prefix). */
function recipientSecretsArnIn(reference: Json): string | undefined {
  const join = isObject(reference) ? reference['Fn::Join'] : undefined;
  const parts = Array.isArray(join) ? join[1] : undefined;
  const last = Array.isArray(parts) ? parts.at(-1) : undefined;
  return typeof last === 'string' && last.endsWith(':secret:ReferralsTest/recipients/*')
    ? 'recipient-secrets'
    : undefined;
}

/** `<table logical id>/index/*` for `{ 'Fn::Join': ['', [{ 'Fn::GetAtt': [table, 'Arn'] }, '/index/*']] }`. */
function indexArnIn(reference: Json): string | undefined {
  const join = isObject(reference) ? reference['Fn::Join'] : undefined;
  const parts = Array.isArray(join) ? join[1] : undefined;
  if (!Array.isArray(parts) || parts.length !== 2 || parts[1] !== '/index/*') return undefined;
  return `${logicalIdIn(parts[0])}/index/*`;
}

function asArray(value: Json): Json[] {
  return Array.isArray(value) ? value : [value];
}

/** API Gateway resource logical id -> its full path, e.g. `/referrals/{id}`, by walking up the parents. */
function apiResourcePaths(): Map<string, string> {
  const apiResources = new Map(resourcesOfType('AWS::ApiGateway::Resource'));
  const pathOf = (logicalId: string): string => {
    const props = apiResources.get(logicalId)?.Properties ?? {};
    const parent = props.ParentId;
    const parentPath =
      isObject(parent) && Array.isArray(parent['Fn::GetAtt']) && parent['Fn::GetAtt'][1] === 'RootResourceId'
        ? ''
        : pathOf(logicalIdIn(parent));
    return `${parentPath}/${String(props.PathPart)}`;
  };
  return new Map([...apiResources.keys()].map((logicalId) => [logicalId, pathOf(logicalId)]));
}
