import { makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { maxRequestBodyBytes } from '../../infra/topology.ts';
import { amendReferral, cancelReferral } from '../../shared/application/referral-lifecycle.ts';
import { submitReferral } from '../../shared/application/submit-referral.ts';
import { assertActsFor } from '../../shared/auth/access.ts';
import type { Caller } from '../../shared/auth/caller.ts';
import { ConflictError, ValidationError } from '../../shared/domain/errors.ts';
import {
  acknowledgementBundle,
  parseBarsMessage,
  type BarsIntent,
} from '../../shared/domain/fhir/bars-message.ts';
import { referralIdFor, uuidPattern } from '../../shared/domain/ids.ts';
import type { Referral } from '../../shared/domain/referral.ts';
import { assertMediaType, bodyText, fhirMediaTypes, parseJson } from '../../shared/http/request.ts';
import { fhirJson } from '../../shared/http/responses.ts';
import { header } from '../../shared/platform/handlers.ts';
import { mapIdempotencyErrors } from '../../shared/platform/idempotency-errors.ts';
import { idempotencyFor } from '../../shared/platform/idempotency.ts';
import { logger, metrics } from '../../shared/platform/observability.ts';
import { intakeDeps } from './deps.ts';

/**
 * POST /$process-message: a BaRS-shaped FHIR message. New referrals, updates and cancellations all arrive here,
 * are mapped to the same internal model as the JSON route, and are acknowledged synchronously with the processed
 * Bundle. X-Request-ID and X-Correlation-ID are required and mirrored back; a replayed X-Request-ID is refused
 * with 409 `duplicate` (BaRS), the same id with a different body with 409 `conflict`.
 */

interface ProcessCommand {
  /** Practice + X-Request-ID: the idempotency key. */
  requestKey: string;
  /** The message as received: the idempotency payload, so the same id with another body is a conflict. */
  body: unknown;
  intent: BarsIntent;
  requestId: string;
  correlationId: string;
  /** Set when the processing really runs; untouched when Powertools answers from its record (a replay). */
  run: { executed: boolean };
}

const idempotency = idempotencyFor({
  keyPath: 'requestKey',
  payloadPath: 'body',
  expiresAfterSeconds: 24 * 3600,
});
// The idempotency record keeps only what the acknowledgement needs from processing (never the message itself,
// which may hold anything a client sent), and the acknowledgement is rebuilt from the request.
const processOnce = makeIdempotent(async (command: ProcessCommand) => {
  command.run.executed = true;
  const referral = await apply(command);
  return { referralId: referral.referralId, status: fhirStatus(referral), lastUpdated: referral.updatedAt };
}, idempotency);

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

  idempotency.config.registerLambdaContext(context);
  const run = { executed: false };
  const requestKey = `${intent.message.senderOds}:${requestId}`;
  const result = await mapIdempotencyErrors(() =>
    processOnce({ requestKey, body, intent, requestId, correlationId, run }),
  );
  if (!run.executed) {
    throw new ConflictError(
      `X-Request-ID ${requestId} has already been processed (referral ${result.referralId})`,
      true,
    );
  }
  const acknowledgement = acknowledgementBundle(body, {
    serviceRequestId: result.referralId,
    status: result.status,
    lastUpdated: result.lastUpdated,
  });

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
    body: JSON.stringify(acknowledgement),
  };
}

async function apply({ intent, requestId, correlationId }: ProcessCommand): Promise<Referral> {
  const actor = `practice:${intent.message.senderOds}`;
  switch (intent.kind) {
    case 'new': {
      const referralId = referralIdFor(intent.request.practiceOds, `bars:${requestId}`);
      await submitReferral(intakeDeps, {
        referralId,
        request: intent.request,
        source: {
          channel: 'fhir',
          requestId,
          correlationId,
          ...(intent.message.sourceEndpoint ? { senderEndpoint: intent.message.sourceEndpoint } : {}),
        },
        messageAt: new Date(intent.message.timestamp).toISOString(),
      });
      return mustExist(await intakeDeps.referrals.get(referralId), referralId);
    }
    case 'update':
      await assertSameConversation(intent.serviceRequestId, correlationId);
      return amendReferral(intakeDeps, {
        referralId: intent.serviceRequestId,
        request: intent.request,
        messageAt: intent.message.timestamp,
        actor,
      });
    case 'cancel':
      await assertSameConversation(intent.serviceRequestId, correlationId);
      return cancelReferral(intakeDeps, {
        referralId: intent.serviceRequestId,
        practiceOds: intent.message.senderOds,
        reason: intent.status,
        messageAt: intent.message.timestamp,
        actor,
      });
  }
}

/** BaRS: an update keeps the conversation's X-Correlation-ID. */
async function assertSameConversation(referralId: string, correlationId: string): Promise<void> {
  const referral = await intakeDeps.referrals.get(referralId);
  if (referral?.source.channel === 'fhir' && referral.source.correlationId !== correlationId) {
    throw new ConflictError(
      `X-Correlation-ID ${correlationId} is not the conversation of referral ${referralId}; an update keeps the original one`,
    );
  }
}

function mustExist(referral: Referral | undefined, referralId: string): Referral {
  if (!referral) throw new Error(`referral ${referralId} vanished after being accepted`);
  return referral;
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
