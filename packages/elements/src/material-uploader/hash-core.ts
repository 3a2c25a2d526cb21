/**
 * SHA-256 of a Blob. Files up to `inMemoryLimit` are read once and digested by WebCrypto in one call
 * (the fastest digest the browser has, ~2× hash-wasm here); larger files stream through hash-wasm's
 * incremental SHA-256 from `blob.stream()`, read into one reused buffer (a BYOB reader), so memory
 * stays flat. bench/upload measured the stream
 * against `slice(at, at + n).arrayBuffer()` with one slice read ahead (n = 2…32 MiB): as fast or
 * faster (hash-wasm is the limit either way), with less resident memory (multi-MiB ArrayBuffers wait
 * for V8's external-memory GC). Runs in the hashing worker, and on the main thread only when a worker
 * cannot be started (a page whose CSP forbids it).
 *
 * Up to 64 MiB this reaches about 55-60% of WebCrypto on bytes already in memory, and nothing here
 * does better (bench/upload/read-paths): the read (650-910 MB/s whichever way: FileReaderSync,
 * arrayBuffer, a BYOB stream into one buffer; concurrent slices and Response are slower) and the
 * one-shot digest (~550 MB/s) cannot overlap, and no streaming SHA-256 that could overlap them is
 * near WebCrypto (hash-wasm 120-150 MB/s). A streaming `crypto.subtle.digest` would close the gap.
 */
import { createSHA256 } from 'hash-wasm';

export interface HashOptions {
  /** Files up to this many bytes are hashed with WebCrypto in one piece (default 64 MiB). */
  inMemoryLimit?: number;
}

export const DEFAULT_IN_MEMORY_LIMIT = 64 * 1024 * 1024;

/** The one buffer a large file is streamed through. */
const STREAM_BUFFER = 1024 * 1024;

/** Only in workers. */
const FileReaderSyncCtor = (
  globalThis as { FileReaderSync?: new () => { readAsArrayBuffer(b: Blob): ArrayBuffer } }
).FileReaderSync;

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

export async function hashBlob(
  blob: Blob,
  options: HashOptions,
  onProgress: (hashed: number) => void,
  cancelled: () => boolean,
): Promise<string | undefined> {
  const size = blob.size;
  if (size <= (options.inMemoryLimit ?? DEFAULT_IN_MEMORY_LIMIT)) {
    // one read and one digest: copying slices into a buffer would halve WebCrypto's speed. In the
    // worker the read is synchronous (FileReaderSync): 0–25% faster than blob.arrayBuffer() in
    // bench/upload's A/B runs, and nothing else waits on this thread.
    const all = FileReaderSyncCtor
      ? new FileReaderSyncCtor().readAsArrayBuffer(blob)
      : await blob.arrayBuffer();
    if (cancelled()) return undefined;
    onProgress(size * 0.5);
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', all));
    onProgress(size);
    return hex(digest);
  }
  const sha = await createSHA256();
  sha.init();
  const stream = blob.stream();
  // A Blob's stream is a byte stream: read into one reused buffer (BYOB), so no chunk is left for
  // the GC and memory stays flat whatever the file's size; browsers without BYOB readers get
  // the stream's own chunks.
  let byob: ReadableStreamBYOBReader | undefined;
  try {
    byob = stream.getReader({ mode: 'byob' });
  } catch {
    byob = undefined;
  }
  const reader = byob ?? stream.getReader();
  let buffer = new ArrayBuffer(STREAM_BUFFER);
  let hashed = 0;
  for (;;) {
    const { done, value } = byob
      ? await byob.read(new Uint8Array(buffer, 0, STREAM_BUFFER))
      : await (reader as ReadableStreamDefaultReader<Uint8Array>).read();
    if (done) break;
    if (cancelled()) {
      void reader.cancel();
      return undefined;
    }
    sha.update(value);
    hashed += value.length;
    if (byob) buffer = value.buffer as ArrayBuffer; // the same memory, handed back
    onProgress(hashed);
  }
  if (hashed !== size) throw new Error(`read ${hashed} of ${size} bytes`);
  return sha.digest('hex');
}
