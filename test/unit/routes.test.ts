import { afterAll, describe, expect, it, vi } from 'vitest';
import { functions } from '#system/functions.ts';
import { functionEnvironment } from '#system/environment.ts';
import { routes, type HttpFunctionName } from '#system/routes.ts';
import { json } from '#http/responses.ts';
import { httpHandler } from '#platform/handlers.ts';

// Routes are dispatched by operation: each entry of shared/system/routes.ts names an operation id, and the
// function it names has exactly one handler for it (the wrapper finds the route once and calls that handler).

const httpFunctions = [...new Set(routes.map((route) => route.function))];

afterAll(() => {
  vi.unstubAllEnvs();
});

/** A function's handler module, loaded with the environment its grants give it (placeholder names: no I/O). */
async function load(fn: HttpFunctionName): Promise<{ operations: string[] }> {
  const environment = functionEnvironment(
    fn,
    (table) => `unit-${table}`,
    (queue) => `http://127.0.0.1:9/000000000000/${queue}`,
    () => 'unit',
  );
  for (const [name, value] of Object.entries(environment)) vi.stubEnv(name, value);
  const module = (await import(`../../${functions[fn].entry}`)) as { handler: { operations: string[] } };
  return module.handler;
}

describe('routes (shared/system/routes.ts)', () => {
  it('gives every route its own operation id', () => {
    const ids = routes.map((route) => route.operationId);
    expect(new Set(ids).size).toBe(routes.length);
  });

  it('gives every route its own method and path', () => {
    const keys = routes.map((route) => `${route.method} ${route.path}`);
    expect(new Set(keys).size).toBe(routes.length);
  });

  it.each(httpFunctions)('%s has a handler for each of its operations, and for nothing else', async (fn) => {
    const handler = await load(fn);
    const expected = routes.filter((route) => route.function === fn).map((route) => route.operationId);
    expect([...handler.operations].sort()).toEqual([...expected].sort());
  });

  it('refuses, at compile time, a handler map missing an operation or naming one the function does not serve', () => {
    const ok = async () => json(200, {});
    const metadataOps = {
      capabilities: ok,
      openApi: ok,
      searchMessageDefinitions: ok,
      readMessageDefinition: ok,
    };
    // @ts-expect-error openApi and the MessageDefinition routes are missing: every route needs its handler.
    httpHandler('metadata', { capabilities: ok });
    // @ts-expect-error submitReferral is intake's, not metadata's.
    httpHandler('metadata', { ...metadataOps, submitReferral: ok });
    expect(httpHandler('metadata', metadataOps).operations).toEqual([
      'capabilities',
      'openApi',
      'searchMessageDefinitions',
      'readMessageDefinition',
    ]);
  });
});
