import type { APIGatewayProxyEvent } from 'aws-lambda';
import { NotFoundError } from '#kernel/errors.ts';
import { lazy } from '#kernel/lazy.ts';
import { capabilityStatement } from '#fhir/outbound/capability-statement.ts';
import { messageDefinitionById, messageDefinitionSearchset } from '#fhir/outbound/message-definitions.ts';
import { openApiDocument } from '#http/openapi.ts';
import { fhirJson } from '#http/responses.ts';
import { httpHandler, type HttpHandler } from '#platform/handlers.ts';

/**
 * GET /metadata (the FHIR CapabilityStatement), GET /openapi.json (the OpenAPI document) and GET /MessageDefinition
 * (the BaRS MessageDefinitions of what we receive, searchable by `context`, and each by id): public, fixed.
 */

// These answers are the same for every request: each built and serialised once, on its route's first request, so
// a cold start builds only the one it answers (the OpenAPI document alone takes tens of milliseconds).
function fixed(contentType: string, document: () => unknown): HttpHandler {
  const body = lazy(() => JSON.stringify(document()));
  return () => Promise.resolve({ statusCode: 200, headers: { 'Content-Type': contentType }, body: body() });
}

const fhir = (document: unknown) => ({
  statusCode: 200,
  headers: { 'Content-Type': fhirJson },
  body: JSON.stringify(document),
});

/** Every `context` given (`?context=a&context=b` must both match), as API Gateway passes repeated parameters. */
function contextsOf(event: APIGatewayProxyEvent): string[] {
  return (
    event.multiValueQueryStringParameters?.['context'] ??
    (event.queryStringParameters?.['context'] === undefined ? [] : [event.queryStringParameters['context']])
  );
}

const allDefinitions = lazy(() => JSON.stringify(messageDefinitionSearchset()));

export const handler = httpHandler('metadata', {
  capabilities: fixed(fhirJson, capabilityStatement),
  openApi: fixed('application/json; charset=utf-8', openApiDocument),
  searchMessageDefinitions: (event) => {
    const contexts = contextsOf(event);
    return Promise.resolve(
      contexts.length === 0
        ? { statusCode: 200, headers: { 'Content-Type': fhirJson }, body: allDefinitions() }
        : fhir(messageDefinitionSearchset(contexts)),
    );
  },
  readMessageDefinition: (event) => {
    const id = event.pathParameters?.['id'] ?? '';
    const definition = messageDefinitionById(id);
    if (definition === undefined)
      return Promise.reject(new NotFoundError(`No MessageDefinition with id ${id.slice(0, 64)}`));
    return Promise.resolve(fhir(definition));
  },
});
