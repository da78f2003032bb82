import type { APIGatewayProxyEvent } from 'aws-lambda';
import { z } from 'zod';
import { OdsCode } from '../domain/directory.ts';
import { roles, type Role } from '../../infra/topology.ts';

/**
 * Who is calling: verified from the JWT by the authorizer and handed to handlers in the request context. A handler
 * takes the caller's organisation from here only, never from the request body.
 */

/** The token claims we rely on, beyond the registered ones (iss, aud, exp, sub). */
export const CallerClaims = z.discriminatedUnion('role', [
  z.object({ role: z.literal('gp-system'), ods: z.array(OdsCode).min(1).max(100) }),
  z.object({ role: z.literal('link-worker'), team: z.string().min(1).max(100) }),
  z.object({ role: z.literal('partner'), partner: z.string().min(1).max(100) }),
  z.object({ role: z.literal('ops') }),
  z.object({ role: z.literal('admin') }),
]);
export type CallerClaims = z.infer<typeof CallerClaims>;

export interface Caller {
  subject: string;
  role: Role;
  /** The organisations the caller acts for: practice ODS codes, a team id or a partner id. */
  organisations: string[];
}

export function callerFromClaims(subject: string, claims: CallerClaims): Caller {
  switch (claims.role) {
    case 'gp-system':
      return { subject, role: claims.role, organisations: claims.ods };
    case 'link-worker':
      return { subject, role: claims.role, organisations: [claims.team] };
    case 'partner':
      return { subject, role: claims.role, organisations: [claims.partner] };
    default:
      return { subject, role: claims.role, organisations: [] };
  }
}

/**
 * API Gateway passes an authorizer's context as flat strings; this is the shape the authorizer writes and the
 * handlers read.
 */
export function authorizerContext(caller: Caller): Record<string, string> {
  return { subject: caller.subject, role: caller.role, organisations: caller.organisations.join(',') };
}

const AuthorizerContext = z.object({
  subject: z.string().min(1),
  role: z.enum(roles),
  organisations: z.string(),
});

/** The caller of a request, or undefined when no authorizer ran (public routes). */
export function callerOf(event: Pick<APIGatewayProxyEvent, 'requestContext'>): Caller | undefined {
  const parsed = AuthorizerContext.safeParse(event.requestContext.authorizer ?? undefined);
  if (!parsed.success) return undefined;
  const { subject, role, organisations } = parsed.data;
  return { subject, role, organisations: organisations === '' ? [] : organisations.split(',') };
}
