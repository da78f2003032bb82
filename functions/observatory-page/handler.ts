import { httpHandler } from '#platform/handlers.ts';
import { staticPage } from '#platform/static-page.ts';

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
const files = {
  'index.html': 'text/html; charset=utf-8',
  'observatory.js': 'text/javascript; charset=utf-8',
  'chart-specs.js': 'text/javascript; charset=utf-8',
  'charts.js': 'text/javascript; charset=utf-8',
  'observatory.css': 'text/css; charset=utf-8',
} as const;

const page = staticPage({
  directory: new URL('./assets/', import.meta.url),
  files,
  name: 'observatory',
  path: '/observatory',
});

export const handler = httpHandler('observatoryPage', {
  observatoryPage: () => page.index(),
  observatoryAsset: (event) => page.asset(event),
});
