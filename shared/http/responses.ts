import type { APIGatewayProxyResult } from 'aws-lambda';
import { errorOutcomes, unexpectedFault, type ErrorAnswer } from '#kernel/errors.ts';
import { operationOutcome } from '#http/operation-outcome.ts';
import type { RouteKind } from '#system/route-kinds.ts';

/** Where typed errors become HTTP answers: the table in kernel/errors.ts, rendered. */

export const fhirJson = 'application/fhir+json; charset=utf-8';

/**
 * On every answer of the API, errors included, whoever gives it (the functions, API Gateway's own responses, the
 * local gateway): answers can carry patient data, so no browser, proxy or CDN may keep a copy, and a browser must
 * not guess a content type other than the one declared.
 */
export const securityHeaders = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' } as const;

/** Re-exported: the bound is the table's (kernel/errors.ts), and callers think of it as the response's. */
export { maxOutcomeIssues } from '#kernel/errors.ts';

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

function render(answer: ErrorAnswer): APIGatewayProxyResult {
  return {
    statusCode: answer.status,
    headers: { 'Content-Type': fhirJson, ...answer.headers },
    body: JSON.stringify(operationOutcome(answer.code, answer.issues)),
  };
}

/** The answer of the first row of `fault` that is of the error's class. */
function answerOf(error: unknown, fault: 'client' | 'ours', route: RouteKind): ErrorAnswer | undefined {
  for (const row of Object.values(errorOutcomes)) {
    const answer = row.fault === fault ? row.answer(error, route) : undefined;
    if (answer) return answer;
  }
  return undefined;
}

/**
 * An error the client can act on, as a response; or undefined for a fault of ours (the caller logs it). A client's
 * mistake is answered alike whatever the route acts on (test/unit/error-outcomes.test.ts shows it), so any kind
 * will do.
 */
export function clientErrorResponse(error: unknown): APIGatewayProxyResult | undefined {
  const answer = answerOf(error, 'client', 'referral');
  return answer && render(answer);
}

/**
 * A fault of ours, as a response that says nothing of its cause, and how to retry as is true for what the route
 * acts on (`route`: a referral's routes, or the directory admin API's).
 */
export function serverErrorResponse(error: unknown, route: RouteKind): APIGatewayProxyResult {
  return render(answerOf(error, 'ours', route) ?? unexpectedFault(route));
}
