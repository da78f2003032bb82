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
    expect(statement.rest[0]?.resource.map((r) => r.type)).toEqual(['ServiceRequest']);
    expect(statement.rest[0]?.operation.map((o) => o.name)).toEqual(['process-message']);
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
