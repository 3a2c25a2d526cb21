/**
 * bench/upload: SHA-256 and upload throughput in Chromium, next to the browser's raw speeds in the
 * same run over the same Blob — `crypto.subtle.digest` on an in-memory buffer (the reference
 * up to 64 MiB), the same after reading the Blob (the best any page can do with a File), and hash-wasm
 * streaming over 8 MiB slices (the reference above 64 MiB) — then the element's own hashing (worker:
 * one WebCrypto digest up to 64 MiB, hash-wasm streaming above, resident memory sampled from Node),
 * then a tus upload through loopback to the real server (no proxy, no throttle).
 *
 *   npm run bench -- upload                                    (sizes 16, 64, 1024 MiB)
 *   BENCH_UPLOAD_MB=16,64,256 BENCH_UPLOAD_REPS=5 npm run bench -- upload
 *
 * Files up to 64 MiB: medians of BENCH_UPLOAD_REPS runs (default 3); larger files run once.
 * Writes the Markdown table to bench/results/upload.md (MB/s with 1 MB = 2^20 bytes).
 */
import { executeServerCommand } from '@web/test-runner-commands';
import { createSHA256 } from 'hash-wasm';
import { describe, it } from '../../packages/elements/src/test-support/mocha';
import { hashFile } from '../../packages/elements/src/material-uploader/hasher';
import '../../packages/elements/src/material-uploader/define';
import type { MaterialUploader } from '../../packages/elements/src/material-uploader/material-uploader';
import { blobOf } from './blobs';

const MB = 1024 * 1024;
const SMALL = 64 * MB;

interface Memory {
  baseline: number;
  peak: number;
  peakProcessGrowth: number;
  samples: number;
  processes: number;
}

/** Throughput (MB/s) of one run of `fn` over `size` bytes; the digest must equal `expect` when given. */
async function rate(
  size: number,
  fn: () => Promise<string>,
  expect?: string,
): Promise<{ mbps: number; digest: string }> {
  const t0 = performance.now();
  const digest = await fn();
  const mbps = size / MB / ((performance.now() - t0) / 1000);
  if (expect && digest !== expect) throw new Error(`digest mismatch: ${digest} != ${expect}`);
  return { mbps, digest };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const hex = (b: ArrayBuffer) =>
  Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, '0')).join('');

async function hashWasmStreaming(blob: Blob): Promise<string> {
  const h = await createSHA256();
  h.init();
  for (let at = 0; at < blob.size; at += 8 * MB)
    h.update(new Uint8Array(await blob.slice(at, at + 8 * MB).arrayBuffer()));
  return h.digest('hex');
}

/** Uploads `blob` with <material-uploader> (a fresh applicant: nothing is instant); MB/s sent and stored. */
async function upload(directUrl: string, blob: Blob, mb: number): Promise<{ sent: number; stored: number }> {
  const r = await fetch(`${directUrl}/api/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench', idNumber: `B${Date.now()}${mb}` }),
  });
  const token = ((await r.json()) as { token: string }).token;
  const el = document.createElement('material-uploader') as MaterialUploader;
  el.setAttribute('endpoint', `${directUrl}/api/materials`);
  el.requirements = [{ id: 'big', name: 'big' }];
  el.token = token;
  document.body.append(el);
  let t0 = 0;
  let sentAt = 0;
  el.addEventListener('upload-progress', (e) => {
    if (e.detail.phase !== 'upload') return;
    t0 ||= performance.now();
    if (e.detail.loaded === e.detail.total && !sentAt) sentAt = performance.now();
  });
  let check: ReturnType<typeof setInterval> | undefined;
  const done = new Promise<void>((resolve, reject) => {
    el.addEventListener('material-uploaded', () => resolve(), { once: true });
    check = setInterval(() => {
      const m = el.materials[0];
      if (m?.state === 'error') reject(new Error(`upload failed: ${m.error?.message}`));
    }, 200);
  });
  await el.addFiles([new File([blob], `bench-${mb}.png`)], 'big');
  try {
    await done;
  } finally {
    clearInterval(check);
  }
  const end = performance.now();
  el.remove();
  return {
    sent: blob.size / MB / (((sentAt || end) - t0) / 1000),
    stored: blob.size / MB / ((end - t0) / 1000),
  };
}

const f = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : '—');
const mib = (bytes: number) => `${(bytes / MB).toFixed(0)} MB`;

describe('bench/upload', () => {
  it('hashing and uploading', async function () {
    this.timeout(3_600_000);
    const { sizesMb, reps } = await executeServerCommand<
      { sizesMb: number[]; reps: number },
      Record<string, never>
    >('bench-upload-config', {});
    const server = await executeServerCommand<{ directUrl: string }, Record<string, never>>(
      'sidian-server',
      {},
    );
    // warm-up: the worker started, hash-wasm compiled, WebCrypto's thread up — first-use costs are
    // not throughput (the element starts its worker on the first file; see the cold row below)
    const warm = blobOf(MB);
    const t0 = performance.now();
    await hashFile(warm, () => undefined).promise;
    const cold = performance.now() - t0;
    await hashWasmStreaming(warm);
    await crypto.subtle.digest('SHA-256', await warm.arrayBuffer());

    const rows = [
      '| size | WebCrypto, in memory | read + WebCrypto | hash-wasm streaming | element hashing (worker) | % of reference | peak RSS growth while hashing (all Chromium processes / largest one) | tus upload, bytes sent | upload to stored |',
      '|---|---|---|---|---|---|---|---|---|',
    ];
    for (const mb of sizesMb) {
      const size = mb * MB;
      const n = size <= SMALL ? reps : 1;
      const blob = blobOf(size);
      // the Blob's bytes reach the browser process asynchronously: wait until they are all there
      await blob.slice(size - 1).arrayBuffer();
      await new Promise((r) => setTimeout(r, 1000));
      // the measurements interleaved run by run, so that a busy moment on this shared machine
      // touches every column alike; the element first in each run
      const runs = {
        element: [] as number[],
        streaming: [] as number[],
        readDigest: [] as number[],
        inMemory: [] as number[],
      };
      let growth = 0;
      let processGrowth = 0;
      let buf: Uint8Array<ArrayBuffer> | undefined;
      for (let i = 0; i < n; i++) {
        await executeServerCommand('bench-memory', { action: 'start' });
        const element = await rate(size, async () => (await hashFile(blob, () => undefined).promise)!);
        const mem = (await executeServerCommand<Memory, { action: string }>('bench-memory', {
          action: 'stop',
        }))!;
        growth = Math.max(growth, mem.peak - mem.baseline);
        processGrowth = Math.max(processGrowth, mem.peakProcessGrowth);
        runs.element.push(element.mbps);
        runs.streaming.push((await rate(size, () => hashWasmStreaming(blob), element.digest)).mbps);
        runs.readDigest.push(
          (
            await rate(
              size,
              async () => hex(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer())),
              element.digest,
            )
          ).mbps,
        );
        buf ??= new Uint8Array(await blob.arrayBuffer());
        runs.inMemory.push(
          (await rate(size, async () => hex(await crypto.subtle.digest('SHA-256', buf!)), element.digest))
            .mbps,
        );
      }
      buf = undefined;
      const [element, streaming, readDigest, inMemory] = [
        runs.element,
        runs.streaming,
        runs.readDigest,
        runs.inMemory,
      ].map(median) as [number, number, number, number];
      const reference = size <= SMALL ? inMemory : streaming;
      const up = await upload(server.directUrl, blob, mb);
      rows.push(
        `| ${mb} MB | ${f(inMemory)} MB/s | ${f(readDigest)} MB/s | ${f(streaming)} MB/s | ${f(element)} MB/s | ${f((element / reference) * 100)}% of ${size <= SMALL ? 'WebCrypto' : 'hash-wasm'} | +${mib(growth)} / +${mib(processGrowth)} | ${f(up.sent)} MB/s | ${f(up.stored)} MB/s |`,
      );
      console.log(rows[rows.length - 1]);
    }
    const markdown = [
      '## bench/upload',
      '',
      `Chromium ${/Chrome\/([\d.]+)/.exec(navigator.userAgent)?.[1] ?? '?'} (headless), ${navigator.hardwareConcurrency} cores; ` +
        `medians of ${reps} interleaved runs up to 64 MB, one run above; 1 MB = 2^20 bytes. The same Blob for every column.`,
      `Load average when done: ${(await executeServerCommand<{ load: string }, Record<string, never>>('bench-load', {}))!.load} (a shared machine).`,
      'Reference: WebCrypto in memory up to 64 MB, hash-wasm streaming above (target: element ≥ 90% of it).',
      '"read + WebCrypto" reads the Blob and digests it: the ceiling for a file that is not already in memory.',
      'RSS: VmRSS of every Chromium process, sampled every 20 ms from Node while the element hashed: peak growth of their sum over the start (the largest run), and of the one process that grew most.',
      `First hash of 1 MB with a cold worker: ${cold.toFixed(0)} ms.`,
      '',
      ...rows,
      '',
    ].join('\n');
    await executeServerCommand('bench-upload-result', { markdown });
    console.log(`\n${markdown}`);
  });
});
