/**
 * What changed after a signature (PADES-NOTES "what stops ISA and shadow attacks"), after pyHanko's
 * diff analysis: the signed state and the final state are compared object by object, and every
 * change must be explained by one small rule. Each rule grades what it explains:
 *
 *   1 DSS, document timestamps, metadata   (allowed even under DocMDP P=1)
 *   2 new signatures, form filling         (P=2, and approval-only documents)
 *   3 annotations                          (P=3 only)
 *
 * Anything left unexplained — pages added or removed, content or resources replaced, objects freed,
 * the catalog rewritten, an object of the signed revision revealed or overwritten — is disallowed.
 *
 * After a certification that does not permit annotations (P=1, P=2), a new signature or timestamp
 * field must not be visible: its widget's appearance is drawn wherever its /Rect says, over the
 * certified content (the Sneaky Signature Attack, Mainka et al., IEEE S&P 2021). Later signers sign
 * invisibly or in a field the certifier prepared, whose place was fixed by the certification.
 * pyHanko's default (`allow_new_visible_after_certify=False`) is the same; Acrobat is laxer.
 */
import type { PdfView } from '../pdf/document';
import { PdfDict, PdfName, PdfRaw, PdfRef, PdfStream, PdfString, type PdfObject } from '../pdf/objects';
import { Parser } from '../pdf/parser';
import { isLocked, listFields, type FieldInfo, type FieldLock } from '../sign/fields';

export interface ModificationResult {
  verdict: 'none' | 'allowed' | 'disallowed';
  /** Highest level of the explained changes (0 when nothing but structure changed). */
  level: 0 | 1 | 2 | 3;
  reasons: string[];
}

const MAX_WALK = 200_000;

export interface ModificationContext {
  /** The changes follow a certification signature (whose P is `maxLevel`). */
  certified?: boolean;
  /** The fields the signature locks: filling or signing them afterwards is disallowed. */
  locks?: FieldLock[];
}

/**
 * Compares the signed state with the final one. `maxLevel` is what the certification (DocMDP)
 * permits: 1, 2 or 3; without certification 2 (annotations over signed content are not allowed).
 */
export function analyseModifications(
  signed: PdfView,
  final: PdfView,
  maxLevel: 1 | 2 | 3,
  context: ModificationContext = {},
): ModificationResult {
  const certified = !!context.certified;
  const locks = context.locks ?? [];
  const reasons: string[] = [];
  const bad = (r: string): void => {
    reasons.push(r);
  };
  let level: 0 | 1 | 2 | 3 = 0;
  const raise = (l: 1 | 2 | 3, why: string) => {
    if (l > maxLevel) bad(`${why}, which the document's permissions do not allow`);
    if (l > level) level = l;
  };

  // The trailer's /Root must not move.
  const root0 = signed.trailer.get('Root');
  const root1 = final.trailer.get('Root');
  if (!(root0 instanceof PdfRef) || !(root1 instanceof PdfRef) || root0.num !== root1.num) {
    bad('the document catalog was replaced');
    return { verdict: 'disallowed', level, reasons };
  }
  const rootNum = root0.num;

  // Changed and freed objects.
  const signedEnd = Math.max(0, ...signed.sections.map((s) => Math.max(s.offset, s.eofEnd)));
  // The cross-reference must point at the LAST definition of each object in the file: a reader
  // that repairs a cross-reference it finds damaged (MuPDF does) takes the last one, so an
  // undeclared later definition is content this analysis would never see.
  const shadowed = shadowedDefinitions(final, signedEnd);
  for (const [num, off] of shadowed.slice(0, 5)) {
    bad(`object ${num} is defined again at byte ${off}, but the cross-reference points at an earlier definition`);
  }
  const changed: number[] = [];
  // every number either state lists, without collecting them (a table may declare millions)
  function* allNums(): Generator<number> {
    yield* final.entries.keys();
    for (const n of signed.entries.keys()) if (!final.entries.has(n)) yield n;
  }
  /** Object and cross-reference streams of the signed revision freed later: judged once references are indexed. */
  const freedStructural: number[] = [];
  let budget = MAX_WALK;
  for (const num of allNums()) {
    if (--budget < 0) {
      bad('too many objects to compare');
      break;
    }
    const e0 = signed.entries.get(num);
    const e1 = final.entries.get(num);
    const live0 = e0 && e0.type !== 0;
    const live1 = e1 && e1.type !== 0;
    if (!live0 && !live1) continue;
    if (live0 && !live1) {
      const v0 = safeGet(signed, num);
      if (isStructural(v0)) freedStructural.push(num);
      else bad(`object ${num} of the signed revision was deleted`);
      continue;
    }
    if (!live0) continue; // new objects only matter where changed objects refer to them
    // The same number under another generation is another object to a reader that honours
    // generations (poppler then reads the signed references `n 0 R` as null); one that ignores them
    // (as this reader's lookups do) would see the same object.
    const gen0 = e0.type === 2 ? 0 : e0.gen;
    const gen1 = e1!.type === 2 ? 0 : e1!.gen;
    if (gen0 !== gen1) {
      bad(`object ${num} of the signed revision was re-declared with generation ${gen1}`);
      continue;
    }
    // An object the update re-declares must be readable from what the update points at: the
    // reader's fallback to another definition would otherwise hide an unreadable rewrite behind
    // the signed original (which a lenient viewer may render differently).
    if (e1?.type === 1 && !(e0?.type === 1 && e0.offset === e1.offset) && !readableAt(final, num, e1.offset, signedEnd)) {
      bad(`object ${num} was re-declared after the signature but cannot be read where the update puts it`);
      continue;
    }
    const v0 = safeGet(signed, num);
    const v1 = safeGet(final, num);
    // An object or cross-reference stream of the signed revision that is rewritten is judged like
    // any object: its number may be what a page shows (a /Contents that names it), and a rewrite
    // that keeps /Type /ObjStm is no less a rewrite.
    if (sameObject(v0, v1)) continue;
    changed.push(num);
  }
  for (const [stm, dup] of duplicatedInObjectStreams(signed, final)) {
    bad(`object ${dup} is written twice in object stream ${stm}, which readers resolve to different copies`);
  }
  if (changed.length === 0 && freedStructural.length === 0) return { verdict: reasons.length ? 'disallowed' : 'none', level, reasons };

  // Roles of the objects in both states.
  const fields0 = safeFields(signed);
  const fields1 = safeFields(final);
  const fieldByNum0 = new Map<number, FieldInfo>();
  const widgetOwner0 = new Map<number, FieldInfo>();
  for (const f of fields0) {
    if (f.ref) fieldByNum0.set(f.ref.num, f);
    for (const w of f.widgets) if (w.ref) widgetOwner0.set(w.ref.num, f);
  }
  const fieldByNum1 = new Map<number, FieldInfo>();
  const widgetOwner1 = new Map<number, FieldInfo>();
  for (const f of fields1) {
    if (f.ref) fieldByNum1.set(f.ref.num, f);
    for (const w of f.widgets) if (w.ref) widgetOwner1.set(w.ref.num, f);
  }
  const cat0 = signed.catalog();
  const cat1 = final.catalog();
  const acroRef0 = cat0.get('AcroForm');
  const fieldsArr0 = signed.dict(acroRef0)?.get('Fields');
  // Metadata and validation data may be updated in place, but only the objects that were metadata or
  // validation data in the signed revision, and only while nothing else there refers to them: a
  // trailer /Info, a catalog /Metadata or a /DSS entry pointed at a content stream must not make
  // rewriting that stream "a metadata update".
  const infoNums = new Set([refNum(signed.trailer.get('Info')), refNum(final.trailer.get('Info'))]);
  const metadataNum = refNum(cat0.get('Metadata'));
  const dssNums0 = reachable(signed, cat0.get('DSS'), 10_000);
  const dssRoot0 = refNum(cat0.get('DSS'));
  let refIndex: RefIndex | undefined;
  const refs = () => (refIndex ??= indexReferences(signed, dssNums0, rootNum, MAX_WALK));
  // Freeing an object stream or a cross-reference stream is bookkeeping only while nothing of the
  // signed revision refers to it (the objects it held are compared one by one above).
  for (const num of freedStructural) {
    if (refs().referenced(num)) bad(`object ${num} of the signed revision was deleted`);
  }
  if (changed.length === 0) return { verdict: reasons.length ? 'disallowed' : 'none', level, reasons };
  const pageNums0 = new Set<number>();
  const annotsArrayOf0 = new Map<number, number>();
  try {
    for (const p of signed.pages()) {
      pageNums0.add(p.ref.num);
      const a = p.dict.get('Annots');
      if (a instanceof PdfRef) annotsArrayOf0.set(a.num, p.ref.num);
    }
  } catch {
    bad('the signed revision has no readable page tree');
  }
  const pageTreeNodes0 = new Set<number>();
  collectPageTreeNodes(signed, cat0.get('Pages'), pageTreeNodes0);

  /**
   * Which fields a viewer draws from /DA and /DR rather than from their appearance streams, if any:
   * all of them when the form asks for it (/NeedAppearances true), else filled fields of the signed
   * revision with a widget that has no appearance.
   */
  const regeneratedFields = (): string | undefined => {
    if (final.resolve(final.dict(cat1.get('AcroForm'))?.get('NeedAppearances')) === true) return 'every field (/NeedAppearances)';
    const f = fields0.find((x) => x.type !== 'Sig' && x.dict.has('V') && x.widgets.some((w) => !w.dict.has('AP')));
    return f ? `field "${f.fullName}", which has no appearance stream` : undefined;
  };

  /** A field is being filled or signed: the changes to its widgets' appearances are explained. */
  const filledFields = new Set<number>();
  for (const num of changed) {
    const f0 = fieldByNum0.get(num);
    if (!f0) continue;
    const v1 = final.dict(new PdfRef(num, 0));
    if (!v1) continue;
    if (sameObject(f0.dict.get('V'), v1.get('V'))) continue;
    filledFields.add(num);
    if (isLocked(locks, f0.fullName)) {
      bad(`${f0.type === 'Sig' ? 'signature' : 'form'} field "${f0.fullName}" was ${f0.type === 'Sig' ? 'signed' : 'filled'} after this signature locked it (FieldMDP)`);
    }
  }

  const appendedOnly = (a0: PdfObject[] | undefined, a1: PdfObject[] | undefined): PdfObject[] | undefined => {
    const x0 = a0 ?? [];
    const x1 = a1 ?? [];
    if (x1.length < x0.length) return undefined;
    for (let i = 0; i < x0.length; i++) if (!sameObject(x0[i], x1[i])) return undefined;
    return x1.slice(x0.length);
  };

  /** A newly listed annotation: a widget of a new signature field, or a markup annotation. */
  const judgeNewAnnot = (ref: PdfObject, where: string) => {
    if (!(ref instanceof PdfRef)) return bad(`a direct annotation was added to ${where}`);
    if (signed.entries.get(ref.num)?.type) {
      // an object that existed in the signed revision shown now: a shadow "hide" attack
      return bad(`object ${ref.num} of the signed revision was made visible on ${where}`);
    }
    const d = final.dict(ref);
    if (!d) return bad(`a missing annotation was added to ${where}`);
    if (d.name('Subtype') === 'Widget') {
      const owner = widgetOwner1.get(ref.num);
      if (owner && owner.type === 'Sig') {
        const v = final.dict(owner.dict.get('V'));
        const timestamp = v?.name('Type') === 'DocTimeStamp';
        const actions = actionKeys(d, owner.dict);
        if (actions.length) {
          // Drawing nothing does not make it harmless: a viewer runs the action (JavaScript, Launch,
          // URI) when the widget is clicked or its page opens (ISO 32000-2 §12.6.3).
          return bad(
            `a new ${timestamp ? 'document timestamp' : 'signature'} field "${owner.fullName}" added to ${where} carries actions ` +
              `(${actions.join(', ')}): actions added after signing are not allowed`,
          );
        }
        if (certified && maxLevel < 3 && drawsOnPage(final, d)) {
          return bad(
            `a new ${timestamp ? 'document timestamp' : 'signature'} field "${owner.fullName}" with a visible widget was added ` +
              `to ${where} after the certification, which does not permit annotations: its appearance can cover certified ` +
              'content (Sneaky Signature Attack); later signatures must be invisible or use a field the certifier prepared',
          );
        }
        // An empty signature field that draws is an annotation laid over the page, not a signature.
        if (!v && drawsOnPage(final, d)) return raise(3, `an empty signature field "${owner.fullName}" with a visible widget was added to ${where}`);
        if (timestamp) raise(1, 'a document timestamp was added');
        else raise(2, 'a signature was added');
        return;
      }
      return bad(`a new form field widget was added to ${where}`);
    }
    raise(3, `a ${d.name('Subtype') ?? 'unknown'} annotation was added to ${where}`);
  };

  /** An existing widget may change its appearance when its field is being filled or signed. */
  const judgeWidgetChange = (num: number, owner: FieldInfo, d0: PdfDict, d1: PdfDict): void => {
    const ownerNum = owner.ref?.num;
    if (ownerNum === undefined || !filledFields.has(ownerNum)) {
      return bad(`the appearance of field "${owner.fullName}" changed without it being filled`);
    }
    const allowed = new Set(owner.type === 'Ch' ? ['AP', 'AS', 'V', 'I', 'F', 'MK'] : ['AP', 'AS', 'V', 'F', 'MK']);
    for (const k of diffKeys(d0, d1)) if (!allowed.has(k)) return bad(`widget ${num} of "${owner.fullName}" changed /${k}`);
    const why = fillingProblem(signed, owner.dict, d0, d1);
    if (why) return bad(`form field "${owner.fullName}" ${why}`);
    // New appearance streams must be made after the signature (or be this widget's own);
    // their resources (fonts, images) may be reused from the signed revision.
    const ap = final.dict(d1.get('AP'));
    for (const n of ap ? apRefs(final, ap) : []) {
      const old = signed.entries.get(n);
      if (old && old.type !== 0 && !(refs().appearanceOf(n) === num && refs().only(n, 'appearance'))) {
        return bad(`field "${owner.fullName}" now shows object ${n} of the signed revision`);
      }
    }
    raise(owner.type === 'Sig' ? 2 : 2, owner.type === 'Sig' ? 'a prepared signature field was signed' : `form field "${owner.fullName}" was filled`);
  };

  for (const num of changed) {
    const v0 = safeGet(signed, num);
    const v1 = safeGet(final, num);
    const d0 = v0 instanceof PdfDict ? v0 : v0 instanceof PdfStream ? v0.dict : undefined;
    const d1 = v1 instanceof PdfDict ? v1 : v1 instanceof PdfStream ? v1.dict : undefined;

    if (num === rootNum) {
      if (!d0 || !d1) {
        bad('the catalog is not a dictionary');
        continue;
      }
      for (const k of diffKeys(d0, d1)) {
        if (k === 'AcroForm') {
          const a0 = signed.dict(d0.get('AcroForm'));
          const a1 = final.dict(d1.get('AcroForm'));
          judgeAcroForm(a0, a1);
        } else if (k === 'DSS') raise(1, 'validation data (DSS) was added');
        else if (k === 'Extensions' || k === 'Metadata' || k === 'Version') raise(1, `the catalog's /${k} was updated`);
        else bad(`the catalog's /${k} was changed`);
      }
      continue;
    }
    if (infoNums.has(num) && v0 instanceof PdfDict && v1 instanceof PdfDict && refs().only(num, 'trailer')) {
      raise(1, 'document metadata was updated');
      continue;
    }
    if (num === metadataNum && isXmpStream(v0) && isXmpStream(v1) && refs().only(num, 'catalog')) {
      raise(1, 'document metadata was updated');
      continue;
    }
    if (dssNums0.has(num) && (num === dssRoot0 ? refs().only(num, 'catalog') : refs().only(num, 'dss'))) {
      raise(1, 'validation data (DSS) was updated');
      continue;
    }
    if (acroRef0 instanceof PdfRef && num === acroRef0.num) {
      judgeAcroForm(d0, d1);
      continue;
    }
    if (fieldsArr0 instanceof PdfRef && num === fieldsArr0.num) {
      const added = appendedOnly(asArray(v0), asArray(v1));
      if (!added) bad('existing form fields were removed or reordered');
      else judgeNewFields(added);
      continue;
    }
    if (pageNums0.has(num)) {
      if (!d0 || !d1) {
        bad(`page object ${num} was replaced`);
        continue;
      }
      for (const k of diffKeys(d0, d1)) {
        if (k !== 'Annots') {
          bad(`page ${pageIndex(signed, num)} changed /${k}`);
          continue;
        }
        const added = appendedOnly(signed.array(d0.get('Annots')), final.array(d1.get('Annots')));
        if (!added) bad(`annotations were removed from page ${pageIndex(signed, num)}`);
        else for (const a of added) judgeNewAnnot(a, `page ${pageIndex(signed, num)}`);
      }
      continue;
    }
    if (annotsArrayOf0.has(num)) {
      const where = `page ${pageIndex(signed, annotsArrayOf0.get(num)!)}`;
      const added = appendedOnly(asArray(v0), asArray(v1));
      if (!added) bad(`annotations were removed from ${where}`);
      else for (const a of added) judgeNewAnnot(a, where);
      continue;
    }
    if (pageTreeNodes0.has(num)) {
      bad('the page tree was changed (pages added, removed or reordered)');
      continue;
    }
    const f0 = fieldByNum0.get(num);
    if (f0 && d0 && d1) {
      // A choice field keeps its selection twice: /V and the indices of the chosen options, /I
      // (ISO 32000-2 §12.7.5.4); filling it rewrites both.
      const allowed = new Set(f0.type === 'Sig' ? ['V', 'AP', 'AS', 'F'] : f0.type === 'Ch' ? ['V', 'I', 'AP', 'AS', 'F', 'MK'] : ['V', 'AP', 'AS', 'F', 'MK']);
      const keys = diffKeys(d0, d1);
      const bads = keys.filter((k) => !allowed.has(k));
      if (bads.length) {
        bad(`form field "${f0.fullName}" changed /${bads.join(', /')}`);
        continue;
      }
      if (f0.type === 'Sig' && f0.dict.has('V')) {
        bad(`signature field "${f0.fullName}" was re-signed or altered`);
        continue;
      }
      if (!filledFields.has(num)) {
        bad(`form field "${f0.fullName}" changed /${keys.join(', /')} without being filled`);
        continue;
      }
      const why = fillingProblem(signed, f0.dict, d0, d1);
      if (why) {
        bad(`form field "${f0.fullName}" ${why}`);
        continue;
      }
      if (keys.includes('AP') || keys.includes('AS')) {
        const wOwner = widgetOwner0.get(num);
        if (wOwner) {
          judgeWidgetChange(num, wOwner, d0, d1);
          continue;
        }
      }
      if (f0.type === 'Sig') {
        const v = final.dict(d1.get('V'));
        raise(v?.name('Type') === 'DocTimeStamp' ? 1 : 2, 'a prepared signature field was signed');
      } else raise(2, `form field "${f0.fullName}" was filled`);
      continue;
    }
    const wOwner = widgetOwner0.get(num);
    if (wOwner && d0 && d1) {
      judgeWidgetChange(num, wOwner, d0, d1);
      continue;
    }
    // An appearance stream of a field being filled, overwritten in place: allowed only when
    // nothing else in the signed revision shows it (else it is a shadow "replace").
    const apOwner = refs().appearanceOwner(num, widgetOwner0);
    if (apOwner && apOwner.ref && filledFields.has(apOwner.ref.num)) {
      if (refs().only(num, 'appearance')) {
        raise(2, `the appearance of field "${apOwner.fullName}" was replaced while filling it`);
        continue;
      }
      bad(`object ${num}, shown elsewhere in the signed revision, was overwritten as the appearance of "${apOwner.fullName}"`);
      continue;
    }
    bad(`object ${num}${describe(d0)} of the signed revision was changed`);
  }

  function judgeAcroForm(a0: PdfDict | undefined, a1: PdfDict | undefined): void {
    if (!a1) {
      bad('the interactive form was removed');
      return;
    }
    const keys = a0 ? diffKeys(a0, a1) : [...a1.map.keys()];
    for (const k of keys) {
      if (k === 'Fields') {
        const added = appendedOnly(signed.array(a0?.get('Fields')), final.array(a1.get('Fields')));
        if (!added) bad('existing form fields were removed or reordered');
        else judgeNewFields(added);
      } else if (k === 'SigFlags') {
        // bookkeeping that signing requires
      } else if (k === 'DR' || k === 'DA') {
        // Signers and fillers rewrite these (a font or a form XObject for their own appearance).
        // They matter only where a viewer draws a field from them instead of its appearance stream.
        if (regeneratedFields()) bad(`the interactive form's /${k} was changed, from which viewers draw ${regeneratedFields()}`);
        else raise(2, `the interactive form's /${k} was updated`);
      } else if (k === 'NeedAppearances') {
        // Viewers then redraw every field, the signed ones too, from /DA and /DR.
        if (final.resolve(a1.get('NeedAppearances')) === true) bad('the form now asks viewers to redraw every field, the signed ones too (/NeedAppearances)');
        else raise(2, 'the form no longer asks viewers to regenerate appearances');
      } else bad(`the interactive form's /${k} was changed`);
    }
  }

  function judgeNewFields(added: PdfObject[]): void {
    for (const f of added) {
      if (!(f instanceof PdfRef)) {
        bad('a direct form field was added');
        continue;
      }
      if (signed.entries.get(f.num)?.type) {
        bad(`object ${f.num} of the signed revision was made a form field`);
        continue;
      }
      const info = fieldByNum1.get(f.num);
      if (!info || info.type !== 'Sig') {
        bad(`a new form field ${info ? `"${info.fullName}"` : f.num} that is not a signature field was added`);
        continue;
      }
      const actions = [...new Set([info.dict, ...info.widgets.map((w) => w.dict)].flatMap((d) => actionKeys(d, info.dict)))];
      if (actions.length) {
        bad(`a new signature field "${info.fullName}" carries actions (${actions.join(', ')}): actions added after signing are not allowed`);
        continue;
      }
      const v = final.dict(info.dict.get('V'));
      raise(v?.name('Type') === 'DocTimeStamp' ? 1 : 2, 'a signature field was added');
    }
  }

  return { verdict: reasons.length ? 'disallowed' : changed.length ? 'allowed' : 'none', level, reasons };
}

/**
 * Objects whose last `n g obj` marker in the file is not the definition the cross-reference gives
 * (uncompressed objects), or that are declared compressed but defined again in plain after `from`.
 */
function shadowedDefinitions(view: PdfView, from: number): [number, number][] {
  // every marker in the file is looked at: the whole file is read
  const bytes = view.doc.access.all();
  const isWs = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x0c || c === 0x00;
  const holds = (off: number, num: number): boolean => {
    try {
      const p = new Parser(bytes, off);
      if (p.readInt() !== num) return false;
      p.readInt();
      return p.readKeyword() === 'obj';
    } catch {
      return false;
    }
  };
  const out: [number, number][] = [];
  for (const [num, markers] of view.doc.objectMarkers()) {
    const e = view.entries.get(num);
    const last = markers[markers.length - 1]!;
    if (!e || e.type === 0) continue;
    if (e.type === 2) {
      if (last >= from) out.push([num, last]);
      continue;
    }
    // the entry names this marker (possibly through leading whitespace)
    if (e.offset <= last && bytes.subarray(e.offset, last).every(isWs)) continue;
    // an offset that holds no object: the reader falls back to the last marker, as a repair would
    if (!holds(e.offset, num)) continue;
    if (!markers.some((m) => m > e.offset)) continue; // the declared definition is the last one
    out.push([num, last]);
  }
  return out.sort((a, b) => a[1] - b[1]);
}

/**
 * True when object `num` parses at `offset`, or (off-by-some offsets are common) at another of its
 * `n g obj` markers at or after `from` — never only at a definition from before `from`.
 */
function readableAt(view: PdfView, num: number, offset: number, from: number): boolean {
  const at = (off: number): boolean => {
    try {
      return view.doc.parseIndirectAt(off)?.num === num;
    } catch {
      return false;
    }
  };
  if (at(offset)) return true;
  return (view.doc.objectMarkers().get(num) ?? []).some((m) => m >= from && at(m));
}

/**
 * Object numbers written twice in one object stream that is new or rewritten after the signed
 * revision: MuPDF takes the first copy, pdf.js the last, so the two show different objects.
 */
function duplicatedInObjectStreams(signed: PdfView, final: PdfView): [number, number][] {
  const streams = new Set<number>();
  let budget = MAX_WALK;
  for (const e of final.entries.values()) {
    if (--budget < 0) break;
    if (e.type !== 2 || streams.has(e.stream)) continue;
    const s0 = signed.entries.get(e.stream);
    const s1 = final.entries.get(e.stream);
    if (s0 && s1 && s0.type === 1 && s1.type === 1 && s0.offset === s1.offset) continue; // signed as it is
    streams.add(e.stream);
  }
  const out: [number, number][] = [];
  for (const stm of streams) {
    let nums: number[] | undefined;
    try {
      nums = final.objectStreamNumbers(stm);
    } catch {
      continue; // an unreadable object stream: its objects are unreadable, judged where they are used
    }
    const seen = new Set<number>();
    for (const n of nums ?? []) {
      if (seen.has(n)) {
        out.push([stm, n]);
        break;
      }
      seen.add(n);
    }
    if (out.length >= 5) break;
  }
  return out;
}

function safeGet(view: PdfView, num: number): PdfObject | undefined {
  try {
    return view.get(num);
  } catch {
    return new PdfRaw(`unreadable ${num}`);
  }
}

function safeFields(view: PdfView): FieldInfo[] {
  try {
    return listFields(view);
  } catch {
    return [];
  }
}

function isStructural(v: PdfObject | undefined): boolean {
  if (!(v instanceof PdfStream)) return false;
  const t = v.dict.name('Type');
  return t === 'XRef' || t === 'ObjStm';
}

function refNum(o: PdfObject | undefined): number | undefined {
  return o instanceof PdfRef ? o.num : undefined;
}

function asArray(o: PdfObject | undefined): PdfObject[] | undefined {
  return Array.isArray(o) ? o : undefined;
}

function describe(d: PdfDict | undefined): string {
  if (!d) return '';
  const t = d.name('Type') ?? d.name('Subtype');
  return t ? ` (/${t})` : '';
}

function pageIndex(view: PdfView, num: number): number {
  try {
    return view.pages().findIndex((p) => p.ref.num === num) + 1;
  } catch {
    return 0;
  }
}

function collectPageTreeNodes(view: PdfView, o: PdfObject | undefined, out: Set<number>, depth = 0): void {
  if (!(o instanceof PdfRef) || out.has(o.num) || depth > 64 || out.size > 100_000) return;
  const d = view.dict(o);
  if (!d || d.name('Type') === 'Page') return;
  out.add(o.num);
  for (const k of view.array(d.get('Kids')) ?? []) collectPageTreeNodes(view, k, out, depth + 1);
}

/** Keys whose values differ between two dictionaries. */
export function diffKeys(a: PdfDict, b: PdfDict): string[] {
  const keys = new Set([...a.map.keys(), ...b.map.keys()]);
  return [...keys].filter((k) => !sameObject(a.get(k), b.get(k)));
}

/** Structural equality of two objects (references compared by number). */
export function sameObject(a: PdfObject | undefined, b: PdfObject | undefined, depth = 0): boolean {
  if (depth > 100) return false;
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return false;
  if (typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (a instanceof PdfName || b instanceof PdfName) return a instanceof PdfName && b instanceof PdfName && a.value === b.value;
  if (a instanceof PdfRef) return b instanceof PdfRef && a.num === b.num && a.gen === b.gen;
  if (a instanceof PdfString) return b instanceof PdfString && bytesEqual(a.bytes, b.bytes);
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameObject(x, b[i], depth + 1));
  if (a instanceof PdfStream) return b instanceof PdfStream && sameObject(a.dict, b.dict, depth + 1) && bytesEqual(a.data, b.data);
  if (a instanceof PdfDict) {
    if (!(b instanceof PdfDict) || a.map.size !== b.map.size) return false;
    for (const [k, v] of a.map) if (!sameObject(v, b.get(k), depth + 1)) return false;
    return true;
  }
  if (a instanceof PdfRaw) return b instanceof PdfRaw && a.text === b.text;
  return false;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Object numbers reachable from `o` (bounded). */
export function reachable(view: PdfView, o: PdfObject | null | undefined, limit: number): Set<number> {
  const out = new Set<number>();
  const stack: PdfObject[] = o === undefined || o === null ? [] : [o];
  let steps = 0;
  while (stack.length && steps++ < limit * 20) {
    const x = stack.pop();
    if (x instanceof PdfRef) {
      if (out.has(x.num) || out.size >= limit) continue;
      out.add(x.num);
      let v: PdfObject | undefined;
      try {
        v = view.get(x.num);
      } catch {
        continue;
      }
      if (v !== undefined) stack.push(v);
    } else if (Array.isArray(x)) stack.push(...x);
    else if (x instanceof PdfDict) stack.push(...x.map.values());
    else if (x instanceof PdfStream) stack.push(...x.dict.map.values());
  }
  return out;
}

/**
 * True when a widget can draw on its page: it has an appearance, a /Rect of some area (an unreadable
 * one counts as drawing), and is not Hidden. NoView still prints, so it counts as drawing.
 */
function drawsOnPage(view: PdfView, widget: PdfDict): boolean {
  const flags = view.number(widget.get('F')) ?? 0;
  if ((flags & 2) !== 0) return false;
  if (widget.get('AP') === undefined) return false;
  const rect = (view.array(widget.get('Rect')) ?? []).map((x) => view.number(x));
  if (rect.length !== 4 || rect.some((x) => x === undefined || !Number.isFinite(x))) return true;
  const [x1, y1, x2, y2] = rect as number[];
  return Math.abs(x2! - x1!) * Math.abs(y2! - y1!) > 0;
}

function apRefs(view: PdfView, ap: PdfDict): Set<number> {
  const out = new Set<number>();
  for (const v of ap.map.values()) {
    if (v instanceof PdfRef) {
      out.add(v.num);
      const sub = view.resolve(v);
      if (sub instanceof PdfDict) for (const s of sub.map.values()) if (s instanceof PdfRef) out.add(s.num);
    } else if (v instanceof PdfDict) for (const s of v.map.values()) if (s instanceof PdfRef) out.add(s.num);
  }
  return out;
}

/** Where the objects of one state are referred to from: one walk, asked many times. */
interface RefIndex {
  /** True when every reference to `num` (if there is any) comes from `from`. */
  only(num: number, from: 'trailer' | 'catalog' | 'dss' | 'appearance'): boolean;
  /** True when anything refers to `num` (or the walk was cut short: the strict answer). */
  referenced(num: number): boolean;
  /** The widget whose /AP (directly or through a state dictionary) refers to `num`, if one does. */
  appearanceOf(num: number): number | undefined;
  appearanceOwner(num: number, widgetOwner: Map<number, FieldInfo>): FieldInfo | undefined;
}

/**
 * Counts, for every object of `view`, the references to it: in all, from the trailer, from the
 * catalog, from objects of the DSS (`dss`), and from widget appearance dictionaries. Walks at most
 * `limit` objects; past that every answer is "no" (the strict one).
 */
function indexReferences(view: PdfView, dss: Set<number>, rootNum: number, limit: number): RefIndex {
  const kinds = ['all', 'trailer', 'catalog', 'dss', 'appearance'] as const;
  const counts = new Map<number, number[]>();
  const apWidget = new Map<number, number>();
  const count = (num: number, k: (typeof kinds)[number][]) => {
    let c = counts.get(num);
    if (!c) counts.set(num, (c = [0, 0, 0, 0, 0]));
    for (const kind of k) c[kinds.indexOf(kind)]!++;
  };
  const scan = (o: PdfObject | undefined, from: (typeof kinds)[number][], owner: number | undefined, inAp: boolean, depth: number) => {
    if (depth > 50 || o === undefined) return;
    if (o instanceof PdfRef) {
      count(o.num, inAp ? [...from, 'appearance'] : from);
      if (inAp && owner !== undefined && !apWidget.has(o.num)) apWidget.set(o.num, owner);
    } else if (Array.isArray(o)) for (const x of o) scan(x, from, owner, inAp, depth + 1);
    else if (o instanceof PdfDict || o instanceof PdfStream) {
      const d = o instanceof PdfStream ? o.dict : o;
      for (const [k, v] of d.map) scan(v, from, owner, inAp || k === 'AP', depth + 1);
    }
  };
  // Every trailer of the revision counts, not only the newest: an object an earlier trailer names
  // is shared with the trailer all the same (pyHanko rejects rewriting it as an appearance).
  scan(view.trailer, ['all', 'trailer'], undefined, false, 0);
  for (const sec of view.sections.slice(1, 64)) if (sec.trailer !== view.trailer) scan(sec.trailer, ['all', 'trailer'], undefined, false, 0);
  let n = 0;
  let complete = true;
  for (const [objNum, e] of view.entries) {
    if (e.type === 0) continue;
    if (++n > limit) {
      complete = false;
      break;
    }
    let v: PdfObject | undefined;
    try {
      v = view.get(objNum);
    } catch {
      continue;
    }
    // a cross-reference stream's dictionary is a trailer
    const xref = v instanceof PdfStream && v.dict.name('Type') === 'XRef';
    const from: (typeof kinds)[number][] =
      objNum === rootNum ? ['all', 'catalog'] : dss.has(objNum) ? ['all', 'dss'] : xref ? ['all', 'trailer'] : ['all'];
    const isWidget = v instanceof PdfDict && v.name('Subtype') === 'Widget';
    // An appearance state dictionary (/AP /N << /On 5 0 R >>, indirect) counts as appearance too.
    scan(v, from, isWidget ? objNum : undefined, false, 0);
  }
  // references from objects that are themselves only appearance parts (state dictionaries)
  for (const [num, widget] of [...apWidget]) {
    let v: PdfObject | undefined;
    try {
      v = view.get(num);
    } catch {
      continue;
    }
    if (!(v instanceof PdfDict) || v.name('Type') !== undefined || v.name('Subtype') !== undefined) continue;
    for (const x of v.map.values()) {
      if (!(x instanceof PdfRef)) continue;
      const c = counts.get(x.num);
      if (c) c[kinds.indexOf('appearance')]!++;
      if (!apWidget.has(x.num)) apWidget.set(x.num, widget);
    }
  }
  return {
    only(num, from) {
      const c = counts.get(num);
      return complete && (!c || c[kinds.indexOf(from)] === c[0]);
    },
    referenced: (num) => !complete || (counts.get(num)?.[0] ?? 0) > 0,
    appearanceOf: (num) => apWidget.get(num),
    appearanceOwner(num, widgetOwner) {
      const w = apWidget.get(num);
      return w === undefined ? undefined : widgetOwner.get(w);
    },
  };
}

/**
 * Why a widget's flags changed in a way filling or signing does not explain, if they did: only
 * setting Print (4), Locked (128) and LockedContents (512) is; hiding or revealing (Invisible 1,
 * Hidden 2, NoView 32, ToggleNoView 256) and anything else is not.
 */
function widgetFlagChange(d0: PdfDict, d1: PdfDict): string | undefined {
  const f0 = d0.get('F');
  const f1 = d1.get('F');
  if (sameObject(f0, f1)) return undefined;
  const a = typeof f0 === 'number' ? f0 : 0;
  const b = typeof f1 === 'number' ? f1 : -1;
  if (b < 0 || !Number.isInteger(a) || !Number.isInteger(b)) return 'changed its widget flags (/F) to something unreadable';
  const cleared = a & ~b;
  const set = b & ~a;
  if (cleared !== 0 || (set & ~(4 | 128 | 512)) !== 0) return `changed its widget flags (/F ${a} to ${b}), which can hide or reveal it`;
  return undefined;
}

/** What filling a field cannot explain about its widget `d0` -> `d1`: a flags change, or the field is read-only. */
function fillingProblem(view: PdfView, field: PdfDict, d0: PdfDict, d1: PdfDict): string | undefined {
  return widgetFlagChange(d0, d1) ?? (isReadOnly(view, field) ? 'is read-only but was filled' : undefined);
}

/** A field whose /Ff (inherited through /Parent) has ReadOnly (bit 1). */
function isReadOnly(view: PdfView, field: PdfDict): boolean {
  let d: PdfDict | undefined = field;
  for (let depth = 0; d && depth < 32; depth++) {
    const ff = view.number(d.get('Ff'));
    if (ff !== undefined) return (ff & 1) !== 0;
    d = view.dict(d.get('Parent'));
  }
  return false;
}

/**
 * The action entries of a widget and of its field (ISO 32000-2 §12.6.2 /A, §12.6.3 /AA: mouse,
 * focus, page open and close, form events): the keys and, where named, the action types.
 */
function actionKeys(widget: PdfDict, field: PdfDict): string[] {
  const out: string[] = [];
  for (const [who, d] of [
    ['widget', widget],
    ['field', field],
  ] as const) {
    if (who === 'field' && d === widget) continue;
    for (const k of ['A', 'AA']) {
      if (!d.has(k)) continue;
      const a = d.get(k);
      const s = a instanceof PdfDict ? a.name('S') : undefined;
      const events = k === 'AA' && a instanceof PdfDict ? [...a.map.keys()].join(' ') : '';
      out.push(`${who} /${k}${s ? ` /${s}` : ''}${events ? ` (${events})` : ''}`);
    }
  }
  return out;
}

/** An XMP metadata stream (/Type /Metadata /Subtype /XML). */
function isXmpStream(o: PdfObject | undefined): boolean {
  return o instanceof PdfStream && o.dict.name('Type') === 'Metadata' && o.dict.name('Subtype') === 'XML';
}
