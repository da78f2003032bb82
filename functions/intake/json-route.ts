import { makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { maxRequestBodyBytes } from '../../infra/topology.ts';
import { submitReferral, type SubmitReferralCommand } from '../../shared/application/submit-referral.ts';
import { assertActsFor } from '../../shared/auth/access.ts';
import type { Caller } from '../../shared/auth/caller.ts';
import { ValidationError } from '../../shared/domain/errors.ts';
import { referralIdFor } from '../../shared/domain/ids.ts';
import { ReferralRequest } from '../../shared/domain/referral.ts';
import {
  assertMediaType,
  bodyText,
  jsonMediaTypes,
  parseJson,
  parseWith,
} from '../../shared/http/request.ts';
import { json } from '../../shared/http/responses.ts';
import { header } from '../../shared/platform/handlers.ts';
import { mapIdempotencyErrors } from '../../shared/platform/idempotency-errors.ts';
import { idempotencyFor } from '../../shared/platform/idempotency.ts';
import { logger, metrics } from '../../shared/platform/observability.ts';
import { intakeDeps } from './deps.ts';

/** POST /referrals: validate, record durably, queue for routing, answer 202 with the referral id. */

// A retry with the same Idempotency-Key replays the first answer for 24 hours; a different body is a conflict.
const idempotency = idempotencyFor({
  keyPath: 'scopedKey',
  payloadPath: 'request',
  expiresAfterSeconds: 24 * 3600,
});
const submitOnce = makeIdempotent(
  (command: SubmitReferralCommand & { scopedKey: string }) => submitReferral(intakeDeps, command),
  idempotency,
);

export const idempotencyKeyPattern = /^[\x21-\x7e]{1,255}$/;

export async function submitJsonReferral(
  event: APIGatewayProxyEvent,
  context: Context,
  caller: Caller | undefined,
): Promise<APIGatewayProxyResult> {
  assertMediaType(event, jsonMediaTypes);
  const request = parseWith(ReferralRequest, parseJson(bodyText(event, maxRequestBodyBytes)));
  assertActsFor(caller, request.practiceOds);
  const idempotencyKey = header(event, 'Idempotency-Key');
  if (idempotencyKey !== undefined && !idempotencyKeyPattern.test(idempotencyKey)) {
    throw new ValidationError([
      { field: 'Idempotency-Key', rule: 'must be 1 to 255 printable ASCII characters', kind: 'value' },
    ]);
  }

  const referralId = referralIdFor(request.practiceOds, idempotencyKey);
  let acknowledgement;
  if (idempotencyKey === undefined) {
    acknowledgement = await submitReferral(intakeDeps, { referralId, request });
  } else {
    idempotency.config.registerLambdaContext(context);
    const scopedKey = `${request.practiceOds}:${idempotencyKey}`;
    acknowledgement = await mapIdempotencyErrors(() =>
      submitOnce({ referralId, request, source: { channel: 'json', idempotencyKey }, scopedKey }),
    );
  }

  logger.info('Referral accepted', { referralId, practice: request.practiceOds, needs: request.needs });
  metrics.addMetric('ReferralsAccepted', 'Count', 1);
  return json(202, acknowledgement, { Location: `${event.requestContext.path}/${referralId}` });
}
