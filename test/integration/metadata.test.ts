import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalAws, type LocalAws } from '../../infra/local/local-aws.ts';
import { routes } from '#system/routes.ts';
import { apiEvent, contextFor, type ApiHandler } from '../support/local.ts';

// The metadata handler as Lambda runs it: public routes, no token, no tables (the local environment keeps its
// logging and metrics set up as for the other functions).

let aws: LocalAws;
let metadata: ApiHandler;

beforeAll(async () => {
  aws = await startLocalAws();
  metadata = ((await import('../../functions/metadata/handler.ts')) as { handler: ApiHandler }).handler;
});
afterAll(() => aws.stop());

const get = (path: string) => metadata(apiEvent('GET', path), contextFor('metadata'));

describe('GET /metadata', () => {
  it('answers 200 with the FHIR CapabilityStatement, without a token', async () => {
    const response = await get('/metadata');
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['Content-Type']).toMatch(/^application\/fhir\+json/);
    const statement = JSON.parse(response.body) as {
      resourceType: string;
      status: string;
      kind: string;
      fhirVersion: string;
      rest: Array<{ mode: string; resource: Array<{ type: string }>; operation: Array<{ name: string }> }>;
    };
    expect(statement.resourceType).toBe('CapabilityStatement');
    expect(statement).toMatchObject({ status: 'active', kind: 'instance', fhirVersion: '4.0.1' });
    expect(statement.rest[0]?.resource.map((r) => r.type)).toEqual(['ServiceRequest', 'MessageDefinition']);
    expect(statement.rest[0]?.operation.map((o) => o.name)).toEqual(['process-message']);
  });
});

describe('GET /MessageDefinition', () => {
  type Searchset = {
    resourceType: string;
    type: string;
    total: number;
    entry: Array<{ resource: Definition }>;
  };
  type Definition = {
    resourceType: string;
    id: string;
    url: string;
    useContext: Array<{ valueCodeableConcept: { coding: Array<{ system: string; code: string }> } }>;
  };
  const useCase = 'https://social-prescribing.example.org/CodeSystem/bars-use-case|social-prescribing';

  it('answers 200 with a searchset of what we receive (referral, cancellation), without a token', async () => {
    const response = await get('/MessageDefinition');
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['Content-Type']).toMatch(/^application\/fhir\+json/);
    const bundle = JSON.parse(response.body) as Searchset;
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 2 });
    expect(bundle.entry.map((e) => e.resource.id)).toEqual([
      'social-prescribing-servicerequest-request-referral',
      'social-prescribing-servicerequest-request-cancelled',
    ]);
    for (const { resource } of bundle.entry)
      expect(resource.useContext[0]?.valueCodeableConcept.coding[0]).toMatchObject({
        system: 'https://social-prescribing.example.org/CodeSystem/bars-use-case',
        code: 'social-prescribing',
      });
    // The CapabilityStatement names the same definitions.
    const statement = JSON.parse((await get('/metadata')).body) as {
      messaging: Array<{ supportedMessage: Array<{ definition: string }> }>;
    };
    expect(statement.messaging[0]?.supportedMessage.map((m) => m.definition)).toEqual(
      bundle.entry.map((e) => e.resource.url),
    );
  });

  it('filters by the BaRS context parameter (our use case, or another one: none)', async () => {
    const ours = JSON.parse(
      (await get(`/MessageDefinition?context=${encodeURIComponent(useCase)}`)).body,
    ) as Searchset;
    expect(ours.total).toBe(2);
    const other = await get(
      `/MessageDefinition?context=${encodeURIComponent('https://fhir.nhs.uk/CodeSystem/usecases-categories-bars|a1t1')}`,
    );
    expect(other.statusCode).toBe(200);
    expect(JSON.parse(other.body)).toMatchObject({ type: 'searchset', total: 0, entry: [] });
  });

  it('GET /MessageDefinition/{id}: the definition, or 404 REC_NOT_FOUND', async () => {
    const found = await get('/MessageDefinition/social-prescribing-servicerequest-request-cancelled');
    expect(found.statusCode).toBe(200);
    expect(JSON.parse(found.body)).toMatchObject({
      resourceType: 'MessageDefinition',
      id: 'social-prescribing-servicerequest-request-cancelled',
      eventCoding: { code: 'servicerequest-request' },
    });
    const missing = await get('/MessageDefinition/booking-request');
    expect(missing.statusCode).toBe(404);
    expect(JSON.parse(missing.body)).toMatchObject({
      resourceType: 'OperationOutcome',
      issue: [{ details: { coding: [{ code: 'REC_NOT_FOUND' }] } }],
    });
  });
});

describe('GET /openapi.json', () => {
  it('answers 200 with the OpenAPI 3.1 document listing every route, without a token', async () => {
    const response = await get('/openapi.json');
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['Content-Type']).toMatch(/^application\/json/);
    const document = JSON.parse(response.body) as { openapi: string; paths: Record<string, object> };
    expect(document.openapi).toBe('3.1.0');
    const published = readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8');
    expect(document, 'the served document differs from docs/openapi.json: run `npm run openapi`').toEqual(
      JSON.parse(published),
    );
    for (const route of routes) {
      expect(document.paths[route.path], route.path).toHaveProperty(route.method.toLowerCase());
    }
  });

  it('gives the same document every time', async () => {
    expect((await get('/openapi.json')).body).toBe((await get('/openapi.json')).body);
  });
});
