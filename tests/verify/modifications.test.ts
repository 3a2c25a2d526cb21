/**
 * Modification analysis (DESIGN.md "The verification path", step 5) on files that the generator
 * builds from Sidian's own signed PDFs through real incremental updates: what changes the
 * content is disallowed, what only adds signatures, fills forms or adds validation data is allowed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPdf } from '../../packages/core/src/sign/sign-pdf';
import { verifyPdf } from '../../packages/core/src/verify';
import type { VerificationReport } from '../../packages/core/src/verify/types';
import { PdfDocument } from '../../packages/core/src/pdf/document';
import { PdfName, PdfRef } from '../../packages/core/src/pdf/objects';
import { makeTempDir, removeDir } from '../helpers/openssl-pki';
import { startOpensslTsa, type OpensslTsa } from '../helpers/tsa-shim';
import {
  addCoveringAnnotation,
  addDocumentTimestamp,
  addDss,
  addPage,
  appendSignature,
  cadesProducer,
  changeContentStream,
  createTestPki,
  fieldLockDict,
  fieldMdp,
  findObjectNum,
  fillTextField,
  loadInput,
  loadSealPng,
  reorderPages,
  replaceFont,
  replaceImage,
  replacePageTree,
  setFieldEntry,
  setOpenAction,
  type InputName,
  type TestPki,
} from './generator';

let dir: string;
let pki: TestPki;
let tsa: OpensslTsa;
let anchors: string[];
const signed = new Map<string, Uint8Array>();

/** Sidian's signed file of an input (cached per test file). */
async function signedInput(
  name: InputName,
  opts: { image?: boolean; field?: string } = {},
): Promise<Uint8Array> {
  const key = `${name}:${opts.image ? 'img' : ''}:${opts.field ?? ''}`;
  let s = signed.get(key);
  if (!s) {
    s = await signPdf(loadInput(name), {
      signer: pki.signer,
      image: opts.image ? loadSealPng() : undefined,
      field: opts.field,
    });
    signed.set(key, s);
  }
  return s;
}

const verify = (pdf: Uint8Array): Promise<VerificationReport> => verifyPdf(pdf, { trustAnchors: anchors });

function revisionsOf(pdf: Uint8Array): number {
  return new Set(PdfDocument.load(pdf).sections.map((s) => s.eofEnd)).size;
}

/** The modified file is the signed file plus exactly one more revision (a real incremental update). */
function expectIncrementalUpdate(base: Uint8Array, modified: Uint8Array): void {
  expect(modified.length).toBeGreaterThan(base.length);
  expect(
    Buffer.from(modified.subarray(0, base.length)).equals(Buffer.from(base)),
    'the signed file is a byte-exact prefix',
  ).toBe(true);
  expect(revisionsOf(modified)).toBe(revisionsOf(base) + 1);
}

beforeAll(async () => {
  dir = makeTempDir('sidian-verify-mod-');
  pki = await createTestPki(dir);
  tsa = await startOpensslTsa(dir);
  anchors = [pki.ca.certPem, tsa.caPem];
});

afterAll(async () => {
  await tsa?.close();
  if (dir) removeDir(dir);
});

describe('modifications after a signature that change what is shown: disallowed', () => {
  const cases: {
    name: string;
    input: InputName;
    image?: boolean;
    modify: (pdf: Uint8Array) => Uint8Array;
  }[] = [
    { name: 'adding a page (classic xref)', input: 'classic-1.3', modify: addPage },
    { name: 'adding a page (xref stream, object streams)', input: 'objstm-1.5', modify: addPage },
    { name: 'adding a page (nested page tree)', input: 'nested-pages', modify: addPage },
    {
      name: 'changing a content stream (classic xref)',
      input: 'classic-1.3',
      modify: (p) => changeContentStream(p),
    },
    {
      name: 'changing a content stream (xref stream)',
      input: 'objstm-1.5',
      modify: (p) => changeContentStream(p),
    },
    {
      name: 'changing the content of page 3 of 5',
      input: 'five-pages',
      modify: (p) => changeContentStream(p, 2),
    },
    {
      name: 'an opaque Square annotation over the content',
      input: 'classic-1.3',
      modify: (p) => addCoveringAnnotation(p, 'Square'),
    },
    {
      name: 'a FreeText annotation over the content',
      input: 'classic-1.3',
      modify: (p) => addCoveringAnnotation(p, 'FreeText'),
    },
    {
      name: 'a FreeText annotation over the content (xref stream)',
      input: 'objstm-1.5',
      modify: (p) => addCoveringAnnotation(p, 'FreeText'),
    },
    { name: 'replacing the page font object', input: 'classic-1.3', modify: (p) => replaceFont(p) },
    {
      name: 'replacing the page font object (compressed in an object stream)',
      input: 'objstm-1.5',
      modify: (p) => replaceFont(p),
    },
    { name: 'replacing the seal image object', input: 'classic-1.3', image: true, modify: replaceImage },
    { name: 'rewriting the catalog with an /OpenAction', input: 'classic-1.3', modify: setOpenAction },
    {
      name: 'rewriting the catalog with an /OpenAction (xref stream)',
      input: 'objstm-1.5',
      modify: setOpenAction,
    },
    { name: 'reordering the page tree', input: 'five-pages', modify: reorderPages },
    { name: 'pointing the catalog at a new page tree', input: 'five-pages', modify: replacePageTree },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const base = await signedInput(c.input, { image: c.image });
      expect((await verify(base)).status, 'the signed file itself').toBe('valid');
      const modified = c.modify(base);
      expectIncrementalUpdate(base, modified);
      const r = await verify(modified);
      const sig = r.signatures[0]!;
      expect(r.signatures).toHaveLength(1);
      // the signature itself is intact: only the modification analysis can catch this
      expect(sig.integrity).toBe('ok');
      expect(sig.coverage).toBe('revision');
      expect(sig.modificationsAfter, sig.reasons.join(' | ')).toBe('disallowed');
      expect(sig.status).toBe('invalid');
      expect(r.status).toBe('invalid');
    });
  }
});

describe('modifications after a signature that are allowed', () => {
  it('adding another signature (signPdf again)', async () => {
    const base = await signedInput('classic-1.3');
    const twice = await signPdf(base, { signer: pki.signer, image: loadSealPng() });
    expectIncrementalUpdate(base, twice);
    const r = await verify(twice);
    expect(r.status).toBe('valid');
    expect(r.signatures.map((s) => s.modificationsAfter)).toEqual(['allowed', 'none']);
    expect(r.signatures.map((s) => s.coverage)).toEqual(['revision', 'whole-document']);
  });

  it('adding another signature in a prepared signature field', async () => {
    const base = await signedInput('acroform');
    const twice = await signPdf(base, {
      signer: pki.signer,
      field: 'applicant-signature',
      image: loadSealPng(),
    });
    const r = await verify(twice);
    expect(r.status).toBe('valid');
    expect(r.signatures.map((s) => [s.field, s.modificationsAfter])).toEqual([
      ['signature-1', 'allowed'],
      ['applicant-signature', 'none'],
    ]);
  });

  it('filling a form field (new /V and a new appearance stream)', async () => {
    const base = await signedInput('acroform');
    const filled = fillTextField(base, 'applicant-name', 'Li Si');
    expectIncrementalUpdate(base, filled);
    const r = await verify(filled);
    expect(r.signatures[0]!.modificationsAfter, r.signatures[0]!.reasons.join(' | ')).toBe('allowed');
    expect(r.status).toBe('valid');
  });

  it('filling two fields, then signing', async () => {
    const base = await signedInput('acroform');
    const filled = fillTextField(
      fillTextField(base, 'applicant-name', 'Li Si'),
      'id-number',
      '110105194912310021',
    );
    const r0 = await verify(filled);
    expect(r0.status).toBe('valid');
    const r = await verify(await signPdf(filled, { signer: pki.signer, field: 'applicant-signature' }));
    expect(r.status).toBe('valid');
    expect(r.signatures.map((s) => s.modificationsAfter)).toEqual(['allowed', 'none']);
  });

  it('adding DSS data (/DSS with /Certs and /CRLs in the catalog)', async () => {
    const base = await signedInput('classic-1.3');
    const withDss = addDss(base, { certs: [pki.leaf.certDer, pki.ca.certDer] });
    expectIncrementalUpdate(base, withDss);
    const r = await verify(withDss);
    expect(r.signatures[0]!.modificationsAfter).toBe('allowed');
    expect(r.status).toBe('valid');
  });

  it('adding DSS data to a file with cross-reference streams', async () => {
    const base = await signedInput('objstm-1.5');
    const r = await verify(addDss(base, { certs: [pki.leaf.certDer] }));
    expect(r.signatures[0]!.modificationsAfter).toBe('allowed');
    expect(r.status).toBe('valid');
  });

  it('adding a document timestamp (ETSI.RFC3161) from a real TSA', async () => {
    const base = await signedInput('classic-1.3');
    const stamped = await addDocumentTimestamp(base, tsa.url);
    expectIncrementalUpdate(base, stamped);
    const r = await verify(stamped);
    expect(r.status).toBe('valid');
    expect(r.signatures).toHaveLength(2);
    expect(r.signatures[0]!.modificationsAfter).toBe('allowed');
    const ts = r.signatures[1]!;
    expect(ts.kind).toBe('document-timestamp');
    expect(ts.subFilter).toBe('ETSI.RFC3161');
    expect(ts.integrity).toBe('ok');
    expect(ts.timestampTime).not.toBeNull();
    expect(ts.trust).toBe('trusted');
  });

  it('B-T, then DSS, then a document timestamp: B-LT, then B-LTA, every step allowed', async () => {
    const bt = await signPdf(loadInput('classic-1.3'), { signer: pki.signer, tsa: tsa.url });
    expect((await verify(bt)).signatures[0]!.level).toBe('B-T');
    const lt = addDss(bt, { certs: [pki.leaf.certDer, pki.ca.certDer, tsa.tsa.certDer] });
    const rLt = await verify(lt);
    expect(rLt.status).toBe('valid');
    expect(rLt.signatures[0]!.level).toBe('B-LT');
    const lta = await addDocumentTimestamp(lt, tsa.url);
    const rLta = await verify(lta);
    expect(rLta.status).toBe('valid');
    expect(rLta.signatures.map((s) => [s.kind, s.level, s.modificationsAfter])).toEqual([
      ['approval', 'B-LTA', 'allowed'],
      ['document-timestamp', null, 'none'],
    ]);
  });

  it('a disallowed change stays disallowed when allowed changes follow it', async () => {
    const base = await signedInput('classic-1.3');
    const r = await verify(
      await addDocumentTimestamp(addDss(addPage(base), { certs: [pki.ca.certDer] }), tsa.url),
    );
    expect(r.signatures[0]!.modificationsAfter).toBe('disallowed');
    expect(r.status).toBe('invalid');
  });
});

describe('FieldMDP: fields a signature locks stay as signed', () => {
  const lockedBy = async (action: 'All' | 'Include' | 'Exclude', fields: string[]) =>
    (
      await appendSignature(loadInput('acroform'), {
        kind: 'cms',
        produce: cadesProducer(pki.signer),
        extra: [['Reference', fieldMdp(action, fields)]],
      })
    ).pdf;

  it('/Reference FieldMDP Include [applicant-name]: filling it is disallowed, filling id-number allowed', async () => {
    const base = await lockedBy('Include', ['applicant-name']);
    expect((await verify(base)).status).toBe('valid');
    const locked = await verify(fillTextField(base, 'applicant-name', 'Li Si'));
    expect(locked.signatures[0]!.modificationsAfter).toBe('disallowed');
    expect(locked.signatures[0]!.reasons.join(' ')).toMatch(/"applicant-name" was filled after this signature locked it \(FieldMDP\)/);
    expect(locked.status).toBe('invalid');
    const free = await verify(fillTextField(base, 'id-number', '410000'));
    expect(free.signatures[0]!.modificationsAfter, free.signatures[0]!.reasons.join(' | ')).toBe('allowed');
    expect(free.status).toBe('valid');
  });

  it('Exclude [id-number]: id-number may be filled, applicant-name may not', async () => {
    const base = await lockedBy('Exclude', ['id-number']);
    expect((await verify(fillTextField(base, 'id-number', '410000'))).status).toBe('valid');
    expect((await verify(fillTextField(base, 'applicant-name', 'Li Si'))).signatures[0]!.modificationsAfter).toBe('disallowed');
  });

  it('All: no field may be filled, and the prepared signature field may not be signed', async () => {
    const base = await lockedBy('All', []);
    expect((await verify(fillTextField(base, 'id-number', '410000'))).status).toBe('invalid');
    // signPdf refuses to sign the locked field; a signature written regardless breaks the lock
    const err = await signPdf(base, { signer: pki.signer, field: 'applicant-signature' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SIGN_LOCKED' });
    expect((err as Error).message).toMatch(/locked by the signature in field/);
    const prepared = findObjectNum(base, (d) => d.get('FT') instanceof PdfName && d.name('FT') === 'Sig' && !d.has('V'));
    const written = await appendSignature(base, {
      kind: 'cms',
      produce: cadesProducer(pki.signer),
      attach: false,
      edit: (u, sigRef) => u.editDict(new PdfRef(prepared, 0)).set('V', sigRef),
    });
    const signedAfter = await verify(written.pdf);
    expect(signedAfter.signatures[0]!.modificationsAfter).toBe('disallowed');
    expect(signedAfter.signatures[0]!.reasons.join(' ')).toMatch(/locked it \(FieldMDP\)/);
    // an invisible signature in a new field is not a locked field
    expect((await verify(await signPdf(base, { signer: pki.signer }))).status).toBe('valid');
  });

  it("the signed field's own /Lock (Include [applicant-name]) takes effect when that field is signed, not before", async () => {
    const prepared = setFieldEntry(loadInput('acroform'), 'applicant-signature', 'Lock', fieldLockDict('Include', ['applicant-name']));
    // an earlier signature is not bound by a lock of a field signed after it
    const first = await signPdf(prepared, { signer: pki.signer });
    const bySigner = await signPdf(first, { signer: pki.signer, field: 'applicant-signature' });
    const r = await verify(fillTextField(bySigner, 'applicant-name', 'Li Si'));
    expect(r.signatures.map((s) => [s.field, s.modificationsAfter])).toEqual([
      [r.signatures[0]!.field, 'allowed'],
      ['applicant-signature', 'disallowed'],
    ]);
    expect(r.status).toBe('invalid');
    expect((await verify(fillTextField(bySigner, 'id-number', '410000'))).status).toBe('valid');
  });
});
