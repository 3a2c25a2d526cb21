/**
 * Which way of reading a Blob, and which SHA-256, is fastest in this Chromium (issue 6: files up to
 * 64 MB hashed at 90% of `crypto.subtle.digest` on an in-memory buffer). Each method runs in a
 * worker, as the element's hashing does, over the same Blob; runs interleaved, medians printed:
 *
 *   BENCH_UPLOAD_FILES=bench/upload/read-paths.bench.ts npx wtr --config bench/upload/wtr.config.mjs
 *
 * (under `flock /tmp/sidian-bench.lock`; BENCH_UPLOAD_MB and BENCH_UPLOAD_REPS as for bench/upload).
 * `memory:*` is a hash alone over bytes already in the worker, `read:*` a read alone, `readDigest:*`
 * a read then one WebCrypto digest (what the element does up to 64 MiB), `stream:wasm` hash-wasm fed
 * by `blob.stream()` (reads overlapped with hashing).
 */
import { executeServerCommand } from '@web/test-runner-commands';
import { describe, it } from '../../packages/elements/src/test-support/mocha';
import { blobOf } from './blobs';

const MB = 1024 * 1024;

const METHODS = [
  'memory:webcrypto',
  'memory:wasm',
  'read:frs',
  'read:arrayBuffer',
  'read:response',
  'read:byob',
  'read:slices4',
  'readDigest:frs',
  'readDigest:arrayBuffer',
  'readDigest:byob',
  'readDigest:slices4',
  'stream:wasm',
];

describe('bench/upload read paths', () => {
  it('reads and hashes', async function () {
    this.timeout(3_600_000);
    const { sizesMb, reps } = await executeServerCommand<{ sizesMb: number[]; reps: number }, Record<string, never>>('bench-upload-config', {});
    const worker = new Worker(new URL('./read-paths-worker.ts', import.meta.url), { type: 'module' });
    const run = (blob: Blob, method: string) =>
      new Promise<{ ms: number; sha256: string }>((resolve, reject) => {
        worker.onmessage = (e: MessageEvent<{ ms: number; sha256: string; error?: string }>) => (e.data.error ? reject(new Error(`${method}: ${e.data.error}`)) : resolve(e.data));
        worker.postMessage({ blob, method });
      });
    const lines: string[] = [];
    // warm-up: compile everything once
    const warm = blobOf(MB);
    for (const m of METHODS) await run(warm, m);
    for (const mb of sizesMb.filter((x) => x <= 64)) {
      const blob = blobOf(mb * MB);
      await blob.slice(blob.size - 1).arrayBuffer();
      await new Promise((r) => setTimeout(r, 1000));
      const inMemory = new Uint8Array(await blob.arrayBuffer());
      const expected = Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', inMemory)), (x) => x.toString(16).padStart(2, '0')).join('');
      const times: Record<string, number[]> = { 'main: WebCrypto in memory (reference)': [] };
      for (let r = 0; r < reps; r++) {
        const t0 = performance.now();
        await crypto.subtle.digest('SHA-256', inMemory);
        times['main: WebCrypto in memory (reference)']!.push(performance.now() - t0);
        for (const m of METHODS) {
          const res = await run(blob, m);
          if (res.sha256 && res.sha256 !== expected) throw new Error(`${m}: wrong digest`);
          (times[m] ??= []).push(res.ms);
        }
      }
      const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      const ref = mb / (med(times['main: WebCrypto in memory (reference)']!) / 1000);
      lines.push(`\n${mb} MB, medians of ${reps} (MB/s; % of the reference; per run ms)`);
      for (const [m, xs] of Object.entries(times)) {
        const mbps = mb / (med(xs) / 1000);
        lines.push(`${m.padEnd(40)} ${mbps.toFixed(0).padStart(6)} MB/s ${((mbps / ref) * 100).toFixed(0).padStart(4)}%   ${xs.map((x) => x.toFixed(0)).join(' ')}`);
      }
    }
    worker.terminate();
    console.log(lines.join('\n'));
  });
});
