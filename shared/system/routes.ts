/**
 * The API's routes and who may call them (deny by default). Part of the ONE system description (shared/system/):
 * API Gateway, the local gateway, the handlers' role check and the OpenAPI document all read this list.
 */
import type { FunctionName } from '#system/names.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Who calls us. A token carries one role and the organisation it is bound to: a GP system one or more practice ODS
 * codes, a link worker a team, a partner a partner id. Ops, admin and commissioner tokens are bound to none; a
 * commissioner reads figures only (reports with small counts suppressed), never a patient.
 */
export const roles = ['gp-system', 'link-worker', 'partner', 'ops', 'admin', 'commissioner'] as const;
export type Role = (typeof roles)[number];

export interface RouteSpec {
  /**
   * What the route does, as one name: the shared HTTP wrapper dispatches to the handler of this name in its
   * function's map, the authorisation check and the OpenAPI document (its `operationId`) key on it. Unique.
   */
  operationId: string;
  method: HttpMethod;
  /** API Gateway resource path; `{name}` is a path parameter. */
  path: string;
  function: FunctionName;
  /**
   * Roles that may call the route; every other role is refused (deny by default). `public` routes (service
   * metadata only) need no token.
   */
  access: readonly Role[] | 'public';
}

// `as const`: each entry's operation id and function keep their literal types, so the handlers' maps are checked
// against this list at compile time (a missing or unknown operation is a type error).
export const routes = [
  {
    operationId: 'submitReferral',
    method: 'POST',
    path: '/referrals',
    function: 'intake',
    access: ['gp-system'],
  },
  {
    operationId: 'processMessage',
    method: 'POST',
    path: '/$process-message',
    function: 'intake',
    access: ['gp-system'],
  },
  {
    operationId: 'getReferralStatus',
    method: 'GET',
    path: '/referrals/{id}',
    function: 'referralStatus',
    access: ['gp-system'],
  },
  {
    operationId: 'readServiceRequest',
    method: 'GET',
    path: '/ServiceRequest/{id}',
    function: 'referralStatus',
    access: ['gp-system'],
  },
  // Case work (docs/api.md, Worklists and actions): a link worker's team referrals, a partner's offers.
  {
    operationId: 'listTeamReferrals',
    method: 'GET',
    path: '/team/referrals',
    function: 'caseWork',
    access: ['link-worker'],
  },
  {
    operationId: 'getTeamReferral',
    method: 'GET',
    path: '/team/referrals/{id}',
    function: 'caseWork',
    access: ['link-worker'],
  },
  {
    operationId: 'acceptTeamReferral',
    method: 'POST',
    path: '/team/referrals/{id}/accept',
    function: 'caseWork',
    access: ['link-worker'],
  },
  {
    operationId: 'declineTeamReferral',
    method: 'POST',
    path: '/team/referrals/{id}/decline',
    function: 'caseWork',
    access: ['link-worker'],
  },
  {
    operationId: 'recordTeamContact',
    method: 'POST',
    path: '/team/referrals/{id}/contact',
    function: 'caseWork',
    access: ['link-worker'],
  },
  {
    operationId: 'startTeamIntervention',
    method: 'POST',
    path: '/team/referrals/{id}/start',
    function: 'caseWork',
    access: ['link-worker'],
  },
  {
    operationId: 'closeTeamReferral',
    method: 'POST',
    path: '/team/referrals/{id}/close',
    function: 'caseWork',
    access: ['link-worker'],
  },
  {
    operationId: 'rerouteTeamReferral',
    method: 'POST',
    path: '/team/referrals/{id}/re-route',
    function: 'caseWork',
    access: ['link-worker'],
  },
  {
    operationId: 'addTeamReferralPartner',
    method: 'POST',
    path: '/team/referrals/{id}/add-partner',
    function: 'caseWork',
    access: ['link-worker'],
  },
  {
    operationId: 'removeTeamReferralPartner',
    method: 'POST',
    path: '/team/referrals/{id}/remove-partner',
    function: 'caseWork',
    access: ['link-worker'],
  },
  {
    operationId: 'listPartnerOffers',
    method: 'GET',
    path: '/partner/offers',
    function: 'caseWork',
    access: ['partner'],
  },
  {
    operationId: 'getPartnerOffer',
    method: 'GET',
    path: '/partner/offers/{id}',
    function: 'caseWork',
    access: ['partner'],
  },
  {
    operationId: 'acceptPartnerOffer',
    method: 'POST',
    path: '/partner/offers/{id}/accept',
    function: 'caseWork',
    access: ['partner'],
  },
  {
    operationId: 'declinePartnerOffer',
    method: 'POST',
    path: '/partner/offers/{id}/decline',
    function: 'caseWork',
    access: ['partner'],
  },
  {
    operationId: 'recordPartnerContact',
    method: 'POST',
    path: '/partner/offers/{id}/contact',
    function: 'caseWork',
    access: ['partner'],
  },
  {
    operationId: 'startPartnerIntervention',
    method: 'POST',
    path: '/partner/offers/{id}/start',
    function: 'caseWork',
    access: ['partner'],
  },
  {
    operationId: 'closePartnerOffer',
    method: 'POST',
    path: '/partner/offers/{id}/close',
    function: 'caseWork',
    access: ['partner'],
  },
  { operationId: 'capabilities', method: 'GET', path: '/metadata', function: 'metadata', access: 'public' },
  { operationId: 'openApi', method: 'GET', path: '/openapi.json', function: 'metadata', access: 'public' },
  // BaRS senders read what we receive before sending (after /metadata); public, like the CapabilityStatement.
  {
    operationId: 'searchMessageDefinitions',
    method: 'GET',
    path: '/MessageDefinition',
    function: 'metadata',
    access: 'public',
  },
  {
    operationId: 'readMessageDefinition',
    method: 'GET',
    path: '/MessageDefinition/{id}',
    function: 'metadata',
    access: 'public',
  },
  // The directory's admin API: teams, partners and services, version-guarded (docs/api.md, Directory admin).
  {
    operationId: 'createTeam',
    method: 'POST',
    path: '/directory/teams',
    function: 'directoryAdmin',
    access: ['admin'],
  },
  {
    operationId: 'getTeam',
    method: 'GET',
    path: '/directory/teams/{id}',
    function: 'directoryAdmin',
    access: ['admin'],
  },
  {
    operationId: 'updateTeam',
    method: 'PUT',
    path: '/directory/teams/{id}',
    function: 'directoryAdmin',
    access: ['admin'],
  },
  {
    operationId: 'retireTeam',
    method: 'POST',
    path: '/directory/teams/{id}/retire',
    function: 'directoryAdmin',
    access: ['admin'],
  },
  {
    operationId: 'rotateTeamSecret',
    method: 'POST',
    path: '/directory/teams/{id}/rotate-secret',
    function: 'directoryAdmin',
    access: ['admin'],
  },
  {
    operationId: 'createPartner',
    method: 'POST',
    path: '/directory/partners',
    function: 'directoryAdmin',
    access: ['admin'],
  },
  {
    operationId: 'getPartner',
    method: 'GET',
    path: '/directory/partners/{id}',
    function: 'directoryAdmin',
    access: ['admin'],
  },
  {
    operationId: 'updatePartner',
    method: 'PUT',
    path: '/directory/partners/{id}',
    function: 'directoryAdmin',
    access: ['admin'],
  },
  {
    operationId: 'retirePartner',
    method: 'POST',
    path: '/directory/partners/{id}/retire',
    function: 'directoryAdmin',
    access: ['admin'],
  },
  {
    operationId: 'rotatePartnerSecret',
    method: 'POST',
    path: '/directory/partners/{id}/rotate-secret',
    function: 'directoryAdmin',
    access: ['admin'],
  },
  {
    operationId: 'createService',
    method: 'POST',
    path: '/directory/services',
    function: 'directoryAdmin',
    access: ['admin'],
  },
  {
    operationId: 'getService',
    method: 'GET',
    path: '/directory/services/{id}',
    function: 'directoryAdmin',
    access: ['admin'],
  },
  {
    operationId: 'updateService',
    method: 'PUT',
    path: '/directory/services/{id}',
    function: 'directoryAdmin',
    access: ['admin'],
  },
  {
    operationId: 'retireService',
    method: 'POST',
    path: '/directory/services/{id}/retire',
    function: 'directoryAdmin',
    access: ['admin'],
  },
  {
    operationId: 'pauseService',
    method: 'POST',
    path: '/directory/services/{id}/pause',
    function: 'directoryAdmin',
    access: ['admin'],
  },
  {
    operationId: 'resumeService',
    method: 'POST',
    path: '/directory/services/{id}/resume',
    function: 'directoryAdmin',
    access: ['admin'],
  },
  // The partners' and link workers' inbox page: static files; its script calls the routes above with the token.
  { operationId: 'inboxPage', method: 'GET', path: '/inbox', function: 'inboxPage', access: 'public' },
  {
    operationId: 'inboxAsset',
    method: 'GET',
    path: '/inbox/{asset}',
    function: 'inboxPage',
    access: 'public',
  },
  // Outcome measures (docs/api.md, Outcome measures): a link worker records and reads them for a referral routed to
  // their team.
  {
    operationId: 'recordOutcomes',
    method: 'POST',
    path: '/team/referrals/{id}/outcomes',
    function: 'outcomes',
    access: ['link-worker'],
  },
  {
    operationId: 'getOutcomes',
    method: 'GET',
    path: '/team/referrals/{id}/outcomes',
    function: 'outcomes',
    access: ['link-worker'],
  },
  // Reports (issue 10): figures for ops and commissioners (functions/reports).
  {
    operationId: 'getVolumesReport',
    method: 'GET',
    path: '/reports/volumes',
    function: 'reports',
    access: ['ops', 'commissioner'],
  },
  {
    operationId: 'getSurgesReport',
    method: 'GET',
    path: '/reports/surges',
    function: 'reports',
    access: ['ops', 'commissioner'],
  },
  {
    operationId: 'getFunnelReport',
    method: 'GET',
    path: '/reports/funnel',
    function: 'reports',
    access: ['ops', 'commissioner'],
  },
  {
    operationId: 'getDeprivationReport',
    method: 'GET',
    path: '/reports/deprivation',
    function: 'reports',
    access: ['ops', 'commissioner'],
  },
  {
    operationId: 'getGapsReport',
    method: 'GET',
    path: '/reports/gaps',
    function: 'reports',
    access: ['ops', 'commissioner'],
  },
  {
    operationId: 'getPartnersReport',
    method: 'GET',
    path: '/reports/partners',
    function: 'reports',
    access: ['ops', 'commissioner'],
  },
  {
    operationId: 'getOutcomesReport',
    method: 'GET',
    path: '/reports/outcomes',
    function: 'reports',
    access: ['ops', 'commissioner'],
  },
  {
    operationId: 'getCaseloadsReport',
    method: 'GET',
    path: '/reports/caseloads',
    function: 'reports',
    access: ['ops', 'commissioner'],
  },
  // (reports routes)
  // The observatory page (issue 10): static, public, reads the reports API with the viewer's token.
  // (observatory routes)
  {
    operationId: 'observatoryPage',
    method: 'GET',
    path: '/observatory',
    function: 'observatoryPage',
    access: 'public',
  },
  {
    operationId: 'observatoryAsset',
    method: 'GET',
    path: '/observatory/{asset}',
    function: 'observatoryPage',
    access: 'public',
  },
  // The evaluation extract (issue 10): pseudonymised rows for evaluators, ops only.
  {
    operationId: 'getEvaluationExtract',
    method: 'GET',
    path: '/evaluation/extract',
    function: 'evaluation',
    access: ['ops'],
  },
  // (evaluation routes)
] as const satisfies readonly RouteSpec[];

/** One entry of `routes`, with its literal operation id and function. */
export type Route = (typeof routes)[number];
export type OperationId = Route['operationId'];
/** The functions API Gateway invokes. */
export type HttpFunctionName = Route['function'];
/** The routes one function serves. */
export type RouteOf<F extends HttpFunctionName> = Extract<Route, { function: F }>;
/** The operations one function serves: the keys of its handler map. */
export type OperationIdOf<F extends HttpFunctionName> = RouteOf<F>['operationId'];
