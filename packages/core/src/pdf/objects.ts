/**
 * The PDF object model (ISO 32000-2 §7.3). Values read from a file keep enough of their form
 * that a dictionary we rewrite in an incremental update means exactly what it meant before.
 */

/** A name object. `value` holds the name's bytes as a latin1 string (one char per byte, `#xx` decoded). */
export class PdfName {
  private static readonly interned = new Map<string, PdfName>();
  private constructor(readonly value: string) {}
  static of(value: string): PdfName {
    let n = PdfName.interned.get(value);
    if (!n) {
      n = new PdfName(value);
      if (PdfName.interned.size < 10_000) PdfName.interned.set(value, n);
    }
    return n;
  }
  toString(): string {
    return '/' + this.value;
  }
}

/** A string object: raw bytes; `hex` remembers how it was written. */
export class PdfString {
  constructor(
    readonly bytes: Uint8Array,
    readonly hex = false,
  ) {}
  /** Text string decoding (ISO 32000-2 §7.9.2.2): UTF-16BE with BOM, UTF-8 with BOM, else PDFDocEncoding (≈ latin1). */
  text(): string {
    const b = this.bytes;
    if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) {
      let s = '';
      for (let i = 2; i + 1 < b.length; i += 2) s += String.fromCharCode((b[i]! << 8) | b[i + 1]!);
      return s;
    }
    if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) {
      return new TextDecoder('utf-8').decode(b.subarray(3));
    }
    let s = '';
    for (const c of b) s += String.fromCharCode(c);
    return s;
  }
  /** Encodes text as a PDF text string: ASCII stays ASCII, anything else becomes UTF-16BE with BOM. */
  static fromText(text: string): PdfString {
    if (/^[\x20-\x7e]*$/.test(text)) return new PdfString(latin1Bytes(text));
    const out = new Uint8Array(2 + text.length * 2);
    out[0] = 0xfe;
    out[1] = 0xff;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      out[2 + i * 2] = c >> 8;
      out[3 + i * 2] = c & 0xff;
    }
    return new PdfString(out, true);
  }
  static latin1(text: string): PdfString {
    return new PdfString(latin1Bytes(text));
  }
}

export class PdfRef {
  constructor(
    readonly num: number,
    readonly gen: number,
  ) {}
  toString(): string {
    return `${this.num} ${this.gen} R`;
  }
  equals(other: unknown): boolean {
    return other instanceof PdfRef && other.num === this.num && other.gen === this.gen;
  }
}

export class PdfDict {
  readonly map: Map<string, PdfObject>;
  constructor(entries?: Iterable<[string, PdfObject]>) {
    this.map = new Map(entries);
  }
  get(key: string): PdfObject | undefined {
    return this.map.get(key);
  }
  set(key: string, value: PdfObject): this {
    this.map.set(key, value);
    return this;
  }
  delete(key: string): void {
    this.map.delete(key);
  }
  has(key: string): boolean {
    return this.map.has(key);
  }
  /** The value if it is a name, as a string. */
  name(key: string): string | undefined {
    const v = this.map.get(key);
    return v instanceof PdfName ? v.value : undefined;
  }
  clone(): PdfDict {
    return new PdfDict(this.map);
  }
}

/** A stream: its dictionary and its raw (still encoded) bytes. */
export class PdfStream {
  constructor(
    readonly dict: PdfDict,
    readonly data: Uint8Array,
  ) {}
}

/** Bytes written verbatim by the writer (placeholders such as a signature's /Contents). */
export class PdfRaw {
  constructor(readonly text: string) {}
}

export type PdfObject =
  | null
  | boolean
  | number
  | PdfName
  | PdfString
  | PdfRef
  | PdfDict
  | PdfStream
  | PdfRaw
  | PdfObject[];

const ascii = new TextEncoder();
const ASCII_ONLY = /^[\x00-\x7f]*$/;

export function latin1Bytes(s: string): Uint8Array {
  // ASCII (the writer's syntax, hex strings, placeholders) is the same in UTF-8: the native encoder,
  // not a per-character loop that a first signing would run interpreted over tens of KB
  if (s.length > 32 && ASCII_ONLY.test(s)) return ascii.encode(s);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

export function latin1String(b: Uint8Array, start = 0, end = b.length): string {
  let s = '';
  const chunk = 8192;
  for (let i = start; i < end; i += chunk) {
    s += String.fromCharCode(...b.subarray(i, Math.min(end, i + chunk)));
  }
  return s;
}

export const name = PdfName.of;
