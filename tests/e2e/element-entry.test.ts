/**
 * A department's page that uses only <licence-viewer> loads /elements/licence-viewer.js (and the chunks
 * it shares with the other entries), not the whole bundle: no other element is defined, sidian.js and
 * the other elements' files are never fetched, the scripts come brotli-compressed, and the viewer
 * still verifies and draws a sealed licence (its worker and pdf.js load on first use).
 */
import { createServer, type Server } from 'node:http';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import type { Browser, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPdf, signerFromPkcs12 } from '../../packages/core/src/index';
import { launchChromium, startServer, watchedPage, type RunningServer } from './harness';

let sidian: RunningServer;
let browser: Browser;
/** The department's site: another origin than the Sidian server, serving one page. */
let site: Server;
let siteUrl: string;

beforeAll(async () => {
  [sidian, browser] = await Promise.all([startServer(), launchChromium()]);
  site = createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(
      `<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>licence</title>
<script type="module" src="${sidian.url}/elements/licence-viewer.js"></script>
<licence-viewer></licence-viewer>`,
    ),
  );
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  siteUrl = `http://127.0.0.1:${(site.address() as { port: number }).port}/`;
});
afterAll(async () => {
  await browser?.close();
  site?.close();
  await sidian?.stop();
});

async function sealedLicence(base: string): Promise<Buffer> {
  const dept = (await (await fetch(`${base}/api/dev/department`)).json()) as {
    seal: { p12: string; password: string };
  };
  const signer = await signerFromPkcs12(
    new Uint8Array(Buffer.from(dept.seal.p12, 'base64')),
    dept.seal.password,
  );
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  doc.addPage([595, 842]).drawText('Sidian licence', { x: 72, y: 760, size: 18, font });
  return Buffer.from(await signPdf(await doc.save(), { signer, certify: 2 }));
}

describe('/elements/licence-viewer.js alone', () => {
  it('loads only what <licence-viewer> needs, compressed, and the viewer still verifies', async () => {
    const context = await browser.newContext();
    const { page, problems } = await watchedPage(context);
    const scripts: Response[] = [];
    page.on('response', (r) => {
      if (r.url().startsWith(`${sidian.url}/elements/`) && r.url().endsWith('.js')) scripts.push(r);
    });
    await page.goto(siteUrl);
    await page
      .waitForFunction(() => customElements.get('licence-viewer') !== undefined, undefined, {
        timeout: 30_000,
      })
      .catch((e: Error) => {
        throw new Error(`${e.message}\n${problems.join('\n')}`);
      });
    const defined = await page.evaluate(() =>
      ['seal-placer', 'signature-pad', 'licence-viewer', 'material-uploader'].filter((t) =>
        customElements.get(t),
      ),
    );
    expect(defined).toEqual(['licence-viewer']);
    const names = () => scripts.map((r) => new URL(r.url()).pathname.replace('/elements/', ''));
    expect(names()).toContain('licence-viewer.js');
    for (const other of ['sidian.js', 'seal-placer.js', 'signature-pad.js', 'material-uploader.js'])
      expect(names()).not.toContain(other);
    expect(names().some((n) => /^pdf-[A-Za-z0-9_-]{8}\.js$/.test(n))).toBe(false);
    for (const r of scripts) expect((await r.allHeaders())['content-encoding'], r.url()).toBe('br');

    const sealed = await sealedLicence(sidian.url);
    await page.evaluate(async (b64) => {
      const el = document.querySelector('licence-viewer') as unknown as {
        document?: Uint8Array;
        verified(): Promise<unknown>;
      };
      el.document = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      await el.verified();
    }, sealed.toString('base64'));
    expect(names().some((n) => /^pdf-[A-Za-z0-9_-]{8}\.js$/.test(n))).toBe(true);
    expect(names()).not.toContain('sidian.js');
    expect(problems).toEqual([]);
    await context.close();
  });
});
