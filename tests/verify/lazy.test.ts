/**
 * Reading on demand: `verifyPdf` and `signPdfUpdate` given a RandomAccessFile (only the parts they
 * need are read; the signed ranges are hashed from the file) report and write exactly what they do
 * given the bytes. With the reading windows shrunk to a few hundred bytes, small files drive every
 * path: windows that end inside an object, in a cross-reference table or a %%EOF search, chunks not
 * yet read. A big file shows what is actually read.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { isSidianError } from '../../packages/core/src/errors';
import { LAZY_READING, type RandomAccessFile } from '../../packages/core/src/pdf/source';
import { signPdfUpdate } from '../../packages/core/src/sign/sign-pdf';
import { verifyPdf } from '../../packages/core/src/verify';
import { openFile } from '../../server/src/file-source';
import { generateBigPdf } from '../fixtures/pdfs';
import { CORPUS_DIR } from '../fixtures/paths';
import { makeTempDir, removeDir } from '../helpers/openssl-pki';
import { buildFuzzInputs } from '../fuzz/inputs';
import { mutate, type FuzzInput } from '../fuzz/mutate';
import { pdfsig } from '../interop/verifiers';
import { createTestPki, prng, type TestPki } from './generator';

const CORPUS = CORPUS_DIR;
const DEFAULTS = { ...LAZY_READING };
const TINY = { readWholeBelow: 0, chunkBits: 7, firstWindow: 200, firstTail: 100 };

/** The bytes as a RandomAccessFile that counts what is read, and how. */
function memoryFile(bytes: Uint8Array, async = true) {
  const counts = { structure: 0, hashed: 0 };
  const copy = (into: Uint8Array, position: number) => {
    if (position < 0 || position + into.length > bytes.length) throw new Error('read past the end');
    into.set(bytes.subarray(position, position + into.length));
  };
  const file: RandomAccessFile = {
    size: bytes.length,
    readSync(into, position) {
      counts.structure += into.length;
      copy(into, position);
    },
    ...(async
      ? {
          read: async (into: Uint8Array, position: number) => {
            counts.hashed += into.length;
            copy(into, position);
          },
        }
      : {}),
  };
  return { file, counts };
}

type Outcome = { report: unknown } | { error: string };
async function outcome(run: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { report: await run() };
  } catch (e) {
    if (!isSidianError(e)) throw e;
    return { error: e.code };
  }
}

let dir: string;
let pki: TestPki;
let anchors: string[];
let fuzzInputs: FuzzInput[];

beforeAll(async () => {
  dir = makeTempDir('sidian-lazy-');
  pki = await createTestPki(dir);
  anchors = [pki.ca.certPem];
  fuzzInputs = await buildFuzzInputs(pki, anchors);
});
afterAll(() => {
  if (dir) removeDir(dir);
});

describe('with tiny reading windows, on demand equals in memory', () => {
  beforeEach(() => Object.assign(LAZY_READING, TINY));
  afterEach(() => Object.assign(LAZY_READING, DEFAULTS));

  it('every corpus file: the same report (or the same error)', async () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(CORPUS, 'manifest.json'), 'utf8')) as { files: { file: string }[] };
    expect(manifest.files.length).toBeGreaterThan(20);
    let lazyRead = 0;
    let total = 0;
    for (const { file } of manifest.files) {
      const bytes = new Uint8Array(fs.readFileSync(path.join(CORPUS, file)));
      const validationTime = new Date('2026-01-01T00:00:00Z');
      const expected = await outcome(() => verifyPdf(bytes, { validationTime }));
      const { file: f, counts } = memoryFile(bytes, file.length % 2 === 0);
      const actual = await outcome(() => verifyPdf(f, { validationTime }));
      expect(actual, file).toEqual(expected);
      lazyRead += counts.structure;
      total += bytes.length;
    }
    console.log(`[lazy] corpus: ${manifest.files.length} files, ${total} bytes; read for structure ${lazyRead}`);
  });

  it('Sidian-signed files and 600 seeded mutations of them: the same outcome', async () => {
    const rnd = prng(0x1a2b);
    let cases = 0;
    const validationTime = new Date();
    for (let i = 0; i < 600; i++) {
      const input = fuzzInputs[i % fuzzInputs.length]!;
      const bytes = i < fuzzInputs.length ? input.pdf : mutate(input.pdf, rnd).bytes;
      const expected = await outcome(() => verifyPdf(bytes, { trustAnchors: anchors, validationTime }));
      const actual = await outcome(() => verifyPdf(memoryFile(bytes, i % 3 !== 0).file, { trustAnchors: anchors, validationTime }));
      expect(actual, `${input.name} case ${i}`).toEqual(expected);
      if (i < fuzzInputs.length) expect((expected as { report: { status: string } }).report.status).toBe('valid');
      cases++;
    }
    expect(cases).toBe(600);
  }, 240_000);

  it('every input variant signed from a file: the same update as from the bytes, valid', async () => {
    const image = new Uint8Array(fs.readFileSync(inject('sealImages').sealPng));
    const signingTime = new Date(); // the same for both signings
    const variants = inject('inputPdfs').filter((v) => !v.invalid);
    expect(variants.length).toBeGreaterThan(10);
    for (const v of variants) {
      const bytes = new Uint8Array(fs.readFileSync(v.file));
      const opts = { signer: pki.signer, image, signingTime }; // sealed on the last page
      const inMemory = await signPdfUpdate(bytes, opts);
      const { file, counts } = memoryFile(bytes);
      const fromFile = await signPdfUpdate(file, opts);
      expect(fromFile.byteRange, v.name).toEqual(inMemory.byteRange);
      // identical but for the signature value (ECDSA signatures differ on every signing)
      const [, a, b] = fromFile.byteRange;
      const gap = (u: Uint8Array) => [...u.subarray(0, a - bytes.length), ...u.subarray(b - bytes.length)];
      expect(gap(fromFile.update), v.name).toEqual(gap(inMemory.update));
      // hashed from the file, or from memory when reading the structure happened to fetch all of it
      expect([0, bytes.length], v.name).toContain(counts.hashed);
      const signed = new Uint8Array(bytes.length + fromFile.update.length);
      signed.set(bytes);
      signed.set(fromFile.update, bytes.length);
      const r = await verifyPdf(signed, { trustAnchors: anchors });
      expect(r.status, v.name).toBe('valid');
    }
  }, 240_000);
});

/** A file that counts the bytes read for structure (readSync) and for hashing (read). */
function counting(file: RandomAccessFile, counts: { structure: number; hashed: number }): RandomAccessFile {
  return {
    size: file.size,
    readSync: (into, pos) => {
      counts.structure += into.length;
      file.readSync(into, pos);
    },
    read: async (into, pos) => {
      counts.hashed += into.length;
      await file.read!(into, pos);
    },
  };
}

describe('a big file is read only where it must be', () => {
  it('a 24 MB PDF signed and verified from disk reads under 1 MB of it into memory; pdfsig agrees', async () => {
    const big = await generateBigPdf(path.join(dir, 'big.pdf'), { megabytes: 24, pages: 3 });
    const image = new Uint8Array(fs.readFileSync(inject('sealImages').sealPng));
    const input = openFile(big.file);
    const signing = { structure: 0, hashed: 0 };
    const { update } = await signPdfUpdate(counting(input, signing), { signer: pki.signer, image, page: 2 });
    input.close();
    expect(signing.structure).toBeLessThan(1024 * 1024);
    expect(signing.hashed).toBe(input.size);
    const out = path.join(dir, 'big-signed.pdf');
    fs.copyFileSync(big.file, out);
    fs.appendFileSync(out, update);
    expect(pdfsig(out).map((s) => s.valid)).toEqual([true]);

    const signed = openFile(out);
    const verifying = { structure: 0, hashed: 0 };
    const report = await verifyPdf(counting(signed, verifying), { trustAnchors: anchors });
    signed.close();
    expect(report.status).toBe('valid');
    const [, a, b] = report.signatures[0]!.byteRange!;
    expect(verifying.structure).toBeLessThan(1024 * 1024);
    expect(verifying.hashed).toBe(signed.size - (b! - a!)); // the signed ranges, hashed once
    expect(report).toEqual(await verifyPdf(new Uint8Array(fs.readFileSync(out)), { trustAnchors: anchors }));
    console.log(
      `[lazy] ${(input.size / 1e6).toFixed(1)} MB: read for structure ${signing.structure} B signing, ${verifying.structure} B verifying`,
    );
  }, 120_000);
});
