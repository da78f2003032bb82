import { httpHandler } from '#platform/handlers.ts';
import { staticPage } from '#platform/static-page.ts';

/**
 * GET /inbox and GET /inbox/{asset}: the partner and link-worker inbox, a small static page that signs in with a
 * token and works through the same API as any client (docs/inbox.md). Public, because the page holds no data: every
 * figure and referral on it comes from an authorised API call the page's script makes with the caller's token.
 *
 * Served by a function of its own rather than a bucket: the page then has the API's origin, so its calls need no
 * CORS and the token never crosses origins; and the local stack serves it through the same gateway.
 */

/** The page's files (functions/inbox-page/assets/, copied beside the bundle by infra/constructs/functions.ts). */
const files = {
  'index.html': 'text/html; charset=utf-8',
  'inbox.js': 'text/javascript; charset=utf-8',
  'inbox.css': 'text/css; charset=utf-8',
} as const;

const page = staticPage({
  directory: new URL('./assets/', import.meta.url),
  files,
  name: 'inbox',
  path: '/inbox',
});

export const handler = httpHandler('inboxPage', {
  inboxPage: () => page.index(),
  inboxAsset: (event) => page.asset(event),
});
