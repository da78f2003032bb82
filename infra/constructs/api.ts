import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  AccessLogField,
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  ResponseType,
  RestApi,
  type RequestValidator,
} from 'aws-cdk-lib/aws-apigateway';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { gatewayOutcomes } from '../../shared/http/operation-outcome.ts';
import { routes, type FunctionName, type RouteSpec } from '../topology.ts';

export interface ApiProps {
  readonly functions: Record<FunctionName, IFunction>;
  /** How long the access log keeps its entries. */
  readonly logRetention: RetentionDays;
}

/** The URL prefix the stage adds before every route, so a breaking version can later live beside this one. */
export const stageName = 'v1';

/**
 * Default per-method limits for the stage. A GP clinical system sends referrals one at a time as clinicians make
 * them; these limits are far above that, and low enough that a misbehaving client cannot run up the Lambda, DynamoDB
 * and SQS bill or starve other callers. Requests over the limit get the `throttled` OperationOutcome (429).
 */
export const throttling = { rateLimit: 100, burstLimit: 200 } as const;

/**
 * Answers API Gateway gives on its own, before any function runs, mapped to the OperationOutcome bodies in
 * shared/http/operation-outcome.ts so a client sees one error shape whoever answered. An unknown route surfaces as
 * MISSING_AUTHENTICATION_TOKEN (a REST API's way of not revealing which paths exist), which for us is a plain 404.
 */
const gatewayResponses: ReadonlyArray<{
  type: ResponseType;
  outcome: keyof typeof gatewayOutcomes;
  headers?: Record<string, string>;
}> = [
  { type: ResponseType.MISSING_AUTHENTICATION_TOKEN, outcome: 'notFound' },
  { type: ResponseType.REQUEST_TOO_LARGE, outcome: 'payloadTooLarge' },
  // The throttled body tells the client to wait for Retry-After; one second is one refill of the rate limit.
  { type: ResponseType.THROTTLED, outcome: 'throttled', headers: { 'Retry-After': "'1'" } },
  { type: ResponseType.BAD_REQUEST_BODY, outcome: 'badRequestBody' },
  // The request validator can reject a request for its parameters too; to the client that is the same bad request.
  { type: ResponseType.BAD_REQUEST_PARAMETERS, outcome: 'badRequestBody' },
];

/** Each body is registered under both content types, so a client that negotiates FHIR JSON gets it too. */
const errorContentTypes = ['application/json', 'application/fhir+json'] as const;

/**
 * The REST API: one resource and method per entry in the topology's `routes`, each a Lambda proxy integration.
 *
 * The stage is throttled, traced with X-Ray, and writes a JSON access log line per request. The access log names
 * the route template (`/referrals/{id}`), never the concrete path, and execution logging is at ERROR with request
 * and response bodies off: referral bodies carry patient data and must not reach logs.
 */
export class Api extends Construct {
  readonly restApi: RestApi;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);

    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: props.logRetention });
    this.restApi = new RestApi(this, 'RestApi', {
      restApiName: Stack.of(this).stackName,
      description: 'Social prescribing referrals: the routes in infra/topology.ts',
      endpointTypes: [EndpointType.REGIONAL],
      // API Gateway needs an account-level role to write any log to CloudWatch; keep it if the stack goes, because
      // other APIs in the account may rely on the same setting.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName,
        throttlingRateLimit: throttling.rateLimit,
        throttlingBurstLimit: throttling.burstLimit,
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
    for (const route of routes) this.addRoute(route, props.functions[route.function], validator);

    for (const { type, outcome, headers } of gatewayResponses) {
      const { status, body } = gatewayOutcomes[outcome];
      const template = literalTemplate(body);
      this.restApi.addGatewayResponse(constructIdOf(type), {
        type,
        statusCode: String(status),
        templates: Object.fromEntries(errorContentTypes.map((contentType) => [contentType, template])),
        ...(headers === undefined ? {} : { responseHeaders: headers }),
      });
    }

    this.acknowledgeFindings();
  }

  private addRoute(route: RouteSpec, fn: IFunction, requestValidator: RequestValidator): void {
    const resource = this.restApi.root.resourceForPath(route.path);
    const method = resource.addMethod(route.method, new LambdaIntegration(fn, { proxy: true }), {
      authorizationType: AuthorizationType.NONE,
      requestValidator,
      requestParameters: Object.fromEntries(
        pathParameters(route.path).map((name) => [`method.request.path.${name}`, true]),
      ),
    });
    const later =
      'Callers are to be authenticated by a JWT authorizer (practice, partner, team, role) in a later issue';
    Validations.of(method).acknowledge(
      {
        id: 'AwsSolutions-APIG4',
        reason: `${later}; until then the API must not be given real patient data.`,
      },
      {
        id: 'AwsSolutions-COG4',
        reason: `${later}: the identity provider is the NHS one (JWT), not Cognito.`,
      },
    );
  }

  private acknowledgeFindings(): void {
    Validations.of(this.restApi.deploymentStage).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        "No WAF yet: AWS's common managed rule set blocks request bodies over 8 KB (SizeRestrictions_BODY) and FHIR " +
        'referral bundles are larger, so a web ACL needs tuning for FHIR; it comes with the JWT authorizer. Stage ' +
        'throttling bounds abuse until then.',
    });
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
