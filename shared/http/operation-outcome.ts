/**
 * FHIR OperationOutcome: how every client error is told, on every route, in AWS and locally.
 * The BaRS error code goes in `issue.details.coding`; `expression` names the offending field.
 */

export const barsErrorCodeSystem = 'https://fhir.nhs.uk/CodeSystem/http-error-codes';

export type BarsErrorCode =
  | 'REC_BAD_REQUEST'
  | 'REC_UNAUTHORIZED'
  | 'REC_FORBIDDEN'
  | 'REC_NOT_FOUND'
  | 'REC_NOT_ACCEPTABLE'
  | 'REC_CONFLICT'
  | 'REC_UNPROCESSABLE_ENTITY'
  | 'REC_PAYLOAD_TOO_LARGE'
  | 'SEND_TOO_MANY_REQUESTS'
  | 'REC_SERVER_ERROR'
  | 'REC_SERVICE_UNAVAILABLE';

/** FHIR issue-type codes we use (http://hl7.org/fhir/issue-type). */
export type IssueType =
  | 'invalid'
  | 'structure'
  | 'required'
  | 'value'
  | 'invariant'
  | 'not-supported'
  | 'too-long'
  | 'not-found'
  | 'conflict'
  | 'duplicate'
  | 'processing'
  | 'throttled'
  | 'login'
  | 'forbidden'
  | 'transient'
  | 'exception';

export interface OutcomeIssue {
  code: IssueType;
  /** Human-readable: the field and the rule it broke. */
  diagnostics: string;
  /** Path of the offending element, e.g. `patient.nhsNumber`. */
  expression?: string;
}

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

/**
 * Answers API Gateway gives before any function runs (unknown route, oversized body, throttling). The CDK stack
 * installs them as gateway responses and the local gateway sends the same bodies, so clients see one shape.
 */
export const gatewayOutcomes = {
  notFound: {
    status: 404,
    body: operationOutcome('REC_NOT_FOUND', [
      { code: 'not-found', diagnostics: 'No such route: docs/api.md lists the routes offered' },
    ]),
  },
  payloadTooLarge: {
    status: 413,
    body: operationOutcome('REC_PAYLOAD_TOO_LARGE', [
      { code: 'too-long', diagnostics: 'Request body exceeds the 256 KB limit for a referral' },
    ]),
  },
  unauthorized: {
    status: 401,
    body: operationOutcome('REC_UNAUTHORIZED', [
      { code: 'login', diagnostics: 'A valid bearer token is required (Authorization: Bearer <JWT>)' },
    ]),
  },
  forbidden: {
    status: 403,
    body: operationOutcome('REC_FORBIDDEN', [
      { code: 'forbidden', diagnostics: 'The token does not allow this' },
    ]),
  },
  throttled: {
    status: 429,
    body: operationOutcome('SEND_TOO_MANY_REQUESTS', [
      { code: 'throttled', diagnostics: 'Too many requests: retry after the interval in Retry-After' },
    ]),
  },
  badRequestBody: {
    status: 400,
    body: operationOutcome('REC_BAD_REQUEST', [
      { code: 'invalid', diagnostics: 'Request could not be read by the gateway' },
    ]),
  },
  malformedPath: {
    status: 400,
    body: operationOutcome('REC_BAD_REQUEST', [
      { code: 'invalid', diagnostics: 'The request path has a malformed percent-escape (% must start %XX)' },
    ]),
  },
  headersTooLarge: {
    status: 431,
    body: operationOutcome('REC_BAD_REQUEST', [
      {
        code: 'too-long',
        diagnostics:
          'Request line and headers exceed the 10240-byte limit (API Gateway: request line and header values)',
      },
    ]),
  },
  /** The gateway itself failed (API Gateway's DEFAULT_5XX): nothing was acknowledged. */
  gatewayError: {
    status: 502,
    body: operationOutcome('REC_SERVER_ERROR', [
      {
        code: 'exception',
        diagnostics: 'The gateway could not complete the request; nothing was acknowledged',
      },
    ]),
  },
} as const;
