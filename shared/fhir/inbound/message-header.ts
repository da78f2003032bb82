import { UnsupportedMessageError, type FieldProblem } from '#kernel/errors.ts';
import { fhirSystems, MessageBundle, MessageHeader, type BundleEntry } from '#fhir/inbound/bundle.ts';
import { BundleIndex } from '#fhir/inbound/bundle-index.ts';
import { barsEvents, eventSystems, isSystem, reasonSystems } from '#fhir/inbound/normalise.ts';
import { check, codingsOf, entryBase, fail } from '#fhir/inbound/provenance.ts';

/**
 * The envelope: the message Bundle's shape and timestamp, and its MessageHeader, whose event and reason decide
 * whether this receiver processes the message at all. Nothing past the header is read here.
 */

/** How far ahead of our clock a sender's Bundle.timestamp may be (clocks drift; a year ahead is an error). */
export const maxClockSkewMs = 5 * 60 * 1000;

/** The MessageHeader is always the first entry. */
export const headerBase = entryBase(0);

export interface Envelope {
  bundle: MessageBundle;
  index: BundleIndex;
  /** Bundle.entry[0], the MessageHeader's entry. */
  headerEntry: BundleEntry;
  header: MessageHeader;
  reason: 'new' | 'update';
  /** MessageHeader.source.endpoint, which a message must have. */
  sourceEndpoint: string;
}

export function readEnvelope(input: unknown, now: Date): Envelope {
  const problems: FieldProblem[] = [];

  // The Bundle: shape, entries, timestamp.
  const bundle = check(MessageBundle, input, 'Bundle', problems);
  if (bundle === undefined) fail(problems);
  const index = new BundleIndex(bundle.entry, problems);
  // A timestamp from the future would become the referral's lastMessageAt and lock every later update out (409).
  if (Date.parse(bundle.timestamp) > now.getTime() + maxClockSkewMs) {
    problems.push({
      field: 'Bundle.timestamp',
      rule: `must not be more than ${maxClockSkewMs / 60_000} minutes ahead of this service's clock (${now.toISOString()})`,
      kind: 'value',
    });
  }
  if (problems.length) fail(problems);

  // The MessageHeader: event and reason decide whether we process the message at all.
  const first = bundle.entry[0];
  if (first?.resource.resourceType !== 'MessageHeader') {
    fail([
      {
        field: 'Bundle.entry[0].resource.resourceType',
        rule: 'must be MessageHeader: a message Bundle starts with its MessageHeader',
        kind: 'invalid',
      },
    ]);
  }
  const header = check(MessageHeader, first.resource, headerBase, problems);
  if (header === undefined) fail(problems);

  const event = header.eventCoding;
  if (!isSystem(event.system, ...eventSystems)) {
    fail([
      {
        field: `${headerBase}.eventCoding.system`,
        rule: event.system === undefined ? 'is required' : `must be ${fhirSystems.messageEvents}`,
        kind: event.system === undefined ? 'required' : 'value',
      },
    ]);
  }
  if (event.code !== 'servicerequest-request') {
    if (event.code !== undefined && barsEvents.includes(event.code)) {
      throw new UnsupportedMessageError(
        `${headerBase}.eventCoding.code`,
        `BaRS event ${event.code} is not supported: this receiver accepts servicerequest-request (referrals) only`,
      );
    }
    fail([
      {
        field: `${headerBase}.eventCoding.code`,
        rule: event.code === undefined ? 'is required' : `must be one of: ${barsEvents.join(', ')}`,
        kind: event.code === undefined ? 'required' : 'value',
      },
    ]);
  }

  const reasonCoding = codingsOf(header.reason ? [header.reason] : [], `${headerBase}.reason`, false).find(
    ({ coding }) => isSystem(coding.system, ...reasonSystems),
  );
  if (reasonCoding === undefined) {
    fail([
      {
        field: header.reason === undefined ? `${headerBase}.reason` : `${headerBase}.reason.coding`,
        rule: `must hold a coding from ${fhirSystems.messageReasons}: new or update`,
        kind: 'required',
      },
    ]);
  }
  const reason = reasonCoding.coding.code;
  if (reason === 'delete') {
    throw new UnsupportedMessageError(
      `${reasonCoding.expression}.code`,
      'MessageHeader.reason delete is not supported: cancel a referral with reason update and ServiceRequest.status revoked',
    );
  }
  if (reason !== 'new' && reason !== 'update') {
    fail([
      {
        field: `${reasonCoding.expression}.code`,
        rule: reason === undefined ? 'is required: new or update' : 'must be one of: new, update',
        kind: reason === undefined ? 'required' : 'value',
      },
    ]);
  }
  // R4 makes MessageHeader.source 1..1 (with endpoint 1..1), and BaRS sends its responses back to that endpoint:
  // without it no valid acknowledgement can be built and the loop has nowhere to answer, so it is refused, never
  // defaulted (a sender's endpoint cannot be guessed).
  if (header.source?.endpoint === undefined) {
    fail([
      {
        field: header.source === undefined ? `${headerBase}.source` : `${headerBase}.source.endpoint`,
        rule: "is required: the sender's endpoint, where BaRS responses to this message go",
        kind: 'required',
      },
    ]);
  }
  return { bundle, index, headerEntry: first, header, reason, sourceEndpoint: header.source.endpoint };
}
