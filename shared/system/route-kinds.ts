/**
 * What a function's routes act on, which decides what a fault of ours tells the caller about retrying
 * (kernel/errors.ts `retryAdvice`): a referral route's writes are made safe to retry by an Idempotency-Key /
 * X-Request-ID, while a directory admin change is guarded by the record's version, so its caller reads the record
 * before retrying. Part of the ONE system description (shared/system/).
 */
import type { FunctionName } from '#system/names.ts';

export const routeKinds = ['referral', 'directory'] as const;
export type RouteKind = (typeof routeKinds)[number];

/** The directory admin API's routes are `directory`; every other function's are `referral`. */
export const routeKindOf = (fn: FunctionName): RouteKind =>
  fn === 'directoryAdmin' ? 'directory' : 'referral';
