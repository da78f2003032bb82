import path from 'node:path';
import { ArnFormat, Duration, RemovalPolicy, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { functionEnvironment } from '#system/environment.ts';
import { functionNames, functions, type SettingName, type TableAccess } from '#system/functions.ts';
import { type FunctionName } from '#system/names.ts';
import { queueNames, queues } from '#system/queues.ts';
import { tables } from '#system/tables.ts';
import { type QueueName, type TableName } from '#system/names.ts';
import { acknowledgeCompliance } from './compliance.ts';
import { byName, constructId, entriesOf } from './naming.ts';
import type { QueuePair } from './queues.ts';

export interface FunctionsProps {
  /** The directory `entry` paths in the topology are relative to (the one holding package.json). */
  readonly projectRoot: string;
  readonly tables: Record<TableName, ITable>;
  readonly queues: Record<QueueName, QueuePair>;
  /** How long each function's log group keeps its logs. */
  readonly logRetention: RetentionDays;
  /** Deployment settings (the token issuer), each given to the functions whose topology entry asks for it. */
  readonly settings: Record<SettingName, string>;
  /** The key the tables and the pseudonym key secret are encrypted with. */
  readonly dataKey: IKey;
  /** The key every function's log group is encrypted with. */
  readonly logsKey: IKey;
}

/**
 * How every function is bundled. ESM, like the rest of the project, which Lambda's Node runtimes load natively from
 * `index.mjs`. esbuild's ESM output has no `require`, yet some bundled CommonJS dependencies still call it, so the
 * banner defines one. Minified code with source maps keeps packages small and stack traces readable
 * (the maps carry no source text, only positions, which is all NODE_OPTIONS=--enable-source-maps needs).
 */
export const bundling: BundlingOptions = {
  format: OutputFormat.ESM,
  target: 'node24',
  // Prefer packages' ES module builds: they tree-shake, which keeps the AWS SDK small in the bundle.
  mainFields: ['module', 'main'],
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  // Bundle the AWS SDK rather than mark it external for the runtime's copy: the functions then run the SDK versions
  // the tests ran against (package-lock.json pins them), not whatever the runtime ships that month, and a bundled,
  // minified, tree-shaken SDK starts faster than the runtime's full packages read from disk.
  bundleAwsSDK: true,
  banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
  // Lambda gives every function its credentials in the environment: the SDK's default chain becomes that one
  // provider (shared/platform/lambda-credentials.ts says why), about 130 KB less per bundle. The path is relative
  // to the project root, where CDK runs esbuild.
  esbuildArgs: { '--alias:@aws-sdk/credential-provider-node': './shared/platform/lambda-credentials.ts' },
};

/**
 * A function's static files, copied into its bundle as `assets/` beside the code (the handler reads
 * `./assets/<name>` relative to its module, which is the same path in the source tree and in the bundle).
 */
function copyAssets(folder: string): NonNullable<BundlingOptions['commandHooks']> {
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (inputDir, outputDir) => [
      `cp -R "${path.join(inputDir, folder)}" "${path.join(outputDir, 'assets')}"`,
    ],
  };
}

/**
 * Recipients' signing secrets are Secrets Manager secrets named `<stack name>/recipients/<kind>/<id>`, one per
 * recipient, created by the directory's admin paths (not by this stack: recipients come and go at run time). A
 * function's grant names this prefix, so it can reach these secrets and no other in the account.
 */
export const recipientSecretsPrefixOf = (stack: Stack): string => `${stack.stackName}/recipients`;

/** What a granted function finds in RECIPIENT_SECRETS (shared/platform/secrets.ts reads it). */
export const recipientSecretsLocationOf = (stack: Stack): string =>
  `secretsmanager:${recipientSecretsPrefixOf(stack)}`;

/**
 * The evaluation extract's pseudonym key: one Secrets Manager secret of this stack, generated when the stack is
 * created (so no person ever sees it) and readable only by functions granted `pseudonymKey`.
 */
export const pseudonymKeyNameOf = (stack: Stack): string => `${stack.stackName}/evaluation/pseudonym-key`;

/** What a granted function finds in PSEUDONYM_KEY (shared/platform/secrets.ts reads it). */
export const pseudonymKeyLocationOf = (stack: Stack): string => `secretsmanager:${pseudonymKeyNameOf(stack)}`;

/** The IAM actions of each recipientSecrets grant: read to sign, write to store a new or rotated secret. */
const recipientSecretsActions = {
  read: ['secretsmanager:GetSecretValue'],
  write: [
    'secretsmanager:GetSecretValue',
    'secretsmanager:CreateSecret',
    'secretsmanager:PutSecretValue',
    'secretsmanager:TagResource',
  ],
} as const;

/**
 * One Lambda function per entry in the topology's `functions`, with exactly the access the topology grants it, and
 * the SQS event sources that feed each queue to its consumer.
 *
 * Each function has its own role and its own log group: the role may write to that log group and nowhere else,
 * instead of the usual managed policy that may write to any log group in the account.
 */
export class Functions extends Construct {
  readonly byName: Record<FunctionName, NodejsFunction>;
  /** The pseudonym key (present when a function is granted it). */
  readonly pseudonymKey: Secret | undefined;

  constructor(scope: Construct, id: string, props: FunctionsProps) {
    super(scope, id);
    this.pseudonymKey = functionNames.some((name) => functions[name].pseudonymKey)
      ? this.createPseudonymKey(props.dataKey)
      : undefined;
    this.byName = byName(functionNames, (name) => this.createFunction(name, props));
    for (const queueName of queueNames) this.feedQueueToConsumer(queueName, props.queues[queueName].queue);
  }

  private createFunction(name: FunctionName, props: FunctionsProps): NodejsFunction {
    const spec = functions[name];
    const id = constructId(name);

    const logGroup = new LogGroup(this, `${id}Logs`, {
      retention: props.logRetention,
      encryptionKey: props.logsKey,
    });
    const role = new Role(this, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs the ${name} function`,
    });
    logGroup.grantWrite(role);

    const fn = new NodejsFunction(this, id, {
      description: spec.purpose,
      projectRoot: props.projectRoot,
      depsLockFilePath: path.join(props.projectRoot, 'package-lock.json'),
      entry: path.join(props.projectRoot, spec.entry),
      handler: 'handler',
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      timeout: Duration.seconds(spec.timeoutSeconds),
      memorySize: spec.memoryMb,
      role,
      logGroup,
      tracing: Tracing.ACTIVE,
      environment: {
        ...functionEnvironment(
          name,
          (table) => props.tables[table].tableName,
          (queue) => props.queues[queue].queue.queueUrl,
          (setting) => props.settings[setting],
          () => recipientSecretsLocationOf(Stack.of(this)),
          'https-only',
          () => pseudonymKeyLocationOf(Stack.of(this)),
          // Active tracing runs the X-Ray daemon beside each function: its SDK calls become subsegments.
          'active',
        ),
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: spec.assets ? { ...bundling, commandHooks: copyAssets(spec.assets) } : bundling,
    });

    for (const [table, access] of entriesOf<TableName, TableAccess>(spec.tables)) {
      grantTableAccess(props.tables[table], fn, access);
      // grantReadData / grantReadWriteData cover the table's indexes as `<table arn>/index/*`.
      if (access !== 'append' && (tables[table].indexes ?? []).length > 0) {
        const tableId = Stack.of(this).getLogicalId(props.tables[table].node.defaultChild as CfnElement);
        Validations.of(role).acknowledge({
          id: `AwsSolutions-IAM5[Resource::<${tableId}.Arn>/index/*]`,
          reason:
            `The wildcard is the ${table} table's own indexes (${(tables[table].indexes ?? []).map((i) => i.name).join(', ')}), ` +
            'which hold only projections of items this role may already read from the table itself.',
        });
      }
    }
    for (const queue of spec.sendsTo) props.queues[queue].queue.grantSendMessages(fn);
    if (spec.recipientSecrets) this.grantRecipientSecrets(fn, role, spec.recipientSecrets);
    if (spec.sendsEmail) this.grantSendEmail(fn, role, props.settings.EMAIL_FROM);
    if (spec.pseudonymKey) this.pseudonymKey?.grantRead(fn);

    // Active tracing adds xray:PutTraceSegments and xray:PutTelemetryRecords on "*" to the role's policy.
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray trace upload (xray:PutTraceSegments, xray:PutTelemetryRecords) has no resource-level permissions, ' +
        'so AWS requires Resource "*"; every other statement in this role names its table, queue or log group.',
    });
    this.acknowledgeCompliance(fn, role, name);
    return fn;
  }

  /** The HIPAA Security and NIST 800-53 R5 findings that the design answers otherwise, each said why. */
  private acknowledgeCompliance(fn: NodejsFunction, role: Role, name: FunctionName): void {
    acknowledgeCompliance(
      fn,
      'LambdaInsideVPC',
      'The functions call only AWS APIs over TLS with IAM-signed requests and partner webhooks on the internet ' +
        '(https only); they hold no network-reachable state, so a VPC would add NAT gateways (cost, a new path ' +
        'to the internet to secure) and cold-start time without keeping any data off a network it now travels.',
    );
    acknowledgeCompliance(
      fn,
      'LambdaDLQ',
      'A Lambda DLQ catches only asynchronous invocations. API functions are invoked synchronously by API ' +
        'Gateway (the caller sees the failure); queue consumers by event source mappings, whose failures go to ' +
        "the source queue's own dead-letter queue; scheduled runs are idempotent sweeps that the next run redoes.",
    );
    acknowledgeCompliance(
      fn,
      'LambdaConcurrency',
      `The ${name} function is bounded elsewhere: queue consumers by their event source's maxConcurrency, API ` +
        'functions by the stage and per-client throttles and the WAF rate rule. Reserved concurrency would ' +
        "carve the account's pool and fail deploys into accounts with the default low limit.",
    );
    // The key grants (grantReadData, grantSendMessages, ...) name the one data key; the wildcards are KMS action
    // families (GenerateDataKey and GenerateDataKeyWithoutPlaintext; ReEncryptFrom and ReEncryptTo).
    for (const action of ['kms:GenerateDataKey*', 'kms:ReEncrypt*']) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Action::${action}]`,
        reason:
          `${action} is a family of KMS actions that CDK's table, queue and secret grants write, and the statement ` +
          "names one resource, the stack's data key: no other key in the account can be used.",
      });
    }
    acknowledgeCompliance(
      role,
      'IAMNoInlinePolicy',
      "Each function's policy is generated from its topology grants and attached to its one role only; a " +
        'managed policy would be a shareable object that another role could attach, the opposite of least privilege.',
    );
  }

  /**
   * 64 random letters and digits, made by Secrets Manager at deploy time, encrypted with the stack's data key, and kept if the stack is deleted (extracts made with it could not be linked to any made after).
   */
  private createPseudonymKey(key: IKey): Secret {
    const secret = new Secret(this, 'PseudonymKey', {
      encryptionKey: key,
      secretName: pseudonymKeyNameOf(Stack.of(this)),
      description:
        "The evaluation extract's pseudonym key (HMAC-SHA-256 of NHS numbers): never rotated, read only by the evaluation function.",
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The pseudonym key is not rotated on purpose: a new key gives every patient a new pseudonym, so extracts made ' +
        'before a rotation could not be linked to those made after. Only the evaluation function may read it.',
    });
    acknowledgeCompliance(
      secret,
      'SecretsManagerRotationEnabled',
      'The pseudonym key is not rotated on purpose: a new key gives every patient a new pseudonym, so extracts ' +
        'made before a rotation could not be linked to those made after (as AwsSolutions-SMG4).',
    );
    return secret;
  }

  private grantRecipientSecrets(fn: NodejsFunction, role: Role, access: 'read' | 'write'): void {
    const stack = Stack.of(this);
    // Secrets Manager appends six random characters to a secret's ARN, hence the `-??????` after each name.
    const secrets = stack.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      resourceName: `${recipientSecretsPrefixOf(stack)}/*`,
    });
    fn.addToRolePolicy(
      new PolicyStatement({ actions: [...recipientSecretsActions[access]], resources: [secrets] }),
    );
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${recipientSecretsPrefixOf(stack)}/*]`,
      reason:
        'One secret per recipient, created at run time as recipients join the directory: the wildcard is this ' +
        "stack's recipients' signing secrets, and no other secret in the account.",
    });
  }

  /**
   * `ses:SendEmail` from the one configured address, and only that: the `ses:FromAddress` condition pins the sender,
   * so the role cannot send as any other identity of the account. The identity is not named in the resource because
   * SES authorises a send against the sending identity (the address or its domain, whichever is verified) and, while
   * the account is in the SES sandbox, against each recipient's identity too. No address configured: no grant.
   */
  private grantSendEmail(fn: NodejsFunction, role: Role, from: string): void {
    if (from === '') return;
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['ses:SendEmail'],
        resources: [Stack.of(this).formatArn({ service: 'ses', resource: 'identity', resourceName: '*' })],
        conditions: { StringEquals: { 'ses:FromAddress': from } },
      }),
    );
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:identity/*]',
      reason:
        'SES checks SendEmail against the sending identity (the address or its domain) and, in the sandbox, each ' +
        "recipient's: the statement is pinned instead by its ses:FromAddress condition to the one configured " +
        'sender, so the role can send only as that address. The emails carry no patient data.',
    });
  }

  /** The queue's consumer polls it in batches, reporting failures per message so one bad message fails alone. */
  private feedQueueToConsumer(queueName: QueueName, queue: QueuePair['queue']): void {
    const spec = queues[queueName];
    this.byName[spec.consumer].addEventSource(
      new SqsEventSource(queue, {
        batchSize: spec.batchSize,
        maxConcurrency: spec.maxConcurrency,
        reportBatchItemFailures: true,
        // A short wait fills batches under load while adding at most a second to a referral's journey.
        maxBatchingWindow: Duration.seconds(spec.maxBatchingWindowSeconds),
      }),
    );
  }
}

function grantTableAccess(table: ITable, fn: NodejsFunction, access: TableAccess): void {
  switch (access) {
    case 'read':
      table.grantReadData(fn);
      return;
    case 'readWrite':
      table.grantReadWriteData(fn);
      return;
    case 'append':
      // Query (to read the chain's head and event keys) and PutItem (the next link, conditional on its sequence
      // number) alone: grantWriteData would add UpdateItem, DeleteItem and BatchWriteItem (a batch put cannot carry
      // a condition, so it could overwrite a link).
      table.grant(fn, 'dynamodb:Query', 'dynamodb:PutItem');
      // table.grant adds no key permissions (grantReadData and grantReadWriteData do): reading and writing items
      // of a table under a customer managed key needs them.
      table.encryptionKey?.grant(fn, 'kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey*');
      return;
  }
}
