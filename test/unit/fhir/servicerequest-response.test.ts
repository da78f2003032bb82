import { describe, expect, it } from 'vitest';
import {
  closureReasonSystem,
  declineReasonSystem,
  needCategorySystem,
  responseEventSystem,
  snomedDisplay,
  snomedSystem,
} from '#fhir/codes.ts';
import {
  practiceResponseBundle,
  practiceResponseKinds,
  type PracticeResponseEvent,
  type PracticeResponseInput,
} from '#fhir/outbound/servicerequest-response.ts';
import { declineReasons } from '#referral/domain/lifecycle.ts';
import type { Referral } from '#referral/domain/referral.ts';
import { referralIds, sampleReferral } from '../fixtures.ts';

type Json = Record<string, unknown>;

const requestId = '9d0c2b1a-0000-4000-8000-000000000001';
const messageHeaderId = '0a1b2c3d-0000-4000-8000-000000000001';
const messageId = '4e5f6a7b-0000-4000-8000-00000000000a';
const at = '2025-03-06T10:00:00.000Z';
const teamName = 'Leeds North link workers';
const linkWorkerNote = 'Met at the surgery; keen on the Thursday pottery group.';

/** The Leeds sample referral, from a BaRS message, routed to a team. */
function fhirReferral(overrides: Partial<Referral> = {}): Referral {
  return sampleReferral('leeds-arts-and-mental-health', {
    source: {
      channel: 'fhir',
      requestId,
      correlationId: '9d0c2b1a-0000-4000-8000-0000000000cc',
      senderEndpoint: 'https://gp.example.org/bars/A81001',
      messageHeaderId,
    },
    routing: {
      decidedAt: '2025-03-04T09:20:00.000Z',
      area: 'LS6',
      areaSource: 'patient-postcode',
      team: { id: 'leeds-north-team', name: teamName },
      teamReason: 'serves the practice',
      matches: [],
      unmetNeeds: [],
      deliveries: [],
    },
    ...overrides,
  });
}

function build(
  event: PracticeResponseEvent,
  referral: Referral = fhirReferral(),
  extra: Partial<PracticeResponseInput> = {},
) {
  return practiceResponseBundle({
    referral,
    event,
    messageId,
    timestamp: at,
    sourceEndpoint: 'https://api.example.org/prod/$process-message',
    destinationEndpoint: 'https://gp.example.org/bars/A81001',
    ...extra,
  });
}

const entries = (bundle: Json) => (bundle['entry'] as Array<{ fullUrl: string; resource: Json }>) ?? [];
const resourceOf = (bundle: Json, type: string): Json => {
  const found = entries(bundle).find((e) => e.resource['resourceType'] === type);
  if (found === undefined) throw new Error(`no ${type}`);
  return found.resource;
};
const codingsOf = (concept: unknown): Json[] => ((concept as Json | undefined)?.['coding'] as Json[]) ?? [];
const codes = (concept: unknown, system: string) =>
  codingsOf(concept)
    .filter((c) => c['system'] === system)
    .map((c) => c['code']);

/** Every string in a JSON value with the key it sits under. */
function strings(value: unknown, key = ''): Array<{ key: string; value: string }> {
  if (typeof value === 'string') return [{ key, value }];
  if (Array.isArray(value)) return value.flatMap((item) => strings(item, key));
  if (value !== null && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => strings(v, k));
  return [];
}

const events: Record<(typeof practiceResponseKinds)[number], PracticeResponseEvent> = {
  accepted: { kind: 'accepted', at, note: linkWorkerNote },
  seen: { kind: 'seen', at, note: linkWorkerNote },
  declined: { kind: 'declined', at, reason: 'declined-by-patient', note: linkWorkerNote },
  'intervention-started': {
    kind: 'intervention-started',
    at,
    interventions: ['arts', 'befriending'],
    note: linkWorkerNote,
  },
  closed: {
    kind: 'closed',
    at,
    reason: 'completed',
    interventions: ['arts'],
    note: linkWorkerNote,
  },
};

describe('practiceResponseBundle: the BaRS envelope', () => {
  it('is a servicerequest-response message answering the original request, focused on the ServiceRequest', () => {
    const bundle = build(events.accepted);
    expect(bundle).toMatchObject({
      resourceType: 'Bundle',
      id: messageId,
      type: 'message',
      timestamp: at,
      meta: { profile: ['https://fhir.nhs.uk/StructureDefinition/BARSBundleMessage'] },
    });
    const [first, second, third] = entries(bundle);
    expect(first?.resource).toMatchObject({
      resourceType: 'MessageHeader',
      id: messageId,
      eventCoding: {
        system: 'https://fhir.nhs.uk/CodeSystem/message-events-bars',
        code: 'servicerequest-response',
      },
      reason: { coding: [{ system: 'https://fhir.nhs.uk/CodeSystem/message-reason-bars', code: 'new' }] },
      response: { identifier: messageHeaderId, code: 'ok' },
      destination: [
        {
          endpoint: 'https://gp.example.org/bars/A81001',
          receiver: {
            identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'A81001' },
          },
        },
      ],
      source: { endpoint: 'https://api.example.org/prod/$process-message' },
      focus: [{ reference: `urn:uuid:${referralIds['leeds-arts-and-mental-health']}` }],
      definition: 'https://fhir.nhs.uk/MessageDefinition/bars-message-servicerequest-response-referral',
    });
    expect(second).toMatchObject({
      fullUrl: `urn:uuid:${referralIds['leeds-arts-and-mental-health']}`,
      resource: { resourceType: 'ServiceRequest', id: referralIds['leeds-arts-and-mental-health'] },
    });
    expect(third?.resource).toMatchObject({
      resourceType: 'Task',
      focus: { reference: second?.fullUrl },
    });
  });

  it('answers the X-Request-ID when the MessageHeader id was not kept, and the referral id for a JSON referral', () => {
    const old = fhirReferral({
      source: { channel: 'fhir', requestId, correlationId: '9d0c2b1a-0000-4000-8000-0000000000cc' },
    });
    expect(resourceOf(build(events.seen, old), 'MessageHeader')['response']).toEqual({
      identifier: requestId,
      code: 'ok',
    });
    const json = fhirReferral({ source: { channel: 'json' } });
    expect(resourceOf(build(events.seen, json), 'MessageHeader')['response']).toEqual({
      identifier: referralIds['leeds-arts-and-mental-health'],
      code: 'ok',
    });
  });

  it('reason new for the first message back, update after; the caller can say a decline is the first', () => {
    const reasonOf = (bundle: Json) =>
      codes(
        resourceOf(bundle, 'MessageHeader')['reason'],
        'https://fhir.nhs.uk/CodeSystem/message-reason-bars',
      );
    expect(reasonOf(build(events.accepted))).toEqual(['new']);
    expect(reasonOf(build(events.seen))).toEqual(['update']);
    expect(reasonOf(build(events.closed))).toEqual(['update']);
    expect(reasonOf(build(events.declined, fhirReferral(), { firstResponse: true }))).toEqual(['new']);
  });

  it('is the same message when built again (a retry sends it byte for byte)', () => {
    expect(JSON.stringify(build(events.closed))).toBe(JSON.stringify(build(events.closed)));
    const otherMessage = build(events.closed, fhirReferral(), {
      messageId: '4e5f6a7b-0000-4000-8000-00000000000b',
    });
    expect(resourceOf(otherMessage, 'Task')['id']).not.toBe(resourceOf(build(events.closed), 'Task')['id']);
  });

  it('a referral not routed yet has no team: no sender, performer or owner', () => {
    const bundle = build(events.accepted, fhirReferral({ routing: undefined }));
    expect(resourceOf(bundle, 'MessageHeader')['sender']).toBeUndefined();
    expect(resourceOf(bundle, 'ServiceRequest')['performer']).toBeUndefined();
    expect(resourceOf(bundle, 'Task')['owner']).toBeUndefined();
  });
});

describe('practiceResponseBundle: each event', () => {
  const national = (bundle: Json) => codes(resourceOf(bundle, 'Task')['businessStatus'], snomedSystem);
  const ours = (bundle: Json) => codes(resourceOf(bundle, 'Task')['businessStatus'], responseEventSystem);
  const statuses = (bundle: Json) => [
    resourceOf(bundle, 'Task')['status'],
    resourceOf(bundle, 'ServiceRequest')['status'],
  ];

  it('accepted (received by the link-worker team): Referral to social prescribing service', () => {
    const bundle = build(events.accepted);
    expect(national(bundle)).toEqual(['871731000000106']);
    expect(ours(bundle)).toEqual(['accepted']);
    expect(statuses(bundle)).toEqual(['accepted', 'active']);
    expect(resourceOf(bundle, 'Task')['statusReason']).toBeUndefined();
  });

  it('seen (first contact): Seen by social prescribing link worker', () => {
    const bundle = build(events.seen);
    expect(national(bundle)).toEqual(['1362931000000106']);
    expect(ours(bundle)).toEqual(['seen']);
    expect(statuses(bundle)).toEqual(['in-progress', 'active']);
  });

  it('declined by the patient: Social prescribing declined, with the coded reason', () => {
    const bundle = build(events.declined);
    expect(national(bundle)).toEqual(['871711000000103']);
    expect(ours(bundle)).toEqual(['declined']);
    expect(statuses(bundle)).toEqual(['rejected', 'revoked']);
    expect(codes(resourceOf(bundle, 'Task')['statusReason'], declineReasonSystem)).toEqual([
      'declined-by-patient',
    ]);
  });

  it.each(declineReasons.filter((reason) => reason !== 'declined-by-patient'))(
    'declined by the team (%s): no national code (the patient did not decline), our codes only',
    (reason) => {
      const bundle = build({ kind: 'declined', at, reason });
      expect(national(bundle)).toEqual([]);
      expect(ours(bundle)).toEqual(['declined']);
      expect(codes(resourceOf(bundle, 'Task')['statusReason'], declineReasonSystem)).toEqual([reason]);
    },
  );

  it('intervention started: the interventions as SNOMED (where domain.md lists one) and need-category codes', () => {
    const bundle = build(events['intervention-started']);
    expect(national(bundle)).toEqual([]);
    expect(ours(bundle)).toEqual(['intervention-started']);
    expect(statuses(bundle)).toEqual(['in-progress', 'active']);
    const outputs = (resourceOf(bundle, 'Task')['output'] as Json[]).map((o) => o['valueCodeableConcept']);
    expect(outputs.map((o) => codes(o, snomedSystem))).toEqual([['278415002'], []]); // befriending has none
    expect(outputs.map((o) => codes(o, needCategorySystem))).toEqual([['arts'], ['befriending']]);
  });

  it('closed: Social prescribing case closed, with the closure reason and the interventions', () => {
    const bundle = build(events.closed);
    expect(national(bundle)).toEqual(['1362721000000106']);
    expect(ours(bundle)).toEqual(['closed']);
    expect(statuses(bundle)).toEqual(['completed', 'completed']);
    expect(codes(resourceOf(bundle, 'Task')['statusReason'], closureReasonSystem)).toEqual(['completed']);
    expect(resourceOf(bundle, 'Task')['output']).toHaveLength(1);
  });

  it("closed with the link worker's own outcome code: sent as the Task's outcome output, beside case closed", () => {
    const bundle = build({ kind: 'closed', at, reason: 'referred-elsewhere', code: '306238000' });
    expect(national(bundle)).toEqual(['1362721000000106']);
    const outputs = resourceOf(bundle, 'Task')['output'] as Json[];
    expect(outputs).toEqual([
      {
        type: {
          coding: [
            {
              system: 'https://social-prescribing.example.org/CodeSystem/referral-response-output',
              code: 'outcome',
            },
          ],
        },
        valueCodeableConcept: {
          coding: [{ system: snomedSystem, code: '306238000', display: 'Referral to Social Services' }],
        },
      },
    ]);
    // The case-closed code itself is not repeated as an outcome.
    const plain = build({ kind: 'closed', at, reason: 'completed', code: '1362721000000106' });
    expect(resourceOf(plain, 'Task')['output']).toBeUndefined();
  });

  it("every SNOMED code is one of domain.md's national codes, with its display exactly", () => {
    const national = new Set(Object.keys(snomedDisplay));
    for (const kind of practiceResponseKinds) {
      const found = snomedCodings(build(events[kind]));
      expect(found.length).toBeGreaterThan(0);
      for (const { code, display } of found) {
        expect(national.has(code), code).toBe(true);
        expect(display).toBe(snomedDisplay[code]);
      }
    }
  });

  it('the ServiceRequest: referral code, the needs, the practice as requester, the NHS number as subject', () => {
    const sr = resourceOf(build(events.accepted), 'ServiceRequest');
    expect(codes(sr['code'], snomedSystem)).toEqual(['871731000000106']);
    expect((sr['reasonCode'] as Json[]).map((c) => codes(c, needCategorySystem))).toEqual([
      ['arts'],
      ['mental-health'],
    ]);
    expect(sr['subject']).toEqual({
      identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9995260182' },
    });
    expect(sr['requester']).toEqual({
      identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'A81001' },
    });
  });
});

/** Every SNOMED coding anywhere in the message. */
function snomedCodings(value: unknown): Array<{ system: string; code: string; display: string }> {
  if (Array.isArray(value)) return value.flatMap(snomedCodings);
  if (value !== null && typeof value === 'object') {
    const record = value as Json;
    const own =
      record['system'] === snomedSystem
        ? [{ system: snomedSystem, code: String(record['code']), display: String(record['display']) }]
        : [];
    return [...own, ...Object.values(record).flatMap(snomedCodings)];
  }
  return [];
}

describe('practiceResponseBundle: what the practice may read', () => {
  const patient = fhirReferral().patient;
  /** What must never be in any message back: the patient's details other than the NHS number. */
  const neverSent = [
    patient.name.given,
    patient.name.family,
    patient.birthDate ?? '',
    patient.postcode ?? '',
    patient.contact.phone ?? '',
    fhirReferral().reasonForReferral ?? '',
  ].filter((s) => s !== '');

  it.each(practiceResponseKinds)(
    "%s, full sharing back: the note and the team name, never the patient's details",
    (kind) => {
      const bundle = build(events[kind]);
      const text = JSON.stringify(bundle);
      expect(resourceOf(bundle, 'Task')['note']).toEqual([{ text: linkWorkerNote }]);
      expect(text).toContain(teamName);
      for (const value of neverSent) expect(text).not.toContain(value);
    },
  );

  it.each(practiceResponseKinds)(
    '%s, the patient objected (codes only): codes, no free text, names or reasons',
    (kind) => {
      const referral = fhirReferral({ sharingBack: 'codes-only' });
      const bundle = build(
        kind === 'declined'
          ? { kind, at, reason: 'other', note: 'Too busy with the allotment' }
          : events[kind],
        referral,
      );
      const text = JSON.stringify(bundle);
      expect(text).not.toContain(linkWorkerNote);
      expect(text).not.toContain('allotment');
      expect(text).not.toContain(teamName);
      for (const value of neverSent) expect(text).not.toContain(value);
      // No narrative element anywhere, and every display is a code's own fixed display.
      const found = strings(bundle);
      expect(found.filter(({ key }) => key === 'text' || key === 'note' || key === 'div')).toEqual([]);
      const codeDisplays = new Set<string>(codingsDeep(bundle).map((coding) => String(coding['display'])));
      for (const { key, value } of found.filter(({ key }) => key === 'display'))
        expect(codeDisplays.has(value), `${key}: ${value}`).toBe(true);
      // The codes are all still there.
      expect(codes(resourceOf(bundle, 'Task')['businessStatus'], responseEventSystem)).toEqual([kind]);
      // The team is named by id only.
      expect(resourceOf(bundle, 'Task')['owner']).toEqual({
        identifier: { system: 'https://social-prescribing.example.org/Id/team', value: 'leeds-north-team' },
      });
    },
  );
});

/** Every Coding (an object with system and code) anywhere in the message. */
function codingsDeep(value: unknown): Json[] {
  if (Array.isArray(value)) return value.flatMap(codingsDeep);
  if (value !== null && typeof value === 'object') {
    const record = value as Json;
    const own = typeof record['system'] === 'string' && typeof record['code'] === 'string' ? [record] : [];
    return [...own, ...Object.values(record).flatMap(codingsDeep)];
  }
  return [];
}
