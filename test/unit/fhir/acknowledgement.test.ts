import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseBarsMessage } from '#fhir/inbound/message-intent.ts';
import { acknowledgementBundle, minimalAcknowledgementBundle } from '#fhir/outbound/acknowledgement.ts';

// Issue 6.2: once a message is processed, building its acknowledgement must not fail, whatever the Bundle holds.

type Json = Record<string, unknown>;
type Entry = { fullUrl?: string; resource: Json };

const example = (name: string): Json =>
  JSON.parse(readFileSync(new URL(`../../../events/fhir/${name}`, import.meta.url), 'utf8')) as Json;
const entriesOf = (bundle: Json): Entry[] => bundle['entry'] as Entry[];

const assigned = {
  serviceRequestId: '1f0e2d3c-4b5a-4968-8776-655443322110',
  status: 'active',
  lastUpdated: '2026-01-15T09:05:01Z',
};

describe('acknowledgementBundle on a large Bundle', () => {
  it('repoints references in a Bundle with a 200,000-item array (no spread into push, no recursion)', () => {
    const request = example('new-referral.json');
    const serviceRequest = entriesOf(request)[1] as Entry;
    const oldUrl = serviceRequest.fullUrl;
    // Wider than any argument list V8 accepts: `push(...array)` throws RangeError on this.
    serviceRequest.resource['extension'] = [
      { url: 'https://gp.example.org/x', valueString: 'wide', _items: new Array<number>(200_000).fill(0) },
    ];
    entriesOf(request).push({ resource: { resourceType: 'Basic', subject: { reference: oldUrl } } });

    const ack = acknowledgementBundle(request, assigned);
    const entries = entriesOf(ack);
    expect(entries[1]?.fullUrl).toBe(`urn:uuid:${assigned.serviceRequestId}`);
    expect(entries.at(-1)?.resource['subject']).toEqual({
      reference: `urn:uuid:${assigned.serviceRequestId}`,
    });
    const header = entries[0]?.resource as { focus: Array<{ reference: string }> };
    expect(header.focus[0]?.reference).toBe(`urn:uuid:${assigned.serviceRequestId}`);
  });
});

describe('minimalAcknowledgementBundle', () => {
  it('acknowledges from the validated message alone: Bundle id and timestamp, MessageHeader focus, ServiceRequest', () => {
    const request = example('new-referral.json');
    const intent = parseBarsMessage(request, new Date('2026-01-15T10:00:00Z'));
    const ack = minimalAcknowledgementBundle(intent.message, assigned);

    expect(ack).toMatchObject({
      resourceType: 'Bundle',
      id: request['id'],
      type: 'message',
      timestamp: request['timestamp'],
    });
    const [header, serviceRequest] = entriesOf(ack);
    expect(header?.resource).toMatchObject({
      resourceType: 'MessageHeader',
      eventCoding: { code: 'servicerequest-request' },
      source: { endpoint: 'https://gp.example.org/bars/A81001' },
      focus: [{ reference: `urn:uuid:${assigned.serviceRequestId}` }],
    });
    expect(serviceRequest).toEqual({
      fullUrl: `urn:uuid:${assigned.serviceRequestId}`,
      resource: {
        resourceType: 'ServiceRequest',
        id: assigned.serviceRequestId,
        meta: { lastUpdated: assigned.lastUpdated },
        status: 'active',
        intent: 'plan',
        subject: { display: 'The patient of the request message' },
      },
    });
    // Nothing about the patient beyond what the sender already knows is in it: no identifiers at all.
    expect(JSON.stringify(ack)).not.toContain('9995260182');
  });
});
