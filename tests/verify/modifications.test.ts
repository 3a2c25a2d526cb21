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
import { PdfDict, PdfName, PdfRef, PdfStream, PdfString, latin1Bytes } from '../../packages/core/src/pdf/objects';
import { decodeStream } from '../../packages/core/src/pdf/filters';
import { listFields } from '../../packages/core/src/sign/fields';
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
  editLastTrailer,
  findObjectNum,
  firstContentRef,
  objectText,
  rawUpdate,
  update,
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

/**
 * Ways to pass a content change off as an allowed one, found by a red-team pass: each is a real
 * incremental update whose change poppler or MuPDF show (checked by rendering both revisions).
 */
describe('content changes dressed as allowed ones: disallowed', () => {
  /** Appends text to page 1's first content stream, rewritten in place; returns its number. */
  const rewriteContent = (u: Parameters<Parameters<typeof update>[1]>[0]): PdfRef => {
    const ref = firstContentRef(u.view, 0);
    const old = u.view.get(ref.num) as PdfStream;
    const text = new TextDecoder('latin1').decode(decodeStream(old));
    u.set(ref, new PdfStream(new PdfDict(), latin1Bytes(`${text}\nBT /F1 36 Tf 72 300 Td (PAID IN FULL) Tj ET\n`)));
    return ref;
  };
  const bases = async () => [
    ['approval', await signedInput('classic-1.3')],
    ['P=1', await signPdf(loadInput('acroform'), { signer: pki.signer, certify: 1, field: 'issuer-certification' })],
  ] as const;
  const expectDisallowed = (r: VerificationReport, what: string, reason?: RegExp) => {
    expect(r.signatures[0]!.modificationsAfter, `${what}: ${r.signatures[0]!.reasons.join(' | ')}`).toBe('disallowed');
    if (reason) expect(r.signatures[0]!.reasons.join(' | '), what).toMatch(reason);
    expect(r.status, what).toBe('invalid');
  };

  it('the trailer /Info pointed at the content stream, which is then rewritten', async () => {
    for (const [label, base] of await bases()) {
      let content = 0;
      const changed = update(base, (u) => {
        content = rewriteContent(u).num;
      });
      const pdf = editLastTrailer(changed, (t) => t.replace(/\/Info \d+ \d+ R/, `/Info ${content} 0 R`));
      expect(PdfDocument.load(pdf).latest.trailer.get('Info')).toMatchObject({ num: content });
      expectDisallowed(await verify(pdf), label, new RegExp(`object ${content}.* was changed`));
    }
  });

  it('the catalog /Metadata pointed at the content stream, which is then rewritten', async () => {
    for (const [label, base] of await bases()) {
      expectDisallowed(await verify(update(base, (u) => u.catalog().set('Metadata', rewriteContent(u)))), label);
    }
  });

  it('a /DSS whose /Certs reach the content stream, or whose /VRI reaches the page tree while a page is added', async () => {
    for (const [label, base] of await bases()) {
      const dssContent = update(base, (u) => {
        const r = rewriteContent(u);
        u.catalog().set('DSS', u.add(new PdfDict([['Certs', [r]]])));
      });
      expectDisallowed(await verify(dssContent), `${label}: DSS /Certs`);
      const dssPages = update(addPage(base), (u) => {
        u.catalog().set('DSS', u.add(new PdfDict([['VRI', new PdfDict([['X', u.view.catalog().get('Pages')!]])]])));
      });
      expectDisallowed(await verify(dssPages), `${label}: DSS /VRI`);
    }
  });

  it('an object of the signed revision re-declared with generation 1, byte for byte otherwise', async () => {
    for (const [label, base] of await bases()) {
      const content = firstContentRef(PdfDocument.load(base).latest, 0).num;
      const text = objectText(base, content).replace(/^(\d+) 0 obj/, '$1 1 obj');
      expectDisallowed(await verify(rawUpdate(base, [{ num: content, gen: 1, body: `${text}\n` }])), label, /generation 1/);
    }
  });

  it("a field's widget flags (/F) changed without filling it: hidden, or a hidden one revealed", async () => {
    const base = await signedInput('acroform');
    for (const [name, flags] of [
      ['applicant-name', 6],
      ['agree', 6],
      ['applicant-signature', 6],
    ] as const) {
      expectDisallowed(await verify(setFieldEntry(base, name, 'F', flags)), `${name} /F ${flags}`, /without being filled/);
    }
    // the signed revision holds a Hidden field whose appearance says something else; the update reveals it
    const hidden = update(loadInput('acroform'), (u) => {
      const f = listFields(u.view).find((x) => x.fullName === 'applicant-name')!;
      const fd = u.editDict(f.ref!);
      fd.set('F', 6);
      const ap = u.view.dict(fd.get('AP'))!.get('N') as PdfRef;
      u.set(ap, new PdfStream((u.view.get(ap.num) as PdfStream).dict.clone(), latin1Bytes('1 g 0 0 250 22 re f BT /Helv 12 Tf 0 g 3 6.5 Td (PAID - Li Si) Tj ET\n')));
    });
    const signedHidden = await signPdf(hidden, { signer: pki.signer });
    expectDisallowed(await verify(setFieldEntry(signedHidden, 'applicant-name', 'F', 4)), 'unhide');
    // filling it while revealing it: the flags change is still not explained by filling
    const fd = findObjectNum(signedHidden, (d) => d.get('T') instanceof PdfString && (d.get('T') as PdfString).text() === 'applicant-name');
    const filledAndShown = update(fillTextField(signedHidden, 'applicant-name', 'Li Si'), (u) => u.editDict(new PdfRef(fd, 0)).set('F', 4));
    expectDisallowed(await verify(filledAndShown), 'fill and unhide', /widget flags/);
  });

  it('a read-only field filled', async () => {
    const ro = setFieldEntry(loadInput('acroform'), 'id-number', 'Ff', 1);
    const signedRo = await signPdf(ro, { signer: pki.signer });
    expectDisallowed(await verify(fillTextField(signedRo, 'id-number', '99999999999999999X')), 'read-only', /read-only/);
  });

  it('/NeedAppearances set (viewers redraw the signed fields), or /DR changed while it is set', async () => {
    const base = await signedInput('acroform');
    expectDisallowed(await verify(update(base, (u) => u.acroForm().set('NeedAppearances', true))), 'NeedAppearances', /NeedAppearances/);
    const asks = update(loadInput('acroform'), (u) => u.acroForm().set('NeedAppearances', true));
    const certified = await signPdf(asks, { signer: pki.signer, certify: 1, field: 'issuer-certification' });
    const swapped = update(certified, (u) => {
      const zapf = u.add(new PdfDict([['Type', PdfName.of('Font')], ['Subtype', PdfName.of('Type1')], ['BaseFont', PdfName.of('ZapfDingbats')]]));
      u.acroForm().set('DR', new PdfDict([['Font', new PdfDict([['Helv', zapf]])]]));
    });
    expectDisallowed(await verify(swapped), 'DR swap', /\/DR was changed/);
    // without /NeedAppearances, signers rewrite /DR and /DA (EU DSS and Adobe do): allowed
    const rewritten = update(base, (u) => u.acroForm().set('DA', PdfString.latin1('/Helv 11 Tf 0 0 1 rg')));
    expect((await verify(rewritten)).signatures[0]!.modificationsAfter).toBe('allowed');
  });

  it('6,000 rewritten widget appearances are judged in one pass (the analysis is not quadratic)', async () => {
    const W = 6000;
    const objs: string[] = [];
    const widgets = Array.from({ length: W }, (_, i) => `${6 + 2 * i} 0 R`).join(' ');
    objs[1] = `<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [${widgets}] >> >>`;
    objs[2] = '<< /Type /Pages /Kids [3 0 R] /Count 1 >>';
    objs[3] = `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Annots [${widgets}] >>`;
    objs[4] = '<< /Length 0 >>\nstream\n\nendstream';
    objs[5] = '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>';
    for (let i = 0; i < W; i++) {
      const x = 20 + (i % 50) * 11;
      const y = 20 + Math.floor(i / 50) * 6;
      objs[6 + 2 * i] = `<< /Type /Annot /Subtype /Widget /FT /Tx /T (f${i}) /V (v) /Rect [${x} ${y} ${x + 10} ${y + 5}] /P 3 0 R /F 4 /AP << /N ${7 + 2 * i} 0 R >> >>`;
      objs[7 + 2 * i] = '<< /Type /XObject /Subtype /Form /BBox [0 0 10 5] /Length 17 >>\nstream\n0 g 0 0 10 5 re f\nendstream';
    }
    let text = '%PDF-1.7\n';
    const offsets: number[] = [];
    for (let n = 1; n < objs.length; n++) {
      offsets[n] = text.length;
      text += `${n} 0 obj\n${objs[n]}\nendobj\n`;
    }
    const xref = text.length;
    text += `xref\n0 ${objs.length}\n0000000000 65535 f\r\n${offsets.slice(1).map((o) => `${String(o).padStart(10, '0')} 00000 n\r\n`).join('')}`;
    text += `trailer\n<< /Size ${objs.length} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
    const signedMany = await signPdf(new Uint8Array(Buffer.from(text, 'latin1')), { signer: pki.signer });
    const rewritten = update(signedMany, (u) => {
      for (let i = 0; i < W; i++) {
        const dict = new PdfDict([['Type', PdfName.of('XObject')], ['Subtype', PdfName.of('Form')], ['BBox', [0, 0, 10, 5]]]);
        u.set(new PdfRef(7 + 2 * i, 0), new PdfStream(dict, latin1Bytes('1 g 0 0 10 5 re f')));
      }
    });
    // ~20 s before (every changed appearance walked every widget), past the 10 s bound; ~1.5 s now
    const t0 = Date.now();
    const r = await verifyPdf(rewritten, { trustAnchors: anchors });
    expect(r.signatures[0]!.modificationsAfter).toBe('disallowed');
    expect(Date.now() - t0, 'within the 10 s bound').toBeLessThan(10_000);
  }, 30_000);
});
