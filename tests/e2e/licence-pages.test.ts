/**
 * The pages a licence's QR code opens, as a person on a phone sees them: /v/:id and the 核验签章 link
 * (GET /api/licences/:id/verification), in Chromium at 390 px, zh-CN and English by the browser's
 * language, against the real server (in process, SQLite, development PKI) with a licence sealed by
 * the development department. The verification is a page in words for browsers and JSON for machines.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../server/src/test/harness';
import { sealedLicence, sampleLicence } from '../../server/src/test/pdfs';
import { makeLicenceIdentifier } from '../../packages/core/src/licence/identifier';
import { axeViolations, launchChromium, watchedPage } from './harness';

let s: TestServer;
let browser: Browser;
let id: string;
let revokedId: string;

async function register(serial: string): Promise<string> {
  const base = sampleLicence();
  const identifier = makeLicenceIdentifier({
    typeCode: base.typeCode,
    issuerCode: base.issuer.creditCode,
    serial,
    version: 1,
  });
  const { licence, pdf } = await sealedLicence(s.dataDir, { number: `JY${serial}`, identifier });
  const r = await fetch(`${s.url}/api/licences`, {
    method: 'POST',
    headers: { 'content-type': 'application/pdf', 'x-api-key': s.apiKey },
    body: pdf as Uint8Array<ArrayBuffer>,
  });
  if (r.status !== 201) throw new Error(`register: ${r.status} ${await r.text()}`);
  return licence.identifier;
}

beforeAll(async () => {
  [s, browser] = await Promise.all([startTestServer(), launchChromium()]);
  id = await register('900001');
  revokedId = await register('900002');
  const r = await fetch(`${s.url}/api/licences/${revokedId}/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': s.apiKey },
    body: JSON.stringify({ reason: '以欺骗手段取得许可' }),
  });
  if (r.status !== 200) throw new Error(`revoke: ${r.status}`);
});

afterAll(async () => {
  await browser?.close();
  await s?.close();
});

async function phone(locale: string): Promise<{ page: Page; problems: string[]; favicons: number[] }> {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 1,
    isMobile: true,
    hasTouch: true,
    locale,
  });
  const { page, problems } = await watchedPage(context);
  const favicons: number[] = [];
  page.on('response', (r) => {
    if (/favicon/.test(r.url())) favicons.push(r.status());
    else if (r.status() >= 400) problems.push(`HTTP ${r.status()} ${r.url()}`);
  });
  return { page, problems, favicons };
}

/** No sideways scrolling at the phone's width. */
const scrollWidth = (page: Page) => page.evaluate(() => document.scrollingElement!.scrollWidth);

/** The page's icon is declared and served (Chromium headless does not always fetch it by itself). */
async function iconServed(page: Page): Promise<number> {
  const href = await page.$eval('link[rel=icon]', (l) => (l as HTMLLinkElement).href);
  const r = await page.request.get(href);
  expect(r.headers()['content-type']).toContain('image/svg+xml');
  return r.status();
}

describe('licence pages on a 390 px phone', () => {
  it('zh-CN: /v/:id, then 核验签章 shows the verdict in words, not JSON', async () => {
    const { page, problems } = await phone('zh-CN');
    await page.goto(`${s.url}/v/${id}`);
    expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');
    expect(await page.locator('.status').first().textContent()).toBe('状态：有效');
    expect(await scrollWidth(page)).toBeLessThanOrEqual(390);
    expect(await iconServed(page)).toBe(200);
    await page.click('a.verify');
    await page.waitForSelector('.verdict');
    expect(await page.evaluate(() => document.contentType)).toBe('text/html');
    expect(await page.locator('.verdict').textContent()).toBe('签章有效');
    const text = (await page.textContent('main'))!;
    expect(text).toContain('文件自盖章、签名以来未被篡改');
    expect(text).toContain('发证印章（认证签名）');
    // the signer and the time of signing
    expect(await page.locator('.signature .signer').first().textContent()).toBeTruthy();
    expect(await page.locator('.signature .time').first().textContent()).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/,
    );
    expect(text).toContain('状态：有效');
    expect(await scrollWidth(page)).toBeLessThanOrEqual(390);
    expect(await iconServed(page)).toBe(200);
    expect(await axeViolations(page)).toEqual([]);
    // the machine-readable result is one link away
    await page.click('a[href$="format=json"]');
    const json = JSON.parse((await page.textContent('body'))!) as { report: { status: string } };
    expect(json.report.status).toBe('valid');
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('English by the browser language; a revoked licence shows 吊销 / revoked with its reason on both pages', async () => {
    const { page, problems } = await phone('en-US');
    await page.goto(`${s.url}/v/${revokedId}`);
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await page.locator('.status').first().textContent()).toBe('Status: Revoked');
    expect(await page.textContent('.revocation')).toContain('Reason: 以欺骗手段取得许可');
    expect(await scrollWidth(page)).toBeLessThanOrEqual(390);
    await page.click('a.verify');
    await page.waitForSelector('.verdict');
    expect(await page.locator('h1').textContent()).toBe('Seal and signature check');
    expect(await page.textContent('main')).toContain('Status: Revoked');
    expect(await page.textContent('.revocation')).toContain('Reason: 以欺骗手段取得许可');
    expect(await scrollWidth(page)).toBeLessThanOrEqual(390);
    expect(await axeViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
    await page.context().close();

    const zh = await phone('zh-CN');
    await zh.page.goto(`${s.url}/v/${revokedId}`);
    expect(await zh.page.locator('.status').first().textContent()).toBe('状态：已吊销');
    expect(await zh.page.textContent('.revocation')).toContain('原因：以欺骗手段取得许可');
    await zh.page.goto(`${s.url}/api/licences/${revokedId}/verification`);
    expect(await zh.page.textContent('.revocation')).toContain('原因：以欺骗手段取得许可');
    expect(zh.problems).toEqual([]);
    await zh.page.context().close();
  });

  it('machines still get JSON: fetch() and Accept: application/json, ?format=json even from a browser', async () => {
    const plain = await fetch(`${s.url}/api/licences/${id}/verification`);
    expect(plain.headers.get('content-type')).toContain('application/json');
    const asked = await fetch(`${s.url}/api/licences/${id}/verification`, {
      headers: { accept: 'application/json' },
    });
    expect(((await asked.json()) as { report: { status: string } }).report.status).toBe('valid');
    const forced = await fetch(`${s.url}/api/licences/${id}/verification?format=json`, {
      headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' },
    });
    expect(forced.headers.get('content-type')).toContain('application/json');
    const html = await fetch(`${s.url}/api/licences/${id}/verification`, {
      headers: {
        accept: 'text/html,application/xhtml+xml,*/*;q=0.8',
        'accept-language': 'en-GB,en;q=0.9,zh;q=0.5',
      },
    });
    expect(html.headers.get('content-type')).toContain('text/html');
    expect(await html.text()).toContain('<html lang="en">');
    // an unknown licence stays a JSON 404 for machines
    const base = sampleLicence();
    const none = makeLicenceIdentifier({
      typeCode: base.typeCode,
      issuerCode: base.issuer.creditCode,
      serial: '999999',
      version: 1,
    });
    const unknown = await fetch(`${s.url}/api/licences/${none}/verification`, {
      headers: { accept: 'text/html' },
    });
    expect(unknown.status).toBe(404);
  });
});
