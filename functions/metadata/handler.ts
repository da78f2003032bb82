import { capabilityStatement } from '#fhir/outbound/capability-statement.ts';
import { openApiDocument } from '#http/openapi.ts';
import { fhirJson } from '#http/responses.ts';
import { httpHandler, type HttpHandler } from '#platform/handlers.ts';

/** GET /metadata (the FHIR CapabilityStatement) and GET /openapi.json (the OpenAPI document): public, fixed. */

// Both answers are the same for every request: built and serialised once, when the function loads.
function fixed(contentType: string, document: unknown): HttpHandler {
  const body = JSON.stringify(document);
  return () => Promise.resolve({ statusCode: 200, headers: { 'Content-Type': contentType }, body });
}

export const handler = httpHandler('metadata', {
  capabilities: fixed(fhirJson, capabilityStatement()),
  openApi: fixed('application/json; charset=utf-8', openApiDocument()),
});
