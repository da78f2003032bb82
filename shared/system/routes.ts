/**
 * The API's routes and who may call them (deny by default). Part of the ONE system description (shared/system/):
 * API Gateway, the local gateway, the handlers' role check and the OpenAPI document all read this list.
 */
import type { FunctionName } from '#system/functions.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Who calls us. A token carries one role and the organisation it is bound to: a GP system one or more practice ODS
 * codes, a link worker a team, a partner a partner id.
 */
export const roles = ['gp-system', 'link-worker', 'partner', 'ops', 'admin'] as const;
export type Role = (typeof roles)[number];

export interface RouteSpec {
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

export const routes: RouteSpec[] = [
  { method: 'POST', path: '/referrals', function: 'intake', access: ['gp-system'] },
  { method: 'POST', path: '/$process-message', function: 'intake', access: ['gp-system'] },
  { method: 'GET', path: '/referrals/{id}', function: 'referralStatus', access: ['gp-system'] },
  { method: 'GET', path: '/ServiceRequest/{id}', function: 'referralStatus', access: ['gp-system'] },
  { method: 'GET', path: '/metadata', function: 'metadata', access: 'public' },
  { method: 'GET', path: '/openapi.json', function: 'metadata', access: 'public' },
];
