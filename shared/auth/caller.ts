import type { APIGatewayProxyEvent } from 'aws-lambda';
import * as z from 'zod';
import { lazy } from '#kernel/lazy.ts';
import { OdsCode } from '#directory/domain/ods-code.ts';
import { roles, type Role } from '#system/routes.ts';

/**
 * Who is calling: verified from the JWT by the authorizer and handed to handlers in the request context. A handler
 * takes the caller's organisation from here only, never from the request body.
 *
 * The schemas are built on first use and marked pure: every function imports this module through its handler
 * wrapper (shared/platform/handlers.ts), and one that serves no HTTP request (a queue consumer, a scheduled job)
 * then neither builds them at import nor bundles them.
 */

/** The token claims we rely on, beyond the registered ones (iss, aud, exp, sub). */
export const callerClaims = /* @__PURE__ */ lazy(() =>
  z.discriminatedUnion('role', [
    z.object({ role: z.literal('gp-system'), ods: z.array(OdsCode).min(1).max(100) }),
    z.object({ role: z.literal('link-worker'), team: z.string().min(1).max(100) }),
    z.object({ role: z.literal('partner'), partner: z.string().min(1).max(100) }),
    z.object({ role: z.literal('ops') }),
    // Read-only figures for a commissioning body (the reports, small counts suppressed): never a patient.
    z.object({ role: z.literal('commissioner') }),
    z.object({ role: z.literal('admin') }),
  ]),
);
export type CallerClaims = z.infer<ReturnType<typeof callerClaims>>;

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
export function authorizerContext(caller: Caller, tokenExpiresAt: number): Record<string, string> {
  return {
    subject: caller.subject,
    role: caller.role,
    organisations: caller.organisations.join(','),
    // API Gateway caches an authorizer's answer by TTL alone; the handlers refuse it once the token has expired.
    tokenExpiresAt: String(tokenExpiresAt),
  };
}

/** How far a token's `exp` (and `nbf`) may be off our clock: the authorizer and the handlers use the same. */
export const tokenClockToleranceSeconds = 30;

/** A JWT subject names a client (its usage plan key and audit trail hang on it): blank is no subject at all. */
export const subjectClaim = /* @__PURE__ */ lazy(() =>
  z.string().refine((subject) => subject.trim() !== '', { message: 'The token subject (sub) is blank' }),
);

const authorizerContextSchema = /* @__PURE__ */ lazy(() =>
  z.object({
    subject: subjectClaim(),
    role: z.enum(roles),
    organisations: z.string(),
    tokenExpiresAt: z
      .string()
      .regex(/^\d{1,12}$/)
      .transform(Number),
  }),
);

/** The caller of a request, or undefined when no authorizer ran (public routes). */
export function callerOf(event: Pick<APIGatewayProxyEvent, 'requestContext'>): Caller | undefined {
  const parsed = authorizerContextSchema().safeParse(event.requestContext.authorizer ?? undefined);
  if (!parsed.success) return undefined;
  const { subject, role, organisations } = parsed.data;
  return { subject, role, organisations: organisations === '' ? [] : organisations.split(',') };
}

/**
 * Whether the token the authorizer verified is past its expiry (with the authorizer's clock tolerance) at `now`.
 * A cached Allow can outlive its token by up to the cache TTL; this is what stops it. No context: expired.
 */
export function tokenExpired(event: Pick<APIGatewayProxyEvent, 'requestContext'>, now = Date.now()): boolean {
  const parsed = authorizerContextSchema().safeParse(event.requestContext.authorizer ?? undefined);
  if (!parsed.success) return true;
  return now > (parsed.data.tokenExpiresAt + tokenClockToleranceSeconds) * 1000;
}
