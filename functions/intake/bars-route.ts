import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { maxRequestBodyBytes } from '#system/limits.ts';
import { amendReferral, cancelReferral } from '#referral/application/amend-or-cancel-referral.ts';
import { acceptReferral } from '#referral/application/submit-referral.ts';
import { assertActsFor } from '#auth/access.ts';
import type { Caller } from '#auth/caller.ts';
import { ConflictError, ValidationError } from '#kernel/errors.ts';
import { parseBarsMessage, type BarsIntent } from '#fhir/inbound/message-intent.ts';
import { acknowledgementBundle, minimalAcknowledgementBundle } from '#fhir/outbound/acknowledgement.ts';
import { referralIdFor, requestFingerprint, scopedKey, uuidPattern, type KeyScope } from '#kernel/ids.ts';
import type { Referral } from '#referral/domain/referral.ts';
import { assertMediaType, bodyText, fhirMediaTypes, parseJson } from '#http/request.ts';
import { fhirJson } from '#http/responses.ts';
import { header } from '#platform/handlers.ts';
import { decideOnce } from '#platform/idempotency.ts';
import { logger, metrics } from '#platform/observability.ts';
import { intakeDeps } from './deps.ts';

/**
 * POST /$process-message: a BaRS-shaped FHIR message. New referrals, updates and cancellations all arrive here,
 * are mapped to the same internal model as the JSON route, and are acknowledged synchronously with the processed
 * Bundle. X-Request-ID and X-Correlation-ID are required and mirrored back; a replayed X-Request-ID is refused
 * with 409 `duplicate` (BaRS), the same id with a different body with 409 `conflict`.
 */

const route = '/$process-message';

interface ProcessCommand {
  intent: BarsIntent;
  /** Where X-Request-ID means something: this route, this caller, the sending practice. */
  scope: KeyScope;
  /** The validated message's fingerprint (ids.ts), kept on a new referral. */
  fingerprint: string;
  requestId: string;
  correlationId: string;
}

/** What an acknowledgement needs from processing; all the idempotency record keeps (never the message). */
interface Processed {
  referralId: string;
  status: string;
  lastUpdated: string;
}

// The X-Request-ID (in its scope) is the idempotency key, the validated message's fingerprint the payload that must
// match: a replay is 409 duplicate, another message under the same id 409 conflict.
const processOnce = decideOnce(
  async (command: ProcessCommand): Promise<Processed> => {
    const referral = await apply(command);
    return { referralId: referral.referralId, status: fhirStatus(referral), lastUpdated: referral.updatedAt };
  },
  { expiresAfterSeconds: 24 * 3600 },
);

export async function processBarsMessage(
  event: APIGatewayProxyEvent,
  context: Context,
  caller: Caller | undefined,
): Promise<APIGatewayProxyResult> {
  const requestId = requiredUuidHeader(event, 'X-Request-ID');
  const correlationId = requiredUuidHeader(event, 'X-Correlation-ID');
  assertMediaType(event, fhirMediaTypes);
  const body = parseJson(bodyText(event, maxRequestBodyBytes), { expressionRoot: 'Bundle' });
  const intent = parseBarsMessage(body, intakeDeps.clock.now());
  assertActsFor(caller, intent.message.senderOds);

  const scope = { route, caller: caller.subject, practiceOds: intent.message.senderOds };
  // Computed up front from the validated message (small, schema-bounded): nothing after the durable write hashes
  // or walks the body.
  const fingerprint = requestFingerprint(route, intent);
  const command = { intent, scope, fingerprint, requestId, correlationId };
  const { result, executed } = await processOnce(
    { key: scopedKey(scope, requestId), fingerprint, command },
    context,
  );
  if (!executed) {
    throw new ConflictError(
      `X-Request-ID ${requestId} has already been processed (referral ${result.referralId})`,
      true,
    );
  }
  // From here on the message is processed: nothing may turn that into an error answer.
  const acknowledgement = acknowledgementText(body, intent, result);

  logger.info('BaRS message processed', {
    referralId: result.referralId,
    kind: intent.kind,
    requestId,
    correlationId,
  });
  metrics.addMetric(
    `BarsMessages${intent.kind === 'new' ? 'New' : intent.kind === 'update' ? 'Update' : 'Cancel'}`,
    'Count',
    1,
  );
  return {
    statusCode: 200,
    headers: { 'Content-Type': fhirJson, 'X-Request-ID': requestId, 'X-Correlation-ID': correlationId },
    body: acknowledgement,
  };
}

/**
 * The processed Bundle (the request, with the ServiceRequest's assigned id and status); if building or serialising
 * it fails for any reason, the minimal acknowledgement from the validated message instead of an error: the
 * message is already processed, and an error would make the sender send it again as a new one.
 */
function acknowledgementText(body: unknown, intent: BarsIntent, result: Processed): string {
  const assigned = {
    serviceRequestId: result.referralId,
    status: result.status,
    lastUpdated: result.lastUpdated,
  };
  try {
    return JSON.stringify(acknowledgementBundle(body, assigned));
  } catch (error) {
    logger.warn('Full acknowledgement could not be built; answering the minimal one', {
      referralId: result.referralId,
      error: error instanceof Error ? error.name : 'unknown',
    });
    return JSON.stringify(minimalAcknowledgementBundle(intent.message, assigned));
  }
}

async function apply({
  intent,
  scope,
  fingerprint,
  requestId,
  correlationId,
}: ProcessCommand): Promise<Referral> {
  const actor = `practice:${intent.message.senderOds}`;
  switch (intent.kind) {
    case 'new': {
      // The referral as stored (not read back): nothing after the durable write can fail the answer.
      return acceptReferral(intakeDeps, {
        referralId: referralIdFor(scope, requestId),
        request: intent.request,
        fingerprint,
        source: {
          channel: 'fhir',
          requestId,
          correlationId,
          ...(intent.message.sourceEndpoint ? { senderEndpoint: intent.message.sourceEndpoint } : {}),
          // What the messages back to the practice answer (MessageHeader.response.identifier).
          messageHeaderId: intent.message.messageHeaderId,
        },
        messageAt: new Date(intent.message.timestamp).toISOString(),
      });
    }
    // Another practice's referral is answered as no referral at all (404), before the conversation is checked.
    case 'update':
      return amendReferral(intakeDeps, {
        referralId: intent.serviceRequestId,
        request: intent.request,
        messageAt: intent.message.timestamp,
        messageId: requestId,
        actor,
        correlationId,
      });
    case 'cancel':
      return cancelReferral(intakeDeps, {
        referralId: intent.serviceRequestId,
        practiceOds: intent.message.senderOds,
        reason: intent.status,
        messageAt: intent.message.timestamp,
        messageId: requestId,
        actor,
        correlationId,
      });
  }
}

function fhirStatus(referral: Referral): string {
  return referral.status === 'cancelled' ? (referral.cancellation?.reason ?? 'revoked') : 'active';
}

function requiredUuidHeader(event: APIGatewayProxyEvent, name: string): string {
  const value = header(event, name);
  if (value === undefined)
    throw new ValidationError([{ field: name, rule: 'header is required (a UUID)', kind: 'required' }]);
  if (!uuidPattern.test(value))
    throw new ValidationError([{ field: name, rule: 'must be a UUID', kind: 'value' }]);
  return value.toLowerCase();
}
