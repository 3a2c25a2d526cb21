/**
 * bench/upload: SHA-256 and upload throughput in Chromium, next to the browser's raw speeds in the
 * same run — `crypto.subtle.digest` on an in-memory buffer and hash-wasm streaming over File slices —
 * and the element's own path (worker: WebCrypto up to 64 MiB, hash-wasm streaming above), then a
 * tus upload through loopback to the real server (no proxy, no throttle).
 *
 *   npx wtr --files bench/upload/upload.bench.ts            (sizes: 16, 64, 256 MiB)
 *   for the 1 GB run, set `globalThis.SIDIAN_BENCH_UPLOAD_MB = '16,64,1024'` before the
 *   module runs (not yet wired to an environment variable)
 *
 * Prints a Markdown table (MB/s, 1 MB = 2^20 bytes).
 */
import { executeServerCommand } from '@web/test-runner-commands';
import { createSHA256 } from 'hash-wasm';
import { describe, it } from '../../packages/elements/src/test-support/mocha';
import { hashFile } from '../../packages/elements/src/material-uploader/hasher';
import '../../packages/elements/src/material-uploader/define';
import type { MaterialUploader } from '../../packages/elements/src/material-uploader/material-uploader';

const MB = 1024 * 1024;
const sizes = (((globalThis as { SIDIAN_BENCH_UPLOAD_MB?: string }).SIDIAN_BENCH_UPLOAD_MB ?? '16,64,256') as string).split(',').map(Number);

function blobOf(size: number): Blob {
  const parts: Uint8Array[] = [];
  const chunk = new Uint8Array(8 * MB);
  for (let i = 0; i < chunk.length; i += 65536) crypto.getRandomValues(chunk.subarray(i, i + 65536));
  for (let at = 0; at < size; at += chunk.length) {
    const c = chunk.slice(0, Math.min(chunk.length, size - at));
    c[8] = at / chunk.length; // every slice differs
    if (at === 0) c.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]); // sniffed as PNG: no PDF parse in the way
    parts.push(c);
  }
  return new Blob(parts as Uint8Array<ArrayBuffer>[], { type: 'image/png' });
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

describe('bench/upload', () => {
  it('hashing and uploading', async function () {
    this.timeout(3_600_000);
    const server = await executeServerCommand<{ directUrl: string }, Record<string, never>>('sidian-server', {});
    const rows: string[] = ['| size | WebCrypto in memory | hash-wasm streaming | element hashing (worker) | % of reference | tus upload (loopback) |', '|---|---|---|---|---|---|'];
    for (const mb of sizes) {
      const size = mb * MB;
      const blob = blobOf(size);
      let webcrypto = NaN;
      if (size <= 512 * MB) {
        const buf = new Uint8Array(await blob.arrayBuffer());
        webcrypto = size / MB / (await time(() => crypto.subtle.digest('SHA-256', buf)));
      }
      const streaming =
        size /
        MB /
        (await time(async () => {
          const h = await createSHA256();
          h.init();
          for (let at = 0; at < size; at += 8 * MB) h.update(new Uint8Array(await blob.slice(at, at + 8 * MB).arrayBuffer()));
          h.digest('hex');
        }));
      const element = size / MB / (await time(() => hashFile(blob, () => undefined).promise));
      const reference = size <= 64 * MB ? webcrypto : streaming;
      // upload: a fresh applicant each time, so nothing is instant
      const r = await fetch(`${server.directUrl}/api/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'bench', idNumber: `B${Date.now()}${mb}` }) });
      const token = ((await r.json()) as { token: string }).token;
      const el = document.createElement('material-uploader') as MaterialUploader;
      el.setAttribute('endpoint', `${server.directUrl}/api/materials`);
      el.requirements = [{ id: 'big', name: 'big' }];
      el.token = token;
      document.body.append(el);
      await el.addFiles([new File([blob], `bench-${mb}.png`)], 'big');
      let t0 = 0;
      el.addEventListener('upload-progress', (e) => {
        if (e.detail.phase === 'upload' && !t0) t0 = performance.now();
      });
      await new Promise<void>((resolve) => el.addEventListener('material-uploaded', () => resolve(), { once: true }));
      const upload = size / MB / ((performance.now() - t0) / 1000);
      el.remove();
      const f = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : '—');
      rows.push(`| ${mb} MB | ${f(webcrypto)} MB/s | ${f(streaming)} MB/s | ${f(element)} MB/s | ${f((element / reference) * 100)}% | ${f(upload)} MB/s |`);
    }
    console.log(`\n${rows.join('\n')}\n`);
  });
});
