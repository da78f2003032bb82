import { DynamoReferralStore } from '../../shared/adapters/dynamodb/referral-store.ts';
import { findReferral, statusView } from '../../shared/application/referral-status.ts';
import { visibleTo } from '../../shared/auth/access.ts';
import { ValidationError } from '../../shared/domain/errors.ts';
import { serviceRequestResource } from '../../shared/domain/fhir/service-request.ts';
import { uuidPattern } from '../../shared/domain/ids.ts';
import { fhirJson, json } from '../../shared/http/responses.ts';
import { documentClient } from '../../shared/platform/clients.ts';
import { tableName } from '../../shared/platform/config.ts';
import { httpHandler } from '../../shared/platform/handlers.ts';

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
