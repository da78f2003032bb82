import {
  errorOutcomes,
  type BarsErrorCode,
  type ErrorOutcome,
  type IssueType,
  type OutcomeIssue,
} from '#kernel/errors.ts';

/**
 * FHIR OperationOutcome: how every client error is told, on every route, in AWS and locally.
 * The BaRS error code goes in `issue.details.coding`; `expression` names the offending field.
 */

export const barsErrorCodeSystem = 'https://fhir.nhs.uk/CodeSystem/http-error-codes';

export type { BarsErrorCode, IssueType, OutcomeIssue } from '#kernel/errors.ts';

export interface OperationOutcome {
  resourceType: 'OperationOutcome';
  issue: Array<{
    severity: 'error';
    code: IssueType;
    details: { coding: Array<{ system: string; code: BarsErrorCode; display: string }> };
    diagnostics: string;
    expression?: string[];
  }>;
}

/**
 * Each code's display. Those checked against the published CodeSystem carry its display verbatim; the rest are ours
 * until checked: test/support/nhs-http-error-codes.json records which is which (test/unit/fhir/http-error-codes.test.ts).
 */
const displays: Record<BarsErrorCode, string> = {
  REC_BAD_REQUEST: '400: The Receiver was unable to process the request.',
  REC_UNAUTHORIZED: '401: The Receiver deemed you unauthorized to make this request.',
  REC_FORBIDDEN: '403: Failed to authenticate with the Receiver.',
  REC_NOT_FOUND: '404: The Receiver was unable to find the specified resource.',
  REC_NOT_ACCEPTABLE: 'Not acceptable',
  REC_CONFLICT: 'Conflict',
  REC_UNPROCESSABLE_ENTITY: 'Unprocessable entity',
  REC_PAYLOAD_TOO_LARGE: 'Payload too large',
  SEND_TOO_MANY_REQUESTS: 'Too many requests',
  REC_SERVER_ERROR: 'Internal server error',
  REC_SERVICE_UNAVAILABLE: 'Service unavailable',
};

export function operationOutcome(errorCode: BarsErrorCode, issues: OutcomeIssue[]): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: issues.map((issue) => ({
      severity: 'error',
      code: issue.code,
      details: { coding: [{ system: barsErrorCodeSystem, code: errorCode, display: displays[errorCode] }] },
      diagnostics: issue.diagnostics,
      ...(issue.expression === undefined ? {} : { expression: [issue.expression] }),
    })),
  };
}

/** An answer the gateway gives itself: status, fixed headers and OperationOutcome body. */
export interface GatewayOutcome {
  status: number;
  headers: Readonly<Record<string, string>>;
  body: OperationOutcome;
}

/**
 * A gateway answer of one kind (a row of kernel/errors.ts's table, or one only the gateway gives): its status, code
 * and headers, and one issue of its first issue type.
 */
function gatewayOutcome(
  kind: Pick<ErrorOutcome, 'status' | 'code' | 'issueTypes' | 'headers'>,
  diagnostics: string,
): GatewayOutcome {
  return {
    status: kind.status,
    headers: kind.headers ?? {},
    body: operationOutcome(kind.code, [{ code: kind.issueTypes[0], diagnostics }]),
  };
}

/**
 * Answers API Gateway gives before any function runs (unknown route, oversized body, throttling). The CDK stack
 * installs them as gateway responses and the local gateway sends the same bodies, so clients see one shape. Those a
 * function could also give are rows of the error table; throttling, oversized headers and the gateway's own failure
 * only the gateway gives, so they are spelled out here.
 */
export const gatewayOutcomes = {
  notFound: gatewayOutcome(
    errorOutcomes.NotFoundError,
    'No such route: docs/api.md lists the routes offered',
  ),
  payloadTooLarge: gatewayOutcome(
    errorOutcomes.PayloadTooLargeError,
    'Request body exceeds the 256 KB limit for a referral',
  ),
  unauthorized: gatewayOutcome(
    errorOutcomes.UnauthorizedError,
    'A valid bearer token is required (Authorization: Bearer <JWT>)',
  ),
  forbidden: gatewayOutcome(errorOutcomes.ForbiddenError, 'The token does not allow this'),
  // Retry-After depends on who throttles (API Gateway per response type, the local gateway per client's bucket).
  throttled: gatewayOutcome(
    { status: 429, code: 'SEND_TOO_MANY_REQUESTS', issueTypes: ['throttled'] },
    'Too many requests: retry after the interval in Retry-After',
  ),
  badRequestBody: gatewayOutcome(errorOutcomes.ValidationError, 'Request could not be read by the gateway'),
  malformedPath: gatewayOutcome(
    errorOutcomes.ValidationError,
    'The request path has a malformed percent-escape (% must start %XX)',
  ),
  headersTooLarge: gatewayOutcome(
    { status: 431, code: 'REC_BAD_REQUEST', issueTypes: ['too-long'] },
    'Request line and headers exceed the 10240-byte limit (API Gateway: request line and header values)',
  ),
  /** The gateway itself failed (API Gateway's DEFAULT_5XX): nothing was acknowledged. */
  gatewayError: gatewayOutcome(
    { status: 502, code: 'REC_SERVER_ERROR', issueTypes: ['exception'] },
    'The gateway could not complete the request; nothing was acknowledged',
  ),
} satisfies Record<string, GatewayOutcome>;
