import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalAws, type LocalAws } from '../../infra/local/local-aws.ts';
import { apiEvent, contextFor, type ApiHandler } from '../support/local.ts';

// The inbox page's files as the function serves them: public, each with its type and a policy that lets the page
// run its own script and style only (no inline code, no other origin), and nothing else by any name.

let aws: LocalAws;
let page: ApiHandler;

beforeAll(async () => {
  aws = await startLocalAws();
  page = ((await import('../../functions/inbox-page/handler.ts')) as { handler: ApiHandler }).handler;
});
afterAll(() => aws.stop());

const get = (path: string, pathParameters?: Record<string, string>) =>
  page({ ...apiEvent('GET', path), ...(pathParameters ? { pathParameters } : {}) }, contextFor('inboxPage'));

describe('the inbox page', () => {
  it('GET /inbox is the HTML page, loading only its own script and style', async () => {
    const response = await get('/inbox');
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['Content-Type']).toBe('text/html; charset=utf-8');
    // Relative, so the files are found under the API's stage in AWS (`/v1/inbox` loads `/v1/inbox/inbox.js`) as
    // locally (`/inbox` loads `/inbox/inbox.js`).
    expect(response.body).toContain('<script type="module" src="inbox/inbox.js"></script>');
    expect(response.body).toContain('href="inbox/inbox.css"');
    expect(response.body).not.toMatch(/(src|href)="\//);
    // No inline script anywhere: the policy would refuse it, and the page must not need it.
    expect(response.body.match(/<script/g)).toHaveLength(1);
    const policy = String(response.headers?.['Content-Security-Policy']);
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("connect-src 'self'");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(response.headers?.['Cache-Control']).toBe('no-store');
  });

  it("the script calls the API relative to the page's own folder (the stage in AWS), never from the root", async () => {
    const script = (await get('/inbox/inbox.js', { asset: 'inbox.js' })).body;
    expect(script).toContain("window.location.pathname.replace(/inbox\\/?$/, '')");
    expect(script).toMatch(/fetch\(`\$\{apiBase\}/);
    expect(script.match(/fetch\(/g)).toHaveLength(1);
  });

  it.each([
    ['inbox.js', 'text/javascript; charset=utf-8', 'sessionStorage'],
    ['inbox.css', 'text/css; charset=utf-8', 'font-family'],
  ])('GET /inbox/%s is served as %s', async (asset, type, sample) => {
    const response = await get(`/inbox/${asset}`, { asset });
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['Content-Type']).toBe(type);
    expect(response.body).toContain(sample);
  });

  it.each(['index.htm', '../handler.ts', 'constructor', '__proto__', 'x'.repeat(5000)])(
    'GET /inbox/%s is 404: only the page’s own files are served',
    async (asset) => {
      const response = await get(`/inbox/${encodeURIComponent(asset)}`, { asset });
      expect(response.statusCode).toBe(404);
      expect(response.body).toContain('the inbox is at /inbox');
      expect(response.body.length).toBeLessThan(200);
    },
  );
});
