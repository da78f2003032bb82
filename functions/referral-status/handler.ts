import type { APIGatewayProxyEvent } from 'aws-lambda';
import { DynamoAuditLog } from '#adapters/dynamodb/audit-log.ts';
import { DynamoReferralStore } from '#adapters/dynamodb/referral-store.ts';
import { recordReads } from '#audit/application/reads.ts';
import { findReferral, statusView } from '#referral/application/referral-status.ts';
import { visibleTo } from '#auth/access.ts';
import type { Caller } from '#auth/caller.ts';
import { systemClock } from '#kernel/clock.ts';
import { ValidationError } from '#kernel/errors.ts';
import { serviceRequestResource } from '#fhir/outbound/service-request.ts';
import { uuidPattern } from '#kernel/ids.ts';
import type { Referral } from '#referral/domain/referral.ts';
import { fhirJson, json } from '#http/responses.ts';
import { documentClient } from '#platform/clients.ts';
import { tableName } from '#platform/config.ts';
import { httpHandler } from '#platform/handlers.ts';
import { currentRequestOrigin } from '#platform/request-origin.ts';

/**
 * Reading a referral, for the practice that referred it only (anyone else is told it does not exist):
 * GET /referrals/{id} the JSON status view; GET /ServiceRequest/{id} the FHIR ServiceRequest.
 */

const referrals = new DynamoReferralStore(documentClient, tableName('referrals'));
const audit = new DynamoAuditLog(documentClient, tableName('audit'));

/** The referral the path names, if the caller may see it (else NotFoundError, as for one that does not exist). */
async function requested(event: APIGatewayProxyEvent, caller: Caller | undefined): Promise<Referral> {
  const id = event.pathParameters?.id ?? '';
  if (!uuidPattern.test(id)) {
    throw new ValidationError([{ field: 'id', rule: 'must be a referral id (a UUID)', kind: 'value' }]);
  }
  const referral = await findReferral(referrals, id.toLowerCase(), visibleTo(caller));
  // The referral is patient data: its reading is audited before it is shown (a refusal shows nothing, records nothing).
  const origin = currentRequestOrigin();
  if (origin)
    await recordReads(audit, origin, systemClock.now().toISOString(), [
      {
        referralId: referral.referralId,
        view: event.resource === '/ServiceRequest/{id}' ? 'service-request' : 'referral-status',
      },
    ]);
  return referral;
}

export const handler = httpHandler('referralStatus', {
  getReferralStatus: async (event, _context, caller) => json(200, statusView(await requested(event, caller))),
  readServiceRequest: async (event, _context, caller) => ({
    statusCode: 200,
    headers: { 'Content-Type': fhirJson },
    body: JSON.stringify(serviceRequestResource(await requested(event, caller))),
  }),
});
