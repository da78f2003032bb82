import { DynamoReferralStore } from '../../shared/adapters/dynamodb/referral-store.ts';
import { getReferralStatus } from '../../shared/application/referral-status.ts';
import { visibleTo } from '../../shared/auth/access.ts';
import { ValidationError } from '../../shared/domain/errors.ts';
import { uuidPattern } from '../../shared/domain/ids.ts';
import { json } from '../../shared/http/responses.ts';
import { documentClient } from '../../shared/platform/clients.ts';
import { tableName } from '../../shared/platform/config.ts';
import { httpHandler } from '../../shared/platform/handlers.ts';

/** GET /referrals/{id}: status, link-worker team, matched partners, deliveries and unmet needs. */

const referrals = new DynamoReferralStore(documentClient, tableName('referrals'));

export const handler = httpHandler(async (event, _context, caller) => {
  const id = event.pathParameters?.id ?? '';
  if (!uuidPattern.test(id)) {
    throw new ValidationError([{ field: 'id', rule: 'must be a referral id (a UUID)', kind: 'value' }]);
  }
  return json(200, await getReferralStatus(referrals, id.toLowerCase(), visibleTo(caller)));
});
