import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../infra/local/local-stack.ts';
import { eventually, sampleReferral } from '../support/local.ts';

// The inbox page in a real browser (Debian's Chromium, driven by playwright-core) against `npm start`'s stack: a
// partner signs in with a token from the development issuer, sees its worklist, accepts one referral, declines
// another with a reason, and sees the states change; the API agrees. The screenshot in docs/inbox.png is taken by
// this test (INBOX_SCREENSHOT=docs/inbox.png npx vitest run test/e2e/inbox-page.test.ts).

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const partner = 'arts-for-all';

let stack: LocalStack;
let browser: Browser;
let page: Page;
let partnerToken = '';
/** The offer the browser accepted. */
let acceptedOffer: OfferRow | undefined;

interface OfferRow {
  offerId: string;
  referralId: string;
  state: string;
  version: number;
}

async function api(method: string, route: string, token: string, body?: unknown): Promise<Response> {
  return fetch(`${stack.apiUrl}${route}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function partnerOffers(): Promise<OfferRow[]> {
  const answer = await api('GET', '/partner/offers', partnerToken);
  expect(answer.status).toBe(200);
  return ((await answer.json()) as { items: OfferRow[] }).items;
}

beforeAll(async () => {
  stack = await startLocalStack({ port: 0, throttle: { ratePerSecond: 10_000, burst: 10_000 } });
  const gp = await stack.issuer.mint({ role: 'gp-system', ods: ['A81001'], subject: 'e2e-inbox-gp' });
  partnerToken = await stack.issuer.mint({ role: 'partner', partner, subject: 'e2e-inbox-partner' });
  // Two referrals with an arts need from a Leeds practice: arts-for-all is offered both.
  for (let i = 0; i < 2; i++) {
    const answer = await api('POST', '/referrals', gp, sampleReferral('leeds-arts-and-mental-health'));
    expect(answer.status).toBe(202);
  }
  await eventually(
    async () => ((await partnerOffers()).length >= 2 ? true : undefined),
    `two offers in ${partner}'s worklist`,
    30_000,
  );
  browser = await chromium.launch({
    executablePath: chromiumPath,
    // Root in CI containers: Chromium's sandbox needs user namespaces it may not have there.
    args: ['--no-sandbox'],
  });
  // A person in England: the page's "today" is the UK day the API checks outcome dates against.
  page = await browser.newPage({ viewport: { width: 1100, height: 900 }, timezoneId: 'Europe/London' });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const stateShown = () => page.locator('dd[data-field="state"]').textContent();

describe('the inbox page, as a partner', () => {
  it('signs in with a token and lists the offers', async () => {
    await page.goto(`${stack.apiUrl}/inbox`);
    await page.fill('#token', partnerToken);
    await page.click('#sign-in-form button[type="submit"]');
    await expect.poll(() => page.locator('#who').textContent()).toContain(partner);
    await expect.poll(() => page.locator('#worklist-rows tr').count()).toBeGreaterThanOrEqual(2);
  });

  it('accepts one referral and declines another with a reason; the states change', async () => {
    const [first, second] = await partnerOffers();
    if (!first || !second) throw new Error('two offers expected');
    acceptedOffer = first;

    await page.click(`#worklist-rows tr[data-id="${first.offerId}"] button`);
    await expect.poll(stateShown).toBe('offered');
    await page.getByRole('button', { name: 'Accept' }).click();
    await expect.poll(() => page.locator('#message').textContent()).toBe('Accepted.');
    await expect.poll(stateShown).toBe('accepted');

    await page.click('#back');
    await page.click(`#worklist-rows tr[data-id="${second.offerId}"] button`);
    await expect.poll(stateShown).toBe('offered');
    await page.selectOption('fieldset select[name="reason"]', 'no-capacity');
    await page.getByRole('button', { name: 'Decline', exact: true }).click();
    await expect.poll(() => page.locator('#message').textContent()).toBe('Declined.');
    await expect.poll(stateShown).toBe('declined');

    // The API agrees with what the page shows.
    const states = Object.fromEntries((await partnerOffers()).map((offer) => [offer.offerId, offer.state]));
    expect(states[first.offerId]).toBe('accepted');
    expect(states[second.offerId]).toBe('declined');

    await page.click('#back');
    await expect.poll(() => page.locator('#worklist-rows tr').count()).toBeGreaterThanOrEqual(2);
  });

  it('shows a refused action in words: a page left open while a colleague acted is told why', async () => {
    const offer = acceptedOffer;
    if (!offer) throw new Error('the accepted offer expected');
    await page.click(`#worklist-rows tr[data-id="${offer.offerId}"] button`);
    await expect.poll(stateShown).toBe('accepted');
    // docs/inbox.png: an accepted referral as its partner sees it, with what it can do next.
    const screenshot =
      process.env.INBOX_SCREENSHOT ?? path.join(mkdtempSync(path.join(tmpdir(), 'inbox-')), 'inbox.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    // Meanwhile, a colleague declines it through the API: what the page offers is no longer allowed.
    const colleague = await api('POST', `/partner/offers/${offer.offerId}/decline`, partnerToken, {
      version: offer.version,
      reason: 'patient-unreachable',
    });
    expect(colleague.status).toBe(200);

    await page.getByRole('button', { name: 'Record contact' }).click();
    await expect.poll(() => page.locator('#message').getAttribute('class')).toBe('error');
    const message = (await page.locator('#message').textContent()) ?? '';
    // The API's 409 OperationOutcome, in its own words: the state, the version, and why.
    expect(message).toMatch(/declined \(version \d+\), not accepted as the caller saw it/);
  });
});

describe('the inbox page, as a link worker', () => {
  it('accepts a referral for the team and records baseline outcome measures', async () => {
    const token = await stack.issuer.mint({
      role: 'link-worker',
      team: 'lw-woodhouse',
      subject: 'e2e-inbox-lw',
    });
    await page.click('#sign-out');
    await page.fill('#token', token);
    await page.click('#sign-in-form button[type="submit"]');
    await expect.poll(() => page.locator('#who').textContent()).toContain('lw-woodhouse');
    await expect.poll(() => page.locator('#worklist-rows tr').count()).toBeGreaterThanOrEqual(2);

    await page.locator('#worklist-rows tr button').first().click();
    const statusShown = () => page.locator('dd[data-field="status"]').textContent();
    await expect.poll(statusShown).toBe('routed');
    await page.getByRole('button', { name: 'Accept' }).click();
    await expect.poll(() => page.locator('#message').textContent()).toBe('Accepted.');
    await expect.poll(statusShown).toBe('accepted');

    // ONS4 at baseline (four answers), and the direct loneliness question.
    for (const [item, score] of [
      ['lifeSatisfaction', '4'],
      ['worthwhile', '5'],
      ['happiness', '3'],
      ['anxiety', '7'],
    ] as const) {
      await page.selectOption(`select[name="ons4.${item}"]`, score);
    }
    await page.selectOption('select[name="lonelinessDirect"]', 'often-always');
    const takenOn = await page.inputValue('input[name="takenOn"]');
    expect(takenOn).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    await page.getByRole('button', { name: 'Record measures' }).click();
    await expect.poll(() => page.locator('#message').textContent()).toBe('Outcome measures recorded.');
    await expect
      .poll(() => page.locator('#outcome-sets li').allTextContents())
      .toEqual([`baseline on ${takenOn}`]);

    // A second baseline is refused, in the API's words.
    await page.selectOption('select[name="lonelinessDirect"]', 'some-of-the-time');
    await page.getByRole('button', { name: 'Record measures' }).click();
    await expect.poll(() => page.locator('#message').getAttribute('class')).toBe('error');
    expect(await page.locator('#message').textContent()).toMatch(/baseline/);
    // As a follow-up it is recorded, and the change from baseline is shown.
    await page.selectOption('select[name="timepoint"]', 'follow-up');
    await page.getByRole('button', { name: 'Record measures' }).click();
    await expect.poll(() => page.locator('#message').textContent()).toBe('Outcome measures recorded.');
    await expect.poll(() => page.locator('#outcome-sets li').count()).toBe(2);
    expect(await page.locator('#outcome-change').textContent()).toContain('lonelinessDirect');
  });
});
