/**
 * ByteRange sanity (PADES-NOTES "what stops USF and SWA"): the signed ranges are exactly the file
 * minus this dictionary's own /Contents string, inside the file, ending a revision.
 */
import type { PdfView } from '../pdf/document';
import { PdfDict, PdfRef, PdfString, latin1Bytes } from '../pdf/objects';
import { Parser } from '../pdf/parser';

export interface SignatureLocation {
  /** The signature dictionary's object (the field's /V). */
  ref: PdfRef;
  dict: PdfDict;
  /** The /Contents bytes (the CMS or timestamp token). */
  contents: Uint8Array;
  byteRange: [number, number, number, number];
  /** Where the signed bytes end (b + c). */
  signedEnd: number;
}

export type ByteRangeResult =
  | { ok: true; loc: SignatureLocation; coverage: 'whole-document' | 'revision' | 'partial'; reasons: string[] }
  | { ok: false; reasons: string[] };

const EOF = latin1Bytes('%%EOF');

/** Checks one signature dictionary's /ByteRange and /Contents against the file. */
export function checkByteRange(view: PdfView, ref: PdfRef, dict: PdfDict): ByteRangeResult {
  const doc = view.doc;
  const bytes = doc.bytes;
  const reasons: string[] = [];
  const br = view.resolve(dict.get('ByteRange'));
  if (!Array.isArray(br) || br.length !== 4 || !br.every((x) => Number.isInteger(x) && (x as number) >= 0)) {
    return { ok: false, reasons: ['/ByteRange is missing or is not four non-negative integers'] };
  }
  const [o0, a, b, c] = br as [number, number, number, number];
  if (o0 !== 0) return { ok: false, reasons: ['/ByteRange does not start at byte 0'] };
  if (!(a < b)) return { ok: false, reasons: ['/ByteRange ranges are out of order'] };
  if (b + c > bytes.length) return { ok: false, reasons: ['/ByteRange extends past the end of the file'] };
  const contents = view.resolve(dict.get('Contents'));
  if (!(contents instanceof PdfString) || contents.bytes.length === 0) {
    return { ok: false, reasons: ['/Contents is missing or empty'] };
  }
  if (contents.bytes.every((x) => x === 0)) return { ok: false, reasons: ['/Contents is all zeros'] };
  // The gap must be exactly this dictionary's /Contents hex string, written uncompressed.
  const off = view.offsetOf(ref.num);
  if (off === undefined) return { ok: false, reasons: ['the signature dictionary is not a plain object in the file'] };
  const span = doc.access.from(off, (b) => contentsSpan(b, off), (r) => r?.objectEnd ?? Number.POSITIVE_INFINITY);
  if (!span) return { ok: false, reasons: ['the signature dictionary cannot be located in the file'] };
  if (span.start !== a || span.end !== b) {
    return { ok: false, reasons: [`the ByteRange gap [${a}, ${b}) is not this signature's /Contents [${span.start}, ${span.end})`] };
  }
  doc.access.ensure(a, b);
  if (bytes[a] !== 0x3c || bytes[b - 1] !== 0x3e) return { ok: false, reasons: ['/Contents is not a hex string'] };
  for (let i = a + 1; i < b - 1; i++) {
    const ch = bytes[i]!;
    const hex = (ch >= 0x30 && ch <= 0x39) || (ch >= 0x41 && ch <= 0x46) || (ch >= 0x61 && ch <= 0x66);
    if (!hex) return { ok: false, reasons: ['/Contents holds non-hex characters'] };
  }
  // The dictionary itself lies inside the signed bytes (only its /Contents is excluded).
  if (!(off < a && span.objectEnd <= b + c)) {
    return { ok: false, reasons: ['the signature dictionary is not inside its own signed range'] };
  }
  const end = b + c;
  doc.access.ensure(end - EOF.length - 2, end);
  let coverage: 'whole-document' | 'revision' | 'partial';
  if (end === bytes.length) coverage = 'whole-document';
  else if (endsRevision(bytes, end)) coverage = 'revision';
  else {
    coverage = 'partial';
    reasons.push(`the signed bytes end at ${end}, inside the file and not at the end of a revision`);
  }
  if (coverage === 'whole-document' && !endsRevision(bytes, end)) {
    // trailing bytes after the last %%EOF are signed too: fine, but say so
    reasons.push('the file continues after its last %%EOF within the signed range');
  }
  return {
    ok: true,
    loc: { ref, dict, contents: contents.bytes, byteRange: [o0, a, b, c], signedEnd: end },
    coverage,
    reasons,
  };
}

/** True when `end` is just after a `%%EOF` marker (and its line end). */
export function endsRevision(bytes: Uint8Array, end: number): boolean {
  let p = end;
  if (bytes[p - 1] === 0x0a) p--;
  if (bytes[p - 1] === 0x0d) p--;
  if (p < EOF.length) return false;
  for (let i = 0; i < EOF.length; i++) if (bytes[p - EOF.length + i] !== EOF[i]) return false;
  return true;
}

/** Where the value of /Contents lies in the dictionary of the object starting at `off`. */
export function contentsSpan(bytes: Uint8Array, off: number): { start: number; end: number; objectEnd: number } | undefined {
  try {
    const p = new Parser(bytes, off);
    p.readInt();
    p.readInt();
    p.expectKeyword('obj');
    p.skipWhitespace();
    if (bytes[p.pos] !== 0x3c || bytes[p.pos + 1] !== 0x3c) return undefined;
    p.pos += 2;
    let span: { start: number; end: number } | undefined;
    for (;;) {
      p.skipWhitespace();
      if (bytes[p.pos] === 0x3e && bytes[p.pos + 1] === 0x3e) {
        p.pos += 2;
        break;
      }
      const key = p.parseName().value;
      p.skipWhitespace();
      const start = p.pos;
      const value = p.parseObject();
      let end = p.pos;
      // references inside dictionaries: `n g R`
      if (typeof value === 'number') {
        const t1 = p.peekToken();
        if (/^\d+$/.test(t1)) {
          p.readKeyword();
          if (p.readKeyword() === 'R') end = p.pos;
        }
      }
      p.pos = end;
      if (key === 'Contents') {
        if (span) return undefined; // two /Contents keys: ambiguous, reject
        span = { start, end };
      }
    }
    p.skipWhitespace();
    if (p.peekToken() !== 'endobj') return undefined;
    p.readKeyword();
    return span ? { ...span, objectEnd: p.pos } : undefined;
  } catch {
    return undefined;
  }
}
