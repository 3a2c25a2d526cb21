/**
 * A file on disk as @sidian/core's RandomAccessFile: signing and verifying read only the parts of
 * it they need, and hash the rest in chunks straight from the file, read ahead on a thread of
 * their own (read-ahead.ts).
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, fstatSync, openSync, read, readSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { RandomAccessFile } from '@sidian/core';
import { readRangesAhead } from './read-ahead';

export interface OpenFile extends RandomAccessFile {
  /**
   * Starts hashing the whole file now, so that `digestRanges(hash, [[0, size]], extra)` later only
   * has the extra bytes left to hash (a signature appended to this file; server/src/cli/sign.ts).
   */
  hashAhead(hash: 'SHA-256' | 'SM3'): void;
  close(): void;
}

/** Reads of the whole-file hash: 1 MiB, 4 in flight, so that hashing overlaps reading. */
const AHEAD_CHUNK = 1 << 20;
const AHEAD_READS = 4;
/** Inputs from this size hash SM3 on a thread of their own (hashOnThread): below, the thread's start costs more than it saves. */
const THREAD_HASH_MIN = 4 << 20;

export function openFile(path: string): OpenFile {
  const fd = openSync(path, 'r');
  let size: number;
  try {
    size = fstatSync(fd).size;
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  let ahead: { hash: string; hashed: Promise<Hash> } | undefined;
  let hasher: { worker: Worker; hash: string; digest(extra: Uint8Array[]): Promise<Uint8Array> } | undefined;
  let closed = false;
  const readAt = (into: Uint8Array, position: number) =>
    new Promise<number>((resolve, reject) =>
      read(fd, into, 0, into.length, position, (err, bytes) => (err ? reject(err) : resolve(bytes))),
    );
  /** The hash of [0, size), the reads AHEAD_READS chunks ahead of the hashing. */
  async function hashWhole(h: Hash): Promise<Hash> {
    const buffers = Array.from({ length: AHEAD_READS + 1 }, () => new Uint8Array(AHEAD_CHUNK));
    const chunks = Math.ceil(size / AHEAD_CHUNK);
    const reads: Promise<number>[] = [];
    const issue = (i: number) => {
      if (i >= chunks || closed) return;
      const at = i * AHEAD_CHUNK;
      reads[i] = readAt(buffers[i % buffers.length]!.subarray(0, Math.min(AHEAD_CHUNK, size - at)), at);
    };
    for (let i = 0; i < AHEAD_READS; i++) issue(i);
    for (let i = 0; i < chunks; i++) {
      if (closed) throw new Error(`${path} was closed while being hashed`);
      const at = i * AHEAD_CHUNK;
      const want = Math.min(AHEAD_CHUNK, size - at);
      const got = await reads[i]!;
      if (got !== want) throw short(at + got);
      // the buffer of chunk i - 1 is free again: the read of chunk i + AHEAD_READS may fill it
      issue(i + AHEAD_READS);
      h.update(buffers[i % buffers.length]!.subarray(0, got));
    }
    return h;
  }
  const short = (position: number) =>
    new Error(`${path} ended early at byte ${position} (did it change while being read?)`);
  return {
    size,
    readSync(into, position) {
      let o = 0;
      while (o < into.length) {
        const n = readSync(fd, into, o, into.length - o, position + o);
        if (n === 0) throw short(position + o);
        o += n;
      }
    },
    async read(into, position) {
      let o = 0;
      while (o < into.length) {
        const n = await new Promise<number>((resolve, reject) =>
          read(fd, into, o, into.length - o, position + o, (err, bytes) =>
            err ? reject(err) : resolve(bytes),
          ),
        );
        if (n === 0) throw short(position + o);
        o += n;
      }
    },
    readRanges(ranges, each) {
      return readRangesAhead(fd, size, ranges, each);
    },
    hashAhead(hash) {
      if (ahead || hasher) return;
      if (hash === 'SM3' && size >= THREAD_HASH_MIN) {
        hasher = hashOnThread(fd, size, path);
        if (hasher) return;
      }
      let h: Hash;
      try {
        h = createHash(hash === 'SM3' ? 'sm3' : 'sha256');
      } catch {
        return; // a Node without OpenSSL's sm3: core hashes the file when it signs
      }
      const hashed = hashWhole(h);
      hashed.catch(() => undefined); // seen where it is used; unused when the signer's digest differs
      ahead = { hash, hashed };
    },
    digestRanges(hash, ranges, extra) {
      const wholeFile = ranges.length === 1 && ranges[0]![0] === 0 && ranges[0]![1] === size;
      if (hasher && hasher.hash === hash && wholeFile) {
        const h = hasher;
        hasher = undefined; // a hash is finished once
        return h.digest(extra);
      }
      if (!ahead || ahead.hash !== hash || !wholeFile) return undefined;
      const { hashed } = ahead;
      ahead = undefined; // a hash is finished once
      return hashed.then((h) => {
        for (const e of extra) h.update(e);
        return new Uint8Array(h.digest());
      });
    },
    close() {
      closed = true;
      // a hash ahead nobody asked for (the signer's digest differed, or signing failed) stops first
      if (hasher) void hasher.worker.terminate();
      hasher = undefined;
      closeSync(fd);
    },
  };
}

/**
 * The thread that hashes a whole file with SM3 for `hashAhead('SM3')`. SM3 costs about 4 ms per
 * MB (OpenSSL's C, no assembly), so on the main thread the hash of a 100 MB input ran after the
 * CLI's loading and the key's decryption instead of beside them: one thread that reads and hashes
 * the file while the main thread loads, then takes the bytes of the signature's update and answers
 * the digest. (SHA-256, at about 1 ms per MB, gains less than the thread's start-up and stays on
 * the main thread.) The thread's code is CommonJS run with `eval`, so it needs no file of its own
 * whether the server runs from TypeScript or from a bundle. Undefined when Node has no sm3.
 */
function hashOnThread(
  fd: number,
  size: number,
  path: string,
): { worker: Worker; hash: 'SM3'; digest(extra: Uint8Array[]): Promise<Uint8Array> } | undefined {
  try {
    createHash('sm3');
  } catch {
    return undefined;
  }
  const worker = new Worker(HASH_THREAD_SOURCE, { eval: true, workerData: { fd, size, path } });
  const result = new Promise<Uint8Array>((resolve, reject) => {
    worker.once('message', (m: { digest?: Uint8Array; error?: string }) =>
      m.digest ? resolve(new Uint8Array(m.digest)) : reject(new Error(m.error)),
    );
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the hashing thread of ${path} stopped (${code})`)));
  });
  result.catch(() => undefined); // seen where it is used
  return {
    worker,
    hash: 'SM3',
    digest(extra) {
      worker.postMessage(extra);
      return result;
    },
  };
}

const HASH_THREAD_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const { readSync } = require('node:fs');
const { createHash } = require('node:crypto');
const { fd, size, path } = workerData;
let error;
const h = createHash('sm3');
try {
  const buf = Buffer.allocUnsafe(1 << 20);
  for (let at = 0; at < size; ) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, size - at), at);
    if (n === 0) throw new Error(path + ' ended early at byte ' + at + ' (did it change while being read?)');
    h.update(n === buf.length ? buf : buf.subarray(0, n));
    at += n;
  }
} catch (e) {
  error = String(e && e.message || e);
}
parentPort.once('message', (extra) => {
  if (error) return parentPort.postMessage({ error });
  for (const e of extra) h.update(e);
  parentPort.postMessage({ digest: h.digest() });
});
`;
