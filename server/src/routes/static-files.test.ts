import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signerFromPkcs12 } from '../../../packages/core/src/index';
import { productionOptions, startTestServer, tempDir, type TestServer } from '../test/harness';
import { safeJoin } from './static-files';

describe('safeJoin', () => {
  const dir = '/srv/dist/elements';
  it('keeps paths inside the folder', () => {
    expect(safeJoin(dir, 'sidian.js')).toBe('/srv/dist/elements/sidian.js');
    expect(safeJoin(dir, 'pdfjs/cmaps/UniGB-UCS2-H.bcmap')).toBe(
      '/srv/dist/elements/pdfjs/cmaps/UniGB-UCS2-H.bcmap',
    );
  });
  it('refuses traversal, hidden files and odd characters', () => {
    for (const bad of [
      '../secret',
      'pdfjs/../../x',
      '%2e%2e/x',
      '.build-stamp',
      'a/.git/config',
      'a b.js',
      '%E0%A4%A',
      '/etc/passwd',
    ]) {
      expect(safeJoin(dir, bad), bad).toBeUndefined();
    }
  });
});

/** GET with the path sent as written (fetch would normalise `..` and `%2e%2e` away). */
function rawGet(base: string, rawPath: string): Promise<{ status: number; body: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    http
      .get({ host: u.hostname, port: u.port, path: rawPath }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

function fakeDist(): { elementsDir: string; demoDir: string } {
  const root = tempDir('sidian-dist-');
  const elementsDir = path.join(root, 'elements');
  const demoDir = path.join(root, 'demo');
  fs.mkdirSync(path.join(elementsDir, 'pdfjs/build'), { recursive: true });
  fs.mkdirSync(path.join(demoDir, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(elementsDir, 'sidian.js'), 'export const x = 1;\n');
  fs.writeFileSync(path.join(elementsDir, 'pdfjs/build/pdf.worker.min.mjs'), '// worker\n');
  fs.writeFileSync(path.join(demoDir, 'index.html'), '<!doctype html><title>demo</title>\n');
  fs.writeFileSync(path.join(demoDir, 'assets/index-abc.js'), 'console.log(1);\n');
  return { elementsDir, demoDir };
}

describe('built files and the demo department (development mode)', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(fakeDist());
  });
  afterAll(async () => s?.close());

  it('serves the bundle and pdf.js files to any origin, with the strict CSP', async () => {
    const r = await fetch(`${s.url}/elements/sidian.js`, {
      headers: { origin: 'https://zwfw.example.gov.cn' },
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
    const w = await fetch(`${s.url}/elements/pdfjs/build/pdf.worker.min.mjs`);
    expect(w.status).toBe(200);
    expect(w.headers.get('content-type')).toMatch(/^text\/javascript/);
    const page = await fetch(`${s.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('<title>demo</title>');
    expect((await fetch(`${s.url}/assets/index-abc.js`)).status).toBe(200);
  });

  it('answers JSON 404 for what is not built or not allowed', async () => {
    for (const p of [
      '/elements/missing.js',
      '/elements/%2e%2e/demo/index.html',
      '/elements/../demo/index.html',
      '/elements/.build-stamp',
      '/assets/%2e%2e/index.html',
    ]) {
      const r = await rawGet(s.url, p);
      expect(r.status, p).toBe(404);
      expect((JSON.parse(r.body) as { error: string }).error, p).toBe('NOT_FOUND');
    }
  });

  it("hands the demo department's seal and API key to the demo; its key imports as a signer", async () => {
    const d = (await (await fetch(`${s.url}/api/dev/department`)).json()) as {
      apiKey: string;
      creditCode: string;
      seal: { p12: string; password: string };
    };
    expect(d.apiKey).toBe(s.apiKey);
    const signer = await signerFromPkcs12(new Uint8Array(Buffer.from(d.seal.p12, 'base64')), d.seal.password);
    expect(signer.certificate.length).toBeGreaterThan(100);
  });
});

describe('production mode', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ ...fakeDist(), ...(await productionOptions()).options });
  });
  afterAll(async () => s?.close());

  it('serves the bundle but neither the demo nor the demo department', async () => {
    expect((await fetch(`${s.url}/elements/sidian.js`)).status).toBe(200);
    expect((await fetch(`${s.url}/`)).status).toBe(404);
    expect((await fetch(`${s.url}/api/dev/department`)).status).toBe(404);
  });
});
