import type { APIGatewayProxyResult } from 'aws-lambda';
import {
  ConflictError,
  DependencyUnavailableError,
  ForbiddenError,
  UnauthorizedError,
  NotFoundError,
  PayloadTooLargeError,
  UnprocessableError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '#kernel/errors.ts';
import { operationOutcome, type BarsErrorCode, type OperationOutcome } from '#http/operation-outcome.ts';

/** The one place where typed errors become HTTP answers. */

export const fhirJson = 'application/fhir+json; charset=utf-8';

/**
 * On every answer of the API, errors included, whoever gives it (the functions, API Gateway's own responses, the
 * local gateway): answers can carry patient data, so no browser, proxy or CDN may keep a copy, and a browser must
 * not guess a content type other than the one declared.
 */
export const securityHeaders = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' } as const;

/**
 * Problems one OperationOutcome lists. A body of thousands of bad entries would otherwise get an answer several
 * times its own size; past this, one final issue says how many more there were.
 */
export const maxOutcomeIssues = 100;
/** Characters of a client-derived diagnostics text kept (a field path is built from the client's own keys). */
const maxDiagnosticsLength = 500;

export function json(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(body),
  };
}

function outcome(statusCode: number, body: OperationOutcome): APIGatewayProxyResult {
  return { statusCode, headers: { 'Content-Type': fhirJson }, body: JSON.stringify(body) };
}

/** An error the client can act on, as a response; or undefined for a fault of ours (the caller logs it). */
export function clientErrorResponse(error: unknown): APIGatewayProxyResult | undefined {
  if (error instanceof ValidationError) {
    return outcome(
      400,
      operationOutcome('REC_BAD_REQUEST', [
        ...error.problems.slice(0, maxOutcomeIssues).map((p) => ({
          code: p.kind,
          diagnostics: clip(p.field ? `${p.field}: ${p.rule}` : p.rule),
          ...(p.field ? { expression: clip(p.field) } : {}),
        })),
        ...(error.problems.length > maxOutcomeIssues
          ? [
              {
                code: 'invalid' as const,
                diagnostics: `${error.problems.length - maxOutcomeIssues} more problems not listed (${error.problems.length} in all); fix these and resend to see the rest`,
              },
            ]
          : []),
      ]),
    );
  }
  if (error instanceof PayloadTooLargeError) {
    return outcome(
      413,
      operationOutcome('REC_PAYLOAD_TOO_LARGE', [{ code: 'too-long', diagnostics: error.message }]),
    );
  }
  if (error instanceof UnsupportedMediaTypeError) {
    // BaRS's http-error-codes has no 415 code of its own; REC_BAD_REQUEST with issue code not-supported is the
    // code BaRS gives for a feature the receiver does not support.
    return outcome(
      415,
      operationOutcome('REC_BAD_REQUEST', [
        { code: 'not-supported', diagnostics: `${error.header}: ${error.message}`, expression: error.header },
      ]),
    );
  }
  if (error instanceof UnprocessableError) {
    return outcome(
      422,
      operationOutcome('REC_UNPROCESSABLE_ENTITY', [
        { code: 'value', diagnostics: `${error.field}: ${error.message}`, expression: error.field },
      ]),
    );
  }
  if (error instanceof UnauthorizedError) {
    const response = outcome(
      401,
      operationOutcome('REC_UNAUTHORIZED', [{ code: 'login', diagnostics: error.message }]),
    );
    // RFC 6750: a 401 names the scheme to use, as API Gateway's own 401 does.
    response.headers = { ...response.headers, 'WWW-Authenticate': 'Bearer' };
    return response;
  }
  if (error instanceof ForbiddenError) {
    return outcome(
      403,
      operationOutcome('REC_FORBIDDEN', [{ code: 'forbidden', diagnostics: error.message }]),
    );
  }
  if (error instanceof NotFoundError) {
    return outcome(
      404,
      operationOutcome('REC_NOT_FOUND', [{ code: 'not-found', diagnostics: error.message }]),
    );
  }
  if (error instanceof ConflictError) {
    const response = outcome(
      409,
      operationOutcome('REC_CONFLICT', [
        { code: error.duplicate ? 'duplicate' : 'conflict', diagnostics: error.message },
      ]),
    );
    if (error.retryAfterSeconds !== undefined) {
      response.headers = { ...response.headers, 'Retry-After': String(error.retryAfterSeconds) };
    }
    return response;
  }
  return undefined;
}

export function serverErrorResponse(error: unknown): APIGatewayProxyResult {
  const transient = error instanceof DependencyUnavailableError;
  const code: BarsErrorCode = transient ? 'REC_SERVICE_UNAVAILABLE' : 'REC_SERVER_ERROR';
  const response = outcome(
    transient ? 503 : 500,
    operationOutcome(code, [
      {
        code: transient ? 'transient' : 'exception',
        diagnostics: transient
          ? 'A dependency is unavailable; nothing was acknowledged. Retry with the same Idempotency-Key or X-Request-ID: a retry with it never creates a second referral.'
          : 'Internal error; nothing was acknowledged. Retry with the same Idempotency-Key or X-Request-ID: a retry with it never creates a second referral.',
      },
    ]),
  );
  if (transient) response.headers = { ...response.headers, 'Retry-After': '5' };
  return response;
}

function clip(text: string): string {
  return text.length <= maxDiagnosticsLength ? text : `${text.slice(0, maxDiagnosticsLength)}...`;
}
