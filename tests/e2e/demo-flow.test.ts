/**
 * The whole 四电 flow of the demo portal, in Chromium against the real server (`sidian serve`, SQLite,
 * development PKI), under the server's Content-Security-Policy:
 *   1. the applicant signs in with a development token and hands in materials with
 *      <material-uploader>, reusing the registry's business licence for one requirement;
 *   2. the department generates the licence PDF, seals it with <seal-placer> (certification) and
 *      registers it;
 *   3. the applicant enrols a WebCrypto key (CSR to /api/enrol) and signs for receipt with
 *      <signature-pad> in the prepared field;
 *   4. <licence-viewer> and the QR link /v/:id (decoded from the rendered PDF) show it valid; after
 *      revocation both show it revoked.
 * The final file is checked with pdfsig, mutool and Sidian's verifier; a screenshot of each step is
 * taken (into a temporary directory; with SIDIAN_UPDATE_SCREENSHOTS=1, into docs/screenshots/, which
 * the README shows, so that a test run leaves the working tree as it was). No console error, page
 * error or CSP violation may happen on the way.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decode as decodePng } from 'fast-png';
import jsQR from 'jsqr';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLicence, verifyPdf, type VerificationReport } from '../../packages/core/src/index';
import { mutoolSign, pdfsig, qpdfCheck } from '../interop/verifiers';
import { ROOT, axeViolations, launchChromium, startServer, watchedPage, type RunningServer } from './harness';

const SHOTS =
  process.env.SIDIAN_UPDATE_SCREENSHOTS === '1'
    ? path.join(ROOT, 'docs/screenshots')
    : mkdtempSync(path.join(tmpdir(), 'sidian-shots-'));

let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  [server, browser] = await Promise.all([startServer(), launchChromium()]);
  mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

const a11y: string[] = [];

/** The URL in the licence's QR code: page 1 rendered by pdftoppm, decoded by jsQR. */
function decodeQr(pdf: Buffer): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'sidian-e2e-qr-'));
  writeFileSync(path.join(dir, 'l.pdf'), pdf);
  const r = spawnSync('pdftoppm', [
    '-r',
    '150',
    '-f',
    '1',
    '-l',
    '1',
    '-png',
    '-singlefile',
    path.join(dir, 'l.pdf'),
    path.join(dir, 'p'),
  ]);
  if (r.status !== 0) throw new Error(`pdftoppm failed: ${r.stderr}`);
  const png = decodePng(readFileSync(path.join(dir, 'p.png')));
  const rgba = new Uint8ClampedArray(png.width * png.height * 4);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += png.channels) {
    rgba[i] = png.data[j]!;
    rgba[i + 1] = png.data[png.channels >= 3 ? j + 1 : j]!;
    rgba[i + 2] = png.data[png.channels >= 3 ? j + 2 : j]!;
    rgba[i + 3] = 255;
  }
  const code = jsQR(rgba, png.width, png.height);
  if (!code) throw new Error('no QR code found on the rendered licence');
  return code.data;
}

/** A screenshot for the README, and an accessibility check of the same state. */
async function shot(page: Page, name: string) {
  const png = await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  const { width, height } = decodePng(png);
  expect(width * height, `${name}: screenshot size`).toBeGreaterThan(400 * 300);
  for (const v of await axeViolations(page)) a11y.push(`${name}: ${v}`);
}

/** A small PDF the test hands to the file input (a material the applicant picks from disk). */
async function healthCertificatePdf(): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  doc
    .addPage([595, 842])
    .drawText('Health certificate (sample) - Zhang San', { x: 72, y: 760, size: 16, font });
  return Buffer.from(await doc.save());
}

describe('demo portal: the 食品经营许可证 flow end to end', () => {
  it('applicant, department, applicant, verifier; valid, then revoked', async () => {
    const context = await browser.newContext({
      viewport: { width: 1180, height: 900 },
      deviceScaleFactor: 1,
      locale: 'zh-CN',
    });
    const { page, problems } = await watchedPage(context);
    const base = server.url;
    try {
      await flow();
    } catch (e) {
      // leave what the page showed and said for whoever reads the failure
      await page
        .screenshot({ path: path.join(tmpdir(), 'sidian-e2e-failure.png'), fullPage: true })
        .catch(() => {});
      throw new Error(
        `${(e as Error).message}\npage problems: ${JSON.stringify(problems, null, 1)}\naccessibility: ${JSON.stringify(a11y, null, 1)}\nscreenshot: ${path.join(tmpdir(), 'sidian-e2e-failure.png')}`,
      );
    }
    async function flow() {
      // ---- 1. applicant: sign in, reuse the business licence, hand in materials ----
      await page.goto(`${base}/#step-1`);
      await page.waitForSelector('body[data-ready="true"]');
      await page.click('#login');
      await page.waitForSelector('#status-1[data-kind="ok"]', { timeout: 60_000 });
      const reuse = page.locator(
        'material-uploader [data-requirement="business-licence"] [part="licences"] button',
      );
      await reuse.click();
      await page.click('#samples');
      await page.setInputFiles('material-uploader input[data-input="health"]', {
        name: '健康证明.pdf',
        mimeType: 'application/pdf',
        buffer: await healthCertificatePdf(),
      });
      await page.waitForSelector('#submit:not([disabled])', { timeout: 60_000 });
      await page.waitForFunction(
        () => (document.querySelector('#uploader') as unknown as { value: unknown[] }).value.length === 4,
        undefined,
        { timeout: 60_000 },
      );
      const uploaded = await page.$eval(
        '#uploader',
        (el) => (el as unknown as { value: { requirementId: string; licenceId?: string }[] }).value,
      );
      expect(uploaded.map((v) => v.requirementId).sort()).toEqual([
        'business-licence',
        'health',
        'premises',
        'rules',
      ]);
      expect(uploaded.find((v) => v.requirementId === 'business-licence')?.licenceId).toMatch(
        /^1\.2\.156\.3005\.2\.YYZZ\./,
      );
      await shot(page, '1-materials');
      await page.click('#submit');

      // ---- 2. department: open every material before approving ----
      await page.waitForSelector('#generate:not([disabled])');
      const opens = page.locator('#materials-body button.open-material');
      expect(await opens.count()).toBe(4);
      for (let i = 0; i < 4; i++) {
        await opens.nth(i).click();
        await page.waitForSelector('#material-dialog[open]');
        // a PDF in <licence-viewer>: its first page is drawn
        await page.waitForSelector('#material-viewer:not([hidden]) [part~="canvas"]', { timeout: 60_000 });
        expect(await page.textContent('#material-status')).toBe('');
        expect(await page.textContent('#material-title')).toBeTruthy();
        if (i === 0) await shot(page, '2-material-open');
        await page.click('#material-close');
        await page.waitForSelector('#material-dialog:not([open])', { state: 'attached' });
      }

      // ---- 2. department: generate, place the seal, seal (certification), register ----
      await page.click('#generate');
      await page.waitForSelector('seal-placer[state="placed"]', { timeout: 60_000 });
      await page.waitForSelector('seal-placer [part~="canvas"]');
      await page.locator('seal-placer [part~="seal"]').first().scrollIntoViewIfNeeded();
      await shot(page, '2-seal-placement');
      await page.click('seal-placer [part~="seal-button"]');
      await page.waitForSelector('seal-placer[state="sealed"]', { timeout: 60_000 });
      await page.click('#register');
      await page.waitForSelector('#status-2[data-kind="ok"]', { timeout: 60_000 });
      const licence = await page.evaluate(
        () => JSON.parse(localStorage.getItem('sidian-demo')!).licence as { id: string; page: string },
      );
      expect(licence.id).toMatch(/^1\.2\.156\.3005\.2\.SPJYXKZ\./);
      await shot(page, '2-sealed-registered');

      // ---- 3. applicant: enrol a WebCrypto key, sign for receipt in the prepared field ----
      await page.click('#tab-3');
      await page.click('#enrol');
      await page.waitForSelector('#signing:not([hidden])', { timeout: 60_000 });
      // the licence being signed for is shown beside the pad, before anything is signed
      await page.waitForSelector('#receipt-doc [part~="canvas"]', { timeout: 60_000 });
      const doc = (await page.locator('#receipt-doc').boundingBox())!;
      const padBox = (await page.locator('#pad').boundingBox())!;
      expect(doc.width).toBeGreaterThan(300);
      expect(doc.x + doc.width).toBeLessThanOrEqual(padBox.x); // side by side at 1180 px
      expect(
        await page.$eval(
          '#receipt-doc',
          (el) => (el as unknown as { document?: Uint8Array }).document?.length,
        ),
      ).toBeGreaterThan(1000);
      const canvas = page.locator('signature-pad canvas').first();
      await canvas.scrollIntoViewIfNeeded();
      const box = (await canvas.boundingBox())!;
      const stroke = async (points: [number, number][]) => {
        await page.mouse.move(box.x + points[0]![0] * box.width, box.y + points[0]![1] * box.height);
        await page.mouse.down();
        for (const [x, y] of points.slice(1))
          await page.mouse.move(box.x + x * box.width, box.y + y * box.height, { steps: 6 });
        await page.mouse.up();
      };
      await stroke([
        [0.15, 0.6],
        [0.25, 0.3],
        [0.32, 0.65],
        [0.4, 0.35],
        [0.48, 0.6],
      ]);
      await stroke([
        [0.55, 0.4],
        [0.7, 0.42],
        [0.62, 0.7],
        [0.85, 0.55],
      ]);
      await page.click('signature-pad [part~="sign-button"]');
      await page.waitForSelector('#download:not([hidden])', { timeout: 60_000 });
      await shot(page, '3-signed-receipt');

      // ---- 4. verifier: <licence-viewer> and the QR link show valid ----
      await page.click('#tab-4');
      await page.waitForSelector('#viewer[verdict="valid"]', { timeout: 60_000 });
      await page.$eval('#viewer', (el) => (el as unknown as { verified(): Promise<unknown> }).verified());
      await page.locator('#viewer [part~="mark"]').first().scrollIntoViewIfNeeded();
      await shot(page, '4-verified-valid');
      const report = await page.$eval(
        '#viewer',
        (el) => (el as unknown as { report: VerificationReport }).report,
      );
      expect(report.status).toBe('valid');
      // the registry keeps the licence long-term (DSS and an archive time-stamp, B-LTA); the
      // applicant's receipt signature comes after it
      expect(report.signatures.map((s) => s.kind)).toEqual([
        'certification',
        'document-timestamp',
        'approval',
      ]);

      // the final file, as the applicant holds it
      const finalPdf = Buffer.from(
        await page.$eval('#viewer', (el) => Array.from((el as unknown as { document: Uint8Array }).document)),
      );

      // the QR code printed on the licence: rendered by poppler, decoded, opened
      const qrUrl = decodeQr(finalPdf);
      expect(qrUrl).toBe(new URL(licence.page, base).href);
      const qr = await context.newPage();
      await qr.goto(qrUrl);
      expect(await qr.locator('.status').textContent()).toBe('状态：有效');
      await shot(qr, '4-qr-page-valid');

      // ---- the department revokes, after confirming and giving a reason: every surface shows it ----
      await page.click('#revoke');
      await page.waitForSelector('#revoke-dialog[open]');
      // cancelling revokes nothing
      await page.click('#revoke-dialog button[value="cancel"]');
      await page.waitForSelector('#revoke-dialog:not([open])', { state: 'attached' });
      expect(await page.isEnabled('#revoke')).toBe(true);
      await page.click('#revoke');
      // no reason, or only spaces: the dialog stays open
      await page.click('#revoke-confirm');
      await page.fill('#revoke-reason', '   ');
      await page.click('#revoke-confirm');
      expect(await page.$eval('#revoke-dialog', (d) => (d as HTMLDialogElement).open)).toBe(true);
      const notYet = (await (
        await fetch(`${base}/api/licences/${encodeURIComponent(licence.id)}`)
      ).json()) as { status: string };
      expect(notYet.status).toBe('valid');
      await page.fill('#revoke-reason', '以欺骗手段取得许可');
      await shot(page, '4-revoke-dialog');
      await page.click('#revoke-confirm');
      await page.waitForSelector('#viewer[verdict="revoked"]', { timeout: 60_000 });
      await page.waitForFunction(() =>
        document.querySelector('#viewer')?.shadowRoot?.textContent?.includes('以欺骗手段取得许可'),
      );
      expect(await page.textContent('#status-4')).toContain('以欺骗手段取得许可');
      await qr.reload();
      expect(await qr.locator('.status').textContent()).toBe('状态：已吊销');
      expect(await qr.locator('.revocation').textContent()).toContain('原因：以欺骗手段取得许可');
      await shot(qr, '4-qr-page-revoked');

      // English: the portal and the elements switch together
      await page.click('#lang');
      await expect
        .poll(() => page.locator('h1').textContent())
        .toBe('Sidian · government services demo portal');
      await page.waitForFunction(() =>
        document.querySelector('#viewer')?.shadowRoot?.textContent?.includes('Licence revoked'),
      );
      await page.$eval('#viewer', (el) => (el as unknown as { verified(): Promise<unknown> }).verified());
      expect(await page.textContent('#status-4')).toBe(
        'Licence revoked (reason: 以欺骗手段取得许可); the verification result follows.',
      );
      await shot(page, '4-revoked-english');

      expect(problems).toEqual([]);
      expect(a11y).toEqual([]);
      await context.close();

      // ---- the final file in the independent verifiers and in Sidian's ----
      const dir = mkdtempSync(path.join(tmpdir(), 'sidian-e2e-out-'));
      const file = path.join(dir, 'licence-signed.pdf');
      writeFileSync(file, finalPdf);

      // poppler and MuPDF do not check document time-stamps: the seal and the receipt must verify in both
      const poppler = pdfsig(file);
      expect(poppler).toHaveLength(3);
      for (const name of ['张三', '项城市市场监督管理局'])
        expect(poppler.find((s) => s.signer === name)?.valid, name).toBe(true);
      expect(qpdfCheck(file).ok).toBe(true);
      // the Chinese text is in an embedded CJK font (a subset: the file stays small)
      const fonts = spawnSync('pdffonts', [file], { encoding: 'utf8' }).stdout;
      expect(fonts).toMatch(/CID TrueType\s+Identity-H\s+yes/);
      expect(finalPdf.length).toBeLessThan(400_000);
      const mupdf = mutoolSign(file);
      expect(mupdf).toHaveLength(3);
      for (const name of ['张三', '项城市市场监督管理局'])
        expect(
          mupdf.some((s) => s.signer === name && s.valid),
          name,
        ).toBe(true);

      const trust = await (await fetch(`${base}/api/trust`)).text();
      const ours = await verifyPdf(new Uint8Array(finalPdf), { trustAnchors: [trust] });
      expect(ours.status).toBe('valid');
      expect(ours.signatures.map((s) => [s.kind, s.status, s.trust, s.modificationsAfter])).toEqual([
        ['certification', 'valid', 'trusted', 'allowed'],
        ['document-timestamp', 'valid', 'trusted', 'allowed'],
        ['approval', 'valid', 'trusted', 'none'],
      ]);
      expect(ours.signatures[0]!.level).toBe('B-LTA');
      const meta = readLicence(new Uint8Array(finalPdf));
      expect(meta?.identifier).toBe(licence.id);
      expect(meta?.holder.name).toBe('张三');

      // the server's verifier agrees, and the registry says cancelled
      const served = (await (
        await fetch(`${base}/api/verify`, {
          method: 'POST',
          headers: { 'content-type': 'application/pdf' },
          body: finalPdf,
        })
      ).json()) as VerificationReport;
      expect(served.status).toBe('valid');
      const registry = (await (
        await fetch(`${base}/api/licences/${encodeURIComponent(licence.id)}`)
      ).json()) as { status: string; revocationReason: string };
      expect(registry.status).toBe('revoked');
      expect(registry.revocationReason).toBe('以欺骗手段取得许可');
    }
  });
});
