/**
 * Digests over several byte ranges without joining them. In Node the native incremental hash is
 * used (reached through `process.getBuiltinModule`, so core imports no Node built-in and still
 * bundles for browsers); elsewhere the ranges are hashed with WebCrypto.
 */
import { type DigestName, digestByName } from './algorithms';
import { sm3 } from './gm/sm3';
import type { RandomAccessFile } from './pdf/source';
import { concatBytes } from './pki/der';
import { nodeBuiltin, type NodeCrypto, type NodeHash } from './platform';

export type { DigestName } from './algorithms';

const getNodeCrypto = () => nodeBuiltin<NodeCrypto>('node:crypto');

/**
 * An incremental hash: Node's native one (OpenSSL's, SM3 included) when there is Node, else the
 * JavaScript SM3 for digests WebCrypto lacks; undefined means "use WebCrypto on one buffer".
 */
function incrementalHash(hash: DigestName): NodeHash | undefined {
  const row = digestByName(hash);
  if (!row) throw new Error(`unsupported digest ${String(hash)}`);
  const nc = getNodeCrypto();
  if (nc) {
    try {
      return nc.createHash(row.nodeName);
    } catch {
      // a Node built without this digest (SM3 in some distributions): fall through
    }
  }
  if (hash === 'SM3') {
    const h = sm3.create();
    const wrapped: NodeHash = { update: (b) => (h.update(b), wrapped), digest: () => h.digest() };
    return wrapped;
  }
  return undefined;
}

export async function digestChunks(hash: DigestName, chunks: Uint8Array[]): Promise<Uint8Array> {
  const h = incrementalHash(hash);
  if (h) {
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
 * Bytes read from a file per step when a file has no `readRanges` (or its reader is busy), and reads
 * in flight while a chunk is hashed. Each read costs the hashing thread a submission to libuv's
 * thread pool and a turn of the event loop (40 µs and more each on this project's 2-core VM), so
 * reads are large: 1 MiB, 4 ahead, after a first read of FIRST_READ bytes and reads that double
 * from it. The verifyPdf pass over bench/verify's 100 MB file, 4 fresh processes each, interleaved
 * (aligned buffers both): 96–120 ms, against 110–132 ms for 256 KiB reads with 8 ahead.
 */
export const READ_CHUNK = 1024 * 1024;
const READ_AHEAD = 4;
export const FIRST_READ = 256 * 1024;

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
  const started = file.digestRanges?.(hash, ranges, extra);
  if (started) return started;
  const h = incrementalHash(hash);
  if (!h) {
    // no incremental hash here: gather the ranges (WebCrypto hashes one buffer)
    const parts = ranges.map(([a, b]) => {
      const part = new Uint8Array(b - a);
      file.readSync(part, a);
      return part;
    });
    return digestChunks(hash, [...parts, ...extra]);
  }
  const streamed = file.readRanges?.(ranges, (chunk) => h.update(chunk));
  await (streamed ?? hashByReads(h, file, ranges));
  for (const c of extra) h.update(c);
  return new Uint8Array(h.digest());
}

/** Hashes `ranges` of `file` into `h` through its own reads, READ_AHEAD of them in flight. */
async function hashByReads(h: NodeHash, file: RandomAccessFile, ranges: [number, number][]): Promise<void> {
  const steps: [number, number][] = [];
  // the first reads are smaller, so that hashing starts early; then they double up to READ_CHUNK
  let step = FIRST_READ;
  for (const [a, b] of ranges) {
    for (let p = a; p < b; p += step) {
      if (steps.length) step = Math.min(READ_CHUNK, step * 2);
      steps.push([p, Math.min(b, p + step)]);
    }
  }
  const buffers = spareSets.pop() ?? readBuffers();
  const inflight: (Promise<void> | void)[] = [];
  try {
    const readStep = (i: number): void => {
      if (i >= steps.length) return;
      const [a, b] = steps[i]!;
      const into = buffers[i % buffers.length]!.subarray(0, b - a);
      inflight.push(file.read ? file.read(into, a) : file.readSync(into, a));
    };
    for (let i = 0; i < READ_AHEAD; i++) readStep(i);
    for (let i = 0; i < steps.length; i++) {
      await inflight.shift();
      // the buffer of step i - 1 is free again: read into it while step i is hashed
      readStep(i + READ_AHEAD);
      const [a, b] = steps[i]!;
      h.update(buffers[i % buffers.length]!.subarray(0, b - a));
    }
  } finally {
    // after a failed read others may still be writing into their buffers: let them end first
    await Promise.allSettled(inflight);
    if (spareSets.length < SPARE_SETS) spareSets.push(buffers);
  }
}

/**
 * Sets of read buffers kept between digests (fresh buffers cost their page faults every time): as
 * many as digests that commonly run at once in one process.
 */
const spareSets: Uint8Array[][] = [];
const SPARE_SETS = 2;

/** READ_AHEAD + 1 buffers of READ_CHUNK bytes, each starting on a page boundary. */
function readBuffers(): Uint8Array[] {
  const n = READ_AHEAD + 1;
  const memory = pageAlignedMemory(n * READ_CHUNK, false);
  return Array.from({ length: n }, (_, i) =>
    memory ? new Uint8Array(memory, i * READ_CHUNK, READ_CHUNK) : new Uint8Array(READ_CHUNK),
  );
}

/**
 * Memory for file reads that starts on a page boundary (WebAssembly memory, shared when asked),
 * or undefined without WebAssembly. Where the destination of a read starts decides the speed of
 * the kernel's copy from the page cache: on AMD EPYC (Zen 3) a destination 8 or 16 bytes off a
 * 32-byte boundary copies 3.3x slower (100 MB in 256 KiB reads: 81 ms against 25 ms, whatever the
 * file position). A plain buffer starts wherever malloc puts it (16 bytes into a page for an
 * mmap-ed chunk), so reads were fast or slow from one process to the next. Used by the pool reads
 * here and by server/src/read-ahead.ts.
 */
export function pageAlignedMemory(bytes: number, shared: boolean): ArrayBufferLike | undefined {
  const pages = Math.ceil(bytes / 65536);
  try {
    return new WebAssembly.Memory({ initial: pages, maximum: pages, shared }).buffer;
  } catch {
    return undefined;
  }
}

export { toBase64, toHex } from './pki/der';
