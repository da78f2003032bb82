import type { FieldProblem } from '#kernel/errors.ts';
import { uuidPattern } from '#kernel/ids.ts';
import { ReferralRequest } from '#referral/domain/referral.ts';
import { fhirSystems, Organization, type ServiceRequest } from '#fhir/inbound/bundle.ts';
import { headerBase, readEnvelope, type Envelope } from '#fhir/inbound/message-header.ts';
import { isSystem } from '#fhir/inbound/normalise.ts';
import { check, emptyDraft, entryBase, fail, validate, type Draft } from '#fhir/inbound/provenance.ts';
import { readReferralRequest } from '#fhir/inbound/referral-request.ts';
import { readServiceRequest } from '#fhir/inbound/service-request.ts';

/**
 * Reading a BaRS-shaped FHIR R4 message Bundle (`POST /$process-message`) for a social-prescribing referral and
 * mapping it to the one internal model, `ReferralRequest`, that the plain JSON route also produces.
 *
 * One set of rules: the Bundle is checked for FHIR shape (bundle.ts), then a `ReferralRequest` candidate is built
 * from it while recording, for each internal field path, the FHIR element it came from. The candidate is validated
 * by the same `ReferralRequest` schema as the JSON route (via `parseWith`), and each `FieldProblem` is translated to
 * that FHIR expression (or the nearest recorded parent). A few rules only make sense for a BaRS message (deadline in
 * the future, shareable NHS-number verification, sane birth date) and are added on the same recorded paths.
 *
 * This file decides the intent (new, update, cancel) and composes the readers: message-header.ts (envelope, event,
 * reason), service-request.ts (the focus ServiceRequest), referral-request.ts (the candidate, from patient.ts,
 * needs.ts, flags.ts and consent.ts), bundle-index.ts (entries and references) and provenance.ts (where each field
 * came from, and the translation of problems to FHIR expressions). The acknowledgement is outbound/acknowledgement.ts.
 *
 * Errors: `ValidationError` (400 REC_BAD_REQUEST) whose `field`s are FHIRPath-style expressions such as
 * `Bundle.entry[2].resource.identifier[0].value`; `UnsupportedMessageError` (422 REC_UNPROCESSABLE_ENTITY) for a
 * well-formed BaRS message this receiver does not handle. Nothing else is thrown, whatever the input.
 */

export interface MessageInfo {
  /** Bundle.id, as sent. */
  bundleId: string;
  /** MessageHeader.id, or, when the sender gave none (common in BaRS examples), the uuid of its entry's fullUrl. */
  messageHeaderId: string;
  /** Bundle.timestamp, as sent (a FHIR instant with time zone). */
  timestamp: string;
  /** MessageHeader.source.endpoint: where BaRS responses go back to (required: a message without it is refused). */
  sourceEndpoint: string;
  /** ODS code of the sender Organization (MessageHeader.sender); equals request.practiceOds for new and update. */
  senderOds: string;
}

export type BarsIntent =
  | { kind: 'new'; request: ReferralRequest; message: MessageInfo }
  | { kind: 'update'; serviceRequestId: string; request: ReferralRequest; message: MessageInfo }
  | {
      kind: 'cancel';
      serviceRequestId: string;
      status: 'revoked' | 'entered-in-error';
      message: MessageInfo;
    };

export function parseBarsMessage(input: unknown, now: Date): BarsIntent {
  // 1. Envelope: Bundle shape and timestamp, MessageHeader event and reason.
  const envelope = readEnvelope(input, now);
  const problems: FieldProblem[] = [];
  // 2. The focus ServiceRequest: ours (category), BaRS rules.
  const focus = readServiceRequest(envelope.index, envelope.header, problems);
  const { sr, srBase } = focus;
  // 3. Which of new, update, cancel.
  const kind = intentOf(envelope.reason, sr, srBase, problems);
  if (kind === undefined) fail(problems);
  // 4. The sender.
  const draft = emptyDraft();
  readSender(envelope, draft, problems);

  if (kind === 'cancel') {
    const pick = ReferralRequest.pick({ practiceOds: true });
    const { practiceOds } = validate(pick, draft, [], problems);
    return {
      kind,
      serviceRequestId: sr.id ?? '',
      status: sr.status === 'revoked' ? 'revoked' : 'entered-in-error',
      message: messageInfo(envelope, practiceOds),
    };
  }

  // 5. The referral itself.
  const request = readReferralRequest(focus, envelope.index, now, draft, problems);
  const info = messageInfo(envelope, request.practiceOds);
  return kind === 'new'
    ? { kind, request, message: info }
    : { kind, serviceRequestId: sr.id ?? '', request, message: info };
}

/** MessageHeader.reason and ServiceRequest.status -> new, update or cancel; an update or cancel names our id. */
function intentOf(
  reason: Envelope['reason'],
  sr: ServiceRequest,
  srBase: string,
  problems: FieldProblem[],
): BarsIntent['kind'] | undefined {
  let kind: BarsIntent['kind'] | undefined;
  const status = sr.status;
  if (reason === 'new') {
    if (status === 'active') kind = 'new';
    else {
      problems.push({
        field: `${srBase}.status`,
        rule: status === undefined ? 'is required: active' : 'must be active for a new referral (reason new)',
        kind: status === undefined ? 'required' : 'value',
      });
    }
  } else if (status === 'active') kind = 'update';
  else if (status === 'revoked' || status === 'entered-in-error') kind = 'cancel';
  else {
    problems.push({
      field: `${srBase}.status`,
      rule: `${status === undefined ? 'is required' : 'is not valid'} for reason update: active (update), revoked or entered-in-error (cancel)`,
      kind: status === undefined ? 'required' : 'value',
    });
  }
  if (kind === 'update' || kind === 'cancel') {
    if (sr.id === undefined || !uuidPattern.test(sr.id)) {
      problems.push({
        field: `${srBase}.id`,
        rule: `${sr.id === undefined ? 'is required' : 'is not valid'} for an update or cancellation: it must be the id (a UUID) this service assigned`,
        kind: sr.id === undefined ? 'required' : 'value',
      });
    }
  }

  return kind;
}

/** MessageHeader.sender -> the candidate's `practiceOds` (the sender Organization's ODS code). */
function readSender(
  { index, header }: Envelope,
  { candidate, fields, skipped }: Draft,
  problems: FieldProblem[],
) {
  const orgIndex = index.resolve(header.sender, `${headerBase}.sender`, ['Organization'], problems, true);
  const organization =
    orgIndex === undefined
      ? undefined
      : check(Organization, index.resource(orgIndex), entryBase(orgIndex), problems);
  if (orgIndex === undefined || organization === undefined) skipped.push('practiceOds');
  else {
    const orgBase = entryBase(orgIndex);
    const identifiers = organization.identifier ?? [];
    const i = identifiers.findIndex((id) => isSystem(id.system, fhirSystems.odsOrganisation));
    fields.set('practiceOds', i === -1 ? `${orgBase}.identifier` : `${orgBase}.identifier[${i}].value`);
    const ods = identifiers[i]?.value;
    if (ods !== undefined) candidate['practiceOds'] = ods;
  }
}

function messageInfo(
  { bundle, header, headerEntry, sourceEndpoint }: Envelope,
  senderOds: string,
): MessageInfo {
  return {
    bundleId: bundle.id,
    messageHeaderId: header.id ?? headerEntry.fullUrl.trim().replace(/^urn:uuid:/i, ''),
    timestamp: bundle.timestamp,
    sourceEndpoint,
    senderOds,
  };
}
