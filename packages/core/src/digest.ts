/**
 * Digests over several byte ranges without joining them. In Node the native incremental hash is
 * used (reached through `process.getBuiltinModule`, so core imports no Node built-in and still
 * bundles for browsers); elsewhere the ranges are hashed with WebCrypto.
 */
import type { RandomAccessFile } from './pdf/source';
import { concatBytes } from './pki/der';
import { nodeBuiltin, type NodeCrypto } from './platform';
import type { HashName } from './signer/types';

/** The hashes of signing (HashName) and, for verifying old signatures only, SHA-1. */
export type DigestName = HashName | 'SHA-1';

const getNodeCrypto = () => nodeBuiltin<NodeCrypto>('node:crypto');

const NODE_NAMES: Record<DigestName, string> = { 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };

export async function digestChunks(hash: DigestName, chunks: Uint8Array[]): Promise<Uint8Array> {
  const nc = getNodeCrypto();
  if (nc) {
    const h = nc.createHash(NODE_NAMES[hash]);
    for (const c of chunks) h.update(c);
    return new Uint8Array(h.digest());
  }
  return new Uint8Array(await crypto.subtle.digest(hash, joined(chunks) as Uint8Array<ArrayBuffer>));
}

/** One buffer WebCrypto accepts (never a view of shared memory). */
function joined(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1 && chunks[0]!.buffer instanceof ArrayBuffer) return chunks[0]!;
  return concatBytes(...chunks);
}

/**
 * Bytes read from a file per step when hashing it. Reads of up to ~512 KiB cost the kernel's copy
 * much less CPU here than 1–2 MiB ones (destinations that stay in the reading core's cache); smaller
 * than 256 KiB, the per-read overhead costs more than that saves. bench/verify (b), 100 MB, the
 * verifyPdf pass, fresh processes interleaved on this 2-core machine while it was slow: 256 KiB with
 * 8 reads ahead 99 ms (median of 5), 4 ahead 105 ms, 512 KiB with 2 ahead 113 ms, 128 KiB with 8
 * ahead 109 ms.
 */
export const READ_CHUNK = 256 * 1024;

/**
 * Reads in flight while a chunk is hashed: 2 MiB, about 1.5 ms of hashing, so that the reading
 * thread losing its core for a while (to the JIT, the GC, other work on the machine) does not stall
 * the hash.
 */
const READ_AHEAD = 8;

/**
 * The digest of `ranges` ([start, end) pairs) of `file`, then of `extra`, reading the file in
 * chunks into a few reused buffers: memory stays flat whatever the file's size, and when the file
 * reads asynchronously the next chunks are read while the current one is hashed.
 */
export async function digestFileRanges(
  hash: DigestName,
  file: RandomAccessFile,
  ranges: [number, number][],
  extra: Uint8Array[] = [],
): Promise<Uint8Array> {
  const nc = getNodeCrypto();
  if (!nc) {
    // no incremental hash here: gather the ranges (WebCrypto hashes one buffer)
    const parts = ranges.map(([a, b]) => {
      const part = new Uint8Array(b - a);
      file.readSync(part, a);
      return part;
    });
    return digestChunks(hash, [...parts, ...extra]);
  }
  const steps: [number, number][] = [];
  for (const [a, b] of ranges) for (let p = a; p < b; p += READ_CHUNK) steps.push([p, Math.min(b, p + READ_CHUNK)]);
  const slots = READ_AHEAD + 1;
  const buffers = Array.from({ length: Math.min(slots, Math.max(1, steps.length)) }, takeBuffer);
  const inflight: (Promise<void> | void)[] = [];
  try {
    const readStep = (i: number): void => {
      if (i >= steps.length) return;
      const [a, b] = steps[i]!;
      const into = buffers[i % buffers.length]!.subarray(0, b - a);
      inflight.push(file.read ? file.read(into, a) : file.readSync(into, a));
    };
    const h = nc.createHash(NODE_NAMES[hash]);
    for (let i = 0; i < READ_AHEAD; i++) readStep(i);
    for (let i = 0; i < steps.length; i++) {
      await inflight.shift();
      // the buffer of step i - 1 is free again: read into it while step i is hashed
      readStep(i + READ_AHEAD);
      const [a, b] = steps[i]!;
      h.update(buffers[i % buffers.length]!.subarray(0, b - a));
    }
    for (const c of extra) h.update(c);
    return new Uint8Array(h.digest());
  } finally {
    // after a failed read others may still be writing into their buffers: let them end first
    await Promise.allSettled(inflight);
    for (const buf of buffers) if (spareBuffers.length <= READ_AHEAD) spareBuffers.push(buf);
  }
}

/** Read buffers kept between digests (a fresh buffer costs its page faults every time). */
const spareBuffers: Uint8Array[] = [];
const takeBuffer = () => spareBuffers.pop() ?? new Uint8Array(READ_CHUNK);

export { toHex } from './pki/der';
