/**
 * The read-ahead thread behind `openFile(...).readRanges`: the bytes it hands over are the file's,
 * in order, for any ranges; a file that ends early or a consumer that fails ends the job with an
 * error and leaves the reader working for the next file; two digests at once both come out right;
 * and a process that used it still exits by itself.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { fstatSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestFileRanges } from '../../packages/core/src/digest';
import { openFile } from './file-source';
import { startSignInputHash } from './hash-thread.mjs';
import { readAheadReady } from './read-ahead';

const MB = 1024 * 1024;
let dir: string;
let file: string;
let bytes: Uint8Array;

const expected = (data: Uint8Array, ranges: [number, number][]) => {
  const h = createHash('sha256');
  for (const [a, b] of ranges) h.update(data.subarray(a, b));
  return h.digest('hex');
};

/** Reads `ranges` through readRanges, asserting that the reader thread (not the fallback) served them. */
async function viaReader(p: string, ranges: [number, number][]): Promise<string> {
  const f = openFile(p);
  try {
    const h = createHash('sha256');
    const job = f.readRanges!(ranges, (c) => h.update(c));
    expect(job, 'the reader thread takes the job').toBeInstanceOf(Promise);
    await job;
    return h.digest('hex');
  } finally {
    f.close();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'sidian-readahead-'));
  bytes = new Uint8Array(randomBytes(13 * MB + 4321));
  file = path.join(dir, 'data.bin');
  writeFileSync(file, bytes);
  expect(await readAheadReady()).toBe(true);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('read-ahead thread', () => {
  it('hands over exactly the bytes of the ranges, in order, for ranges of every size', async () => {
    const n = bytes.length;
    const cases: [number, number][][] = [
      [[0, n]],
      [
        [0, 100],
        [200, 300],
      ],
      [
        [0, 0],
        [5, 5],
      ],
      [
        [1, MB - 1],
        [MB + 3, 5 * MB + 7],
        [n - 10, n],
      ],
      [
        [7, 3 * MB + 1],
        [3 * MB + 1, n],
      ],
      Array.from({ length: 40 }, (_, i) => [i * 300_000, i * 300_000 + 12_345] as [number, number]),
    ];
    for (const ranges of cases)
      expect(await viaReader(file, ranges), JSON.stringify(ranges.slice(0, 3))).toBe(expected(bytes, ranges));
  });

  it("is what @sidian/core's digest reads a file through, and its digest is the file's", async () => {
    const f = openFile(file);
    let calls = 0;
    const counting = {
      ...f,
      readRanges: (r: [number, number][], each: (c: Uint8Array) => void) => (calls++, f.readRanges!(r, each)),
    };
    const got = Buffer.from(await digestFileRanges('SHA-256', counting, [[0, bytes.length]])).toString('hex');
    f.close();
    expect(calls).toBe(1);
    expect(got).toBe(expected(bytes, [[0, bytes.length]]));
  });

  it('hashAhead: the whole-file hash started before the key is known is the one signing uses, for SHA-256 and SM3 alike', async () => {
    const extra = [new Uint8Array([1, 2, 3]), new Uint8Array([4])];
    for (const [name, node] of [
      ['SHA-256', 'sha256'],
      ['SM3', 'sm3'],
    ] as const) {
      const f = openFile(file);
      let reads = 0;
      const counting = {
        ...f,
        readRanges: (r: [number, number][], each: (c: Uint8Array) => void) => (
          reads++,
          f.readRanges!(r, each)
        ),
        readSync: (into: Uint8Array, at: number) => (reads++, f.readSync(into, at)),
      };
      f.hashAhead(name);
      // another digest, or part of the file, is not served from the hash ahead
      expect(f.digestRanges!(name === 'SM3' ? 'SHA-256' : 'SM3', [[0, bytes.length]], [])).toBeUndefined();
      expect(f.digestRanges!(name, [[0, 10]], [])).toBeUndefined();
      const got = await digestFileRanges(name, counting, [[0, bytes.length]], extra);
      f.close();
      expect(reads, 'no second pass over the file').toBe(0);
      const h = createHash(node).update(bytes);
      for (const e of extra) h.update(e);
      expect(Buffer.from(got).toString('hex')).toBe(h.digest('hex'));
    }
  });

  it('hashAhead for another digest (the key, once read, wants it) stops the first and serves the new one', async () => {
    const extra = [new Uint8Array([5, 6])];
    for (const [later, node] of [
      ['SM3', 'sm3'],
      ['SHA-384', 'sha384'],
    ] as const) {
      const f = openFile(file);
      f.hashAhead('SHA-256');
      f.hashAhead(later);
      expect(f.digestRanges!('SHA-256', [[0, bytes.length]], []), 'the first was given up').toBeUndefined();
      let reads = 0;
      const counting = { ...f, readRanges: () => (reads++, undefined), readSync: () => void reads++ };
      const got = await digestFileRanges(later, counting, [[0, bytes.length]], extra);
      f.close();
      expect(reads, 'no second pass over the file').toBe(0);
      expect(Buffer.from(got).toString('hex')).toBe(
        createHash(node).update(bytes).update(extra[0]!).digest('hex'),
      );
    }
  });

  it('startSignInputHash: `sidian sign IN --key` hashes IN with SM3 from the start; openFile of IN adopts it, of another file does not', async () => {
    const extra = [new Uint8Array([9, 8, 7])];
    const sm3 = createHash('sm3').update(bytes).update(extra[0]!).digest('hex');
    // nothing starts for other commands, for help, for a PKCS#12 key (SHA-256 stays on the main
    // thread), for a small file or a missing one, or for two inputs
    const small = path.join(dir, 'small.bin');
    writeFileSync(small, bytes.subarray(0, 1000));
    for (const argv of [
      ['verify', file, '--key', 'k.pem'],
      ['sign', file, '--key', 'k.pem', '--help'],
      ['sign', file, '-o', 'out.pdf', '--p12', 'k.p12'],
      ['sign', small, '--key', 'k.pem'],
      ['sign', path.join(dir, 'missing.pdf'), '--key', 'k.pem'],
      ['sign', file, file, '--key', 'k.pem'],
    ])
      expect(startSignInputHash(argv), argv.join(' ')).toBeUndefined();

    const early = startSignInputHash(['sign', '-o', 'out.pdf', file, '--cert', 'c.pem', '--key', 'k.pem'])!;
    expect(early.path).toBe(file);
    const f = openFile(file, early);
    early.release(); // adopted: the file stays open for its new owner
    f.hashAhead('SM3');
    let reads = 0;
    const counting = { ...f, readRanges: () => (reads++, undefined), readSync: () => void reads++ };
    const got = await digestFileRanges('SM3', counting, [[0, bytes.length]], extra);
    expect(reads, 'the file is not read a second time').toBe(0);
    expect(Buffer.from(got).toString('hex')).toBe(sm3);
    f.close();

    // a command that names another file opens that one; the early file is closed on release
    const other = startSignInputHash(['sign', file, '--key', 'k.pem'])!;
    const inode = fstatSync(other.fd).ino;
    const g = openFile(small, other);
    expect(g.size).toBe(1000);
    g.close();
    other.release();
    // closed: the descriptor is gone, or its number already serves another file
    let after: number | undefined;
    try {
      after = fstatSync(other.fd).ino;
    } catch {
      after = undefined;
    }
    expect(after).not.toBe(inode);
  });

  it('refuses ranges outside the file, and a file that ends early fails the job with a clear error', async () => {
    const f = openFile(file);
    await expect(f.readRanges!([[0, bytes.length + 1]], () => {})!).rejects.toThrow(/not inside the file/);
    f.close();

    const shrinking = path.join(dir, 'shrinking.bin');
    writeFileSync(shrinking, bytes);
    const g = openFile(shrinking);
    truncateSync(shrinking, 6 * MB); // the file changes after it was opened
    const job = g.readRanges!([[0, bytes.length]], () => {});
    await expect(job!).rejects.toThrow(/ended early at byte 6291456/);
    g.close();
    // the reader is free again and right for the next file
    expect(await viaReader(file, [[0, bytes.length]])).toBe(expected(bytes, [[0, bytes.length]]));
  });

  it('a consumer that throws ends the job; the reader then serves the next one', async () => {
    const f = openFile(file);
    let seen = 0;
    const job = f.readRanges!([[0, bytes.length]], (c) => {
      seen += c.length;
      if (seen > 2 * MB) throw new Error('consumer gave up');
    });
    await expect(job!).rejects.toThrow('consumer gave up');
    f.close();
    expect(await viaReader(file, [[0, bytes.length]])).toBe(expected(bytes, [[0, bytes.length]]));
  });

  it('two digests at once: one is read ahead, the other reads for itself, both right', async () => {
    const other = new Uint8Array(randomBytes(9 * MB + 17));
    const otherFile = path.join(dir, 'other.bin');
    writeFileSync(otherFile, other);
    const a = openFile(file);
    const b = openFile(otherFile);
    const [da, db] = await Promise.all([
      digestFileRanges('SHA-256', a, [[0, bytes.length]]),
      digestFileRanges('SHA-256', b, [[0, other.length]]),
    ]);
    a.close();
    b.close();
    expect(Buffer.from(da).toString('hex')).toBe(expected(bytes, [[0, bytes.length]]));
    expect(Buffer.from(db).toString('hex')).toBe(expected(other, [[0, other.length]]));
  });

  it('a process that hashed through it exits by itself', () => {
    const script = [
      `import { createHash } from 'node:crypto';`,
      `import { openFile } from ${JSON.stringify(path.resolve('server/src/file-source.ts'))};`,
      `import { readAheadReady } from ${JSON.stringify(path.resolve('server/src/read-ahead.ts'))};`,
      `await readAheadReady();`,
      `const f = openFile(${JSON.stringify(file)});`,
      `const h = createHash('sha256');`,
      `await f.readRanges([[0, f.size]], (c) => h.update(c));`,
      `f.close();`,
      `console.log(h.digest('hex'));`,
    ].join('\n');
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.error, 'the process did not exit by itself').toBeUndefined();
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe(expected(bytes, [[0, bytes.length]]));
    expect(run.status).toBe(0);
  });
});
