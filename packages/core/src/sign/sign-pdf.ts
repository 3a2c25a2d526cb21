/**
 * signPdf: one signing act = one incremental update (DESIGN.md "The signing path").
 *
 *   bytes -> PdfDocument (lazy) -> plan (field, widgets, appearances, dictionaries)
 *         -> update bytes with placeholders -> ByteRange -> digest -> CMS -> patched /Contents
 */
import { createCadesSignature, requestTimestamp, type Attribute, type TsaSource } from '../cms';
import { resolveTsaSource } from '../cms/cades';
import { SidianError } from '../errors';
import { PdfDocument, type PageInfo, type PdfView } from '../pdf/document';
import { PdfDict, PdfName, PdfRaw, PdfRef, PdfStream, PdfString, latin1Bytes, type PdfObject } from '../pdf/objects';
import { indexOfBytes } from '../pdf/parser';
import type { PdfInput } from '../pdf/source';
import { IncrementalWriter, serializeNumber } from '../pdf/writer';
import { toHex } from '../pki/der';
import { assertCertificateUsable, signerHash } from '../signer';
import type { HashName, Signer } from '../signer/types';
import { docMdpPermission, documentLocks, isLocked, listFields, type FieldInfo } from './fields';
import { loadImage, type PdfImage } from './image';

export type SealMode = 'single' | 'every-page' | 'seam';

/** A rectangle in PDF points on the page as displayed: origin at the bottom-left of the visible (crop) box. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface SignOptions {
  signer: Signer;
  /** PNG (alpha kept) or JPEG; without it the signature is invisible unless `field` has a widget. */
  image?: Uint8Array;
  mode?: SealMode;
  /** 1-based page for `single`; default the last page. */
  page?: number;
  /** Placement; default a 42 mm seal at the bottom right (single, every-page) or the right edge (seam). */
  rect?: Rect;
  /** The seal's diameter in points when no rect is given (a standard official seal: 42 mm). */
  sealSize?: number;
  /** Field name: an existing empty signature field to fill, or the name of the new field. */
  field?: string;
  reason?: string;
  location?: string;
  contactInfo?: string;
  /** Certification signature with this DocMDP permission (ISO 32000-2 §12.8.2.2). */
  certify?: 1 | 2 | 3;
  /**
   * Empty signature fields to add in the same revision, for later signers to fill. Under a P=2
   * certification only prepared fields may take visible seals (a new visible field would be drawn
   * over certified content), so a certifier prepares one per seal still to come.
   */
  prepareFields?: PreparedField[];
  /** RFC 3161 timestamp authority: a URL or a function posting the query. Makes the signature B-T. */
  tsa?: TsaSource;
  /** The claimed signing time written to /M; default now. */
  signingTime?: Date;
  /** Bytes reserved for the CMS; default estimated from the chain and timestamp. */
  contentsSize?: number;
  /** Further CMS signed attributes (gm/ses/pdf.ts puts the GB/T 38540 SESeal here). */
  extraSignedAttributes?: Attribute[];
}

/** An empty signature field: its name and where its seal will be drawn. */
export interface PreparedField {
  name: string;
  /** 1-based page; default the last page. */
  page?: number;
  /** On the page as displayed, PDF points, origin bottom-left. */
  rect: Rect;
}

export const MM = 72 / 25.4;
export const DEFAULT_SEAL_SIZE = 42 * MM;

interface WidgetPlan {
  page: PageInfo;
  /** Rectangle in default user space. */
  rect: [number, number, number, number];
  /** Appearance: the whole image, one strip of it, or nothing. */
  appearance: { width: number; height: number; strip?: { index: number; count: number; fullWidth: number } } | undefined;
  /** An existing widget to reuse (filling an empty signature field). */
  existing?: { ref: PdfRef | undefined; dict: PdfDict };
}

export interface SignatureUpdate {
  /** The bytes to append to the input. */
  update: Uint8Array;
  /** The signature field's name. */
  field: string;
  byteRange: [number, number, number, number];
}

/** Signs and returns the whole signed file (the input followed by the update). */
export async function signPdf(pdf: Uint8Array, options: SignOptions): Promise<Uint8Array> {
  return withUpdate(pdf, await signPdfUpdate(pdf, options));
}

function withUpdate(pdf: Uint8Array, { update }: SignatureUpdate): Uint8Array {
  const out = new Uint8Array(pdf.length + update.length);
  out.set(pdf, 0);
  out.set(update, pdf.length);
  return out;
}

/**
 * Signs and returns only the appended bytes: `pdf ‖ update` is the signed file. Lets callers
 * with big files write the update after the input without holding the output twice; given a
 * RandomAccessFile, only the parts of the input that signing needs are read into memory (the
 * cross-reference, a few objects) and the rest is hashed straight from the file.
 */
export async function signPdfUpdate(pdf: PdfInput, options: SignOptions): Promise<SignatureUpdate> {
  const signer = options.signer;
  if (!signer || !signer.certificate || typeof signer.sign !== 'function') {
    throw new SidianError('SIGN_BAD_OPTIONS', 'a signer with a certificate is required');
  }
  assertCertificateUsable(signer.certificate, options.signingTime ?? new Date());
  return appendSignature(pdf, options, undefined);
}

export interface TimestampOptions {
  /** The RFC 3161 timestamp authority. */
  tsa: TsaSource;
  /** Field name; default `timestamp-N`. */
  field?: string;
  contentsSize?: number;
}

/**
 * Adds a document timestamp (ISO 32000-2 §12.8.5, PAdES B-LTA): an invisible signature field
 * whose /Contents is an RFC 3161 token over the whole file so far. Allowed even under DocMDP P=1.
 */
export async function timestampPdf(pdf: Uint8Array, options: TimestampOptions): Promise<Uint8Array> {
  return withUpdate(pdf, await timestampPdfUpdate(pdf, options));
}

export async function timestampPdfUpdate(pdf: PdfInput, options: TimestampOptions): Promise<SignatureUpdate> {
  if (!options?.tsa) throw new SidianError('SIGN_BAD_OPTIONS', 'a document timestamp needs a tsa');
  const placeholder = undefined as unknown as Signer;
  return appendSignature(pdf, { signer: placeholder, field: options.field, contentsSize: options.contentsSize }, options.tsa);
}

/** One signing act; `docTimestamp` set makes it a document timestamp instead of a CMS signature. */
async function appendSignature(pdf: PdfInput, options: SignOptions, docTimestamp: TsaSource | undefined): Promise<SignatureUpdate> {
  const signer = options.signer;
  const signingTime = options.signingTime ?? new Date();
  // A broken /Prev is followed past (as other readers do); a file without any usable
  // cross-reference section is refused rather than rebuilt.
  let doc: PdfDocument;
  try {
    doc = PdfDocument.load(pdf, { lazyTables: true });
  } catch (e) {
    if (!(e instanceof SidianError) || (e.code !== 'PDF_NO_XREF' && e.code !== 'PDF_MALFORMED')) throw e;
    doc = PdfDocument.load(pdf, { recover: true });
    if (doc.recovered) throw e;
  }
  if (doc.encrypted) {
    throw new SidianError('PDF_ENCRYPTED', 'the PDF is encrypted; decrypt it before signing');
  }
  const view = doc.latest;
  // Only what the placement needs: one page for single seals, all pages for every-page and seam.
  const pageCount = view.pageCount();
  if (pageCount === 0) throw new SidianError('PDF_MALFORMED', 'the PDF has no pages');
  const pages: PageList = { count: pageCount, at: (i) => view.pageAt(i), all: () => view.pages() };
  const fields = listFields(view);
  const signedBefore = fields.some((f) => f.type === 'Sig' && f.dict.has('V'));
  const mdp = docMdpPermission(view);
  if (mdp === 1 && !docTimestamp) throw new SidianError('SIGN_LOCKED', 'the document is certified with no changes permitted (DocMDP P=1)');
  if (options.certify !== undefined) {
    if (![1, 2, 3].includes(options.certify)) throw new SidianError('SIGN_BAD_OPTIONS', 'certify must be 1, 2 or 3');
    if (signedBefore || mdp) throw new SidianError('SIGN_CERTIFY_NOT_FIRST', 'only the first signature of a document may certify it');
  }

  // 1. Which field, which widgets.
  const existingField = options.field !== undefined ? fields.find((f) => f.fullName === options.field) : undefined;
  if (existingField) {
    if (existingField.type !== 'Sig') throw new SidianError('SIGN_FIELD_EXISTS', `field "${options.field}" exists and is not a signature field`);
    if (existingField.dict.has('V')) throw new SidianError('SIGN_FIELD_EXISTS', `field "${options.field}" is already signed`);
    // Signing a field an earlier signature locked (FieldMDP) would break that signature.
    const lockedBy = documentLocks(view, fields).find((l) => isLocked(l.locks, existingField.fullName));
    if (lockedBy) {
      throw new SidianError('SIGN_LOCKED', `field "${existingField.fullName}" is locked by the signature in field "${lockedBy.by}" (FieldMDP)`);
    }
  }
  if (mdp === 2 && options.image && !existingField) {
    // A visible widget in a new field would be drawn over the certified content, which our verifier
    // (like pyHanko) reports as breaking the certification (the Sneaky Signature Attack).
    const prepared = fields.filter((f) => f.type === 'Sig' && !f.dict.has('V')).map((f) => `"${f.fullName}"`);
    throw new SidianError(
      'SIGN_LOCKED',
      'the document is certified (DocMDP P=2), which permits signatures but not new visible ones: sign without an image' +
        (prepared.length ? `, or in a signature field the certifier prepared (${prepared.join(', ')})` : ''),
    );
  }
  const prepared = planPreparedFields(pages, fields, options.prepareFields, options.field);
  const image = options.image ? await loadImage(options.image) : undefined;
  const widgets = existingField ? planExistingField(view, existingField, pages, image !== undefined) : planWidgets(pages, options, image);
  const fieldName = existingField?.fullName ?? options.field ?? uniqueName(fields, docTimestamp ? 'timestamp' : image ? 'seal' : 'signature');

  // 2. Write the objects.
  const w = new IncrementalWriter(doc);
  const tsaTarget = docTimestamp ? resolveTsaSource(docTimestamp) : undefined;
  const hash: HashName = tsaTarget ? tsaTarget.hash : signerHash(signer);
  const certBytes = signer ? signer.certificate.length + signer.chain.reduce((n, c) => n + c.length, 0) : 0;
  let contentsSize =
    options.contentsSize ?? roundUp(docTimestamp ? 12288 : certBytes + 4096 + (options.tsa ? 8192 : 0), 1024);
  const sigRef = w.allocate();
  const sigDict = new PdfDict([
    ['Type', PdfName.of(docTimestamp ? 'DocTimeStamp' : 'Sig')],
    ['Filter', PdfName.of('Adobe.PPKLite')],
    ['SubFilter', PdfName.of(docTimestamp ? 'ETSI.RFC3161' : 'ETSI.CAdES.detached')],
    ['ByteRange', new PdfRaw(BYTE_RANGE_PLACEHOLDER)],
    ['Contents', new PdfRaw('')], // set below
  ]);
  // A document timestamp's time is its token's; a signature's claimed time is /M.
  if (!docTimestamp) sigDict.set('M', PdfString.latin1(pdfDate(signingTime)));
  if (options.reason) sigDict.set('Reason', PdfString.fromText(options.reason));
  if (options.location) sigDict.set('Location', PdfString.fromText(options.location));
  if (options.contactInfo) sigDict.set('ContactInfo', PdfString.fromText(options.contactInfo));
  if (options.certify) {
    sigDict.set('Reference', [
      new PdfDict([
        ['Type', PdfName.of('SigRef')],
        ['TransformMethod', PdfName.of('DocMDP')],
        ['TransformParams', new PdfDict([
          ['Type', PdfName.of('TransformParams')],
          ['P', options.certify],
          ['V', PdfName.of('1.2')],
        ])],
      ]),
    ]);
  }
  sigDict.set('Prop_Build', new PdfDict([['App', new PdfDict([['Name', PdfName.of('Sidian')]])]]));

  let imageRef: PdfRef | undefined;
  if (image) {
    // the converted image is shared between signings (cached): never modify it, copy the dict
    const dict = image.image.dict.clone();
    if (image.smask) dict.set('SMask', w.add(image.smask));
    imageRef = w.add(new PdfStream(dict, image.image.data));
  }
  const appearanceRef = (plan: WidgetPlan): PdfRef => {
    const a = plan.appearance;
    if (!a || !imageRef) {
      return w.add(new PdfStream(new PdfDict([['Type', PdfName.of('XObject')], ['Subtype', PdfName.of('Form')], ['BBox', [0, 0, 0, 0]]]), new Uint8Array(0)));
    }
    const bw = a.strip ? a.strip.fullWidth / a.strip.count : a.width;
    const dx = a.strip ? -a.strip.index * bw : 0;
    const fullW = a.strip ? a.strip.fullWidth : a.width;
    const content = `q ${n(fullW)} 0 0 ${n(a.height)} ${n(dx)} 0 cm /Seal Do Q\n`;
    const d = new PdfDict([
      ['Type', PdfName.of('XObject')],
      ['Subtype', PdfName.of('Form')],
      ['BBox', [0, 0, round(bw), round(a.height)]],
      ['Resources', new PdfDict([['XObject', new PdfDict([['Seal', imageRef]])]])],
    ]);
    const rot = plan.page.rotate;
    if (rot) d.set('Matrix', rotationMatrix(rot));
    return w.add(new PdfStream(d, latin1Bytes(content)));
  };

  const pageAnnots = new Map<number, { page: PageInfo; add: PdfRef[] }>();
  const addAnnot = (page: PageInfo, ref: PdfRef) => {
    const e = pageAnnots.get(page.ref.num) ?? { page, add: [] };
    e.add.push(ref);
    pageAnnots.set(page.ref.num, e);
  };

  let fieldRef: PdfRef;
  if (existingField) {
    // Fill the prepared field: /V on the field, appearances on its widgets.
    fieldRef = existingField.ref ?? w.allocate();
    const fd = existingField.dict.clone();
    fd.set('V', sigRef);
    const merged = widgets.length === 1 && widgets[0]!.existing?.dict === existingField.dict;
    if (merged) {
      if (image) fd.set('AP', new PdfDict([['N', appearanceRef(widgets[0]!)]]));
      setLockedFlag(view, fd);
    } else {
      for (const plan of widgets) {
        const ex = plan.existing!;
        if (!ex.ref) continue;
        const wd = ex.dict.clone();
        if (image) wd.set('AP', new PdfDict([['N', appearanceRef(plan)]]));
        setLockedFlag(view, wd);
        w.set(ex.ref, wd);
      }
    }
    if (!existingField.ref) throw new SidianError('SIGN_FIELD_NOT_FOUND', `field "${fieldName}" is not an indirect object`);
    w.set(fieldRef, fd);
  } else {
    fieldRef = w.allocate();
    const widgetBase = (plan: WidgetPlan) =>
      new PdfDict([
        ['Type', PdfName.of('Annot')],
        ['Subtype', PdfName.of('Widget')],
        ['Rect', plan.rect.map(round)],
        ['F', 132], // Print | Locked
        ['P', plan.page.ref],
        ['AP', new PdfDict([['N', appearanceRef(plan)]])],
      ]);
    const fd = new PdfDict([
      ['FT', PdfName.of('Sig')],
      ['T', PdfString.fromText(fieldName)],
      ['V', sigRef],
    ]);
    if (widgets.length === 1) {
      // merged field and widget (ISO 32000-2 §12.7.4.1)
      for (const [k, v] of widgetBase(widgets[0]!).map) fd.set(k, v);
      fd.map.delete('Type');
      const merged = new PdfDict([['Type', PdfName.of('Annot')], ...fd.map]);
      w.set(fieldRef, merged);
      addAnnot(widgets[0]!.page, fieldRef);
    } else {
      const kids: PdfRef[] = [];
      for (const plan of widgets) {
        const wd = widgetBase(plan);
        wd.set('Parent', fieldRef);
        // Poppler and MuPDF read /V from the widget without inheritance; repeating the parent's
        // value on each kid (no /T: the same field, ISO 32000-2 §12.7.4.2) lets them verify it.
        wd.set('V', sigRef);
        const ref = w.add(wd);
        kids.push(ref);
        addAnnot(plan.page, ref);
      }
      fd.set('Kids', kids);
      w.set(fieldRef, fd);
    }
  }

  // Prepared (empty) signature fields: merged field and widget, printed, no value yet.
  const preparedRefs: PdfRef[] = [];
  for (const pf of prepared) {
    const ref = w.add(
      new PdfDict([
        ['Type', PdfName.of('Annot')],
        ['Subtype', PdfName.of('Widget')],
        ['FT', PdfName.of('Sig')],
        ['T', PdfString.fromText(pf.name)],
        ['Rect', pf.rect.map(round)],
        ['F', 4], // Print
        ['P', pf.page.ref],
      ]),
    );
    preparedRefs.push(ref);
    addAnnot(pf.page, ref);
  }

  // 3. Pages' /Annots.
  for (const { page, add } of pageAnnots.values()) {
    const annots = page.dict.get('Annots');
    if (annots instanceof PdfRef) {
      const arr = view.array(annots) ?? [];
      w.set(annots, [...arr, ...add]);
    } else {
      const pd = page.dict.clone();
      pd.set('Annots', [...(Array.isArray(annots) ? annots : []), ...add]);
      w.set(page.ref, pd);
    }
  }

  // 4. AcroForm and catalog.
  const catalog = view.catalog().clone();
  let catalogChanged = false;
  const acroObj = catalog.get('AcroForm');
  const acro = view.dict(acroObj)?.clone() ?? new PdfDict();
  const newFields = [...(existingField ? [] : [fieldRef]), ...preparedRefs];
  if (newFields.length) {
    const fieldsObj = acro.get('Fields');
    if (fieldsObj instanceof PdfRef) w.set(fieldsObj, [...(view.array(fieldsObj) ?? []), ...newFields]);
    else acro.set('Fields', [...(Array.isArray(fieldsObj) ? fieldsObj : []), ...newFields]);
  }
  acro.set('SigFlags', 3);
  if (acroObj instanceof PdfRef) w.set(acroObj, acro);
  else {
    catalog.set('AcroForm', acro);
    catalogChanged = true;
  }
  if (options.certify) {
    const perms = view.dict(catalog.get('Perms'))?.clone() ?? new PdfDict();
    perms.set('DocMDP', sigRef);
    catalog.set('Perms', perms);
    catalogChanged = true;
  }
  if (catalogChanged) w.set(view.rootRef, catalog);

  // 5. Reserve, digest, sign; grow the reservation once if the CMS did not fit.
  for (let attempt = 0; attempt < 2; attempt++) {
    sigDict.set('Contents', new PdfRaw('<' + '0'.repeat(contentsSize * 2) + '>'));
    w.set(sigRef, sigDict);
    const { bytes: update, offsets } = w.build();
    const sigStart = offsets.get(sigRef.num)!;
    const gapStart = indexOfBytes(update, CONTENTS_KEY, sigStart) + CONTENTS_KEY.length;
    const gapEnd = gapStart + contentsSize * 2 + 2;
    const brPos = indexOfBytes(update, latin1Bytes(BYTE_RANGE_PLACEHOLDER), sigStart);
    if (gapStart < CONTENTS_KEY.length || brPos < 0 || update[gapStart] !== 0x3c || update[gapEnd - 1] !== 0x3e) {
      throw new SidianError('PDF_MALFORMED', 'internal: signature placeholders not found');
    }
    const base = doc.size;
    const total = base + update.length;
    const byteRange: [number, number, number, number] = [0, base + gapStart, base + gapEnd, total - (base + gapEnd)];
    const brText = `[${byteRange.join(' ')}]`.padEnd(BYTE_RANGE_PLACEHOLDER.length, ' ');
    if (brText.length > BYTE_RANGE_PLACEHOLDER.length) throw new SidianError('LIMIT_EXCEEDED', 'file too large for the ByteRange placeholder');
    update.set(latin1Bytes(brText), brPos);
    const digest = await doc.digestRanges(hash, [[0, base]], [update.subarray(0, gapStart), update.subarray(gapEnd)]);
    const cms = tsaTarget
      ? await requestTimestamp(tsaTarget.target, digest, hash, tsaTarget.options)
      : await createCadesSignature({ signer, documentDigest: digest, hash, tsa: options.tsa, extraSignedAttributes: options.extraSignedAttributes });
    if (cms.length > contentsSize) {
      if (options.contentsSize !== undefined || attempt > 0) {
        throw new SidianError('SIGN_CONTENTS_TOO_SMALL', `the signature needs ${cms.length} bytes; ${contentsSize} were reserved`);
      }
      contentsSize = roundUp(cms.length + 2048, 1024);
      continue;
    }
    const hex = latin1Bytes(toHex(cms));
    update.set(hex, gapStart + 1);
    return { update, field: fieldName, byteRange };
  }
  throw new SidianError('SIGN_CONTENTS_TOO_SMALL', 'the signature did not fit its reservation');
}

const BYTE_RANGE_PLACEHOLDER = '[0 ' + 'X'.repeat(14) + ' ' + 'X'.repeat(14) + ' ' + 'X'.repeat(14) + ']';
const CONTENTS_KEY = latin1Bytes('/Contents ');

interface PageList {
  count: number;
  at(index: number): PageInfo | undefined;
  all(): PageInfo[];
}

function pageOrThrow(pages: PageList, index: number): PageInfo {
  const p = pages.at(index);
  if (!p) throw new SidianError('PDF_MALFORMED', `page ${index + 1} cannot be read`);
  return p;
}

function planWidgets(list: PageList, o: SignOptions, image: PdfImage | undefined): WidgetPlan[] {
  const mode = o.mode ?? 'single';
  if (!['single', 'every-page', 'seam'].includes(mode)) throw new SidianError('SIGN_BAD_OPTIONS', `unknown mode "${mode}"`);
  const pageCount = list.count;
  if (o.page !== undefined && (!Number.isInteger(o.page) || o.page < 1 || o.page > pageCount)) {
    throw new SidianError('SIGN_PAGE_OUT_OF_RANGE', `page ${o.page} is out of range: the document has ${pageCount} page(s)`);
  }
  if (o.rect) {
    const r = o.rect;
    if (![r.x, r.y, r.width, r.height].every(Number.isFinite) || r.width <= 0 || r.height <= 0) {
      throw new SidianError('SIGN_BAD_OPTIONS', 'the rectangle needs finite x, y and a positive width and height');
    }
  }
  if (!image) {
    if (mode !== 'single') throw new SidianError('SIGN_BAD_OPTIONS', `mode "${mode}" needs a seal image`);
    const page = pageOrThrow(list, (o.page ?? 1) - 1);
    if (o.rect) checkInside(page, o.rect, o.page ?? 1);
    // Invisible signature: a zero-size widget (ISO 32000-2 §12.7.5.5)
    return [{ page, rect: [0, 0, 0, 0], appearance: undefined }];
  }
  // The default seal (42 mm) shrinks to fit small pages; an explicit rect is never changed.
  const pages = mode === 'single' ? [pageOrThrow(list, (o.page ?? pageCount) - 1)] : list.all();
  const smallest = Math.min(...pages.map((p) => Math.min(...displaySize(p))));
  const size = o.sealSize ?? Math.min(DEFAULT_SEAL_SIZE, smallest * 0.8);
  const aspect = image.width / image.height;
  const defW = aspect >= 1 ? size : size * aspect;
  const defH = aspect >= 1 ? size / aspect : size;
  const plans: WidgetPlan[] = [];
  if (mode === 'seam') {
    // 骑缝章: strip i of the seal on the right edge of page i, all strips one signature.
    const fullW = o.rect?.width ?? defW;
    const h = o.rect?.height ?? defH;
    pages.forEach((page, i) => {
      const [dw, dh] = displaySize(page);
      const stripW = fullW / pageCount;
      const y = o.rect?.y ?? (dh - h) / 2;
      const r: Rect = { x: dw - stripW, y, width: stripW, height: h };
      checkInside(page, r, i + 1);
      plans.push({ page, rect: toUserRect(page, r), appearance: { width: stripW, height: h, strip: { index: i, count: pageCount, fullWidth: fullW } } });
    });
    return plans;
  }
  const targets = pages;
  for (const page of targets) {
    const [dw] = displaySize(page);
    const [, dh] = displaySize(page);
    const margin = Math.max(0, Math.min(36, (dw - defW) / 2, (dh - defH) / 2));
    const r: Rect = o.rect ?? { x: dw - defW - margin, y: margin, width: defW, height: defH };
    checkInside(page, r, page.index + 1);
    plans.push({ page, rect: toUserRect(page, r), appearance: { width: r.width, height: r.height } });
  }
  return plans;
}

/** Checks the prepared fields (unique new names, rectangles on their pages) and places them. */
function planPreparedFields(
  list: PageList,
  fields: FieldInfo[],
  wanted: PreparedField[] | undefined,
  signingField: string | undefined,
): { name: string; page: PageInfo; rect: [number, number, number, number] }[] {
  if (wanted === undefined) return [];
  if (!Array.isArray(wanted) || wanted.length > 64) throw new SidianError('SIGN_BAD_OPTIONS', 'prepareFields must be a list of at most 64 fields');
  const taken = new Set(fields.map((f) => f.fullName));
  if (signingField !== undefined) taken.add(signingField);
  return wanted.map((pf) => {
    if (!pf || typeof pf.name !== 'string' || !/^[^.\u0000-\u001f]{1,100}$/.test(pf.name)) {
      throw new SidianError('SIGN_BAD_OPTIONS', 'a prepared field needs a name of 1 to 100 characters without dots');
    }
    if (taken.has(pf.name)) throw new SidianError('SIGN_FIELD_EXISTS', `field "${pf.name}" already exists`);
    taken.add(pf.name);
    const pageNo = pf.page ?? list.count;
    if (!Number.isInteger(pageNo) || pageNo < 1 || pageNo > list.count) {
      throw new SidianError('SIGN_PAGE_OUT_OF_RANGE', `page ${pageNo} is out of range: the document has ${list.count} page(s)`);
    }
    const r = pf.rect;
    if (!r || ![r.x, r.y, r.width, r.height].every(Number.isFinite) || r.width <= 0 || r.height <= 0) {
      throw new SidianError('SIGN_BAD_OPTIONS', `prepared field "${pf.name}" needs a rectangle with a positive width and height`);
    }
    const page = pageOrThrow(list, pageNo - 1);
    checkInside(page, r, pageNo);
    return { name: pf.name, page, rect: toUserRect(page, r) };
  });
}

function planExistingField(view: PdfView, field: FieldInfo, list: PageList, visible: boolean): WidgetPlan[] {
  const pages = list.all();
  if (field.widgets.length === 0) throw new SidianError('SIGN_FIELD_NOT_FOUND', `field "${field.fullName}" has no widget`);
  return field.widgets.map((wdg) => {
    const rectArr = (view.array(wdg.dict.get('Rect')) ?? [0, 0, 0, 0]).map((x) => view.number(x) ?? 0);
    const [x0, y0, x1, y1] = rectArr as [number, number, number, number];
    const rect: [number, number, number, number] = [Math.min(x0, x1), Math.min(y0, y1), Math.max(x0, x1), Math.max(y0, y1)];
    const pRef = wdg.dict.get('P');
    let page = pRef instanceof PdfRef ? pages.find((p) => p.ref.num === pRef.num) : undefined;
    if (!page && wdg.ref) {
      page = pages.find((p) => (view.array(p.dict.get('Annots')) ?? []).some((a) => a instanceof PdfRef && a.num === wdg.ref!.num));
    }
    page ??= pages[0]!;
    const uw = rect[2] - rect[0];
    const uh = rect[3] - rect[1];
    const swap = page.rotate === 90 || page.rotate === 270;
    const appearance = visible && uw > 0 && uh > 0 ? { width: swap ? uh : uw, height: swap ? uw : uh } : undefined;
    return { page, rect, appearance, existing: wdg };
  });
}

function setLockedFlag(view: PdfView, d: PdfDict): void {
  const f = view.number(d.get('F')) ?? 0;
  d.set('F', f | 4 | 128);
}

/** Width and height of the page as displayed (crop box, after /Rotate). */
export function displaySize(page: PageInfo): [number, number] {
  const [x0, y0, x1, y1] = page.cropBox;
  const w = x1 - x0;
  const h = y1 - y0;
  return page.rotate === 90 || page.rotate === 270 ? [h, w] : [w, h];
}

function checkInside(page: PageInfo, r: Rect, pageNo: number): void {
  const [dw, dh] = displaySize(page);
  const eps = 0.01;
  if (r.x < -eps || r.y < -eps || r.x + r.width > dw + eps || r.y + r.height > dh + eps) {
    throw new SidianError(
      'SIGN_RECT_OUTSIDE_PAGE',
      `the rectangle ${r.x},${r.y},${r.width},${r.height} is outside page ${pageNo} (${round(dw)} x ${round(dh)} pt)`,
    );
  }
}

/** Maps a displayed-page rectangle to default user space (undoing crop-box origin and /Rotate). */
export function toUserRect(page: PageInfo, r: Rect): [number, number, number, number] {
  const [x0, y0, x1, y1] = page.cropBox;
  const W = x1 - x0;
  const H = y1 - y0;
  const map = (dx: number, dy: number): [number, number] => {
    switch (page.rotate) {
      case 90: return [W - dy, dx];
      case 180: return [W - dx, H - dy];
      case 270: return [dy, H - dx];
      default: return [dx, dy];
    }
  };
  const a = map(r.x, r.y);
  const b = map(r.x + r.width, r.y + r.height);
  return [x0 + Math.min(a[0], b[0]), y0 + Math.min(a[1], b[1]), x0 + Math.max(a[0], b[0]), y0 + Math.max(a[1], b[1])];
}

/** Rotates an appearance counter-clockwise by the page's /Rotate so it reads upright on screen. */
function rotationMatrix(rot: number): number[] {
  switch (rot) {
    case 90: return [0, 1, -1, 0, 0, 0];
    case 180: return [-1, 0, 0, -1, 0, 0];
    case 270: return [0, -1, 1, 0, 0, 0];
    default: return [1, 0, 0, 1, 0, 0];
  }
}

function uniqueName(fields: FieldInfo[], prefix: string): string {
  const names = new Set(fields.map((f) => f.fullName));
  for (let i = 1; ; i++) if (!names.has(`${prefix}-${i}`)) return `${prefix}-${i}`;
}

export function pdfDate(d: Date): string {
  const p = (x: number, l = 2) => String(x).padStart(l, '0');
  return `D:${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}+00'00'`;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
const n = (x: number) => serializeNumber(round(x));
function roundUp(x: number, m: number): number {
  return Math.ceil(x / m) * m;
}

export type { PdfObject };
