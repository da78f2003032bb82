import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  AccessLogField,
  AccessLogFormat,
  ApiKey,
  ApiKeySourceType,
  AuthorizationType,
  CfnUsagePlanKey,
  EndpointType,
  IdentitySource,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  Period,
  ResponseType,
  RestApi,
  TokenAuthorizer,
  type UsagePlan,
  type RequestValidator,
} from 'aws-cdk-lib/aws-apigateway';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { CfnLoggingConfiguration, CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { acknowledgeCompliance } from './compliance.ts';
import { usageKeyFor } from '#auth/usage-key.ts';
import { gatewayOutcomes } from '#http/operation-outcome.ts';
import { securityHeaders } from '#http/responses.ts';
import { authorizerCacheSeconds, clientThrottle, stageThrottle } from '#system/limits.ts';
import { routes, type RouteSpec } from '#system/routes.ts';
import { type FunctionName } from '#system/names.ts';

export interface ApiProps {
  readonly functions: Record<FunctionName, IFunction>;
  /** How long the access log keeps its entries. */
  readonly logRetention: RetentionDays;
  /** The key the access log group is encrypted with. */
  readonly logsKey: IKey;
  /**
   * The JWT `sub` of every client allowed past the authorizer on authenticated routes: each gets an API key in the
   * usage plan, whose value is `usageKeyFor(sub)`. A valid token of any other subject is refused with 403.
   */
  readonly apiClients: readonly string[];
}

/** The URL prefix the stage adds before every route, so a breaking version can later live beside this one. */
export const stageName = 'v1';

/**
 * Requests one source address may make in any five minutes before the web ACL blocks it (WAF counts over a sliding
 * five-minute window). GP systems reach the API through a few shared NHS egress addresses, so this is a bound on a
 * runaway or hostile source, well above one surgery system's traffic: 100 a second sustained, a fifth of the
 * stage's throttle.
 */
export const wafRequestsPerFiveMinutesPerAddress = 30_000;

/** The AWS managed rule groups the web ACL applies, in order. */
export const wafManagedRuleGroups = [
  'AWSManagedRulesAmazonIpReputationList',
  'AWSManagedRulesCommonRuleSet',
  'AWSManagedRulesKnownBadInputsRuleSet',
] as const;

/**
 * Requests one client (one API key in the usage plan) may make per day, on top of the topology's per-second
 * `clientThrottle`. It lives here, not in the topology, because only API Gateway enforces it: the local gateway has
 * no quota. A GP clinical system sends a referral as a clinician makes one; England's social prescribing referrals
 * are of the order of a few thousand a working day across all GP systems together, so 50,000 a day leaves one client
 * ample room for status reads and retries, while bounding what a runaway client (a retry loop, a leaked token) can
 * cost in a day. Requests over it get the `throttled` OperationOutcome (429); the count starts again each day (UTC).
 */
export const dailyRequestQuota = 50_000;

/**
 * Answers API Gateway gives on its own, before any function runs, mapped to the OperationOutcome bodies in
 * shared/http/operation-outcome.ts so a client sees one error shape whoever answered. An unknown route surfaces as
 * MISSING_AUTHENTICATION_TOKEN (a REST API's way of not revealing which paths exist), which for us is a plain 404.
 */
const gatewayResponses: ReadonlyArray<{
  type: ResponseType;
  /** The body; without one API Gateway keeps its own body and status, and only the headers are added. */
  outcome?: keyof typeof gatewayOutcomes;
  /** Keep the status API Gateway chose (a catch-all covers several) rather than the outcome's. */
  keepStatus?: true;
  headers?: Record<string, string>;
}> = [
  { type: ResponseType.MISSING_AUTHENTICATION_TOKEN, outcome: 'notFound' },
  { type: ResponseType.REQUEST_TOO_LARGE, outcome: 'payloadTooLarge' },
  // No Authorization header, or the authorizer refused the token (it throws "Unauthorized"). The outcome carries
  // WWW-Authenticate (RFC 6750: a 401 names the scheme the client should use).
  { type: ResponseType.UNAUTHORIZED, outcome: 'unauthorized' },
  // The authorizer's policy does not allow the method.
  { type: ResponseType.ACCESS_DENIED, outcome: 'forbidden' },
  // A valid token whose subject is not in `apiClients`: it has no key in the usage plan, so it may not call.
  { type: ResponseType.INVALID_API_KEY, outcome: 'forbidden' },
  // The throttled body tells the client to wait for Retry-After; one second is one refill of the rate limit. Both
  // the client's usage plan limit and the stage's limit answer THROTTLED.
  { type: ResponseType.THROTTLED, outcome: 'throttled', headers: { 'Retry-After': "'1'" } },
  // The client's daily quota is spent. A gateway response cannot work out the time until the day ends (UTC), so
  // the client is told to come back in an hour rather than retry every second.
  { type: ResponseType.QUOTA_EXCEEDED, outcome: 'throttled', headers: { 'Retry-After': "'3600'" } },
  { type: ResponseType.BAD_REQUEST_BODY, outcome: 'badRequestBody' },
  // The request validator can reject a request for its parameters too; to the client that is the same bad request.
  { type: ResponseType.BAD_REQUEST_PARAMETERS, outcome: 'badRequestBody' },
  // Every other answer API Gateway gives itself. A 4xx keeps its own body (one BaRS code could not fit them all)
  // but gets the headers; a 5xx is a fault of ours whatever its cause, so it says so as an OperationOutcome.
  { type: ResponseType.DEFAULT_4XX },
  { type: ResponseType.DEFAULT_5XX, outcome: 'gatewayError', keepStatus: true },
];

/** A gateway response header value is a mapping expression: a literal is written in single quotes. */
const literalHeaders = (headers: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, `'${value}'`]));

/** Each body is registered under both content types, so a client that negotiates FHIR JSON gets it too. */
const errorContentTypes = ['application/json', 'application/fhir+json'] as const;

/**
 * The REST API: one resource and method per entry in the topology's `routes`, each a Lambda proxy integration.
 *
 * Every route that is not `public` needs a bearer JWT, verified by the `authorizer` function (a TOKEN authorizer
 * whose result API Gateway caches per token), and is limited per client: the authorizer names the caller's API key
 * (`usageIdentifierKey`), and the usage plan holding that key throttles it and caps its day. Public routes (service
 * metadata) need neither and are bounded by the stage's own throttle.
 *
 * The stage is throttled, traced with X-Ray, and writes a JSON access log line per request. The access log names
 * the route template (`/referrals/{id}`), never the concrete path, and execution logging is at ERROR with request
 * and response bodies off: referral bodies carry patient data and must not reach logs.
 */
export class Api extends Construct {
  readonly restApi: RestApi;
  readonly authorizer: TokenAuthorizer;
  /** Per-client limits; each registered client's API key belongs to it. */
  readonly usagePlan: UsagePlan;
  /** The WAF web ACL associated with the stage. */
  readonly webAcl: CfnWebACL;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);

    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      encryptionKey: props.logsKey,
    });
    this.restApi = new RestApi(this, 'RestApi', {
      restApiName: Stack.of(this).stackName,
      description: 'Social prescribing referrals: the routes in infra/topology.ts',
      endpointTypes: [EndpointType.REGIONAL],
      // Clients do not send API keys: the authorizer picks the key from the verified token's subject.
      apiKeySourceType: ApiKeySourceType.AUTHORIZER,
      // API Gateway needs an account-level role to write any log to CloudWatch; keep it if the stack goes, because
      // other APIs in the account may rely on the same setting.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName,
        // API Gateway applies these to each method, whoever calls it: the bound on the public routes, and a
        // ceiling over all clients together on the others.
        throttlingRateLimit: stageThrottle.ratePerSecond,
        throttlingBurstLimit: stageThrottle.burst,
        tracingEnabled: true,
        metricsEnabled: true,
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: accessLogFormat(),
      },
    });

    // Bodies are validated by the intake function against the domain schema, which can say which field broke
    // which rule; the gateway validator checks declared path parameters and any request model added later.
    const validator = this.restApi.addRequestValidator('Validator', {
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    this.authorizer = new TokenAuthorizer(this, 'Authorizer', {
      handler: props.functions.authorizer,
      identitySource: IdentitySource.header('Authorization'),
      resultsCacheTtl: Duration.seconds(authorizerCacheSeconds),
    });
    for (const route of routes) this.addRoute(route, props.functions[route.function], validator);

    this.usagePlan = this.restApi.addUsagePlan('ClientUsagePlan', {
      description: `Per client: ${clientThrottle.ratePerSecond} requests/s (bursts of ${clientThrottle.burst}), ${dailyRequestQuota} a day`,
      throttle: { rateLimit: clientThrottle.ratePerSecond, burstLimit: clientThrottle.burst },
      quota: { limit: dailyRequestQuota, period: Period.DAY },
      apiStages: [{ api: this.restApi, stage: this.restApi.deploymentStage }],
    });
    for (const subject of new Set(props.apiClients)) this.registerClient(subject);

    for (const { type, outcome, keepStatus, headers } of gatewayResponses) {
      const answer = outcome === undefined ? undefined : gatewayOutcomes[outcome];
      const template = answer === undefined ? undefined : literalTemplate(answer.body);
      this.restApi.addGatewayResponse(constructIdOf(type), {
        type,
        ...(answer === undefined || keepStatus ? {} : { statusCode: String(answer.status) }),
        ...(template === undefined
          ? {}
          : {
              templates: Object.fromEntries(errorContentTypes.map((contentType) => [contentType, template])),
            }),
        // The same headers as every answer the functions give (shared/http/responses.ts), and the outcome's own.
        responseHeaders: { ...literalHeaders({ ...securityHeaders, ...answer?.headers }), ...headers },
      });
    }

    this.webAcl = this.protectWithWebAcl(props);
    this.acknowledgeFindings();
  }

  /**
   * A regional WAF web ACL on the stage: a rate limit per source address, then AWS's IP reputation list, common
   * rule set and known bad inputs. The common rule set's SizeRestrictions_BODY (bodies over 8 KB) only counts:
   * FHIR referral bundles are larger than that, and the intake function enforces its own body limit and schema.
   */
  private protectWithWebAcl(props: ApiProps): CfnWebACL {
    const visibility = (metricName: string): CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      metricName,
      sampledRequestsEnabled: true,
    });
    const webAcl = new CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      description: 'Protects the referral API stage: rate limit per address and AWS managed rule groups',
      defaultAction: { allow: {} },
      visibilityConfig: visibility(`${Stack.of(this).stackName}-api`),
      rules: [
        {
          name: 'RateLimitPerAddress',
          priority: 0,
          action: { block: {} },
          statement: {
            rateBasedStatement: { limit: wafRequestsPerFiveMinutesPerAddress, aggregateKeyType: 'IP' },
          },
          visibilityConfig: visibility('RateLimitPerAddress'),
        },
        ...wafManagedRuleGroups.map((name, index) => ({
          name,
          priority: index + 1,
          overrideAction: { none: {} },
          statement: {
            managedRuleGroupStatement: {
              vendorName: 'AWS',
              name,
              ...(name === 'AWSManagedRulesCommonRuleSet'
                ? { ruleActionOverrides: [{ name: 'SizeRestrictions_BODY', actionToUse: { count: {} } }] }
                : {}),
            },
          },
          visibilityConfig: visibility(name),
        })),
      ],
    });
    new CfnWebACLAssociation(this, 'WebAclAssociation', {
      resourceArn: this.restApi.deploymentStage.stageArn,
      webAclArn: webAcl.attrArn,
    });

    // WAF logs only to a log group whose name starts aws-waf-logs-. The Authorization header (a bearer token) and
    // query strings (worklist filters) are redacted, so the log holds no credential and nothing a search named.
    const wafLogGroupName = `aws-waf-logs-${Stack.of(this).stackName}`;
    const wafLogs = new LogGroup(this, 'WafLogs', {
      logGroupName: wafLogGroupName,
      retention: props.logRetention,
      encryptionKey: props.logsKey,
    });
    const logging = new CfnLoggingConfiguration(this, 'WafLogging', {
      resourceArn: webAcl.attrArn,
      logDestinationConfigs: [
        Stack.of(this).formatArn({
          service: 'logs',
          resource: 'log-group',
          resourceName: wafLogGroupName,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
      redactedFields: [{ singleHeader: { Name: 'authorization' } }, { queryString: {} }],
    });
    logging.node.addDependency(wafLogs);
    return webAcl;
  }

  /**
   * A route that is not public needs a token the authorizer accepts and a registered client's key; which roles may
   * call it is checked by its handler, from the role the authorizer passes on (deny by default).
   */
  private addRoute(route: RouteSpec, fn: IFunction, requestValidator: RequestValidator): void {
    const isPublic = route.access === 'public';
    const resource = this.restApi.root.resourceForPath(route.path);
    const method = resource.addMethod(route.method, new LambdaIntegration(fn, { proxy: true }), {
      ...(isPublic
        ? { authorizationType: AuthorizationType.NONE }
        : { authorizationType: AuthorizationType.CUSTOM, authorizer: this.authorizer }),
      apiKeyRequired: !isPublic,
      requestValidator,
      requestParameters: Object.fromEntries(
        pathParameters(route.path).map((name) => [`method.request.path.${name}`, true]),
      ),
    });
    if (isPublic) {
      const reason =
        'Service metadata is public: the FHIR CapabilityStatement and the OpenAPI document describe the API, carry ' +
        'no patient or client data, and are read by clients before they have a token';
      Validations.of(method).acknowledge(
        { id: 'AwsSolutions-APIG4', reason: `${reason}.` },
        { id: 'AwsSolutions-COG4', reason: `${reason}; there is no authorizer of any kind on this method.` },
      );
    } else {
      Validations.of(method).acknowledge({
        id: 'AwsSolutions-COG4',
        reason:
          "Callers are authenticated by a Lambda TOKEN authorizer that verifies the identity provider's JWT " +
          '(signature against its JWKS, issuer, audience, expiry); that provider is the NHS one, not a Cognito user pool.',
      });
    }
  }

  /**
   * One API key per client, its value derived from the client's JWT subject exactly as the authorizer derives it.
   * The key is an identifier for the usage plan, not a secret: the token is what authenticates. The construct id is
   * derived from the key too, so adding or removing a client never renames (and so replaces) another's key; API
   * Gateway refuses two keys with one value, which a replacement would briefly need.
   */
  private registerClient(subject: string): void {
    const value = usageKeyFor(subject);
    const client = new Construct(this, `Client${value.slice(-16)}`);
    const apiKey = new ApiKey(client, 'ApiKey', {
      value,
      description: `API client whose tokens have sub ${JSON.stringify(subject)} (context apiClients)`,
    });
    new CfnUsagePlanKey(client, 'UsagePlanKey', {
      keyId: apiKey.keyId,
      keyType: 'API_KEY',
      usagePlanId: this.usagePlan.usagePlanId,
    });
  }

  private acknowledgeFindings(): void {
    acknowledgeCompliance(
      this.restApi.deploymentStage,
      'APIGWCacheEnabledAndEncrypted',
      'No stage cache, on purpose: answers carry referral status and patient data for one caller, and a cached ' +
        'answer could be served after a change or to a caller whose access has gone; the lists are small and fast.',
    );
    acknowledgeCompliance(
      this.restApi.deploymentStage,
      'APIGWSSLEnabled',
      'A client certificate authenticates API Gateway to an HTTP backend; every integration here is a Lambda ' +
        "function, invoked over AWS's own signed API, so there is no backend that could check a certificate.",
    );
    Validations.of(this.restApi.node.findChild('CloudWatchRole')).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        "API Gateway's account-wide logging role must write to log groups API Gateway names itself; AWS's managed " +
        'policy is the documented, logs-only policy for exactly this role.',
    });
  }
}

/** `{id}` in `/referrals/{id}` -> `id`. */
function pathParameters(path: string): string[] {
  return [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1] ?? '');
}

/** `MISSING_AUTHENTICATION_TOKEN` -> `MissingAuthenticationToken`. */
function constructIdOf(type: ResponseType): string {
  return type.responseType
    .toLowerCase()
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
}

/**
 * A gateway response template is not plain text: API Gateway substitutes `$context...` variables in it. Our bodies
 * are fixed JSON, so refuse any that contains `$` rather than let API Gateway rewrite part of it.
 */
function literalTemplate(body: unknown): string {
  const json = JSON.stringify(body);
  if (json.includes('$')) throw new Error(`Gateway response body would be altered by substitution: ${json}`);
  return json;
}

/** One JSON line per request: enough to trace and measure a call, nothing that identifies a patient. */
function accessLogFormat(): AccessLogFormat {
  return AccessLogFormat.custom(
    JSON.stringify({
      requestId: AccessLogField.contextRequestId(),
      xrayTraceId: AccessLogField.contextXrayTraceId(),
      requestTime: AccessLogField.contextRequestTime(),
      ip: AccessLogField.contextIdentitySourceIp(),
      httpMethod: AccessLogField.contextHttpMethod(),
      resourcePath: AccessLogField.contextResourcePath(),
      protocol: AccessLogField.contextProtocol(),
      status: AccessLogField.contextStatus(),
      responseLength: AccessLogField.contextResponseLength(),
      responseLatency: AccessLogField.contextResponseLatency(),
      integrationLatency: AccessLogField.contextIntegrationLatency(),
      // The gateway's own error, e.g. MISSING_AUTHENTICATION_TOKEN for an unknown route or THROTTLED.
      errorType: AccessLogField.contextErrorResponseType(),
    }),
  );
}
