import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { maxRequestBodyBytes } from '#system/limits.ts';
import { submitReferral, type SubmitReferralCommand } from '#referral/application/submit-referral.ts';
import { assertActsFor } from '#auth/access.ts';
import type { Caller } from '#auth/caller.ts';
import { ValidationError } from '#kernel/errors.ts';
import { referralIdFor, requestFingerprint, scopedKey } from '#kernel/ids.ts';
import { ReferralRequest } from '#referral/domain/referral.ts';
import { assertMediaType, bodyText, jsonMediaTypes, parseJson } from '#http/request.ts';
import { parseWith } from '#kernel/validation.ts';
import { json } from '#http/responses.ts';
import { header } from '#platform/handlers.ts';
import { decideOnce } from '#platform/idempotency.ts';
import { logger, metrics } from '#platform/observability.ts';
import { intakeDeps } from './deps.ts';

/** POST /referrals: validate, record durably, queue for routing, answer 202 with the referral id. */

const route = '/referrals';

// A retry with the same Idempotency-Key (in its scope: this route, this caller, this practice) replays the first
// answer for 24 hours; a different body is a conflict then and, through the fingerprint on the referral, for as
// long as the referral exists.
const submitOnce = decideOnce((command: SubmitReferralCommand) => submitReferral(intakeDeps, command), {
  expiresAfterSeconds: 24 * 3600,
});

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

  const scope = { route, caller: caller.subject, practiceOds: request.practiceOds };
  const referralId = referralIdFor(scope, idempotencyKey);
  const fingerprint = requestFingerprint(route, request);
  let acknowledgement;
  if (idempotencyKey === undefined) {
    acknowledgement = await submitReferral(intakeDeps, { referralId, request, fingerprint });
  } else {
    const command = {
      referralId,
      request,
      fingerprint,
      source: { channel: 'json' as const, idempotencyKey },
    };
    ({ result: acknowledgement } = await submitOnce(
      { key: scopedKey(scope, idempotencyKey), fingerprint, command },
      context,
    ));
  }

  logger.info('Referral accepted', { referralId, practice: request.practiceOds, needs: request.needs });
  metrics.addMetric('ReferralsAccepted', 'Count', 1);
  return json(202, acknowledgement, { Location: referralLocation(event, referralId) });
}

/**
 * The new referral's URL path: the route's own path (`/referrals`, however many slashes the client sent), under
 * whatever prefix the request came in with (API Gateway's requestContext.path carries the stage, `/prod/...`).
 */
function referralLocation(event: APIGatewayProxyEvent, referralId: string): string {
  const requested = event.requestContext.path;
  const prefix = requested.endsWith(event.path)
    ? requested.slice(0, requested.length - event.path.length)
    : '';
  return `${prefix}${route}/${referralId}`;
}
