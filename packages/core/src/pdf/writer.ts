/**
 * The incremental writer (ISO 32000-2 §7.5.6): new and changed objects are appended after the
 * input, followed by a cross-reference section of the same kind as the previous one and a trailer
 * whose /Prev points back. The input is never touched: it is a byte-exact prefix of the output.
 */
import { SidianError } from '../errors';
import type { PdfDocument } from './document';
import { PdfDict, PdfName, PdfRaw, PdfRef, PdfStream, PdfString, latin1Bytes, type PdfObject } from './objects';

const NAME_SAFE = new Uint8Array(256);
for (let c = 0x21; c <= 0x7e; c++) NAME_SAFE[c] = 1;
for (const c of '()<>[]{}/%#') NAME_SAFE[c.charCodeAt(0)] = 0;

export function serializeName(n: PdfName): string {
  let s = '/';
  for (let i = 0; i < n.value.length; i++) {
    const c = n.value.charCodeAt(i) & 0xff;
    s += NAME_SAFE[c] ? String.fromCharCode(c) : '#' + c.toString(16).padStart(2, '0');
  }
  return s;
}

export function serializeNumber(n: number): string {
  if (!Number.isFinite(n)) throw new SidianError('PDF_MALFORMED', 'cannot write a non-finite number');
  if (Number.isInteger(n)) return String(n);
  let s = n.toFixed(4);
  s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s === '-0' ? '0' : s;
}

function serializeString(s: PdfString): string {
  const b = s.bytes;
  let printable = !s.hex;
  if (printable) for (const c of b) if (c < 0x20 || c > 0x7e) { printable = false; break; }
  if (!printable) {
    let h = '<';
    for (const c of b) h += c.toString(16).padStart(2, '0');
    return h + '>';
  }
  let out = '(';
  for (const c of b) {
    if (c === 0x28 || c === 0x29 || c === 0x5c) out += '\\';
    out += String.fromCharCode(c);
  }
  return out + ')';
}

/** Serializes a direct object as a latin1 string (each char one byte). Streams are written by the writer. */
export function serialize(o: PdfObject): string {
  if (o === null) return 'null';
  if (o === true) return 'true';
  if (o === false) return 'false';
  if (typeof o === 'number') return serializeNumber(o);
  if (o instanceof PdfName) return serializeName(o);
  if (o instanceof PdfString) return serializeString(o);
  if (o instanceof PdfRef) return `${o.num} ${o.gen} R`;
  if (o instanceof PdfRaw) return o.text;
  if (Array.isArray(o)) return '[' + o.map(serialize).join(' ') + ']';
  if (o instanceof PdfDict) {
    let s = '<<';
    for (const [k, v] of o.map) s += serializeName(PdfName.of(k)) + ' ' + serialize(v);
    return s + '>>';
  }
  if (o instanceof PdfStream) throw new SidianError('PDF_MALFORMED', 'a stream cannot be a direct object');
  throw new SidianError('PDF_MALFORMED', 'unknown object type');
}

export interface WrittenUpdate {
  /** The bytes appended to the input. */
  bytes: Uint8Array;
  /** Offset in the appended bytes where each written object starts. */
  offsets: Map<number, number>;
}

export class IncrementalWriter {
  private readonly objects = new Map<number, { gen: number; value: PdfObject }>();
  private nextNum: number;

  constructor(readonly doc: PdfDocument) {
    this.nextNum = doc.latest.size;
  }

  /** A fresh object number for a new object. */
  allocate(): PdfRef {
    return new PdfRef(this.nextNum++, 0);
  }

  /** Writes (or rewrites) an object in this update. */
  set(ref: PdfRef, value: PdfObject): void {
    this.objects.set(ref.num, { gen: ref.gen, value });
  }

  add(value: PdfObject): PdfRef {
    const ref = this.allocate();
    this.set(ref, value);
    return ref;
  }

  /** Assembles the update: objects, cross-reference section, trailer, startxref, %%EOF. */
  build(): WrittenUpdate {
    const input = this.doc.bytes;
    const base = input.length;
    const parts: Uint8Array[] = [];
    let len = 0;
    const push = (s: string | Uint8Array) => {
      const b = typeof s === 'string' ? latin1Bytes(s) : s;
      parts.push(b);
      len += b.length;
    };
    // Objects must start on a new line.
    const last = input[input.length - 1];
    if (last !== 0x0a && last !== 0x0d) push('\n');
    const offsets = new Map<number, number>();
    const nums = [...this.objects.keys()].sort((a, b) => a - b);
    for (const num of nums) {
      const { gen, value } = this.objects.get(num)!;
      offsets.set(num, len);
      if (value instanceof PdfStream) {
        const d = value.dict.clone();
        d.set('Length', value.data.length);
        push(`${num} ${gen} obj\n${serialize(d)}\nstream\n`);
        push(value.data);
        push('\nendstream\nendobj\n');
      } else {
        push(`${num} ${gen} obj\n${serialize(value)}\nendobj\n`);
      }
    }
    const prevSection = this.doc.sections[0]!;
    const prevTrailer = prevSection.trailer;
    const trailer = new PdfDict();
    const size = Math.max(this.nextNum, this.doc.latest.size);
    trailer.set('Size', size);
    for (const k of ['Root', 'Info', 'ID']) {
      const v = prevTrailer.get(k);
      if (v !== undefined) trailer.set(k, v);
    }
    trailer.set('Prev', this.doc.startxref);
    const xrefOffset = base + len;
    if (prevSection.kind === 'stream') {
      // Cross-reference stream (§7.5.8), uncompressed: /W [1 w 2]
      const xrefNum = size;
      const all = [...nums, xrefNum].sort((a, b) => a - b);
      offsets.set(xrefNum, len);
      const maxOff = xrefOffset;
      const w1 = maxOff < 2 ** 32 ? 4 : 6;
      const rowLen = 1 + w1 + 2;
      const data = new Uint8Array(all.length * rowLen);
      const index: number[] = [];
      let prev = -2;
      all.forEach((num, i) => {
        if (num !== prev + 1) index.push(num, 1);
        else index[index.length - 1]!++;
        prev = num;
        const off = base + offsets.get(num)!;
        const gen = num === xrefNum ? 0 : this.objects.get(num)!.gen;
        const r = i * rowLen;
        data[r] = 1;
        for (let k = 0; k < w1; k++) data[r + 1 + k] = Math.floor(off / 2 ** (8 * (w1 - 1 - k))) & 0xff;
        data[r + 1 + w1] = (gen >> 8) & 0xff;
        data[r + 2 + w1] = gen & 0xff;
      });
      trailer.set('Size', xrefNum + 1);
      trailer.set('Type', PdfName.of('XRef'));
      trailer.set('W', [1, w1, 2]);
      trailer.set('Index', index);
      trailer.set('Length', data.length);
      push(`${xrefNum} 0 obj\n${serialize(trailer)}\nstream\n`);
      push(data);
      push('\nendstream\nendobj\n');
    } else {
      let x = 'xref\n';
      // subsections of consecutive numbers
      let i = 0;
      while (i < nums.length) {
        let j = i;
        while (j + 1 < nums.length && nums[j + 1] === nums[j]! + 1) j++;
        x += `${nums[i]} ${j - i + 1}\n`;
        for (let k = i; k <= j; k++) {
          const n = nums[k]!;
          x += `${String(base + offsets.get(n)!).padStart(10, '0')} ${String(this.objects.get(n)!.gen).padStart(5, '0')} n\r\n`;
        }
        i = j + 1;
      }
      push(x);
      push(`trailer\n${serialize(trailer)}\n`);
    }
    push(`startxref\n${xrefOffset}\n%%EOF\n`);
    const bytes = new Uint8Array(len);
    let o = 0;
    for (const p of parts) {
      bytes.set(p, o);
      o += p.length;
    }
    return { bytes, offsets };
  }
}
