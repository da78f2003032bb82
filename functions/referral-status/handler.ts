import { DynamoReferralStore } from '#adapters/dynamodb/referral-store.ts';
import { findReferral, statusView } from '#referral/application/referral-status.ts';
import { visibleTo } from '#auth/access.ts';
import { ValidationError } from '#kernel/errors.ts';
import { serviceRequestResource } from '#fhir/outbound/service-request.ts';
import { uuidPattern } from '#kernel/ids.ts';
import { fhirJson, json } from '#http/responses.ts';
import { documentClient } from '#platform/clients.ts';
import { tableName } from '#platform/config.ts';
import { httpHandler } from '#platform/handlers.ts';

/**
 * Reading a referral, for the practice that referred it only (anyone else is told it does not exist):
 * GET /referrals/{id} the JSON status view; GET /ServiceRequest/{id} the FHIR ServiceRequest.
 */

const referrals = new DynamoReferralStore(documentClient, tableName('referrals'));

export const handler = httpHandler(async (event, _context, caller) => {
  const id = event.pathParameters?.id ?? '';
  if (!uuidPattern.test(id)) {
    throw new ValidationError([{ field: 'id', rule: 'must be a referral id (a UUID)', kind: 'value' }]);
  }
  const referral = await findReferral(referrals, id.toLowerCase(), visibleTo(caller));
  if (event.resource === '/ServiceRequest/{id}') {
    return {
      statusCode: 200,
      headers: { 'Content-Type': fhirJson },
      body: JSON.stringify(serviceRequestResource(referral)),
    };
  }
  return json(200, statusView(referral));
});
