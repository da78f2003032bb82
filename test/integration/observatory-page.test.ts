import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalAws, type LocalAws } from '../../infra/local/local-aws.ts';
import { apiEvent, contextFor, type ApiHandler } from '../support/local.ts';

// The observatory page's files as the function serves them: public, each with its type and a policy that lets the
// page run its own scripts and style only (no inline code, no other origin), and nothing else by any name.

let aws: LocalAws;
let page: ApiHandler;

beforeAll(async () => {
  aws = await startLocalAws();
  page = ((await import('../../functions/observatory-page/handler.ts')) as { handler: ApiHandler }).handler;
});
afterAll(() => aws.stop());

const get = (path: string, pathParameters?: Record<string, string>) =>
  page(
    { ...apiEvent('GET', path, '', {}, null), ...(pathParameters ? { pathParameters } : {}) },
    contextFor('observatoryPage'),
  );

describe('the observatory page', () => {
  it('GET /observatory is the HTML page, loading only its own script and style, relative to its folder', async () => {
    const response = await get('/observatory');
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['Content-Type']).toBe('text/html; charset=utf-8');
    // Relative, so the files are found under the API's stage in AWS (`/v1/observatory` loads
    // `/v1/observatory/observatory.js`) as locally, and in a static copy of the page laid out the same way.
    expect(response.body).toContain('<script type="module" src="observatory/observatory.js"></script>');
    expect(response.body).toContain('href="observatory/observatory.css"');
    expect(response.body).not.toMatch(/(src|href)="(\/|https?:)/);
    expect(response.body.match(/<script/g)).toHaveLength(1);
    // The API's address is the page's own folder unless a static copy names it here.
    expect(response.body).toContain('<meta name="reports-api" content="" />');
    const policy = String(response.headers?.['Content-Security-Policy']);
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("style-src 'self'");
    expect(policy).toContain("connect-src 'self'");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(response.headers?.['Cache-Control']).toBe('no-store');
  });

  it('the script calls the reports API relative to the page (the stage in AWS) or the configured base', async () => {
    const script = (await get('/observatory/observatory.js', { asset: 'observatory.js' })).body;
    expect(script).toContain("window.location.pathname.replace(/observatory\\/?$/, '')");
    // Its modules beside it, by relative path too.
    expect(script).toContain("from './charts.js';");
    expect(script).toContain("from './chart-specs.js';");
    expect(script).toMatch(/fetch\(`\$\{apiBase\}reports\//);
    expect(script.match(/fetch\(/g)).toHaveLength(1);
  });

  it.each([
    ['observatory.js', 'text/javascript; charset=utf-8', 'sessionStorage'],
    ['charts.js', 'text/javascript; charset=utf-8', 'export function barChart'],
    ['chart-specs.js', 'text/javascript; charset=utf-8', 'export const charts'],
    ['observatory.css', 'text/css; charset=utf-8', 'font-family'],
  ])('GET /observatory/%s is served as %s', async (asset, type, sample) => {
    const response = await get(`/observatory/${asset}`, { asset });
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['Content-Type']).toBe(type);
    expect(response.body).toContain(sample);
  });

  it.each([
    'charts.d.ts',
    'chart-specs.d.ts',
    'index.htm',
    '../handler.ts',
    'constructor',
    '__proto__',
    'x'.repeat(5000),
  ])('GET /observatory/%s is 404: only the page’s own files are served', async (asset) => {
    const response = await get(`/observatory/${encodeURIComponent(asset)}`, { asset });
    expect(response.statusCode).toBe(404);
    expect(response.body).toContain('the observatory is at /observatory');
    expect(response.body.length).toBeLessThan(200);
  });
});
