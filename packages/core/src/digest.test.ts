/**
 * Hashing byte ranges straight from a file: the digest is the one of the same bytes in memory, for
 * any chunking, and a read that fails mid-way fails the digest without spoiling the next one (the
 * read buffers are reused, and other reads may still be in flight when one fails).
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FIRST_READ, READ_CHUNK, digestFileRanges } from './digest';
import type { RandomAccessFile } from './pdf/source';

const MB = 1024 * 1024;

function fileOf(bytes: Uint8Array, opts: { failAt?: number; delayMs?: (pos: number) => number } = {}): RandomAccessFile {
  return {
    size: bytes.length,
    readSync(into, pos) {
      into.set(bytes.subarray(pos, pos + into.length));
    },
    async read(into, pos) {
      await new Promise((r) => setTimeout(r, opts.delayMs?.(pos) ?? 0));
      if (opts.failAt !== undefined && pos <= opts.failAt && opts.failAt < pos + into.length) throw new Error(`EIO at ${pos}`);
      into.set(bytes.subarray(pos, pos + into.length));
    },
  };
}

const expected = (bytes: Uint8Array, ranges: [number, number][], extra: Uint8Array[] = []) => {
  const h = createHash('sha256');
  for (const [a, b] of ranges) h.update(bytes.subarray(a, b));
  for (const e of extra) h.update(e);
  return h.digest('hex');
};

describe('digestFileRanges', () => {
  const bytes = new Uint8Array(randomBytes(9 * MB + 12345));

  it('equals the digest of the bytes in memory, for ranges of every size around the chunk size', async () => {
    const C = READ_CHUNK;
    const cases: [number, number][][] = [
      [[0, bytes.length]],
      [[0, 100], [200, 300]],
      [[0, C], [C + 10, 2 * C + 10]],
      [[5, C - 1], [C + 7, bytes.length]],
      [[0, 0], [1, 1]],
      [[0, 3 * C + 1], [4 * C, 9 * MB]],
    ];
    for (const ranges of cases) {
      const extra = [new Uint8Array([1, 2, 3])];
      const got = Buffer.from(await digestFileRanges('SHA-256', fileOf(bytes, { delayMs: (p) => (p / MB) % 3 }), ranges, extra)).toString('hex');
      expect(got, JSON.stringify(ranges)).toBe(expected(bytes, ranges, extra));
    }
  });

  it('a failed read fails the digest; reads still in flight finish before their buffers are reused', async () => {
    const ranges: [number, number][] = [[0, bytes.length]];
    // the read over byte 2C + 1 fails at once while the reads from 3C on are slow: were their buffers
    // handed to the next digest while they still wrote, that digest would hash stale bytes (its
    // sixth read lands early and waits in such a buffer for its slow third read)
    const C = READ_CHUNK;
    const failing = fileOf(bytes, { failAt: 2 * C + 1, delayMs: (p) => (p >= 3 * C ? 60 : 0) });
    await expect(digestFileRanges('SHA-256', failing, ranges)).rejects.toThrow(/EIO/);
    const other = new Uint8Array(randomBytes(5 * C + 1000));
    for (let k = 0; k < 3; k++) {
      // reads start at 0, F, 3F, 7F, ... (F = FIRST_READ, doubling up to C): the third is slow
      const slow = fileOf(other, { delayMs: (p) => (p === 3 * FIRST_READ ? 100 : 0) });
      const got = Buffer.from(await digestFileRanges('SHA-256', slow, [[0, other.length]])).toString('hex');
      expect(got).toBe(expected(other, [[0, other.length]]));
    }
  });
});
