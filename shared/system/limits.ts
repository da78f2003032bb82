/**
 * Limits the system holds to, in AWS and locally alike: rate limits, the authorizer's cache, how long a recipient
 * may take to answer a webhook, the largest request body. Part of the ONE system description (shared/system/).
 */

/**
 * Rate limits. Per client (a usage plan keyed by the caller in AWS; the local gateway keeps a token bucket per
 * token subject): sustained requests per second and the burst allowed at once. The stage as a whole has its own.
 */
export const clientThrottle = { ratePerSecond: 50, burst: 100 };
export const stageThrottle = { ratePerSecond: 500, burst: 1000 };

/** JWT bearer tokens are verified by the `authorizer` function; its results are cached this long per token. */
export const authorizerCacheSeconds = 300;

/**
 * How long the notifier waits for a recipient to answer one webhook POST. It bounds a delivery's work, so the
 * notifier's timeout is this plus a margin for its few DynamoDB requests (records of a batch run in parallel).
 */
export const webhookTimeoutSeconds = 10;

/**
 * The notifier's timeout: one POST and its records. It is also how long a delivery's `sending` claim holds
 * (ReferralStore.markSending): no attempt outlives its invocation, so an older claim is one that crashed.
 */
export const notifierTimeoutSeconds = webhookTimeoutSeconds + 2;

/** API Gateway's own payload limit is 10 MB; a referral never needs more than this, so larger bodies get 413. */
export const maxRequestBodyBytes = 256 * 1024;
