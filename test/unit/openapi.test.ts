import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import { routes } from '#system/routes.ts';
import {
  getReferralStatus,
  statusView,
  type ReferralStatusView as ReferralStatusViewType,
} from '#referral/application/referral-status.ts';
import { routeReferral } from '#matching/application/route-referral.ts';
import type { Acknowledgement as AcknowledgementType } from '#referral/application/submit-referral.ts';
import {
  Acknowledgement,
  CapabilityStatement,
  OperationOutcome,
  ReferralStatusView,
} from '#http/api-schemas.ts';
import { referralIdFor } from '#kernel/ids.ts';
import { capabilityStatement } from '#fhir/outbound/capability-statement.ts';
import { openApiDocument, openApiJson, operations } from '#http/openapi.ts';
import { gatewayOutcomes, type OperationOutcome as OperationOutcomeType } from '#http/operation-outcome.ts';
import {
  FakeClock,
  InMemoryAuditLog,
  InMemoryDirectory,
  InMemoryMetricCounters,
  InMemoryReferralStore,
  RecordingQueue,
} from './fakes.ts';
import { queueMessages } from '#messages/queue.ts';
import { referralIds, sampleDirectory, sampleReferral } from './fixtures.ts';
import { plainMatchingInputs } from './fakes-matching.ts';

interface Operation {
  operationId: string;
  description: string;
  security: Array<Record<string, string[]>>;
  responses: Record<string, unknown>;
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { required?: string[] }> };
}

const document = openApiDocument() as unknown as Document;
const operationOf = (method: string, path: string) => document.paths[path]?.[method.toLowerCase()];
const operationKey = (route: { method: string; path: string }) => `${route.method} ${route.path}`;

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1', () => {
    expect(document.openapi).toBe('3.1.0');
  });

  it.each(routes.map((r) => [r.method, r.path, r] as const))('lists %s %s', (method, path) => {
    expect(operationOf(method, path), `${method} ${path}`).toBeDefined();
  });

  it('lists nothing the topology does not route', () => {
    const listed = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(listed.sort()).toEqual(routes.map(operationKey).sort());
  });

  it('describes every route, and no route that is gone (add it to `operations` in shared/http/openapi.ts)', () => {
    expect(Object.keys(operations).sort()).toEqual(routes.map((r) => r.operationId).sort());
  });

  it('gives every operation a unique operationId', () => {
    const ids = routes.map((r) => operationOf(r.method, r.path)?.operationId);
    expect(new Set(ids).size).toBe(routes.length);
  });

  it.each(routes.map((r) => [r.method, r.path, r] as const))(
    "%s %s: the operationId is the route entry's",
    (method, path, route) => {
      expect(operationOf(method, path)?.operationId).toBe(route.operationId);
    },
  );

  it.each(routes.map((r) => [r.method, r.path, r] as const))(
    '%s %s: bearer security with its roles, or none when public',
    (method, path, route) => {
      const operation = operationOf(method, path);
      if (route.access === 'public') {
        expect(operation?.security).toEqual([]);
        expect(operation?.responses['401']).toBeUndefined();
      } else {
        expect(operation?.security).toEqual(route.access.map((role) => ({ bearerAuth: [role] })));
        for (const role of route.access) expect(operation?.description).toContain(`\`${role}\``);
        expect(Object.keys(operation?.responses ?? {})).toEqual(
          expect.arrayContaining(['401', '403', '429']),
        );
      }
    },
  );

  it('has the ReferralRequest schema with its required fields, and no unknown top-level fields', () => {
    const schema = document.components.schemas.ReferralRequest as {
      required?: string[];
      additionalProperties?: unknown;
    };
    expect(schema.required).toEqual(expect.arrayContaining(['patient', 'practiceOds', 'needs', 'consent']));
    expect(schema.additionalProperties).toBe(false);
  });

  it('resolves every $ref', () => {
    const refs: string[] = [];
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(walk);
      else if (value !== null && typeof value === 'object') {
        for (const [key, item] of Object.entries(value)) {
          if (key === '$ref' && typeof item === 'string') refs.push(item);
          else walk(item);
        }
      }
    };
    walk(document);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      expect(ref, ref).toMatch(/^#\//);
      const target = ref
        .slice(2)
        .split('/')
        .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], document);
      expect(target, `${ref} does not resolve`).toBeDefined();
    }
  });

  it('is the same on every call (so docs/openapi.json can be compared)', () => {
    expect(openApiJson(openApiDocument())).toBe(openApiJson(openApiDocument()));
  });

  it('matches docs/openapi.json', () => {
    const onDisk = readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8');
    expect(onDisk, 'docs/openapi.json is out of date: run `npm run openapi`').toBe(openApiJson());
  });
});

describe('response schemas', () => {
  it('mirror the types the handlers return', () => {
    expectTypeOf<z.infer<typeof Acknowledgement>>().toEqualTypeOf<AcknowledgementType>();
    expectTypeOf<z.infer<typeof ReferralStatusView>>().toEqualTypeOf<ReferralStatusViewType>();
    expectTypeOf<z.infer<typeof OperationOutcome>>().toEqualTypeOf<OperationOutcomeType>();
  });

  it('accept acknowledgements with random ids and with ids derived from an Idempotency-Key', () => {
    const scope = { route: '/referrals', caller: 'gp', practiceOds: 'A81001' };
    for (const referralId of [randomUUID(), referralIdFor(scope, 'retry-1')]) {
      const acknowledgement = { referralId, status: 'received', receivedAt: new Date().toISOString() };
      expect(Acknowledgement.safeParse(acknowledgement).error).toBeUndefined();
    }
  });

  it('accept the status view of a referral, before and after routing and delivery', async () => {
    const id = referralIds['blackpool-benefits-and-activity'];
    const referrals = new InMemoryReferralStore();
    referrals.seed(sampleReferral('blackpool-benefits-and-activity'));
    expect(
      ReferralStatusView.safeParse(statusView(sampleReferral('blackpool-benefits-and-activity'))).error,
    ).toBeUndefined();
    const counters = new InMemoryMetricCounters();
    const deps = {
      referrals,
      directory: new InMemoryDirectory(sampleDirectory()),
      audit: new InMemoryAuditLog(),
      counters,
      deliveryQueue: new RecordingQueue(queueMessages.notifications),
      clock: new FakeClock('2025-03-04T09:20:00.000Z'),
      ...plainMatchingInputs(counters),
    };
    await routeReferral(deps, id);
    await referrals.markDelivered(id, `${id}.team.lw-blackpool`, {
      status: 'delivered',
      deliveredAt: '2025-03-04T09:21:00.000Z',
      responseStatus: 202,
    });
    const view = await getReferralStatus(referrals, id);
    expect(view.deliveries.some((d) => d.deliveredAt !== undefined)).toBe(true);
    expect(ReferralStatusView.safeParse(view).error).toBeUndefined();
  });

  it.each(Object.entries(gatewayOutcomes))('accept the gateway outcome %s', (_name, { body }) => {
    expect(OperationOutcome.safeParse(body).success).toBe(true);
  });
});

describe('CapabilityStatement', () => {
  const statement = capabilityStatement('https://api.example.org/prod');

  it('has the shape its schema documents', () => {
    expect(CapabilityStatement.safeParse(statement).error).toBeUndefined();
    expect(CapabilityStatement.safeParse(capabilityStatement()).error).toBeUndefined();
  });

  it('offers the ServiceRequest read, the MessageDefinitions and $process-message, receiving servicerequest-request', () => {
    const rest = statement.rest[0];
    expect(rest?.mode).toBe('server');
    expect(rest?.resource).toEqual([
      expect.objectContaining({ type: 'ServiceRequest', interaction: [{ code: 'read' }] }),
      expect.objectContaining({
        type: 'MessageDefinition',
        interaction: [{ code: 'read' }, { code: 'search-type' }],
      }),
    ]);
    expect(rest?.operation).toEqual([
      expect.objectContaining({
        name: 'process-message',
        definition: 'http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message',
      }),
    ]);
    expect(statement.messaging[0]?.documentation).toContain('servicerequest-request');
    expect(statement.messaging[0]?.endpoint?.[0]?.address).toBe(
      'https://api.example.org/prod/$process-message',
    );
  });

  it('is the same on every call', () => {
    expect(capabilityStatement()).toEqual(capabilityStatement());
  });
});
