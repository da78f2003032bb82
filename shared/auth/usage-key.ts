import { createHash } from 'node:crypto';

/**
 * The API key value that stands for one client (one JWT `sub`) in API Gateway's usage plan.
 *
 * API keys here identify a client for rate limiting; they do not authenticate it (the JWT does). The API's key
 * source is AUTHORIZER: the `authorizer` function returns this value as `usageIdentifierKey` for every token it
 * accepts, and the CDK stack registers the same value as that client's API key (context `apiClients`, see
 * docs/deploy.md), so API Gateway applies the client's throttle and daily quota. A token whose subject is not
 * registered gets 403 on every route that requires a key.
 *
 * Derived, not stored: the same subject gives the same key everywhere, with nothing to share between the stack and
 * the function. A SHA-256 hex digest is 64 characters, well within API Gateway's 20 to 128, and uses only
 * characters an API key may contain whatever the subject holds.
 */
export function usageKeyFor(subject: string): string {
  return `client-${createHash('sha256').update(subject, 'utf8').digest('hex')}`;
}
