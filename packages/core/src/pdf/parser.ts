/**
 * A bounded parser for PDF objects (ISO 32000-2 §7.2-7.3) over the file's bytes.
 * It never throws anything but SidianError, never recurses deeper than MAX_DEPTH, and never
 * reads outside the buffer.
 */
import { SidianError } from '../errors';
import { PdfDict, PdfName, PdfRef, PdfStream, PdfString, type PdfObject } from './objects';

export const MAX_DEPTH = 200;

const WS = new Uint8Array(256);
for (const c of [0x00, 0x09, 0x0a, 0x0c, 0x0d, 0x20]) WS[c] = 1;
const DELIM = new Uint8Array(256);
for (const c of '()<>[]{}/%') DELIM[c.charCodeAt(0)] = 1;

export function isWhite(c: number): boolean {
  return WS[c] === 1;
}
export function isRegular(c: number): boolean {
  return WS[c] !== 1 && DELIM[c] !== 1;
}

/** Resolves /Length when it is an indirect reference; returns undefined when it cannot. */
export type LengthResolver = (ref: PdfRef) => number | undefined;

export class Parser {
  pos: number;
  constructor(
    readonly bytes: Uint8Array,
    pos = 0,
    readonly resolveLength?: LengthResolver,
  ) {
    this.pos = pos;
  }

  fail(message: string): never {
    throw new SidianError('PDF_MALFORMED', `${message} at byte ${this.pos}`);
  }

  skipWhitespace(): void {
    const b = this.bytes;
    let p = this.pos;
    while (p < b.length) {
      const c = b[p]!;
      if (WS[c]) p++;
      else if (c === 0x25 /* % */) {
        while (p < b.length && b[p] !== 0x0a && b[p] !== 0x0d) p++;
      } else break;
    }
    this.pos = p;
  }

  /** End of the run of regular characters starting at `p`. */
  private tokenEnd(p: number): number {
    const b = this.bytes;
    while (p < b.length && WS[b[p]!] !== 1 && DELIM[b[p]!] !== 1) p++;
    return p;
  }

  /** Reads a run of regular characters (a keyword or number) without consuming what follows. */
  peekToken(): string {
    this.skipWhitespace();
    const end = Math.min(this.tokenEnd(this.pos), this.pos + 64);
    return String.fromCharCode.apply(null, this.bytes.subarray(this.pos, end) as unknown as number[]);
  }

  readKeyword(): string {
    const t = this.peekToken();
    this.pos = this.tokenEnd(this.pos);
    return t;
  }

  expectKeyword(k: string): void {
    const t = this.readKeyword();
    if (t !== k) this.fail(`expected '${k}', found '${t}'`);
  }

  readInt(): number {
    this.skipWhitespace();
    const b = this.bytes;
    const start = this.pos;
    const end = this.tokenEnd(start);
    let v = 0;
    if (end === start || end - start > 15) this.fail('expected an integer');
    for (let i = start; i < end; i++) {
      const c = b[i]! - 0x30;
      if (c < 0 || c > 9) this.fail(`expected an integer, found '${String.fromCharCode(b[i]!)}'`);
      v = v * 10 + c;
    }
    this.pos = end;
    return v;
  }

  atEnd(): boolean {
    this.skipWhitespace();
    return this.pos >= this.bytes.length;
  }

  parseObject(depth = 0): PdfObject {
    if (depth > MAX_DEPTH) throw new SidianError('PDF_TOO_COMPLEX', `objects nested deeper than ${MAX_DEPTH}`);
    this.skipWhitespace();
    const b = this.bytes;
    if (this.pos >= b.length) this.fail('unexpected end of file');
    const c = b[this.pos]!;
    switch (c) {
      case 0x2f: // /
        return this.parseName();
      case 0x28: // (
        return this.parseLiteralString();
      case 0x5b: {
        // [
        this.pos++;
        const arr: PdfObject[] = [];
        this.readRefRun(arr);
        for (;;) {
          this.skipWhitespace();
          if (this.pos >= b.length) this.fail('unterminated array');
          if (b[this.pos] === 0x5d) {
            this.pos++;
            return arr;
          }
          let v = this.parseObject(depth + 1);
          // a reference `n g R`, read at once (page trees hold thousands); collapseRef catches the rest
          if (Number.isInteger(v) && (v as number) >= 0) {
            const gen = this.refGenerationAhead();
            if (gen !== undefined) v = new PdfRef(v as number, gen);
          }
          arr.push(v);
          this.collapseRef(arr);
        }
      }
      case 0x3c: // <
        if (b[this.pos + 1] === 0x3c) return this.parseDictOrStream(depth);
        return this.parseHexString();
      case 0x29:
      case 0x5d:
      case 0x3e:
      case 0x7b:
      case 0x7d:
        this.fail(`unexpected '${String.fromCharCode(c)}'`);
    }
    // numbers without building strings (most tokens in a PDF)
    if ((c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e) {
      const n = this.readNumberFast();
      if (n !== undefined) return n;
    }
    const t = this.readKeyword();
    if (t === 'true') return true;
    if (t === 'false') return false;
    if (t === 'null') return null;
    if (t === 'R') return RMARK as unknown as PdfObject;
    const n = parseNumber(t);
    if (n === undefined) this.fail(`unexpected token '${t}'`);
    return n;
  }

  /**
   * Reads the references `n g R` at the start of an array in one tight loop (a page tree's /Kids
   * holds thousands; the general path takes several calls per token, slow in a first signing's
   * not-yet-compiled code). Stops, without consuming, at the first element that is anything else.
   */
  private readRefRun(arr: PdfObject[]): void {
    const b = this.bytes;
    const len = b.length;
    for (;;) {
      let p = this.pos;
      while (p < len && WS[b[p]!] === 1) p++;
      let num = 0;
      let ds = p;
      while (p < len && b[p]! >= 0x30 && b[p]! <= 0x39 && p - ds < 10) num = num * 10 + (b[p++]! - 0x30);
      if (p === ds || p >= len || WS[b[p]!] !== 1) return;
      let gen = 0;
      if (b[p] === 0x20 && b[p + 1] === 0x30 && b[p + 2] === 0x20 && b[p + 3] === 0x52) {
        p += 3; // the usual ` 0 R`
      } else {
        while (p < len && WS[b[p]!] === 1) p++;
        ds = p;
        while (p < len && b[p]! >= 0x30 && b[p]! <= 0x39 && p - ds < 10) gen = gen * 10 + (b[p++]! - 0x30);
        if (p === ds || p >= len || WS[b[p]!] !== 1) return;
        while (p < len && WS[b[p]!] === 1) p++;
        if (b[p] !== 0x52 /* R */) return;
      }
      const after = b[p + 1];
      if (after !== undefined && WS[after] !== 1 && DELIM[after] !== 1) return;
      arr.push(new PdfRef(num, gen));
      this.pos = p + 1;
    }
  }

  /** If ` g R` follows (whitespace, digits, whitespace, R, delimiter), consumes it and returns g. */
  refGenerationAhead(): number | undefined {
    const b = this.bytes;
    let p = this.pos;
    while (p < b.length && WS[b[p]!] === 1) p++;
    const ds = p;
    let gen = 0;
    while (p < b.length && b[p]! >= 0x30 && b[p]! <= 0x39 && p - ds < 10) gen = gen * 10 + (b[p++]! - 0x30);
    if (p === ds || p >= b.length || WS[b[p]!] !== 1) return undefined;
    while (p < b.length && WS[b[p]!] === 1) p++;
    if (b[p] !== 0x52 /* R */) return undefined;
    const after = b[p + 1];
    if (after !== undefined && WS[after] !== 1 && DELIM[after] !== 1) return undefined;
    this.pos = p + 1;
    return gen;
  }

  private readNumberFast(): number | undefined {
    const b = this.bytes;
    const start = this.pos;
    const end = this.tokenEnd(start);
    let p = start;
    let neg = false;
    if (b[p] === 0x2d || b[p] === 0x2b) {
      neg = b[p] === 0x2d;
      p++;
    }
    let v = 0;
    let digits = 0;
    while (p < end && b[p]! >= 0x30 && b[p]! <= 0x39 && digits < 15) {
      v = v * 10 + (b[p++]! - 0x30);
      digits++;
    }
    if (p < end && b[p] === 0x2e) {
      p++;
      let scale = 0.1;
      while (p < end && b[p]! >= 0x30 && b[p]! <= 0x39) {
        v += (b[p++]! - 0x30) * scale;
        scale /= 10;
        digits++;
      }
    }
    if (p !== end || digits === 0) return undefined; // not a plain number: let the general path decide
    this.pos = end;
    return neg ? -v : v;
  }

  /** After pushing a value, folds `n g R` at the end of the list into a reference. */
  private collapseRef(list: PdfObject[]): void {
    const last = list[list.length - 1];
    if ((last as unknown) !== RMARK) return;
    const gen = list[list.length - 2];
    const num = list[list.length - 3];
    if (!Number.isInteger(num) || !Number.isInteger(gen) || (num as number) < 0 || (gen as number) < 0) {
      this.fail('malformed reference');
    }
    list.length -= 3;
    list.push(new PdfRef(num as number, gen as number));
  }

  parseName(): PdfName {
    const b = this.bytes;
    const end = this.tokenEnd(this.pos + 1);
    if (end - this.pos <= 128 && b.subarray(this.pos + 1, end).indexOf(0x23) < 0) {
      const v = String.fromCharCode.apply(null, b.subarray(this.pos + 1, end) as unknown as number[]);
      this.pos = end;
      return PdfName.of(v);
    }
    let p = this.pos + 1;
    let s = '';
    while (p < b.length && isRegular(b[p]!)) {
      const ch = b[p]!;
      if (ch === 0x23 && p + 2 < b.length && isHex(b[p + 1]!) && isHex(b[p + 2]!)) {
        s += String.fromCharCode((hexVal(b[p + 1]!) << 4) | hexVal(b[p + 2]!));
        p += 3;
      } else {
        s += String.fromCharCode(ch);
        p++;
      }
      if (s.length > 4096) this.fail('name too long');
    }
    this.pos = p;
    return PdfName.of(s);
  }

  parseLiteralString(): PdfString {
    const b = this.bytes;
    let p = this.pos + 1;
    let nest = 1;
    const out: number[] = [];
    while (p < b.length) {
      const c = b[p++]!;
      if (c === 0x5c /* \ */) {
        if (p >= b.length) break;
        const e = b[p++]!;
        switch (e) {
          case 0x6e: out.push(0x0a); break; // n
          case 0x72: out.push(0x0d); break; // r
          case 0x74: out.push(0x09); break; // t
          case 0x62: out.push(0x08); break; // b
          case 0x66: out.push(0x0c); break; // f
          case 0x0d: if (b[p] === 0x0a) p++; break; // line continuation
          case 0x0a: break;
          default:
            if (e >= 0x30 && e <= 0x37) {
              let v = e - 0x30;
              for (let k = 0; k < 2 && p < b.length && b[p]! >= 0x30 && b[p]! <= 0x37; k++) v = v * 8 + (b[p++]! - 0x30);
              out.push(v & 0xff);
            } else out.push(e);
        }
      } else if (c === 0x28) {
        nest++;
        out.push(c);
      } else if (c === 0x29) {
        if (--nest === 0) {
          this.pos = p;
          return new PdfString(Uint8Array.from(out));
        }
        out.push(c);
      } else out.push(c);
    }
    this.pos = p;
    return this.fail('unterminated string');
  }

  parseHexString(): PdfString {
    const b = this.bytes;
    let p = this.pos + 1;
    const end = b.indexOf(0x3e, p);
    if (end < 0) {
      this.pos = b.length; // it looked at everything
      this.fail('unterminated hex string');
    }
    const out = new Uint8Array((end - p + 1) >> 1);
    let n = 0;
    let hi = -1;
    for (; p < end; p++) {
      const v = HEX_VALUE[b[p]!]!;
      if (v < 0) {
        if (v === -1) continue; // whitespace
        this.fail('bad character in hex string');
      }
      if (hi < 0) hi = v;
      else {
        out[n++] = (hi << 4) | v;
        hi = -1;
      }
    }
    if (hi >= 0) out[n++] = hi << 4;
    this.pos = end + 1;
    return new PdfString(out.subarray(0, n), true);
  }

  parseDictOrStream(depth: number): PdfDict | PdfStream {
    const b = this.bytes;
    this.pos += 2;
    const dict = new PdfDict();
    for (;;) {
      this.skipWhitespace();
      if (this.pos >= b.length) this.fail('unterminated dictionary');
      if (b[this.pos] === 0x3e && b[this.pos + 1] === 0x3e) {
        this.pos += 2;
        break;
      }
      if (b[this.pos] !== 0x2f) this.fail('dictionary key is not a name');
      const key = this.parseName().value;
      let value = this.parseObject(depth + 1);
      // a reference value: `n g R`
      if (Number.isInteger(value)) {
        const gen = this.refGenerationAhead();
        if (gen !== undefined) value = new PdfRef(value as number, gen);
      }
      dict.set(key, value);
    }
    // stream?
    const save = this.pos;
    if (this.peekToken() === 'stream') {
      this.readKeyword();
      let p = this.pos;
      if (b[p] === 0x0d && b[p + 1] === 0x0a) p += 2;
      else if (b[p] === 0x0a || b[p] === 0x0d) p += 1;
      const start = p;
      let len: number | undefined;
      const l = dict.get('Length');
      if (typeof l === 'number' && Number.isInteger(l) && l >= 0) len = l;
      else if (l instanceof PdfRef && this.resolveLength) len = this.resolveLength(l);
      let end = -1;
      if (len !== undefined && start + len <= b.length && endstreamFollows(b, start + len)) end = start + len;
      if (end < 0) {
        // /Length missing or wrong: find the keyword (bounded by the buffer).
        const k = indexOfBytes(b, ENDSTREAM, start);
        if (k < 0) {
          this.pos = b.length; // it looked at everything
          this.fail('stream without endstream');
        }
        end = k;
        // strip the EOL before endstream
        if (end > start && b[end - 1] === 0x0a) end--;
        if (end > start && b[end - 1] === 0x0d) end--;
      }
      this.pos = end;
      this.skipWhitespace();
      if (this.readKeyword() !== 'endstream') this.fail('missing endstream');
      // data read on demand lives in shared memory, which WebCrypto refuses: copy it out
      const data = b.buffer instanceof ArrayBuffer ? b.subarray(start, end) : b.slice(start, end);
      return new PdfStream(dict, data);
    }
    this.pos = save;
    return dict;
  }

  /** Parses `num gen obj ... endobj` at the current position. */
  parseIndirect(): { num: number; gen: number; value: PdfObject } {
    const num = this.readInt();
    const gen = this.readInt();
    this.expectKeyword('obj');
    let value = this.parseObject();
    // a bare reference as an object's value
    if (Number.isInteger(value)) {
      const save = this.pos;
      const t1 = this.peekToken();
      if (/^\d+$/.test(t1)) {
        this.readKeyword();
        if (this.readKeyword() === 'R') value = new PdfRef(value as number, Number(t1));
        else this.pos = save;
      }
    }
    return { num, gen, value };
  }
}

const RMARK = { __r: true };
/** Hex digit values; -1 for whitespace, -2 for anything else. */
const HEX_VALUE = new Int8Array(256).fill(-2);
for (let c = 0; c < 256; c++) {
  if (WS[c]) HEX_VALUE[c] = -1;
  else if (c >= 0x30 && c <= 0x39) HEX_VALUE[c] = c - 0x30;
  else if (c >= 0x41 && c <= 0x46) HEX_VALUE[c] = c - 0x37;
  else if (c >= 0x61 && c <= 0x66) HEX_VALUE[c] = c - 0x57;
}
const ENDSTREAM = Uint8Array.from('endstream', (c) => c.charCodeAt(0));

function endstreamFollows(b: Uint8Array, p: number): boolean {
  while (p < b.length && WS[b[p]!]) p++;
  for (let i = 0; i < ENDSTREAM.length; i++) if (b[p + i] !== ENDSTREAM[i]) return false;
  return true;
}

/** The first occurrence of `needle` starting in [from, to - needle.length], or -1; reads no byte at or past `to`. */
export function indexOfBytes(hay: Uint8Array, needle: Uint8Array, from = 0, to = hay.length): number {
  const first = needle[0]!;
  const last = to - needle.length;
  // the search for the first byte is bounded too: unbounded, a caller scanning 10,000 small
  // objects for a byte none of them holds read the rest of the file each time (quadratic)
  const h = to < hay.length ? hay.subarray(0, Math.max(0, last + 1)) : hay;
  for (let i = h.indexOf(first, from); i >= 0 && i <= last; i = h.indexOf(first, i + 1)) {
    let ok = true;
    for (let j = 1; j < needle.length; j++) {
      if (hay[i + j] !== needle[j]) {
        ok = false;
        break;
      }
    }
    if (ok) return i;
  }
  return -1;
}

/** The last occurrence of `needle` starting at or before `from` and at or after `min`, or -1. */
export function lastIndexOfBytes(hay: Uint8Array, needle: Uint8Array, from = hay.length - needle.length, min = 0): number {
  for (let i = Math.min(from, hay.length - needle.length); i >= min; i--) {
    let ok = true;
    for (let j = 0; j < needle.length; j++) {
      if (hay[i + j] !== needle[j]) {
        ok = false;
        break;
      }
    }
    if (ok) return i;
  }
  return -1;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}
function hexVal(c: number): number {
  return c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57;
}

function parseNumber(t: string): number | undefined {
  if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(t)) {
    // tolerate "--5" and "5-" style garbage as some writers do? No: reject.
    return undefined;
  }
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}
