import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
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
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self' 'wasm-unsafe-eval';");
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

/** GET as a browser sends it, the body as it came over the wire (not decoded). */
function rawFetch(
  base: string,
  urlPath: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    http
      .get({ host: u.hostname, port: u.port, path: urlPath, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      })
      .on('error', reject);
  });
}

describe('the bundle goes out compressed, with ETag and 304', () => {
  let s: TestServer;
  let dist: { elementsDir: string; demoDir: string };
  // a module of the size and redundancy of real code
  const source = Array.from(
    { length: 4000 },
    (_, i) => `export function f${i}(x) { return x * ${i} + 'licence-viewer'; }\n`,
  ).join('');
  beforeAll(async () => {
    dist = fakeDist();
    fs.writeFileSync(path.join(dist.elementsDir, 'sidian.js'), source);
    fs.writeFileSync(path.join(dist.elementsDir, 'material-uploader.js'), 'export {};\n');
    fs.writeFileSync(path.join(dist.elementsDir, 'pdf-AbCd12_-.js'), 'export {};\n');
    s = await startTestServer(dist);
  });
  afterAll(async () => s?.close());

  it('sends brotli or gzip by Accept-Encoding, the same bytes once decoded, and plain otherwise', async () => {
    const br = await rawFetch(s.url, '/elements/sidian.js', { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.status).toBe(200);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.vary).toMatch(/accept-encoding/i);
    expect(br.headers['access-control-allow-origin']).toBe('*');
    expect(br.body.length).toBeLessThan(source.length / 5);
    expect(zlib.brotliDecompressSync(br.body).toString()).toBe(source);

    const gz = await rawFetch(s.url, '/elements/sidian.js', { 'accept-encoding': 'gzip;q=1, br;q=0' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(zlib.gunzipSync(gz.body).toString()).toBe(source);

    for (const ae of [undefined, 'identity', 'br;q=0, gzip;q=0', '*;q=0']) {
      const plain = await rawFetch(s.url, '/elements/sidian.js', ae ? { 'accept-encoding': ae } : {});
      expect(plain.headers['content-encoding'], ae).toBeUndefined();
      expect(plain.body.toString(), ae).toBe(source);
    }
    // already compressed types go as they are
    fs.writeFileSync(path.join(dist.elementsDir, 'pdfjs/font.pfb'), source);
    const font = await rawFetch(s.url, '/elements/pdfjs/font.pfb', { 'accept-encoding': 'br' });
    expect(font.headers['content-encoding']).toBeUndefined();
    expect(font.body.toString()).toBe(source);
  });

  it('answers 304 to the ETag of the same representation only, and a new tag when the file changes', async () => {
    const first = await rawFetch(s.url, '/elements/sidian.js', { 'accept-encoding': 'br' });
    const etag = first.headers.etag!;
    expect(etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+-br"$/);
    const again = await rawFetch(s.url, '/elements/sidian.js', {
      'accept-encoding': 'br',
      'if-none-match': etag,
    });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    expect(again.headers.etag).toBe(etag);
    expect(again.headers.vary).toMatch(/accept-encoding/i);
    // the brotli tag does not validate the plain body, nor does a made-up tag
    const plain = await rawFetch(s.url, '/elements/sidian.js', { 'if-none-match': etag });
    expect(plain.status).toBe(200);
    expect(plain.body.toString()).toBe(source);
    const guessed = await rawFetch(s.url, '/elements/sidian.js', {
      'accept-encoding': 'br',
      'if-none-match': '"0-0-br", W/"1-1"',
    });
    expect(guessed.status).toBe(200);
    // a rebuilt file is a new version: the old tag no longer answers 304
    const file = path.join(dist.elementsDir, 'sidian.js');
    fs.writeFileSync(file, source + '// rebuilt\n');
    fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
    const rebuilt = await rawFetch(s.url, '/elements/sidian.js', {
      'accept-encoding': 'br',
      'if-none-match': etag,
    });
    expect(rebuilt.status).toBe(200);
    expect(rebuilt.headers.etag).not.toBe(etag);
    expect(zlib.brotliDecompressSync(rebuilt.body).toString()).toBe(source + '// rebuilt\n');
    fs.writeFileSync(file, source);
  });

  it('sends the precompressed copy made by the build, never one older than the file', async () => {
    const file = path.join(dist.elementsDir, 'licence-viewer.js');
    fs.writeFileSync(file, source);
    // the build's copy: same content, compressed at the highest brotli quality (a different body)
    fs.writeFileSync(`${file}.br`, zlib.brotliCompressSync(Buffer.from('// precompressed\n' + source)));
    const pre = await rawFetch(s.url, '/elements/licence-viewer.js', { 'accept-encoding': 'br' });
    expect(zlib.brotliDecompressSync(pre.body).toString()).toBe('// precompressed\n' + source);
    // a stale copy (the file was rebuilt after it) is ignored
    const later = new Date(Date.now() + 10_000);
    fs.writeFileSync(file, source + '// newer\n');
    fs.utimesSync(file, later, later);
    const fresh = await rawFetch(s.url, '/elements/licence-viewer.js', { 'accept-encoding': 'br' });
    expect(zlib.brotliDecompressSync(fresh.body).toString()).toBe(source + '// newer\n');
  });

  it('keeps entry points on a short cache time and hashed chunks on a long one', async () => {
    const entry = await rawFetch(s.url, '/elements/material-uploader.js');
    expect(entry.headers['cache-control']).toBe('public, max-age=300');
    const chunk = await rawFetch(s.url, '/elements/pdf-AbCd12_-.js');
    expect(chunk.headers['cache-control']).toBe('public, max-age=86400');
  });
});
