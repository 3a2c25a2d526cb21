/**
 * SHA-256 of a Blob without holding it all in memory: File slices read one after another (the next
 * read overlapping the hashing of the current one). Files up to `inMemoryLimit` are digested by
 * WebCrypto in one call (the fastest path the browser has); larger files stream through hash-wasm's
 * incremental SHA-256, so memory stays flat at two slices. Runs in the hashing worker, and on the
 * main thread only when a worker cannot be started (a page whose CSP forbids it).
 */
import { createSHA256 } from 'hash-wasm';

export interface HashOptions {
  /** Files up to this many bytes are hashed with WebCrypto in one piece (default 64 MiB). */
  inMemoryLimit?: number;
  /** Slice size for streaming (default 8 MiB). */
  sliceSize?: number;
}

export const DEFAULT_IN_MEMORY_LIMIT = 64 * 1024 * 1024;
const DEFAULT_SLICE = 8 * 1024 * 1024;

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

export async function hashBlob(
  blob: Blob,
  options: HashOptions,
  onProgress: (hashed: number) => void,
  cancelled: () => boolean,
): Promise<string | undefined> {
  const size = blob.size;
  const slice = options.sliceSize ?? DEFAULT_SLICE;
  const read = (at: number) => blob.slice(at, Math.min(size, at + slice)).arrayBuffer();
  if (size <= (options.inMemoryLimit ?? DEFAULT_IN_MEMORY_LIMIT)) {
    // one read and one digest: copying slices into a buffer would halve WebCrypto's speed
    const all = await blob.arrayBuffer();
    if (cancelled()) return undefined;
    onProgress(size * 0.5);
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', all));
    onProgress(size);
    return hex(digest);
  }
  const sha = await createSHA256();
  sha.init();
  let next = read(0);
  for (let at = 0; at < size; at += slice) {
    const chunk = new Uint8Array(await next);
    if (cancelled()) return undefined;
    if (at + slice < size) next = read(at + slice);
    sha.update(chunk);
    onProgress(Math.min(size, at + slice));
  }
  return sha.digest('hex');
}
