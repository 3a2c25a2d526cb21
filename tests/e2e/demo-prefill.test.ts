/**
 * Issue 18, auto fill in the demo portal, in Chromium against the real server: after signing in,
 * the application form is filled from what the registry vouches for — the applicant's verified
 * identity and the business licence the registry holds — with nothing typed; each value shows its
 * source; the applicant changes one value, which is marked as edited and is what the application
 * carries. No console error, page error or CSP violation on the way.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INPUTS_DIR } from '../fixtures/paths';
import { axeViolations, launchChromium, startServer, watchedPage, type RunningServer } from './harness';

let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  [server, browser] = await Promise.all([startServer(), launchChromium()]);
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

async function healthCertificatePdf(): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  doc.addPage([595, 842]).drawText('Health certificate (sample)', { x: 72, y: 760, size: 16, font });
  return Buffer.from(await doc.save());
}

describe('demo portal: the application form fills itself (自动数据填充)', () => {
  it('nothing typed, each source shown, an edit kept into the application', async () => {
    const context = await browser.newContext({ viewport: { width: 1180, height: 900 }, locale: 'zh-CN' });
    const { page, problems } = await watchedPage(context);
    await page.goto(`${server.url}/#step-1`);
    await page.waitForSelector('body[data-ready="true"]');
    // sign in with the page's preset development identity: a click, no typing
    await page.click('#login');
    await page.waitForSelector('#status-1[data-kind="ok"]', { timeout: 60_000 });
    await page.waitForFunction(
      () => document.querySelectorAll('#application-form sidian-fill-source').length === 5,
      undefined,
      { timeout: 30_000 },
    );
    const form = () =>
      page.$$eval('#application-form input', (inputs) =>
        Object.fromEntries(
          (inputs as HTMLInputElement[]).map((i) => [
            i.name,
            {
              value: i.value,
              state: i.dataset.sidianFillState,
              source: i.dataset.sidianFillSource,
              marker: (
                i.nextElementSibling?.shadowRoot?.querySelector('[part~=marker]')?.textContent ?? ''
              ).trim(),
              detail: (i.nextElementSibling as unknown as { detail?: string } | null)?.detail ?? '',
            },
          ]),
        ),
      );
    const filled = await form();
    expect(filled.applicant!.value).toBe('张三');
    expect(filled.applicantId!.value).toBe('110101199003074477');
    expect(filled.shopName!.value).toBe('项城市张三小吃店');
    expect(filled.creditCode!.value).toMatch(/^92411681MA9K8XWP1[0-9A-Z]$/);
    expect(filled.premises!.value).toBe('河南省周口市项城市莲花大道88号一楼');
    const licenceId = await page.evaluate(
      () => JSON.parse(localStorage.getItem('sidian-demo')!).earlierLicence.id as string,
    );
    for (const name of ['shopName', 'creditCode', 'premises']) {
      expect(filled[name]!.source).toBe(licenceId);
      expect(filled[name]!.marker).toContain('来自营业执照');
      expect(filled[name]!.detail).toContain('有效');
    }
    for (const name of ['applicant', 'applicantId']) {
      expect(filled[name]!.source).toBe('identity');
      expect(filled[name]!.marker).toContain('来自实名身份');
    }
    expect(await axeViolations(page, '#application-form')).toEqual([]);

    // the applicant moved: the premises change
    await page.click('#application-form [name=premises]');
    await page.keyboard.press('End');
    await page.keyboard.type('（东侧）');
    const edited = await form();
    expect(edited.premises!.value).toBe('河南省周口市项城市莲花大道88号一楼（东侧）');
    expect(edited.premises!.state).toBe('edited');
    expect(edited.premises!.marker).toContain('已修改');
    expect(edited.shopName!.state).toBe('filled');

    // English
    await page.click('#lang');
    await page.waitForFunction(() =>
      (
        document.querySelector('#application-form [name=premises]')!.nextElementSibling!.shadowRoot!
          .textContent ?? ''
      ).includes('Edited'),
    );
    expect((await form()).shopName!.marker).toContain('From 营业执照');
    await page.click('#lang');

    // hand in the materials and submit: the application carries the form as edited
    await page
      .locator('material-uploader [data-requirement="business-licence"] [part="licences"] button')
      .click();
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
    await page.click('#submit');
    await page.waitForSelector('#generate:not([disabled])', { timeout: 30_000 });
    const application = await page.evaluate(
      () => JSON.parse(localStorage.getItem('sidian-demo')!).application.form as Record<string, string>,
    );
    expect(application).toEqual({
      applicant: '张三',
      applicantId: '110101199003074477',
      shopName: '项城市张三小吃店',
      creditCode: filled.creditCode!.value,
      premises: '河南省周口市项城市莲花大道88号一楼（东侧）',
    });
    expect(problems).toEqual([]);
    await context.close();
  });

  it('fillForm from /elements/sidian.js fills a PDF form in the page with an embedded Chinese font subset', async () => {
    const context = await browser.newContext();
    const { page, problems } = await watchedPage(context);
    await page.goto(`${server.url}/#step-1`);
    await page.waitForSelector('body[data-ready="true"]');
    const input = readFileSync(path.join(INPUTS_DIR, 'acroform.pdf'));
    // a string, so that the test runner does not rewrite the page's dynamic import
    await page.evaluate(
      (bytes) => ((window as unknown as { fillInput: number[] }).fillInput = bytes),
      Array.from(input),
    );
    const result = (await page.evaluate(`(async () => {
      const sidian = await import('/elements/sidian.js');
      const font = new Uint8Array(await (await fetch('/fonts/sidian-demo-cjk.ttf')).arrayBuffer());
      const out = await sidian.fillForm(new Uint8Array(window.fillInput), { 'applicant-name': '张三', subscribe: true }, { font });
      return { out: Array.from(out), fields: sidian.describeForm(out).map((f) => [f.name, f.value]) };
    })()`)) as { out: number[]; fields: [string, unknown][] };
    const out = Buffer.from(result.out);
    expect(out.subarray(0, input.length).equals(input)).toBe(true);
    expect(Object.fromEntries(result.fields)).toMatchObject({ 'applicant-name': '张三', subscribe: true });
    const dir = mkdtempSync(path.join(tmpdir(), 'sidian-e2e-fill-'));
    writeFileSync(path.join(dir, 'filled.pdf'), out);
    const text = spawnSync('pdftotext', [path.join(dir, 'filled.pdf'), '-'], { encoding: 'utf8' }).stdout;
    expect(text).toContain('张三');
    expect(problems).toEqual([]);
    await context.close();
  });
});
