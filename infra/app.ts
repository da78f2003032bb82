/**
 * The CDK app: one ReferralStack, checked by cdk-nag's AWS Solutions, HIPAA Security and NIST 800-53 R5 rules at
 * every synth.
 *
 * It makes no lookups, so `npm run synth` works offline. The stack is environment-agnostic unless the CDK CLI knows
 * both an account and a region (from the AWS credentials in use), in which case it is pinned to them. A region on
 * its own is not enough: the CLI falls back to us-east-1 when none is configured, and pinning to that guess would
 * tie the template to a region nobody chose.
 *
 * Context (`-c key=value`): stackName (default SocialPrescribingReferrals), logRetentionDays (a CloudWatch Logs
 * retention, default 90), alarmEmail (an address subscribed to the stack's alarm topic, default none); the token
 * issuer: jwtIssuer and jwtAudience (required; cdk.json holds placeholders), jwksUrl (default
 * <jwtIssuer>/.well-known/jwks.json); the email channel: emailFrom (the SES-verified sender) and inboxUrl (the inbox
 * page its emails link to); and apiClients, a JSON array of the JWT `sub` of each registered client (default []).
 * See docs/deploy.md.
 */
import { App, Tags, Validations } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { nagPacks } from './constructs/compliance.ts';
import { ReferralStack } from './stack.ts';
import { serviceName } from '#system/environment.ts';

const app = new App();

const stackName = stringContext('stackName') ?? 'SocialPrescribingReferrals';
const logRetentionDays = stringContext('logRetentionDays');
const alarmEmail = stringContext('alarmEmail');
const jwtIssuer = requiredContext('jwtIssuer');
const jwtAudience = requiredContext('jwtAudience');
const jwksUrl = stringContext('jwksUrl');
const emailFrom = stringContext('emailFrom');
const inboxUrl = stringContext('inboxUrl');
const apiClients = listContext('apiClients');
const account = process.env.CDK_DEFAULT_ACCOUNT;
const region = process.env.CDK_DEFAULT_REGION;

new ReferralStack(app, stackName, {
  description: 'Social prescribing referrals: API, queues, functions and tables from infra/topology.ts',
  ...(account === undefined || region === undefined ? {} : { env: { account, region } }),
  jwtIssuer,
  jwtAudience,
  ...(jwksUrl === undefined ? {} : { jwksUrl }),
  ...(emailFrom === undefined ? {} : { emailFrom }),
  ...(inboxUrl === undefined ? {} : { inboxUrl }),
  apiClients,
  ...(logRetentionDays === undefined ? {} : { logRetention: retentionDays(logRetentionDays) }),
  ...(alarmEmail === undefined ? {} : { alarmEmail }),
});
Tags.of(app).add('service', serviceName);

// Every finding fails the synth unless it is fixed or acknowledged, with a reason, next to the resource it is about.
Validations.of(app).addPlugins(...nagPacks(app));

/** Context given on the command line arrives as a string; from cdk.json it may be any JSON value. */
function stringContext(key: string): string | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  throw new Error(`Context ${key} must be a string or number, got ${JSON.stringify(value)}`);
}

function requiredContext(key: string): string {
  const value = stringContext(key);
  if (value === undefined)
    throw new Error(
      `Context ${key} is required: set it in cdk.json or with -c ${key}=... (see docs/deploy.md)`,
    );
  return value;
}

/**
 * A list of strings: a JSON array in cdk.json, or the same array as a string on the command line
 * (`-c apiClients='["emis-web-prod"]'`), since the CLI passes every `-c` value as a string.
 */
function listContext(key: string): string[] {
  const raw: unknown = app.node.tryGetContext(key);
  if (raw === undefined || raw === null || raw === '') return [];
  let value: unknown = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      throw new Error(`Context ${key} must be a JSON array of strings, e.g. '["emis-web-prod"]', got ${raw}`);
    }
  }
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' && item.trim() !== '')) {
    throw new Error(`Context ${key} must be a JSON array of non-empty strings, got ${JSON.stringify(raw)}`);
  }
  const items = value as string[];
  const repeated = items.find((item, index) => items.indexOf(item) !== index);
  if (repeated !== undefined) throw new Error(`Context ${key} lists ${JSON.stringify(repeated)} twice`);
  return items;
}

/** CloudWatch Logs accepts only certain retention periods; refuse any other rather than fail at deploy time. */
function retentionDays(days: string): RetentionDays {
  const allowed = Object.values(RetentionDays).filter(
    (value): value is RetentionDays => typeof value === 'number',
  );
  const match = allowed.find((value) => value === Number(days));
  if (match === undefined)
    throw new Error(`logRetentionDays must be one of ${allowed.join(', ')}, got ${days}`);
  return match;
}
