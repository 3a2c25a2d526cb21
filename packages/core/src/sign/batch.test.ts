import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSealPng } from '../../../../tests/fixtures/images';
import { pdfsig } from '../../../../tests/interop/verifiers';
import {
  type Ca,
  type Entity,
  createCa,
  issueCertificate,
  makeTempDir,
  removeDir,
} from '../../../../tests/helpers/openssl-pki';
import { minimalPdf } from '../licence/licence.test-helpers';
import { signerFromCryptoKey } from '../signer';
import type { Signer } from '../signer/types';
import { verifyPdf } from '../verify';
import { sealBatch, type BatchDocument, type SealedDocument } from './batch';

let dir: string;
let ca: Ca;
let seal: Entity;
let signer: Signer;
let image: Uint8Array;
const rule = () => ({
  image,
  mode: 'single' as const,
  page: 1,
  rect: { x: 400, y: 40, width: 120, height: 120 },
  reason: '批量签署 batch',
});
/** Distinct one-page documents (each catalog carries its number). */
const docs = (n: number): BatchDocument[] =>
  Array.from({ length: n }, (_, i) => ({
    name: `licence-${i + 1}.pdf`,
    pdf: minimalPdf(`/Lang (zh-CN-${i + 1}) `),
  }));

beforeAll(async () => {
  dir = makeTempDir('sidian-batch-');
  ca = createCa(dir, { subject: '/C=CN/O=Sidian Test/CN=Sidian Batch Root' });
  seal = issueCertificate(ca, {
    name: 'seal',
    subject: '/C=CN/O=四电市数据管理局/CN=四电市数据管理局电子印章',
  });
  const key = await crypto.subtle.importKey(
    'pkcs8',
    seal.keyPkcs8,
    { name: 'ECDSA', namedCurve: 'P-256' },
    false,
    ['sign'],
  );
  signer = signerFromCryptoKey(key, seal.certDer);
  image = new Uint8Array(readFileSync(await makeSealPng(path.join(dir, 'seal.png'))));
});
afterAll(() => removeDir(dir));

describe('sealBatch (批量签署)', () => {
  it('seals every document with the one signer: each verifies with verifyPdf and with pdfsig', async () => {
    const sealed: SealedDocument[] = [];
    const progress: number[] = [];
    let asked = 0;
    const counting: Signer = { ...signer, sign: (a) => (asked++, signer.sign(a)) };
    const input = docs(6);
    const r = await sealBatch(input, {
      signer: counting,
      rule: rule(),
      onSealed: (d) => void sealed.push(d),
      onProgress: (p) => progress.push(p.done),
    });
    expect(r).toMatchObject({ sealed: 6, failed: 0, cancelled: false });
    expect(r.results.map((x) => x.name)).toEqual(input.map((d) => d.name));
    expect(progress.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(asked).toBe(6); // one signature value per document, from the same key
    expect(new Set(sealed.map((s) => s.sha256)).size).toBe(6);
    for (const s of sealed) {
      const original = input[s.index]!.pdf as Uint8Array;
      // incremental: the input is a byte-exact prefix of the sealed file
      expect(s.pdf.subarray(0, original.length)).toEqual(original);
      const report = await verifyPdf(s.pdf, { trustAnchors: [ca.certPem] });
      expect(report.status, JSON.stringify(report.signatures[0]?.reasons)).toBe('valid');
      expect(report.signatures[0]?.signer?.commonName).toBe('四电市数据管理局电子印章');
      const file = path.join(dir, `sealed-${s.index}.pdf`);
      writeFileSync(file, s.pdf);
      const tool = pdfsig(file);
      expect(tool).toHaveLength(1);
      expect(tool[0]!.valid, tool[0]!.text).toBe(true);
    }
  });

  it('a corrupt document in the middle gets its own error; the others are sealed', async () => {
    const input = docs(5);
    input[2] = {
      name: 'broken.pdf',
      pdf: new TextEncoder().encode('%PDF-1.7\nthis is not a PDF body\n%%EOF\n'),
    };
    input[3] = { name: 'empty.pdf', pdf: new Uint8Array(0) };
    const sealed: number[] = [];
    const r = await sealBatch(input, { signer, rule: rule(), onSealed: (d) => void sealed.push(d.index) });
    expect(r).toMatchObject({ sealed: 3, failed: 2, cancelled: false });
    expect(r.results[2]).toMatchObject({
      name: 'broken.pdf',
      ok: false,
      error: { code: expect.stringMatching(/^PDF_/) },
    });
    expect(r.results[3]).toMatchObject({ name: 'empty.pdf', ok: false, error: { code: 'PDF_NOT_PDF' } });
    expect(sealed.sort()).toEqual([0, 1, 4]);
    for (const i of [0, 1, 4]) expect(r.results[i]).toMatchObject({ ok: true, name: input[i]!.name });
  });

  it('a placement off the page fails each document with the engine code, nothing is sealed', async () => {
    const r = await sealBatch(docs(3), {
      signer,
      rule: { ...rule(), rect: { x: 5000, y: 0, width: 100, height: 100 } },
    });
    expect(r).toMatchObject({ sealed: 0, failed: 3 });
    for (const x of r.results)
      expect(x).toMatchObject({ ok: false, error: { code: 'SIGN_RECT_OUTSIDE_PAGE' } });
  });

  it('cancelling stops taking documents: those not taken are neither fetched nor sealed', async () => {
    const controller = new AbortController();
    let fetched = 0;
    const lazy: BatchDocument[] = docs(20).map((d) => ({
      name: d.name,
      pdf: async () => (fetched++, d.pdf as Uint8Array),
    }));
    const r = await sealBatch(lazy, {
      signer,
      rule: rule(),
      concurrency: 2,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.done === 3) controller.abort();
      },
    });
    expect(r.cancelled).toBe(true);
    // the documents in flight when it was cancelled finish; no new one starts
    expect(r.sealed).toBeGreaterThanOrEqual(3);
    expect(r.sealed).toBeLessThanOrEqual(4);
    expect(fetched).toBe(r.sealed);
    expect(r.results.every((x) => x.ok)).toBe(true);
  });

  it('without a signer nothing is read and the batch is refused', async () => {
    let fetched = 0;
    await expect(
      sealBatch([{ name: 'a.pdf', pdf: async () => (fetched++, minimalPdf()) }], {
        signer: undefined as unknown as Signer,
        rule: rule(),
      }),
    ).rejects.toMatchObject({ code: 'SIGN_BAD_OPTIONS' });
    expect(fetched).toBe(0);
  });
});
