/**
 * examples/: the same page three ways (plain HTML without a build, React 19, Vue 3). The React and
 * Vue pages are built with vite; all three are served from another origin than the Sidian server
 * (as a department's site would be) and load /elements/sidian.js from it. In Chromium, each page
 * sets the viewer's `.document` property to a sealed licence and must receive the `verified` event
 * with the verdict `valid` — with no console error on the way.
 */
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import type { Browser } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPdf, signerFromPkcs12 } from '../../packages/core/src/index';
import { ROOT, launchChromium, startServer, watchedPage, type RunningServer } from './harness';

const EXAMPLES = path.join(ROOT, 'examples');
const SITES: Record<string, string> = {
  plain: path.join(EXAMPLES, 'plain'),
  react: path.join(EXAMPLES, 'react/dist'),
  vue: path.join(EXAMPLES, 'vue/dist'),
};
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };

let site: Server;
let siteUrl: string;
let sidian: RunningServer;
let browser: Browser;
let sealed: Buffer;

/** The department's site: static files, the Sidian server's address put where the examples say localhost:8080. */
function serveExamples(sidianUrl: () => string): Promise<Server> {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const [, name, ...rest] = url.pathname.split('/');
    const dir = SITES[name ?? ''];
    const file = dir && path.resolve(dir, rest.join('/') || 'index.html');
    if (!dir || !file || !file.startsWith(dir)) return void res.writeHead(404).end();
    try {
      let body: Buffer | string = await readFile(file);
      const type = TYPES[path.extname(file)] ?? 'application/octet-stream';
      if (type.startsWith('text/'))
        body = body.toString('utf8').replaceAll('http://localhost:8080', sidianUrl());
      res.writeHead(200, { 'content-type': `${type}; charset=utf-8` }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

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
  doc.addPage([595, 842]).drawText('Sidian example licence', { x: 72, y: 760, size: 18, font });
  return Buffer.from(await signPdf(await doc.save(), { signer, certify: 2 }));
}

beforeAll(async () => {
  await Promise.all(
    ['react', 'vue'].map((name) =>
      build({
        root: path.join(EXAMPLES, name),
        configFile: path.join(EXAMPLES, name, 'vite.config.ts'),
        logLevel: 'warn',
      }),
    ),
  );
  // the site first: the Sidian server must allow its origin (CORS) for /api/trust
  site = await serveExamples(() => sidian.url);
  siteUrl = `http://127.0.0.1:${(site.address() as { port: number }).port}`;
  sidian = await startServer(['--cors', siteUrl]);
  [browser, sealed] = await Promise.all([launchChromium(), sealedLicence(sidian.url)]);
});

afterAll(async () => {
  await browser?.close();
  site?.close();
  await sidian?.stop();
});

describe('/elements/sidian.js', () => {
  it('defines the four elements and re-exports the core API; pdf.js loads only with a document', async () => {
    const context = await browser.newContext();
    const { page, problems } = await watchedPage(context);
    await page.goto(`${siteUrl}/plain/`);
    // a string, not a function: vitest would rewrite a function's import() for Node
    const seen = (await page.evaluate(`(async () => {
      const api = await import(${JSON.stringify(`${sidian.url}/elements/sidian.js`)});
      const tags = ['seal-placer', 'signature-pad', 'licence-viewer', 'material-uploader'];
      await Promise.all(tags.map((t) => customElements.whenDefined(t)));
      return {
        functions: Object.keys(api).filter((k) => typeof api[k] === 'function'),
        defined: tags.filter((t) => customElements.get(t)),
        scripts: performance.getEntriesByType('resource').map((e) => e.name),
      };
    })()`)) as { functions: string[]; defined: string[]; scripts: string[] };
    expect(seen.defined.length).toBe(4);
    for (const name of [
      'signPdf',
      'verifyPdf',
      'signerFromCryptoKey',
      'signerFromPkcs12',
      'timestampPdf',
      'addValidationData',
      'createCertificationRequest',
      'readLicence',
    ]) {
      expect(seen.functions).toContain(name);
    }
    const pdfjsLoaded = (names: string[]) =>
      names.some((n) => /\/elements\/pdf-[A-Za-z0-9_-]{8}\.js$/.test(n) || n.includes('/elements/pdfjs/'));
    expect(pdfjsLoaded(seen.scripts)).toBe(false);
    await page.setInputFiles('#file', { name: 'licence.pdf', mimeType: 'application/pdf', buffer: sealed });
    await page.waitForFunction(
      () => document.querySelector('#verdict')?.textContent !== '尚未核验',
      undefined,
      { timeout: 60_000 },
    );
    // the verdict can come before the first page is drawn: wait for the rendering too
    await page.$eval('licence-viewer', (el) =>
      (el as unknown as { verified(): Promise<unknown> }).verified(),
    );
    const after = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name));
    expect(after.some((n) => /\/elements\/pdf-[A-Za-z0-9_-]{8}\.js$/.test(n))).toBe(true);
    // (pdf.js's worker itself is fetched from inside the worker: a cross-origin page starts it from a blob: URL)
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe('examples: the same page in plain HTML, React 19 and Vue 3', () => {
  it('the React and Vue pages type-check against the generated typings', () => {
    const r = spawnSync('npx', ['tsc', '-p', 'examples/tsconfig.json'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  for (const name of ['plain', 'react', 'vue']) {
    it(`${name}: sets .document, receives verified (valid)`, async () => {
      const context = await browser.newContext();
      const { page, problems } = await watchedPage(context);
      await page.goto(`${siteUrl}/${name}/`);
      await page.waitForFunction(() => customElements.get('licence-viewer') !== undefined, undefined, {
        timeout: 30_000,
      });
      expect(await page.textContent('#verdict')).toBe('尚未核验');
      await page.setInputFiles('#file', { name: 'licence.pdf', mimeType: 'application/pdf', buffer: sealed });
      await page.waitForFunction(
        () => document.querySelector('#verdict')?.textContent !== '尚未核验',
        undefined,
        { timeout: 60_000 },
      );
      expect(await page.textContent('#verdict')).toBe('核验结果：valid');
      // the property really is the element's: the viewer holds the bytes the page gave it
      expect(
        await page.$eval(
          'licence-viewer',
          (el) => (el as unknown as { document?: Uint8Array }).document?.length,
        ),
      ).toBe(sealed.length);
      expect(problems).toEqual([]);
      await context.close();
    });
  }
});
