/** Reading the interactive form (ISO 32000-2 §12.7): field names, signature fields, DocMDP locks. */
import { SidianError } from '../errors';
import type { PdfView } from '../pdf/document';
import { PdfDict, PdfRef, PdfString, type PdfObject } from '../pdf/objects';

export interface FieldInfo {
  ref: PdfRef | undefined;
  dict: PdfDict;
  fullName: string;
  /** Field type, inherited from ancestors. */
  type: string | undefined;
  /** Widget annotations: the field itself when merged, else its widget kids. */
  widgets: { ref: PdfRef | undefined; dict: PdfDict }[];
}

const MAX_FIELDS = 50_000;

/** Every terminal field of the AcroForm, with full names (bounded walk). */
export function listFields(view: PdfView): FieldInfo[] {
  const acro = view.dict(view.catalog().get('AcroForm'));
  if (!acro) return [];
  const out: FieldInfo[] = [];
  const visited = new Set<number>();
  const walk = (o: PdfObject, parentName: string, parentType: string | undefined, depth: number) => {
    if (depth > 32 || out.length > MAX_FIELDS) throw new SidianError('PDF_TOO_COMPLEX', 'form field tree too deep or too large');
    const ref = o instanceof PdfRef ? o : undefined;
    if (ref) {
      if (visited.has(ref.num)) return;
      visited.add(ref.num);
    }
    const d = view.dict(o);
    if (!d) return;
    const t = view.resolve(d.get('T'));
    const partial = t instanceof PdfString ? t.text() : undefined;
    const fullName = partial === undefined ? parentName : parentName ? `${parentName}.${partial}` : partial;
    const type = d.name('FT') ?? parentType;
    const kids = view.array(d.get('Kids')) ?? [];
    const fieldKids = kids.filter((k) => {
      const kd = view.dict(k);
      return kd && (kd.has('T') || kd.has('FT') || (kd.has('Kids') && !kd.has('Subtype')));
    });
    if (fieldKids.length > 0) {
      for (const k of fieldKids) walk(k, fullName, type, depth + 1);
      return;
    }
    const widgets: FieldInfo['widgets'] = [];
    if (d.name('Subtype') === 'Widget' || d.has('Rect')) widgets.push({ ref, dict: d });
    for (const k of kids) {
      const kd = view.dict(k);
      if (kd) widgets.push({ ref: k instanceof PdfRef ? k : undefined, dict: kd });
    }
    out.push({ ref, dict: d, fullName, type, widgets });
  };
  for (const f of view.array(acro.get('Fields')) ?? []) walk(f, '', undefined, 0);
  return out;
}

/** The DocMDP permission level of a certification signature, if the document has one. */
export function docMdpPermission(view: PdfView): 1 | 2 | 3 | undefined {
  const perms = view.dict(view.catalog().get('Perms'));
  const sig = view.dict(perms?.get('DocMDP'));
  return sig ? docMdpOf(view, sig) : undefined;
}

/**
 * The P of a certification signature's DocMDP /Reference: 1 or 3 when a DocMDP entry says so, else 2
 * (the default). Signing and verifying read it the same way.
 */
export function docMdpOf(view: PdfView, sig: PdfDict): 1 | 2 | 3 {
  for (const r of view.array(sig.get('Reference')) ?? []) {
    const rd = view.dict(r);
    if (rd?.name('TransformMethod') !== 'DocMDP') continue;
    const p = view.number(view.dict(rd.get('TransformParams'))?.get('P'));
    if (p === 1 || p === 3) return p;
  }
  return 2;
}

/** A FieldMDP lock (ISO 32000-2 §12.8.2.4): the fields a signature locks against filling and signing. */
export interface FieldLock {
  action: 'All' | 'Include' | 'Exclude';
  /** Fully qualified field names. */
  fields: string[];
}

export function isLocked(locks: FieldLock[], name: string): boolean {
  return locks.some(
    (l) => l.action === 'All' || (l.action === 'Include' ? l.fields.includes(name) : !l.fields.includes(name)),
  );
}

/**
 * The locks of one signature: the /TransformParams of FieldMDP entries in its dictionary's
 * /Reference, and `fieldLock`, the /Lock of its field (what the field asks to lock when signed).
 * A lock whose /Action is missing or unknown locks every field.
 */
export function fieldLocks(view: PdfView, sig: PdfDict | undefined, fieldLock?: PdfDict): FieldLock[] {
  const out: FieldLock[] = [];
  const read = (d: PdfDict | undefined) => {
    if (!d) return;
    const a = d.name('Action');
    const fields = (view.array(d.get('Fields')) ?? [])
      .map((x) => view.resolve(x))
      .filter((x): x is PdfString => x instanceof PdfString)
      .map((x) => x.text());
    out.push({ action: a === 'Include' || a === 'Exclude' ? a : 'All', fields });
  };
  for (const r of view.array(sig?.get('Reference')) ?? []) {
    const rd = view.dict(r);
    if (rd?.name('TransformMethod') === 'FieldMDP') read(view.dict(rd.get('TransformParams')));
  }
  read(fieldLock);
  return out;
}

/** Every lock of the signatures already in the document, with the field that set it. */
export function documentLocks(view: PdfView, fields: FieldInfo[]): { by: string; locks: FieldLock[] }[] {
  return fields
    .filter((f) => f.type === 'Sig' && f.dict.has('V'))
    .map((f) => ({ by: f.fullName, locks: fieldLocks(view, view.dict(f.dict.get('V')), view.dict(f.dict.get('Lock'))) }))
    .filter((x) => x.locks.length > 0);
}
