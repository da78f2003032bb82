import { readFileSync } from 'node:fs';
import { securityHeaders } from '#http/responses.ts';
import { httpHandler, type HttpHandler } from '#platform/handlers.ts';

/**
 * GET /observatory and GET /observatory/{asset}: the observatory, a read-only page of charts for commissioners and
 * ops (docs/observatory.md). Static and public, because it holds no data: every figure on it comes from the reports
 * API, called by the page's script with the viewer's token, so it shows what that role may see (small counts
 * suppressed for a commissioner) and nothing more.
 *
 * Served by a function of its own, like the inbox page, so the page has the API's origin (no CORS, the token never
 * crosses origins) and the local stack serves it through the same gateway. The same files can be served as a
 * static site instead (docs/observatory.md, Deploying as a static site).
 */

/** The page's files (functions/observatory-page/assets/, copied beside the bundle by infra/constructs/functions.ts). */
const assets = {
  'index.html': 'text/html; charset=utf-8',
  'observatory.js': 'text/javascript; charset=utf-8',
  'chart-specs.js': 'text/javascript; charset=utf-8',
  'charts.js': 'text/javascript; charset=utf-8',
  'observatory.css': 'text/css; charset=utf-8',
} as const;
type AssetName = keyof typeof assets;

const isAsset = (name: string): name is AssetName => Object.hasOwn(assets, name);

/**
 * Only this origin's own scripts and style, no inline code or style attributes, no framing, and API calls to this
 * origin only: a page that holds a token must not run anything injected into it.
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
    body: `No page file named ${JSON.stringify(name.slice(0, 100))}; the observatory is at /observatory\n`,
  });

export const handler = httpHandler('observatoryPage', {
  observatoryPage: () => asset('index.html'),
  observatoryAsset: (event) => {
    const name = event.pathParameters?.asset ?? '';
    return isAsset(name) ? asset(name) : notFound(name);
  },
});
