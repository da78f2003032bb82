import type { APIGatewayProxyEvent } from 'aws-lambda';
import { maxRequestBodyBytes } from '#system/limits.ts';
import { DynamoAuditLog } from '#adapters/dynamodb/audit-log.ts';
import { DynamoFigures } from '#adapters/dynamodb/figures.ts';
import { DynamoOutcomeStore } from '#adapters/dynamodb/outcome-store.ts';
import { DynamoReferralStore } from '#adapters/dynamodb/referral-store.ts';
import type { Caller } from '#auth/caller.ts';
import { systemClock } from '#kernel/clock.ts';
import { ForbiddenError, UnauthorizedError, ValidationError } from '#kernel/errors.ts';
import { uuidPattern } from '#kernel/ids.ts';
import {
  recordMeasureSet,
  showOutcomes,
  type OutcomeDeps,
  type TeamMember,
} from '#outcomes/application/outcome-measures.ts';
import { assertMediaType, bodyText, jsonMediaTypes, parseJson } from '#http/request.ts';
import { json } from '#http/responses.ts';
import { documentClient } from '#platform/clients.ts';
import { tableName } from '#platform/config.ts';
import { header, httpHandler } from '#platform/handlers.ts';
import { logger, metrics } from '#platform/observability.ts';
import { currentRequestOrigin, requestAudited } from '#platform/request-origin.ts';
import { recordReads } from '#audit/application/reads.ts';

/**
 * Outcome measures, for the link-worker team a referral was routed to: POST records a measure set (201; a retry
 * 200 with the same set), GET shows them all with the change from baseline. No SWEMWBS conversion is configured
 * (the table is licensed): `swemwbs` is left out of the deps, so only raw totals are shown.
 */

const deps: OutcomeDeps = {
  referrals: new DynamoReferralStore(documentClient, tableName('referrals')),
  outcomes: new DynamoOutcomeStore(documentClient, tableName('referrals')),
  audit: requestAudited(new DynamoAuditLog(documentClient, tableName('audit'))),
  clock: systemClock,
  figures: new DynamoFigures(documentClient, tableName('metrics')),
};

/** As on POST /referrals: printable ASCII, 1-255 characters. */
const idempotencyKeyPattern = /^[\x21-\x7e]{1,255}$/;

/** The link worker calling (the route admits only that role) and the team their token is bound to. */
function teamMember(caller: Caller | undefined): TeamMember {
  if (!caller) throw new UnauthorizedError('A valid bearer token is required');
  const [team] = caller.organisations;
  if (caller.role !== 'link-worker' || team === undefined) {
    throw new ForbiddenError('Only a link worker bound to a team may use outcome measures');
  }
  return { subject: caller.subject, team };
}

function referralIdOf(event: APIGatewayProxyEvent): string {
  const id = event.pathParameters?.id ?? '';
  if (!uuidPattern.test(id)) {
    throw new ValidationError([{ field: 'id', rule: 'must be a referral id (a UUID)', kind: 'value' }]);
  }
  return id.toLowerCase();
}

/** Audits the request's showing of a referral's measures, before they are shown (a failure fails the request). */
async function auditRead(referralId: string, detail?: Record<string, unknown>): Promise<void> {
  const origin = currentRequestOrigin();
  if (origin)
    await recordReads(deps.audit, origin, deps.clock.now().toISOString(), [
      { referralId, view: 'outcomes', ...(detail === undefined ? {} : { detail }) },
    ]);
}

export const handler = httpHandler('outcomes', {
  recordOutcomes: async (event, _context, caller) => {
    const by = teamMember(caller);
    const referralId = referralIdOf(event);
    assertMediaType(event, jsonMediaTypes);
    const body = parseJson(bodyText(event, maxRequestBodyBytes));
    const idempotencyKey = header(event, 'Idempotency-Key');
    if (idempotencyKey !== undefined && !idempotencyKeyPattern.test(idempotencyKey)) {
      throw new ValidationError([
        { field: 'Idempotency-Key', rule: 'must be 1 to 255 printable ASCII characters', kind: 'value' },
      ]);
    }
    const { replayed, ...recorded } = await recordMeasureSet(deps, {
      referralId,
      by,
      body,
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    });
    // Ids, the timepoint and instrument names only: never an answer.
    logger.info('Outcome measures recorded', {
      referralId,
      setId: recorded.set.id,
      timepoint: recorded.set.timepoint,
      replayed,
    });
    // A retry is answered with the set as recorded (its answers: patient data) and the set's entry, keyed by the set,
    // adds nothing: so the retry's answer is audited as a read. A new set's entry is this request's own.
    if (replayed) await auditRead(referralId, { setId: recorded.set.id });
    else metrics.addMetric('OutcomeSetsRecorded', 'Count', 1);
    return json(replayed ? 200 : 201, recorded);
  },
  getOutcomes: async (event, _context, caller) => {
    const referralId = referralIdOf(event);
    const shown = await showOutcomes(deps, referralId, teamMember(caller));
    // A patient's measures are patient data: the reading is audited before they are shown.
    await auditRead(referralId);
    return json(200, shown);
  },
});
