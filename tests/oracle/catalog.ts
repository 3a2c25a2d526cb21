/**
 * Every attack and modification the generator (tests/verify/generator.ts) makes, applied to
 * Sidian-signed bases, as one named list of files: the input of both oracles (issue 14). The
 * render oracle (render-oracle.test.ts) builds it afresh on each run; the pyHanko oracle
 * (`npm run oracle:pyhanko`) stores the files it judged under tests/oracle/generated/ so that the
 * table it writes can name them by hash.
 *
 * A recipe name says base + change, e.g. `classic/isa-redirect-content-object`. Node-only.
 */
import { PdfDocument } from '../../packages/core/src/pdf/document';
import { PdfRef, latin1Bytes } from '../../packages/core/src/pdf/objects';
import { serialize as serializeObject } from '../../packages/core/src/pdf/writer';
import { signPdf } from '../../packages/core/src/sign/sign-pdf';
import {
  ISA_VARIANTS,
  SHADOW,
  STRIP_VARIANTS,
  SWA_VARIANTS,
  USF_SIGNED_VARIANTS,
  USF_VARIANTS,
  addCoveringAnnotation,
  addDocumentTimestamp,
  addDss,
  addPage,
  changeContentStream,
  concat,
  emptySneakyField,
  fillTextField,
  firstContentRef,
  isa,
  loadInput,
  loadSealPng,
  reorderPages,
  replaceFont,
  replaceImage,
  replacePageTree,
  setOpenAction,
  sneakySignature,
  stripNewestSignature,
  swa,
  usf,
  usfSigned,
  type InputName,
  type SneakyWidget,
  type TestPki,
  type Tsa,
} from '../verify/generator';
import type { Signer } from '../../packages/core/src/signer/types';

/**
 * Issue 14, class 5 (not yet in the generator): after signing, the page's content object written
 * again right after a delimiter (`(x)5 0 obj`), then a cross-reference stream that declares 2^31
 * entries but holds one row. MuPDF calls the xref broken, repairs the file by scanning for object
 * headers, finds this one and shows the new content. Kept out of `buildCatalog` until the verifier
 * rejects it (the render oracle would fail); the render oracle's control test uses it.
 */
export function delimitedHeaderUpdate(signed: Uint8Array, lead: '(x)' | '[]'): Uint8Array {
  const doc = PdfDocument.load(signed);
  const view = doc.latest;
  const contentRef = firstContentRef(view, 0);
  const evil = 'BT /F1 24 Tf 72 720 Td (Sidian fixture: PAID - nothing owed) Tj ET\n';
  const evilObj = `${lead}${contentRef.num} 0 obj\n<< /Length ${evil.length} >>\nstream\n${evil}endstream\nendobj\n`;
  const at = signed.length + evilObj.length;
  const self = view.size;
  const row = new Uint8Array(17);
  row[0] = 1;
  for (let k = 0; k < 8; k++) row[1 + k] = Math.floor(at / 2 ** (8 * (7 - k))) & 0xff;
  const head = `${self} 0 obj\n<< /Type /XRef /Size ${self + 1} /W [1 8 8] /Index [0 2147483647] /Root ${view.rootRef.num} 0 R /Prev ${doc.startxref} /Length ${row.length} >>\nstream\n`;
  return concat(
    signed,
    latin1Bytes(evilObj + head),
    row,
    latin1Bytes(`\nendstream\nendobj\nstartxref\n${at}\n%%EOF\n`),
  );
}

/**
 * Issue 14, class 4 (not yet in the generator): an update whose new object stream holds page 1
 * twice, the signed page dictionary first and a copy whose /Contents is a new stream second (the
 * xref names index 0). pdf.js takes the last copy and shows the new content; MuPDF and poppler
 * take the first. Kept out of `buildCatalog` until the verifier rejects it.
 */
export function duplicateInObjectStream(signed: Uint8Array): Uint8Array {
  const doc = PdfDocument.load(signed);
  const view = doc.latest;
  const page = view.pages()[0]!;
  const p = page.ref.num;
  const [e, st, x] = [view.size, view.size + 1, view.size + 2];
  const evil = 'BT /F1 24 Tf 72 720 Td (Sidian fixture: PAID - nothing owed) Tj ET\n';
  const benign = serializeObject(page.dict);
  const changed = page.dict.clone();
  changed.set('Contents', new PdfRef(e, 0));
  const header = `${p} 0 ${p} ${benign.length + 1} `;
  const objstm = `${header}${benign}\n${serializeObject(changed)}\n`;
  let text = '\n';
  const eOff = signed.length + text.length;
  text += `${e} 0 obj\n<< /Length ${evil.length} >>\nstream\n${evil}endstream\nendobj\n`;
  const sOff = signed.length + text.length;
  text += `${st} 0 obj\n<< /Type /ObjStm /N 2 /First ${header.length} /Length ${objstm.length} >>\nstream\n${objstm}\nendstream\nendobj\n`;
  const xOff = signed.length + text.length;
  const rows = [
    [p, 2, st, 0],
    [e, 1, eOff, 0],
    [st, 1, sOff, 0],
    [x, 1, xOff, 0],
  ].sort((a, b) => a[0]! - b[0]!);
  const data = new Uint8Array(rows.length * 7);
  rows.forEach(([, type, f2, f3], i) => {
    data[i * 7] = type!;
    for (let k = 0; k < 4; k++) data[i * 7 + 1 + k] = (f2! >>> (8 * (3 - k))) & 0xff;
    data[i * 7 + 5] = (f3! >> 8) & 0xff;
    data[i * 7 + 6] = f3! & 0xff;
  });
  const index = rows.map((r) => `${r[0]} 1`).join(' ');
  const head = `${x} 0 obj\n<< /Type /XRef /Size ${x + 1} /W [1 4 2] /Index [${index}] /Root ${view.rootRef.num} 0 R /Prev ${doc.startxref} /Length ${data.length} >>\nstream\n`;
  return concat(
    signed,
    latin1Bytes(text + head),
    data,
    latin1Bytes(`\nendstream\nendobj\nstartxref\n${xOff}\n%%EOF\n`),
  );
}

/**
 * Issue 14, class 3 (not yet in the generator): a "linearized" original whose first-page
 * cross-reference section names another definition of the page content ("fee 0 CNY") than the main
 * one ("fee 100 CNY"), with /L set to a length the file reaches only later. Once signed, the file is
 * not that length and every viewer shows the main content. Spaces appended after signing bring it
 * to /L (`padToLength`): poppler then trusts the linearization and shows the first-page section.
 * Sign it with `linearizedShadowSigned`. Kept out of `buildCatalog` until the verifier rejects it.
 */
export function linearizedShadowOriginal(L: number): Uint8Array {
  const benign = 'BT /F1 24 Tf 72 700 Td (Sidian fixture: fee 100 CNY) Tj ET\n';
  const evil = 'BT /F1 24 Tf 72 700 Td (Sidian fixture: fee 0 CNY) Tj ET\n';
  let s = '%PDF-1.5\n%\xe2\xe3\xcf\xd3\n';
  const off: Record<string, number> = {};
  const lin = `1 0 obj\n<< /Linearized 1 /L ${String(L).padStart(10, '0')} /H [ 0 0 ] /O 4 /E 0 /N 1 /T 0 >>\nendobj\n`;
  off.lin = s.length;
  s += lin;
  // placeholders for the first-page xref: filled after offsets are known
  const firstXrefAt = s.length;
  const FX = 'FIRSTXREF';
  s += FX;
  const defs: [string, string][] = [
    ['2', '<< /Type /Catalog /Pages 3 0 R >>'],
    ['3', '<< /Type /Pages /Kids [4 0 R] /Count 1 >>'],
    [
      '4',
      '<< /Type /Page /Parent 3 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 6 0 R >> >> /Contents 5 0 R >>',
    ],
    ['6', '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>'],
  ];
  let body = '';
  const rel: Record<string, number> = {};
  for (const [n, d] of defs) {
    rel[n] = body.length;
    body += `${n} 0 obj\n${d}\nendobj\n`;
  }
  rel.evil = body.length;
  body += `5 0 obj\n<< /Length ${evil.length} >>\nstream\n${evil}endstream\nendobj\n`;
  rel.benign = body.length;
  body += `5 0 obj\n<< /Length ${benign.length} >>\nstream\n${benign}endstream\nendobj\n`;
  const e = (o: number) => `${String(o).padStart(10, '0')} 00000 n\r\n`;
  // fixed-width first xref: compute its length with dummy numbers
  const firstXref = (base: number, mainAt: number) =>
    `xref\n5 1\n${e(base + rel.evil!)}trailer\n<< /Size 7 /Root 2 0 R /Prev ${String(mainAt).padStart(10, '0')} >>\n`;
  const fxLen = firstXref(0, 0).length;
  const base = firstXrefAt + fxLen;
  const mainAt = base + body.length;
  const main = `xref\n0 7\n0000000000 65535 f\r\n${e(off.lin)}${e(base + rel['2']!)}${e(base + rel['3']!)}${e(base + rel['4']!)}${e(base + rel.benign!)}${e(base + rel['6']!)}trailer\n<< /Size 7 /Root 2 0 R >>\nstartxref\n${mainAt}\n%%EOF\n`;
  s = s.replace(FX, firstXref(base, mainAt)) + body + main;
  return latin1Bytes(s);
}
/** The class-3 file signed, then padded with spaces to its /L. */
export async function linearizedShadowSigned(
  signer: Signer,
): Promise<{ signed: Uint8Array; padded: Uint8Array }> {
  const probe = await signPdf(linearizedShadowOriginal(1), { signer, contentsSize: 3072 });
  const l = probe.length + 200;
  const signed = await signPdf(linearizedShadowOriginal(l), { signer, contentsSize: 3072 });
  if (signed.length >= l) throw new Error('the signed file outgrew its /L');
  return { signed, padded: concat(signed, latin1Bytes(' '.repeat(l - signed.length))) };
}

export interface CatalogFile {
  /** Recipe: base/change. */
  name: string;
  pdf: Uint8Array;
}

const SNEAKY: SneakyWidget[] = ['visible', 'noview-flag', 'hidden-flag', 'zero-rect', 'no-appearance'];

/**
 * Builds the catalog. Signatures reserve little room (invisible, 3-4 KB of CMS) so the files stay
 * small; the TSA is the openssl shim of tests/helpers/tsa-shim.ts.
 */
export async function buildCatalog(pki: TestPki, tsa: Tsa): Promise<CatalogFile[]> {
  const signer = pki.signer;
  const sign = (pdf: Uint8Array, opts: { certify?: 1 | 2 | 3; field?: string; image?: boolean } = {}) =>
    signPdf(pdf, {
      signer,
      contentsSize: 3072,
      certify: opts.certify,
      field: opts.field,
      image: opts.image ? loadSealPng() : undefined,
    });
  const signedInput = (name: InputName, opts?: Parameters<typeof sign>[1]) => sign(loadInput(name), opts);

  const out: CatalogFile[] = [];
  const add = (name: string, pdf: Uint8Array) => out.push({ name, pdf });
  const addAsync = async (name: string, make: () => Promise<Uint8Array>) => add(name, await make());

  const classic = await signedInput('classic-1.3');
  const objstm = await signedInput('objstm-1.5');
  const fivePages = await signedInput('five-pages');
  const form = await signedInput('acroform');
  const certified2 = await signedInput('acroform', { certify: 2, field: 'applicant-signature' });
  const certified1 = await signedInput('acroform', { certify: 1, field: 'applicant-signature' });
  const certified3 = await signedInput('acroform', { certify: 3, field: 'applicant-signature' });
  const sealed = await signedInput('classic-1.3', { image: true });
  const twice = await sign(classic);

  // the bases themselves (nothing after the signature)
  add('classic/as-signed', classic);
  add('objstm/as-signed', objstm);
  add('linearized/as-signed', await signedInput('linearized'));
  add('hybrid/as-signed', await signedInput('hybrid'));
  add('rotated/as-signed', await signedInput('rotated'));
  add('sealed/as-signed', sealed);
  add('certified-p2/as-signed', certified2);
  add('twice/as-signed', twice);

  // modifications that must be disallowed
  for (const [base, pdf] of [
    ['classic', classic],
    ['objstm', objstm],
  ] as const) {
    add(`${base}/add-page`, addPage(pdf));
    add(`${base}/change-content-stream`, changeContentStream(pdf));
    add(`${base}/annotation-square`, addCoveringAnnotation(pdf, 'Square'));
    add(`${base}/annotation-freetext`, addCoveringAnnotation(pdf, 'FreeText'));
    add(`${base}/annotation-text`, addCoveringAnnotation(pdf, 'Text'));
    add(`${base}/replace-font`, replaceFont(pdf));
    add(`${base}/open-action`, setOpenAction(pdf));
  }
  add('sealed/replace-image', replaceImage(sealed));
  add('five-pages/reorder-pages', reorderPages(fivePages));
  add('five-pages/replace-page-tree', replacePageTree(fivePages));

  // changes that are allowed
  add('form/fill-text-field', fillTextField(form, 'applicant-name', 'Li Si'));
  add('certified-p2/fill-text-field', fillTextField(certified2, 'applicant-name', 'Li Si'));
  add('certified-p1/fill-text-field', fillTextField(certified1, 'applicant-name', 'Li Si'));
  add('classic/dss', addDss(classic, { certs: [pki.leaf.certDer, pki.ca.certDer] }));
  await addAsync('classic/document-timestamp', () => addDocumentTimestamp(classic, tsa));
  await addAsync('certified-p1/dss-document-timestamp', () =>
    addDocumentTimestamp(addDss(certified1, { certs: [pki.leaf.certDer] }), tsa),
  );
  await addAsync('certified-p2/fill-then-sign', () =>
    sign(fillTextField(certified2, 'applicant-name', 'Li Si')),
  );
  await addAsync('classic/visible-second-seal', () =>
    signPdf(classic, { signer, contentsSize: 3072, image: loadSealPng(), page: 1 }),
  );

  // Universal Signature Forgery
  for (const v of USF_VARIANTS) add(`classic/usf-${v}`, usf(classic, v));
  for (const v of USF_SIGNED_VARIANTS)
    await addAsync(`classic/usf-signed-${v}`, async () => (await usfSigned(classic, signer, v)).pdf);
  // Signature Wrapping
  for (const v of SWA_VARIANTS)
    await addAsync(`classic/swa-${v}`, async () => (await swa(classic, signer, v)).pdf);
  // Incremental Saving
  for (const [base, pdf] of [
    ['classic', classic],
    ['objstm', objstm],
  ] as const)
    for (const v of ISA_VARIANTS) add(`${base}/isa-${v}`, isa(pdf, v));
  // the newest signature taken out of the form
  for (const v of STRIP_VARIANTS) add(`twice/strip-${v}`, stripNewestSignature(twice, v));
  // shadow attacks: prepared before signing, revealed after
  for (const [v, attack] of Object.entries(SHADOW)) {
    const signed = await sign(attack.prepare(loadInput(attack.input)));
    add(`shadow/${v}`, attack.reveal(signed));
  }
  // sneaky signatures and empty sneaky fields over certified and approval-signed forms
  for (const [base, pdf] of [
    ['certified-p2', certified2],
    ['certified-p3', certified3],
    ['form', form],
  ] as const) {
    for (const w of SNEAKY) {
      await addAsync(`${base}/sneaky-signature-${w}`, () => sneakySignature(pdf, w, { kind: 'cms', signer }));
      add(`${base}/sneaky-empty-field-${w}`, emptySneakyField(pdf, w));
    }
  }
  await addAsync('certified-p1/sneaky-timestamp-visible', () =>
    sneakySignature(certified1, 'visible', { kind: 'doc-timestamp', tsa }),
  );
  return out;
}
