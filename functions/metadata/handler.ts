import type { APIGatewayProxyResult } from 'aws-lambda';
import { NotFoundError } from '#kernel/errors.ts';
import { capabilityStatement } from '#fhir/outbound/capability-statement.ts';
import { openApiDocument } from '#http/openapi.ts';
import { fhirJson } from '#http/responses.ts';
import { httpHandler } from '#platform/handlers.ts';

/** GET /metadata (the FHIR CapabilityStatement) and GET /openapi.json (the OpenAPI document): public, fixed. */

// Both answers are the same for every request: built and serialised once, when the function loads.
const answers: Record<string, { contentType: string; body: string }> = {
  '/metadata': { contentType: fhirJson, body: JSON.stringify(capabilityStatement()) },
  '/openapi.json': {
    contentType: 'application/json; charset=utf-8',
    body: JSON.stringify(openApiDocument()),
  },
};

export const handler = httpHandler(async (event): Promise<APIGatewayProxyResult> => {
  const answer = answers[event.resource];
  if (!answer) throw new NotFoundError(`${event.resource} is not served by the metadata function`);
  return { statusCode: 200, headers: { 'Content-Type': answer.contentType }, body: answer.body };
});
