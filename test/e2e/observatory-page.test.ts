import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCaseWork } from '../../infra/local/demo-case-work.ts';
import { startLocalStack, type LocalStack } from '../../infra/local/local-stack.ts';
import { eventually } from '../support/local.ts';

// The observatory page in a real browser (Debian's Chromium, driven by playwright-core) against `npm start`'s stack
// after the demo's case work (infra/local/demo-case-work.ts, the function `npm run demo` runs): a commissioner signs
// in and every chart has data, small counts drawn as suppressed and explained; the filters ask the reports API again;
// an operator sees exact counts. The screenshot in docs/observatory.png is taken by this test
// (OBSERVATORY_SCREENSHOT=$PWD/docs/observatory.png npx vitest run test/e2e/observatory-page.test.ts).

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Every chart's report; every one but the surges has figures after the demo (a surge needs 8 weeks behind it). */
const reports = ['volumes', 'funnel', 'deprivation', 'gaps', 'partners', 'outcomes', 'surges'] as const;
const charted = reports.filter((report) => report !== 'surges');

let stack: LocalStack;
let browser: Browser;
let page: Page;
let commissioner = '';
/** What the page asked the API for, and what the browser refused under the page's security policy. */
const requested: string[] = [];
const policyViolations: string[] = [];

beforeAll(async () => {
  stack = await startLocalStack({ port: 0, throttle: { ratePerSecond: 10_000, burst: 10_000 } });
  const work = await runCaseWork({ apiUrl: stack.apiUrl, mint: (claims) => stack.issuer.mint(claims) });
  expect(work.referrals).toBeGreaterThan(30);
  expect(work.outcomeSets).toBeGreaterThan(0);
  commissioner = await stack.issuer.mint({ role: 'commissioner', subject: 'e2e-observatory-commissioner' });
  // The figures are written as the work is done; wait until the slowest family (the partners' answers) shows.
  await eventually(
    async () => {
      const answer = await fetch(`${stack.apiUrl}/reports/partners`, {
        headers: { Authorization: `Bearer ${commissioner}` },
      });
      const body = (await answer.json()) as { rows?: unknown[] };
      return (body.rows ?? []).length > 0 ? true : undefined;
    },
    'partner figures in the reports API',
    30_000,
  );
  browser = await chromium.launch({
    executablePath: chromiumPath,
    // Root in CI containers: Chromium's sandbox needs user namespaces it may not have there.
    args: ['--no-sandbox'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  page.on('request', (request) => {
    if (request.url().includes('/reports/')) requested.push(request.url());
  });
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) policyViolations.push(message.text());
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const card = (report: string) => page.locator(`#chart-${report}`);
/** The marks drawn with a figure in them (a count above 0, or a suppressed one). */
const marksWithData = (report: string) => card(report).locator('svg .mark:not([data-value="0"])').count();

async function allDrawn(): Promise<void> {
  for (const report of charted)
    await expect.poll(() => card(report).getAttribute('data-state'), { timeout: 15_000 }).toBe('drawn');
  await expect.poll(() => card('surges').getAttribute('data-state')).toBe('empty');
}

describe('the observatory page, as a commissioner', () => {
  it('signs in with a token and draws every chart with data', async () => {
    await page.goto(`${stack.apiUrl}/observatory`);
    await page.fill('#token', commissioner);
    await page.click('#sign-in-form button[type="submit"]');
    await expect.poll(() => page.locator('#who').textContent()).toContain('commissioner');
    await allDrawn();
    for (const report of charted) {
      expect(await marksWithData(report), `${report} marks`).toBeGreaterThan(0);
      // Each chart says what it is, and its figures are there as a table too.
      expect(await card(report).locator('svg title').first().textContent()).not.toBe('');
      expect(await card(report).locator('.chart-table tbody tr').count()).toBeGreaterThan(0);
    }
    // Needs referred in more than one category, the funnel past its first stage, unmet needs in more than one area.
    expect(await card('volumes').locator('.legend-item').count()).toBeGreaterThan(1);
    expect(await card('funnel').locator('svg .category-label').allTextContents()).toEqual(
      expect.arrayContaining(['referred', 'received by link worker', 'closed', 'declined']),
    );
    expect(await card('gaps').locator('svg .category-label').count()).toBeGreaterThan(1);
    expect(policyViolations).toEqual([]);
  });

  it('draws small counts as suppressed, never as numbers, and explains them', async () => {
    const note = page.locator('#suppression-note');
    await expect.poll(() => note.isVisible()).toBe(true);
    expect(await note.textContent()).toContain('“<5”');
    const suppressed = page.locator('svg .mark.suppressed');
    expect(await suppressed.count()).toBeGreaterThan(0);
    expect(await suppressed.first().getAttribute('fill')).toMatch(/^url\(#[\w-]+-hatch-\d+\)$/);
    expect(await suppressed.first().getAttribute('data-value')).toBe('<5');
    // No figure from 1 to 4 anywhere on the page: the tables show `<5` as the API does.
    const cells = await page.locator('.chart-table td').allTextContents();
    expect(cells).toContain('<5');
    for (const value of await page
      .locator('svg .mark')
      .evaluateAll((marks) => marks.map((mark) => mark.getAttribute('data-value'))))
      expect(['1', '2', '3', '4']).not.toContain(value);

    // docs/observatory.png: the charts a commissioner sees after the demo.
    const screenshot =
      process.env.OBSERVATORY_SCREENSHOT ??
      path.join(mkdtempSync(path.join(tmpdir(), 'observatory-')), 'observatory.png');
    await page.screenshot({ path: screenshot, fullPage: true });
  });

  it('asks the reports API again when the area or the days change', async () => {
    requested.length = 0;
    await page.fill('#area', 'FY1');
    await page.click('#filters button[type="submit"]');
    await expect.poll(() => requested.length).toBe(reports.length);
    for (const report of reports) {
      const url = new URL(requested.find((r) => r.includes(`/reports/${report}?`)) ?? 'http://none/');
      // A partner's answers are not by area: that report is asked for all areas, and says so.
      expect(url.searchParams.get('area'), report).toBe(report === 'partners' ? null : 'FY1');
    }
    await expect.poll(() => card('partners').locator('.all-areas').isVisible()).toBe(true);
    await expect.poll(() => card('gaps').getAttribute('data-state')).toBe('drawn');
    await expect.poll(() => card('gaps').locator('svg .category-label').allTextContents()).toEqual(['FY1']);
    expect(await page.locator('#range').textContent()).toContain('area FY1');
    for (const report of reports)
      await expect.poll(() => card(report).getAttribute('data-state')).not.toBe('loading');
    expect(await page.locator('#message').textContent()).toBe('');

    // Days with nothing in them: every chart says so rather than drawing empty axes.
    requested.length = 0;
    await page.fill('#area', '');
    await page.fill('#from', '2020-01-01');
    await page.fill('#to', '2020-01-31');
    await page.click('#filters button[type="submit"]');
    await expect.poll(() => requested.length).toBe(reports.length);
    expect(requested.every((r) => r.includes('from=2020-01-01') && r.includes('to=2020-01-31'))).toBe(true);
    for (const report of reports)
      await expect.poll(() => card(report).getAttribute('data-state')).toBe('empty');
  });
});

describe('the observatory page, as an operator', () => {
  it('sees exact counts: nothing suppressed and no note', async () => {
    const ops = await stack.issuer.mint({ role: 'ops', subject: 'e2e-observatory-ops' });
    await page.click('#sign-out');
    await page.fill('#token', ops);
    await page.click('#sign-in-form button[type="submit"]');
    await expect.poll(() => page.locator('#who').textContent()).toContain('operator');
    // The filters are as left: back to the last 30 days first.
    const today = new Date().toISOString().slice(0, 10);
    await page.fill('#from', new Date(Date.now() - 29 * 86_400_000).toISOString().slice(0, 10));
    await page.fill('#to', today);
    await page.click('#filters button[type="submit"]');
    await allDrawn();
    expect(await page.locator('svg .mark.suppressed').count()).toBe(0);
    expect(await page.locator('#suppression-note').isVisible()).toBe(false);
    for (const report of charted) expect(await marksWithData(report), report).toBeGreaterThan(0);
  });
});
