import { readFileSync } from 'node:fs';
import { securityHeaders } from '#http/responses.ts';
import { httpHandler, type HttpHandler } from '#platform/handlers.ts';

/**
 * GET /inbox and GET /inbox/{asset}: the partner and link-worker inbox, a small static page that signs in with a
 * token and works through the same API as any client (docs/inbox.md). Public, because the page holds no data: every
 * figure and referral on it comes from an authorised API call the page's script makes with the caller's token.
 *
 * Served by a function of its own rather than a bucket: the page then has the API's origin, so its calls need no
 * CORS and the token never crosses origins; and the local stack serves it through the same gateway.
 */

/** The page's files (functions/inbox-page/assets/, copied beside the bundle by infra/constructs/functions.ts). */
const assets = {
  'index.html': 'text/html; charset=utf-8',
  'inbox.js': 'text/javascript; charset=utf-8',
  'inbox.css': 'text/css; charset=utf-8',
} as const;
type AssetName = keyof typeof assets;

const isAsset = (name: string): name is AssetName => Object.hasOwn(assets, name);

/**
 * Only this origin's own script and style, no inline code, no framing, and API calls to this origin only: a page
 * that handles a token and patient details must not run anything injected into it.
 */
const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

// Read once when the function loads: the files never change while it runs.
const directory = new URL('./assets/', import.meta.url);
const bodies = Object.fromEntries(
  Object.keys(assets).map((name) => [name, readFileSync(new URL(name, directory), 'utf8')]),
) as Record<AssetName, string>;

function asset(name: AssetName): ReturnType<HttpHandler> {
  return Promise.resolve({
    statusCode: 200,
    headers: {
      ...securityHeaders,
      'Content-Type': assets[name],
      'Content-Security-Policy': contentSecurityPolicy,
      'Referrer-Policy': 'no-referrer',
    },
    body: bodies[name],
  });
}

const notFound = (name: string): ReturnType<HttpHandler> =>
  Promise.resolve({
    statusCode: 404,
    headers: { ...securityHeaders, 'Content-Type': 'text/plain; charset=utf-8' },
    body: `No page file named ${JSON.stringify(name.slice(0, 100))}; the inbox is at /inbox\n`,
  });

export const handler = httpHandler('inboxPage', {
  inboxPage: () => asset('index.html'),
  inboxAsset: (event) => {
    const name = event.pathParameters?.asset ?? '';
    return isAsset(name) ? asset(name) : notFound(name);
  },
});
