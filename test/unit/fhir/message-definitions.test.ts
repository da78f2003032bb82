import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useCaseCode, useCaseSystem } from '#fhir/codes.ts';
import { parseBarsMessage } from '#fhir/inbound/message-intent.ts';
import { capabilityStatement } from '#fhir/outbound/capability-statement.ts';
import {
  matchesContext,
  messageDefinitionById,
  messageDefinitions,
  messageDefinitionSearchset,
} from '#fhir/outbound/message-definitions.ts';

type Json = Record<string, unknown>;
const example = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../../events/fhir/${name}`, import.meta.url), 'utf8')) as Json;

const referral = 'social-prescribing-servicerequest-request-referral';
const cancelled = 'social-prescribing-servicerequest-request-cancelled';

describe('the MessageDefinitions of what we receive', () => {
  it('are the referral (new or update) and the cancellation, both servicerequest-request, each based on BaRS', () => {
    expect(messageDefinitions.map((d) => d.id)).toEqual([referral, cancelled]);
    for (const definition of messageDefinitions) {
      expect(definition.eventCoding).toEqual({
        system: 'https://fhir.nhs.uk/CodeSystem/message-events-bars',
        code: 'servicerequest-request',
      });
      expect(definition.base).toMatch(
        /^https:\/\/fhir\.nhs\.uk\/MessageDefinition\/bars-message-servicerequest-request-/,
      );
      expect(definition.url).toBe(
        `https://social-prescribing.example.org/MessageDefinition/${definition.id}`,
      );
      expect(definition.name).toMatch(/^[A-Z][A-Za-z0-9_]{0,254}$/); // R4 msd-0
    }
  });

  it('carry our use-case code in useContext', () => {
    for (const definition of messageDefinitions) {
      expect(definition.useContext).toEqual([
        {
          code: { system: 'http://terminology.hl7.org/CodeSystem/usage-context-type', code: 'workflow' },
          valueCodeableConcept: {
            coding: [{ system: useCaseSystem, code: useCaseCode, display: 'Social prescribing referral' }],
          },
        },
      ]);
    }
  });

  it('name what the inbound reader accepts: the events/fhir examples of each kind parse, and name those resources', () => {
    const now = new Date('2026-01-20T10:35:00Z');
    const kinds = {
      'new-referral.json': referral,
      'new-referral-variants.json': referral,
      'update.json': referral,
      'cancel.json': cancelled,
      'entered-in-error.json': cancelled,
    };
    for (const [file, id] of Object.entries(kinds)) {
      const bundle = example(file);
      const intent = parseBarsMessage(bundle, now);
      expect(intent.kind === 'cancel' ? cancelled : referral, file).toBe(id);
      const focus = messageDefinitionById(id)?.focus ?? [];
      const named = new Set(focus.map((f) => f.code));
      const types = (bundle['entry'] as Array<{ resource: Json }>).map((e) =>
        String(e.resource['resourceType']),
      );
      for (const type of types) expect(named.has(type), `${file}: ${type}`).toBe(true);
      // Each required resource is in the example.
      for (const f of focus.filter((f) => f.min > 0 && f.code !== 'Bundle'))
        expect(types, `${file}: ${f.code}`).toContain(f.code);
    }
  });

  it('are named in the CapabilityStatement (messaging.supportedMessage, receiver)', () => {
    const statement = capabilityStatement();
    expect(statement.messaging[0]?.supportedMessage).toEqual(
      messageDefinitions.map((d) => ({ mode: 'receiver', definition: d.url })),
    );
    expect(statement.rest[0]?.resource.map((r) => r.type)).toEqual(['ServiceRequest', 'MessageDefinition']);
  });
});

describe('the context search (BaRS: GET /MessageDefinition?context=...)', () => {
  const ids = (contexts: string[]) =>
    ((messageDefinitionSearchset(contexts)['entry'] as Array<{ resource: { id: string } }>) ?? []).map(
      (e) => e.resource.id,
    );

  it('system|code, code alone and system| match our use case; anything else matches nothing', () => {
    expect(ids([])).toEqual([referral, cancelled]);
    expect(ids([`${useCaseSystem}|${useCaseCode}`])).toEqual([referral, cancelled]);
    expect(ids([useCaseCode])).toEqual([referral, cancelled]);
    expect(ids([`${useCaseSystem}|`])).toEqual([referral, cancelled]);
    expect(ids([`|${useCaseCode}`])).toEqual([]); // a code with no system: ours has one
    expect(ids(['https://fhir.nhs.uk/CodeSystem/usecases-categories-bars|a1t1'])).toEqual([]);
    expect(ids([useCaseCode, 'a1t1'])).toEqual([]); // every context must match
  });

  it('the searchset says how many matched', () => {
    expect(messageDefinitionSearchset()).toMatchObject({
      resourceType: 'Bundle',
      type: 'searchset',
      total: 2,
    });
    expect(messageDefinitionSearchset(['nope'])).toMatchObject({ total: 0, entry: [] });
    const [first] = messageDefinitions;
    if (first) expect(matchesContext(first, 'nope')).toBe(false);
  });
});
