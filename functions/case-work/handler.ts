import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { DynamoAuditLog } from '#adapters/dynamodb/audit-log.ts';
import { DynamoDirectoryEditor } from '#adapters/dynamodb/directory-editor.ts';
import { DynamoMetricCounters } from '#adapters/dynamodb/metric-counters.ts';
import { DynamoFigures } from '#adapters/dynamodb/figures.ts';
import { DynamoPartnerResponses } from '#adapters/dynamodb/partner-responses.ts';
import { DynamoOfferStore, DynamoWorklists } from '#adapters/dynamodb/offer-store.ts';
import { DynamoReferralStore } from '#adapters/dynamodb/referral-store.ts';
import { serviceTerms } from '#adapters/dynamodb/service-terms.ts';
import { SqsQueue } from '#adapters/sqs/sqs-queue.ts';
import type { Caller } from '#auth/caller.ts';
import { systemClock } from '#kernel/clock.ts';
import { UnauthorizedError, ValidationError } from '#kernel/errors.ts';
import { uuidPattern } from '#kernel/ids.ts';
import { queueMessages } from '#messages/queue.ts';
import {
  actOnPartnerOffer,
  actOnTeamReferral,
  changeTeamReferralPartners,
  listPartnerOffers,
  listTeamReferrals,
  partnerOfferView,
  teamReferralView,
  type Actor,
  type CaseAction,
  type CaseWorkDeps,
  type PartnerChange,
  type PartnerOfferView,
  type TeamReferralView,
} from '#referral/application/case-work.ts';
import { offerIdPattern } from '#referral/domain/offer.ts';
import { maxRequestBodyBytes } from '#system/limits.ts';
import { assertMediaType, bodyText, jsonMediaTypes, parseJson } from '#http/request.ts';
import { json } from '#http/responses.ts';
import { documentClient, sqs } from '#platform/clients.ts';
import { queueUrl, tableName } from '#platform/config.ts';
import { header, httpHandler, type HttpHandler } from '#platform/handlers.ts';
import { currentRequestOrigin, requestAudited } from '#platform/request-origin.ts';
import { recordReads, type PatientDataRead } from '#audit/application/reads.ts';

/**
 * Case work over HTTP: a link worker's team referrals (`/team/referrals...`) and a partner's offers
 * (`/partner/offers...`), each route one use case of shared/referral/application/case-work.ts. The organisation comes
 * from the token only (httpHandler has checked the role against the route table).
 */

const referralsTable = tableName('referrals');
const directory = new DynamoDirectoryEditor(documentClient, tableName('directory'));
const deps: CaseWorkDeps = {
  referrals: new DynamoReferralStore(documentClient, referralsTable),
  offers: new DynamoOfferStore(documentClient, referralsTable),
  worklists: new DynamoWorklists(documentClient, referralsTable),
  services: serviceTerms(directory),
  directory,
  audit: requestAudited(new DynamoAuditLog(documentClient, tableName('audit'))),
  counters: new DynamoMetricCounters(documentClient, tableName('metrics')),
  figures: new DynamoFigures(documentClient, tableName('metrics')),
  responses: new DynamoPartnerResponses(documentClient, tableName('metrics')),
  notices: new SqsQueue(sqs, queueUrl('notifications'), queueMessages.notifications),
  clock: systemClock,
};

/**
 * Audits what a request showed of patients' data, one entry per referral, before it is shown: a failure to audit
 * fails the request rather than show data unrecorded.
 */
async function auditReads(reads: PatientDataRead[]): Promise<void> {
  const origin = currentRequestOrigin();
  if (origin && reads.length > 0)
    await recordReads(deps.audit, origin, deps.clock.now().toISOString(), reads);
}

/** The team or partner the token is bound to, and who it is. */
function actorOf(caller: Caller | undefined): Actor {
  const organisation = caller?.organisations[0];
  if (!caller || organisation === undefined) throw new UnauthorizedError('The token names no organisation');
  return { organisation, subject: caller.subject };
}

function referralIdOf(event: APIGatewayProxyEvent): string {
  const id = event.pathParameters?.id ?? '';
  if (!uuidPattern.test(id))
    throw new ValidationError([{ field: 'id', rule: 'must be a referral id (a UUID)', kind: 'value' }]);
  return id.toLowerCase();
}

function offerIdOf(event: APIGatewayProxyEvent): string {
  const id = event.pathParameters?.id ?? '';
  if (!offerIdPattern.test(id))
    throw new ValidationError([
      { field: 'id', rule: 'must be an offer id (<referral id>.offer.<need>.<service id>)', kind: 'value' },
    ]);
  return id;
}

/** The JSON body, read only when the use case asks (after it has found the item to be the caller's). */
const bodyOf = (event: APIGatewayProxyEvent) => (): unknown => {
  assertMediaType(event, jsonMediaTypes);
  return parseJson(bodyText(event, maxRequestBodyBytes));
};

/** An action's optional Idempotency-Key: with it, a retried contact attempt is known as the same attempt. */
function requestKeyOf(event: APIGatewayProxyEvent): string | undefined {
  const key = header(event, 'Idempotency-Key');
  if (key !== undefined && !/^[\x21-\x7e]{1,255}$/.test(key))
    throw new ValidationError([
      { field: 'Idempotency-Key', rule: 'must be 1 to 255 printable ASCII characters', kind: 'value' },
    ]);
  return key;
}

const query = (event: APIGatewayProxyEvent): Record<string, string | undefined> =>
  event.queryStringParameters ?? {};

/**
 * An action answers with the view its GET shows (the team's: the patient's details; the partner's: what its content
 * level allows), so the answer is a read too, recorded as the GET's is. The step's own entry is keyed by the step, so
 * a repeated action (already in that state: 200, the view, nothing written) would otherwise show the data unrecorded;
 * the use case does not say whether this request wrote it, so every answer records its read (one link per request).
 */
const teamRead = (view: TeamReferralView, action?: CaseAction | PartnerChange): PatientDataRead => ({
  referralId: view.referralId,
  view: 'team-referral',
  ...(action === undefined ? {} : { detail: { action } }),
});

const partnerRead = (view: PartnerOfferView, action?: CaseAction): PatientDataRead => ({
  referralId: view.referralId,
  view: 'partner-offer',
  detail: {
    offerId: view.offerId,
    content: view.referral.content,
    ...(action === undefined ? {} : { action }),
  },
});

/** The view, once its read is recorded: a failure to record fails the request rather than show it unrecorded. */
async function shown(view: unknown, read: PatientDataRead): Promise<APIGatewayProxyResult> {
  await auditReads([read]);
  return json(200, view);
}

const teamAction =
  (action: CaseAction): HttpHandler =>
  async (event, _context, caller) => {
    const view = await actOnTeamReferral(
      deps,
      actorOf(caller),
      referralIdOf(event),
      action,
      bodyOf(event),
      requestKeyOf(event),
    );
    return shown(view, teamRead(view, action));
  };

const partnerChange =
  (change: PartnerChange): HttpHandler =>
  async (event, _context, caller) => {
    const view = await changeTeamReferralPartners(
      deps,
      actorOf(caller),
      referralIdOf(event),
      change,
      bodyOf(event),
    );
    return shown(view, teamRead(view, change));
  };

const partnerAction =
  (action: CaseAction): HttpHandler =>
  async (event, _context, caller) => {
    const view = await actOnPartnerOffer(
      deps,
      actorOf(caller),
      offerIdOf(event),
      action,
      bodyOf(event),
      requestKeyOf(event),
    );
    return shown(view, partnerRead(view, action));
  };

export const handler = httpHandler('caseWork', {
  listTeamReferrals: async (event, _context, caller) => {
    const page = await listTeamReferrals(deps, actorOf(caller).organisation, query(event));
    // The team's list names each patient: one read per listed referral.
    await auditReads(page.items.map(({ referralId }) => ({ referralId, view: 'team-worklist' })));
    return json(200, page);
  },
  getTeamReferral: async (event, _context, caller) => {
    const view = await teamReferralView(deps, actorOf(caller).organisation, referralIdOf(event));
    return shown(view, teamRead(view));
  },
  acceptTeamReferral: teamAction('accept'),
  declineTeamReferral: teamAction('decline'),
  recordTeamContact: teamAction('contact'),
  startTeamIntervention: teamAction('start'),
  closeTeamReferral: teamAction('close'),
  rerouteTeamReferral: partnerChange('re-route'),
  addTeamReferralPartner: partnerChange('add-partner'),
  removeTeamReferralPartner: partnerChange('remove-partner'),
  // A partner's list shows no patient detail (category, service, content level, dates): no read to audit.
  listPartnerOffers: async (event, _context, caller) =>
    json(200, await listPartnerOffers(deps, actorOf(caller).organisation, query(event))),
  getPartnerOffer: async (event, _context, caller) => {
    const view = await partnerOfferView(deps, actorOf(caller).organisation, offerIdOf(event));
    return shown(view, partnerRead(view));
  },
  acceptPartnerOffer: partnerAction('accept'),
  declinePartnerOffer: partnerAction('decline'),
  recordPartnerContact: partnerAction('contact'),
  startPartnerIntervention: partnerAction('start'),
  closePartnerOffer: partnerAction('close'),
});
