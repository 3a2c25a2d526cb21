/**
 * A file on disk as @sidian/core's RandomAccessFile: signing and verifying read only the parts of
 * it they need, and hash the rest in chunks straight from the file, read ahead on a thread of
 * their own (read-ahead.ts).
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, fstatSync, openSync, read, readSync } from 'node:fs';
import type { HashName, RandomAccessFile } from '@sidian/core';
import { hashOnThread, THREAD_HASH_MIN, type EarlyInput, type HashThread } from './hash-thread.mjs';
import { readRangesAhead } from './read-ahead';

export interface OpenFile extends RandomAccessFile {
  /**
   * Starts hashing the whole file now, so that `digestRanges(hash, [[0, size]], extra)` later only
   * has the extra bytes left to hash (a signature appended to this file; server/src/cli/sign.ts).
   * A later call for another digest (the key, once read, wants another) stops the first.
   */
  hashAhead(hash: HashName): void;
  close(): void;
}

/** Reads of the whole-file hash: 1 MiB, 4 in flight, so that hashing overlaps reading. */
const AHEAD_CHUNK = 1 << 20;
const AHEAD_READS = 4;
/**
 * Opens `path`. `early` is the same file opened and being hashed since the process started
 * (hash-thread.mjs `startSignInputHash`): when it names this path, the file takes its descriptor
 * and its hashing thread.
 */
export function openFile(path: string, early?: EarlyInput): OpenFile {
  let fd: number;
  let size: number;
  let hasher: HashThread | undefined;
  if (early && early.path === path) {
    early.adopt();
    ({ fd, size, hasher } = early);
  } else {
    fd = openSync(path, 'r');
    try {
      size = fstatSync(fd).size;
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }
  let ahead: { hash: string; hashed: Promise<Hash>; stop(): void } | undefined;
  let closed = false;
  const readAt = (into: Uint8Array, position: number) =>
    new Promise<number>((resolve, reject) =>
      read(fd, into, 0, into.length, position, (err, bytes) => (err ? reject(err) : resolve(bytes))),
    );
  /** The hash of [0, size), the reads AHEAD_READS chunks ahead of the hashing. */
  async function hashWhole(h: Hash, stopped: () => boolean): Promise<Hash> {
    const buffers = Array.from({ length: AHEAD_READS + 1 }, () => new Uint8Array(AHEAD_CHUNK));
    const chunks = Math.ceil(size / AHEAD_CHUNK);
    const reads: Promise<number>[] = [];
    const issue = (i: number) => {
      if (i >= chunks || closed || stopped()) return;
      const at = i * AHEAD_CHUNK;
      reads[i] = readAt(buffers[i % buffers.length]!.subarray(0, Math.min(AHEAD_CHUNK, size - at)), at);
    };
    for (let i = 0; i < AHEAD_READS; i++) issue(i);
    for (let i = 0; i < chunks; i++) {
      if (closed) throw new Error(`${path} was closed while being hashed`);
      if (stopped()) throw new Error(`the hash of ${path} was given up`);
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
      if (ahead?.hash === hash) return;
      // a hash started for another digest, before the key was known (a PKCS#12 file that held an
      // SM2 or a P-384 key), stops: its work is of no use, and on this thread it would delay the one needed
      ahead?.stop();
      ahead = undefined;
      let h: Hash;
      try {
        h = createHash(hash === 'SM3' ? 'sm3' : hash.replace('-', '').toLowerCase());
      } catch {
        hasher?.cancel();
        hasher = undefined;
        return; // a Node without OpenSSL's sm3: core hashes the file when it signs
      }
      if (hasher?.hash === hash) return;
      hasher?.cancel();
      hasher = undefined;
      // SM3 of a large file on a thread (hash-thread.mjs): on this one it would run after the
      // loading and the key's decryption instead of beside them
      if (hash === 'SM3' && size >= THREAD_HASH_MIN) {
        hasher = hashOnThread(fd, size, path);
        return;
      }
      let stopped = false;
      const hashed = hashWhole(h, () => stopped);
      hashed.catch(() => undefined); // seen where it is used; unused when the signer's digest differs
      ahead = { hash, hashed, stop: () => void (stopped = true) };
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
      hasher?.cancel();
      hasher = undefined;
      closeSync(fd);
    },
  };
}
