import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import {
  authorizerContext,
  callerClaims,
  callerFromClaims,
  subjectClaim,
  tokenClockToleranceSeconds,
} from '#auth/caller.ts';
import { usageKeyFor } from '#auth/usage-key.ts';
import { requiredSetting } from '#platform/config.ts';
import { logger, metrics } from '#platform/observability.ts';

/**
 * API Gateway TOKEN authorizer: verifies the bearer JWT (signature against the issuer's JWKS, issuer, audience,
 * expiry) and passes the caller's role and organisations on. Throwing 'Unauthorized' makes API Gateway answer 401;
 * which roles may use which route is checked by the route's handler (deny by default).
 */

const issuer = requiredSetting('JWT_ISSUER');
const audience = requiredSetting('JWT_AUDIENCE');
// jose caches the key set and refetches it when a token names a key it has not seen (key rotation).
const keys = createRemoteJWKSet(new URL(requiredSetting('JWKS_URL')));

export async function handler(event: APIGatewayTokenAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  const token = /^Bearer (\S+)$/i.exec(event.authorizationToken ?? '')?.[1];
  if (!token) throw denied('MissingBearerToken');
  let caller;
  let expiresAt;
  try {
    const { payload } = await jwtVerify(token, keys, {
      issuer,
      audience,
      algorithms: ['ES256', 'RS256'],
      clockTolerance: tokenClockToleranceSeconds,
      requiredClaims: ['exp', 'sub'],
    });
    // jose checks that sub is a string, not that it names anyone: "" or "  " would be one shared client.
    caller = callerFromClaims(subjectClaim().parse(payload.sub), callerClaims().parse(payload));
    expiresAt = payload.exp ?? 0;
  } catch (error) {
    throw denied((error as Error).name, error);
  }
  return {
    principalId: caller.subject,
    // One policy for the whole stage: the result is cached per token and reused across routes.
    policyDocument: {
      Version: '2012-10-17',
      Statement: [
        { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: stageWildcard(event.methodArn) },
      ],
    },
    // The token's expiry travels with the caller, so a cached Allow is refused once the token has expired.
    context: authorizerContext(caller, expiresAt),
    // The API key source is AUTHORIZER: this picks the caller's usage plan key (throttle and daily quota).
    usageIdentifierKey: usageKeyFor(caller.subject),
  };
}

/**
 * A refusal (API Gateway answers 401): logged with its reason and counted as the EMF metric `AuthorizerDenials`
 * (the denials alarm in infra/constructs/monitoring.ts), flushed now since the invocation ends in the throw.
 */
function denied(reason: string, cause?: unknown): Error {
  logger.info('Token refused', { reason });
  metrics.addMetric('AuthorizerDenials', 'Count', 1);
  metrics.publishStoredMetrics();
  return new Error('Unauthorized', cause === undefined ? undefined : { cause });
}

/** arn:aws:execute-api:region:account:api/stage/METHOD/path -> arn:aws:execute-api:region:account:api/stage/* */
export function stageWildcard(methodArn: string): string {
  const [apiArn = '', stage = ''] = methodArn.split('/');
  return `${apiArn}/${stage}/*`;
}
