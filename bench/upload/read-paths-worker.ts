/**
 * The worker side of bench/upload/read-paths.bench.ts: one way of reading a Blob (and hashing it)
 * per message `{blob, method}`; replies `{ms, sha256}` (sha256 empty for read-only methods).
 */
import { createSHA256 } from 'hash-wasm';

const MB = 1024 * 1024;
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const FRS = (globalThis as unknown as { FileReaderSync: new () => { readAsArrayBuffer(b: Blob): ArrayBuffer } }).FileReaderSync;

async function byobRead(blob: Blob): Promise<Uint8Array> {
  const size = blob.size;
  // a Blob's stream is a byte stream in Chromium: BYOB reads land in our buffer without a copy (each
  // read transfers the buffer: the view given back holds it for the next read)
  const reader = blob.stream().getReader({ mode: 'byob' });
  let at = 0;
  let buffer = new ArrayBuffer(size);
  while (at < size) {
    const { done, value } = await reader.read(new Uint8Array(buffer, at, Math.min(8 * MB, size - at)));
    if (done || !value) break;
    buffer = value.buffer;
    at += value.byteLength;
  }
  return new Uint8Array(buffer);
}

async function slicesRead(blob: Blob, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(blob.size);
  const step = Math.ceil(blob.size / n);
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const part = await blob.slice(i * step, (i + 1) * step).arrayBuffer();
      out.set(new Uint8Array(part), i * step);
    }),
  );
  return out;
}

const reads: Record<string, (b: Blob) => Promise<Uint8Array>> = {
  frs: async (b) => new Uint8Array(new FRS().readAsArrayBuffer(b)),
  arrayBuffer: async (b) => new Uint8Array(await b.arrayBuffer()),
  response: async (b) => new Uint8Array(await new Response(b).arrayBuffer()),
  byob: byobRead,
  slices4: (b) => slicesRead(b, 4),
};

async function streamHash(blob: Blob): Promise<string> {
  const reader = blob.stream().getReader();
  const h = await createSHA256();
  h.init();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    h.update(value);
  }
  return h.digest('hex');
}

const scope = self as unknown as { onmessage: ((e: MessageEvent<{ blob: Blob; method: string }>) => void) | null; postMessage(m: unknown): void };
scope.onmessage = async (e) => {
  const { blob, method } = e.data;
  const [what, how] = method.split(':') as [string, string | undefined];
  try {
    let sha256 = '';
    let ms = 0;
    if (what === 'read') {
      const t0 = performance.now();
      const bytes = await reads[how!]!(blob);
      ms = performance.now() - t0;
      if (bytes.length !== blob.size) throw new Error(`read ${bytes.length}`);
    } else if (what === 'readDigest') {
      const t0 = performance.now();
      const bytes = await reads[how!]!(blob);
      sha256 = hex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)));
      ms = performance.now() - t0;
    } else if (what === 'stream') {
      const t0 = performance.now();
      sha256 = await streamHash(blob);
      ms = performance.now() - t0;
    } else if (what === 'memory') {
      // hash speed alone: the bytes already in this worker's memory
      const bytes = new Uint8Array(await blob.arrayBuffer());
      const t0 = performance.now();
      if (how === 'webcrypto') sha256 = hex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)));
      else {
        const h = await createSHA256();
        h.init();
        for (let at = 0; at < bytes.length; at += 4 * MB) h.update(bytes.subarray(at, at + 4 * MB));
        sha256 = h.digest('hex');
      }
      ms = performance.now() - t0;
    }
    scope.postMessage({ ms, sha256 });
  } catch (err) {
    scope.postMessage({ error: String((err as Error)?.message ?? err) });
  }
};
