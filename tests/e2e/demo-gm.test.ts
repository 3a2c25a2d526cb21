/**
 * The demo's whole flow in 国密 mode (issue 17), in Chromium against the real server: with the
 * switch on, the department seals with an SM2 key and the applicant signs for receipt with another,
 * both kept encrypted in IndexedDB and certified by the server's SM2 CA through POST /api/enrol
 * (the department with its API key, the applicant with the portal token). The registry accepts the
 * SM2-sealed licence; the verifier step names SM2/SM3; the final file verifies in Node (SM2-SM3,
 * valid, trusted with /api/trust). Once in zh-CN, once with the English UI.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLicence, verifyPdf, type VerificationReport } from '../../packages/core/src/index';
import { launchChromium, startServer, watchedPage, type RunningServer } from './harness';

let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  [server, browser] = await Promise.all([startServer(), launchChromium()]);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** Two strokes on the signature pad's canvas. */
async function drawSignature(page: Page) {
  const canvas = page.locator('signature-pad canvas').first();
  await canvas.scrollIntoViewIfNeeded();
  const box = (await canvas.boundingBox())!;
  for (const points of [
    [
      [0.15, 0.6],
      [0.3, 0.3],
      [0.45, 0.6],
    ],
    [
      [0.55, 0.4],
      [0.85, 0.55],
    ],
  ]) {
    await page.mouse.move(box.x + points[0]![0]! * box.width, box.y + points[0]![1]! * box.height);
    await page.mouse.down();
    for (const [x, y] of points.slice(1))
      await page.mouse.move(box.x + x! * box.width, box.y + y! * box.height, { steps: 6 });
    await page.mouse.up();
  }
}

async function gmFlow(lang: 'zh-CN' | 'en') {
  const base = server.url;
  const context = await browser.newContext({ viewport: { width: 1180, height: 900 }, locale: lang });
  const { page, problems } = await watchedPage(context);
  await page.goto(`${base}/#step-1`);
  await page.waitForSelector('body[data-ready="true"]');
  if (lang === 'en') await page.click('#lang');
  expect(await page.getAttribute('#gm', 'aria-pressed')).toBe('false');
  await page.click('#gm');
  expect(await page.getAttribute('#gm', 'aria-pressed')).toBe('true');
  expect(await page.textContent('#gm')).toBe(lang === 'en' ? 'SM2 (国密): on' : '国密 SM2：开');

  // ---- 1. applicant: sign in (the business licence is sealed with SM2 and registered), materials ----
  await page.click('#login');
  await page.waitForSelector('#status-1[data-kind="ok"]', { timeout: 120_000 });
  await page
    .locator('material-uploader [data-requirement="business-licence"] [part="licences"] button')
    .click();
  await page.click('#samples');
  await page.waitForSelector('#submit:not([disabled])', { timeout: 60_000 });
  await page.waitForFunction(
    () => (document.querySelector('#uploader') as unknown as { value: unknown[] }).value.length === 3,
    undefined,
    { timeout: 60_000 },
  );
  await page.click('#submit');

  // ---- 2. department: generate, seal with the SM2 seal, register ----
  await page.waitForSelector('#generate:not([disabled])');
  await page.click('#generate');
  await page.waitForSelector('seal-placer[state="placed"]', { timeout: 60_000 });
  await page.click('seal-placer [part~="seal-button"]');
  await page.waitForSelector('seal-placer[state="sealed"]', { timeout: 60_000 });
  await page.click('#register');
  await page.waitForSelector('#status-2[data-kind="ok"]', { timeout: 60_000 });
  const licence = await page.evaluate(
    () => JSON.parse(localStorage.getItem('sidian-demo')!).licence as { id: string },
  );

  // ---- 3. applicant: SM2 key enrolled through the server, sign for receipt ----
  await page.click('#tab-3');
  await page.click('#enrol');
  await page.waitForSelector('#signing:not([hidden])', { timeout: 60_000 });
  expect(await page.textContent('#status-3')).toContain(
    lang === 'en' ? "certified by the server's SM2 CA" : '证书由服务器的 SM2 CA 签发',
  );
  await drawSignature(page);
  await page.click('signature-pad [part~="sign-button"]');
  await page.waitForSelector('#download:not([hidden])', { timeout: 60_000 });

  // ---- 4. verifier: valid, and the algorithm is named ----
  await page.click('#tab-4');
  await page.waitForSelector('#viewer[verdict="valid"]', { timeout: 60_000 });
  await page.$eval('#viewer', (el) => (el as unknown as { verified(): Promise<unknown> }).verified());
  const report = await page.$eval(
    '#viewer',
    (el) => (el as unknown as { report: VerificationReport }).report,
  );
  expect(report.signatures.map((s) => [s.kind, s.status, s.trust, s.algorithm ?? null])).toEqual([
    ['certification', 'valid', 'trusted', 'SM2-SM3'],
    ['document-timestamp', 'valid', 'trusted', expect.any(String)],
    ['approval', 'valid', 'trusted', 'SM2-SM3'],
  ]);
  const shown = await page.locator('#viewer [part="algorithm"]').allTextContents();
  const sm2Text = lang === 'en' ? 'SM2/SM3 (Chinese national standard)' : 'SM2/SM3（国密）';
  expect(shown.filter((t) => t === sm2Text)).toHaveLength(2);
  const finalPdf = new Uint8Array(
    await page.$eval('#viewer', (el) => Array.from((el as unknown as { document: Uint8Array }).document)),
  );
  expect(problems).toEqual([]);
  await context.close();
  return { licence, finalPdf };
}

/** The registered licence and the applicant's final file, checked in Node against /api/trust. */
async function checkInNode(licence: { id: string }, finalPdf: Uint8Array) {
  const base = server.url;
  const trust = await (await fetch(`${base}/api/trust`)).text();
  const registered = new Uint8Array(
    await (await fetch(`${base}/api/licences/${encodeURIComponent(licence.id)}/file`)).arrayBuffer(),
  );
  const reg = await verifyPdf(registered, { trustAnchors: [trust] });
  expect(reg.status).toBe('valid');
  const seal = reg.signatures.find((s) => s.kind === 'certification')!;
  expect([seal.algorithm, seal.status, seal.trust]).toEqual(['SM2-SM3', 'valid', 'trusted']);
  expect(seal.signer?.organization).toBe('项城市市场监督管理局');

  const ours = await verifyPdf(finalPdf, { trustAnchors: [trust] });
  expect(ours.status).toBe('valid');
  expect(ours.signatures.map((s) => [s.kind, s.algorithm ?? null, s.status, s.trust])).toEqual([
    ['certification', 'SM2-SM3', 'valid', 'trusted'],
    ['document-timestamp', expect.any(String), 'valid', 'trusted'],
    ['approval', 'SM2-SM3', 'valid', 'trusted'],
  ]);
  expect(ours.signatures[2]!.signer?.commonName).toBe('张三');
  expect(readLicence(finalPdf)?.identifier).toBe(licence.id);
  const registry = (await (await fetch(`${base}/api/licences/${encodeURIComponent(licence.id)}`)).json()) as {
    status: string;
  };
  expect(registry.status).toBe('valid');

  // attack: the trust comes from the server's SM2 root, not from the names in the certificates —
  // a verifier whose anchors lack the SM2 root does not trust the SM2 seal
  const p256Only = trust.split(/(?<=-----END CERTIFICATE-----\n?)/)[0]!;
  const untrusted = await verifyPdf(registered, { trustAnchors: [p256Only] });
  expect(untrusted.signatures.find((s) => s.kind === 'certification')!.trust).not.toBe('trusted');
}

describe('demo portal in 国密 mode: SM2 seal and SM2 receipt, both certified by the server', () => {
  it('zh-CN: the whole flow with the switch on', async () => {
    const { licence, finalPdf } = await gmFlow('zh-CN');
    await checkInNode(licence, finalPdf);
  });

  it('English UI: the same flow', async () => {
    const { licence, finalPdf } = await gmFlow('en');
    await checkInNode(licence, finalPdf);
  });
});
