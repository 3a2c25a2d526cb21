/**
 * A small, bounded ASN.1 BER/DER reader and DER writer.
 *
 * Why our own: CMS needs byte-exact slices (the signed attributes are signed as they are encoded,
 * certificates and names are copied verbatim), PKCS#12 files from other tools use BER (indefinite
 * lengths, constructed OCTET STRINGs), and every parse of untrusted bytes must be bounded.
 * No Node built-ins: runs in browsers and Node.
 */
import { nodeBuiltin, type NodeBufferModule } from '../platform';

/** Thrown by the reader; callers translate it into a SidianError with their own code. */
export class Asn1Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Asn1Error';
  }
}

export interface ParseLimits {
  /** Maximum nesting depth of constructed values (default 64). */
  maxDepth?: number;
  /** Maximum number of nodes in the tree (default 200 000). */
  maxNodes?: number;
  /** Accept BER (indefinite lengths, non-minimal lengths). Default true; DER-only when false. */
  ber?: boolean;
  /** Allow bytes after the top-level value (default false). */
  allowTrailing?: boolean;
}

export const CLASS_UNIVERSAL = 0;
export const CLASS_APPLICATION = 1;
export const CLASS_CONTEXT = 2;
export const CLASS_PRIVATE = 3;

/** One parsed TLV. Slices share memory with the parsed buffer. */
export class Asn1Node {
  /** @internal */
  constructor(
    readonly buffer: Uint8Array,
    /** Offset of the identifier octet in `buffer`. */
    readonly start: number,
    readonly headerLength: number,
    /** Content length (for indefinite lengths: without the end-of-contents octets). */
    readonly contentLength: number,
    /** Offset just past the value (including end-of-contents octets when indefinite). */
    readonly end: number,
    readonly cls: number,
    readonly constructed: boolean,
    readonly tagNumber: number,
    readonly indefinite: boolean,
    readonly children: Asn1Node[],
  ) {}

  /**
   * The identifier as one octet (class, constructed bit, number) for tag numbers below 31,
   * e.g. 0x30 for SEQUENCE, 0xa0 for [0] constructed; -1 for high tag numbers.
   */
  get tag(): number {
    if (this.tagNumber >= 31) return -1;
    return (this.cls << 6) | (this.constructed ? 0x20 : 0) | this.tagNumber;
  }

  /** The whole encoding of this value (identifier, length, content). */
  get raw(): Uint8Array {
    return this.buffer.subarray(this.start, this.end);
  }

  /** The content octets (for constructed values: the encodings of the children). */
  get content(): Uint8Array {
    const s = this.start + this.headerLength;
    return this.buffer.subarray(s, s + this.contentLength);
  }

  /** Child `i`, or an error naming `what` when absent. */
  child(i: number, what = 'element'): Asn1Node {
    const c = this.children[i];
    if (!c) throw new Asn1Error(`missing ${what}`);
    return c;
  }

  /** Checks the identifier; returns this. */
  expect(tag: number, what = 'element'): this {
    if (this.tag !== tag) {
      throw new Asn1Error(`${what}: expected tag 0x${tag.toString(16)}, got 0x${this.tag.toString(16)}`);
    }
    return this;
  }

  isContext(n: number): boolean {
    return this.cls === CLASS_CONTEXT && this.tagNumber === n;
  }
}

/** Parses one value (and by default requires that nothing follows it). */
export function parseDer(bytes: Uint8Array, limits: ParseLimits = {}): Asn1Node {
  const state = {
    nodes: 0,
    maxNodes: limits.maxNodes ?? 200_000,
    maxDepth: limits.maxDepth ?? 64,
    ber: limits.ber ?? true,
  };
  const node = readNode(bytes, 0, bytes.length, 0, state);
  if (!limits.allowTrailing && node.end !== bytes.length) {
    throw new Asn1Error('trailing bytes after the value');
  }
  return node;
}

interface State {
  nodes: number;
  maxNodes: number;
  maxDepth: number;
  ber: boolean;
}

function readNode(buf: Uint8Array, pos: number, limit: number, depth: number, st: State): Asn1Node {
  if (++st.nodes > st.maxNodes) throw new Asn1Error('too many ASN.1 nodes');
  if (depth > st.maxDepth) throw new Asn1Error('ASN.1 nesting too deep');
  const start = pos;
  if (pos >= limit) throw new Asn1Error('truncated: identifier');
  const id = buf[pos++]!;
  const cls = id >> 6;
  const constructed = (id & 0x20) !== 0;
  let tagNumber = id & 0x1f;
  if (tagNumber === 0x1f) {
    tagNumber = 0;
    for (let n = 0; ; n++) {
      if (pos >= limit) throw new Asn1Error('truncated: tag');
      if (n >= 4) throw new Asn1Error('tag number too large');
      const b = buf[pos++]!;
      tagNumber = tagNumber * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) break;
    }
  }
  if (pos >= limit) throw new Asn1Error('truncated: length');
  const lb = buf[pos++]!;
  let length = 0;
  let indefinite = false;
  if (lb < 0x80) {
    length = lb;
  } else if (lb === 0x80) {
    if (!st.ber) throw new Asn1Error('indefinite length in DER');
    if (!constructed) throw new Asn1Error('indefinite length on a primitive value');
    indefinite = true;
  } else {
    const n = lb & 0x7f;
    if (n > 4) throw new Asn1Error('length too large');
    if (pos + n > limit) throw new Asn1Error('truncated: length');
    for (let i = 0; i < n; i++) length = length * 256 + buf[pos++]!;
    if (!st.ber && (length < 0x80 || buf[pos - n] === 0)) throw new Asn1Error('non-minimal length in DER');
  }
  const headerLength = pos - start;
  const children: Asn1Node[] = [];
  if (indefinite) {
    let p = pos;
    for (;;) {
      if (p + 2 > limit) throw new Asn1Error('truncated: missing end-of-contents');
      if (buf[p] === 0 && buf[p + 1] === 0) break;
      const c = readNode(buf, p, limit, depth + 1, st);
      children.push(c);
      p = c.end;
    }
    return new Asn1Node(
      buf,
      start,
      headerLength,
      p - pos,
      p + 2,
      cls,
      constructed,
      tagNumber,
      true,
      children,
    );
  }
  const end = pos + length;
  if (end > limit) throw new Asn1Error('truncated: value longer than the input');
  if (constructed) {
    let p = pos;
    while (p < end) {
      const c = readNode(buf, p, end, depth + 1, st);
      children.push(c);
      p = c.end;
    }
  }
  return new Asn1Node(buf, start, headerLength, length, end, cls, constructed, tagNumber, false, children);
}

// ---------------------------------------------------------------------------------------------
// Value decoders

export function readOid(node: Asn1Node): string {
  node.expect(0x06, 'OBJECT IDENTIFIER');
  const c = node.content;
  if (c.length === 0) throw new Asn1Error('empty OBJECT IDENTIFIER');
  const arcs: string[] = [];
  let v = 0n;
  let first = true;
  for (let i = 0; i < c.length; i++) {
    const b = c[i]!;
    v = (v << 7n) | BigInt(b & 0x7f);
    if ((b & 0x80) === 0) {
      if (first) {
        const a = v < 40n ? 0n : v < 80n ? 1n : 2n;
        arcs.push(a.toString(), (v - a * 40n).toString());
        first = false;
      } else {
        arcs.push(v.toString());
      }
      v = 0n;
    } else if (i === c.length - 1) {
      throw new Asn1Error('truncated OBJECT IDENTIFIER');
    }
  }
  return arcs.join('.');
}

/** INTEGER as a bigint (two's complement). */
export function readInteger(node: Asn1Node): bigint {
  node.expect(0x02, 'INTEGER');
  const c = node.content;
  if (c.length === 0) throw new Asn1Error('empty INTEGER');
  let v = 0n;
  for (const b of c) v = (v << 8n) | BigInt(b);
  if (c[0]! & 0x80) v -= 1n << BigInt(c.length * 8);
  return v;
}

/** A small non-negative INTEGER as a number. */
export function readSmallInt(node: Asn1Node, max = 0x7fffffff): number {
  const v = readInteger(node);
  if (v < 0n || v > BigInt(max)) throw new Asn1Error('INTEGER out of range');
  return Number(v);
}

export function readBoolean(node: Asn1Node): boolean {
  node.expect(0x01, 'BOOLEAN');
  if (node.content.length !== 1) throw new Asn1Error('bad BOOLEAN');
  return node.content[0] !== 0;
}

/**
 * The octets of an OCTET STRING (or of any string type / implicitly tagged string), joining the
 * segments of a constructed (BER) encoding.
 */
export function readOctets(node: Asn1Node): Uint8Array {
  if (!node.constructed) return node.content;
  const parts: Uint8Array[] = [];
  const walk = (n: Asn1Node, depth: number) => {
    if (depth > 8) throw new Asn1Error('constructed string nested too deep');
    for (const c of n.children) {
      if (c.constructed) walk(c, depth + 1);
      else parts.push(c.content);
    }
  };
  walk(node, 0);
  return concatBytes(...parts);
}

export function readOctetString(node: Asn1Node): Uint8Array {
  if (node.cls !== CLASS_UNIVERSAL || node.tagNumber !== 4) throw new Asn1Error('expected OCTET STRING');
  return readOctets(node);
}

/** BIT STRING content without the unused-bits octet (requires 0 unused bits). */
export function readBitStringBytes(node: Asn1Node): Uint8Array {
  node.expect(0x03, 'BIT STRING');
  const c = node.content;
  if (c.length === 0) throw new Asn1Error('empty BIT STRING');
  if (c[0] !== 0) throw new Asn1Error('BIT STRING with unused bits');
  return c.subarray(1);
}

/** UTCTime or GeneralizedTime. */
export function readTime(node: Asn1Node): Date {
  const s = latin1(node.content);
  let m: RegExpMatchArray | null;
  if (node.tag === 0x17) {
    m = s.match(/^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?Z$/);
    if (!m) throw new Asn1Error('bad UTCTime');
    const yy = Number(m[1]);
    const year = yy < 50 ? 2000 + yy : 1900 + yy;
    return utc(year, m[2]!, m[3]!, m[4]!, m[5]!, m[6] ?? '0', '');
  }
  if (node.tag === 0x18) {
    m = s.match(/^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(?:[.,](\d+))?Z$/);
    if (!m) throw new Asn1Error('bad GeneralizedTime');
    return utc(Number(m[1]), m[2]!, m[3]!, m[4]!, m[5]!, m[6]!, m[7] ?? '');
  }
  throw new Asn1Error('expected a time value');
}

function utc(y: number, mo: string, d: string, h: string, mi: string, s: string, frac: string): Date {
  const ms = frac ? Math.floor(Number('0.' + frac) * 1000) : 0;
  const t = Date.UTC(y, Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  if (Number.isNaN(t)) throw new Asn1Error('bad time value');
  return new Date(t);
}

/** Decodes the common ASN.1 string types to a JS string. */
export function readString(node: Asn1Node): string {
  const c = readOctets(node);
  switch (node.tagNumber) {
    case 12: // UTF8String
      return new TextDecoder('utf-8', { fatal: false }).decode(c);
    case 30: {
      // BMPString
      let s = '';
      for (let i = 0; i + 1 < c.length; i += 2) s += String.fromCharCode((c[i]! << 8) | c[i + 1]!);
      return s;
    }
    case 28: {
      // UniversalString
      let s = '';
      for (let i = 0; i + 3 < c.length; i += 4) {
        const cp = ((c[i]! << 24) | (c[i + 1]! << 16) | (c[i + 2]! << 8) | c[i + 3]!) >>> 0;
        s += cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd';
      }
      return s;
    }
    default: // PrintableString, IA5String, TeletexString (treated as Latin-1), VisibleString, NumericString
      return latin1(c);
  }
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return s;
}

// ---------------------------------------------------------------------------------------------
// Writer

function lengthOctets(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const out: number[] = [];
  while (n > 0) {
    out.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return Uint8Array.of(0x80 | out.length, ...out);
}

/** Encodes identifier octet `tag` (tag numbers below 31) with the given content. */
export function tlv(tag: number, ...content: Uint8Array[]): Uint8Array {
  const body = concatBytes(...content);
  return concatBytes(Uint8Array.of(tag), lengthOctets(body.length), body);
}

export const derSequence = (...items: Uint8Array[]) => tlv(0x30, ...items);

/** A SET OF in DER order: encodings sorted as octet strings (X.690 11.6). */
export function derSetOf(items: Uint8Array[], tag = 0x31): Uint8Array {
  return tlv(tag, ...[...items].sort(compareDerOrder));
}

/** X.690 11.6 ordering: compare as octet strings, the shorter padded with trailing zeros. */
export function compareDerOrder(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  const longer = a.length > b.length ? a : b;
  for (let i = n; i < longer.length; i++) if (longer[i] !== 0) return a.length > b.length ? 1 : -1;
  return 0;
}

export function derOid(oid: string): Uint8Array {
  const parts = oid.split('.').map((p) => {
    if (!/^\d+$/.test(p)) throw new Error(`bad OID ${oid}`);
    return BigInt(p);
  });
  if (parts.length < 2) throw new Error(`bad OID ${oid}`);
  const arcs = [parts[0]! * 40n + parts[1]!, ...parts.slice(2)];
  const out: number[] = [];
  for (const arc of arcs) {
    const bytes: number[] = [Number(arc & 0x7fn)];
    let v = arc >> 7n;
    while (v > 0n) {
      bytes.unshift(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(...bytes);
  }
  return tlv(0x06, Uint8Array.from(out));
}

/** INTEGER from a bigint/number, or from unsigned big-endian magnitude bytes. */
export function derInteger(value: bigint | number | Uint8Array): Uint8Array {
  if (value instanceof Uint8Array) return tlv(0x02, unsignedIntegerContent(value));
  let v = BigInt(value);
  const bytes: number[] = [];
  if (v === 0n) return tlv(0x02, Uint8Array.of(0));
  if (v > 0n) {
    while (v > 0n) {
      bytes.unshift(Number(v & 0xffn));
      v >>= 8n;
    }
    if (bytes[0]! & 0x80) bytes.unshift(0);
  } else {
    let n = 1;
    while (v < -(1n << BigInt(8 * n - 1))) n++;
    let u = v + (1n << BigInt(8 * n));
    for (let i = 0; i < n; i++) {
      bytes.unshift(Number(u & 0xffn));
      u >>= 8n;
    }
  }
  return tlv(0x02, Uint8Array.from(bytes));
}

/** Minimal two's complement content octets for an unsigned big-endian magnitude. */
export function unsignedIntegerContent(mag: Uint8Array): Uint8Array {
  let i = 0;
  while (i < mag.length - 1 && mag[i] === 0) i++;
  const m = mag.subarray(i);
  if (m.length === 0) return Uint8Array.of(0);
  return m[0]! & 0x80 ? concatBytes(Uint8Array.of(0), m) : m.slice();
}

export const derOctetString = (b: Uint8Array) => tlv(0x04, b);
export const derNull = () => Uint8Array.of(0x05, 0x00);
export const derBoolean = (b: boolean) => Uint8Array.of(0x01, 0x01, b ? 0xff : 0x00);
/** [n] EXPLICIT (constructed context tag). */
export const derExplicit = (n: number, inner: Uint8Array) => tlv(0xa0 | n, inner);
/** AlgorithmIdentifier; `params` undefined = absent, 'null' = NULL. */
export function derAlgorithm(oid: string, params?: Uint8Array | 'null'): Uint8Array {
  if (params === undefined) return derSequence(derOid(oid));
  return derSequence(derOid(oid), params === 'null' ? derNull() : params);
}

/** Copy of an encoding with its identifier octet replaced (IMPLICIT retagging). */
export function retag(encoding: Uint8Array, tag: number): Uint8Array {
  const out = encoding.slice();
  out[0] = tag;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Bytes

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/** Base64 (RFC 4648) of `b`, in browsers and Node alike. */
export function toBase64(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
  return btoa(s);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function toHex(b: Uint8Array): string {
  // Node's native hex (a signature's /Contents is KBs; the loop below runs interpreted in a first signing)
  const buffer = nodeBuiltin<NodeBufferModule>('node:buffer');
  if (buffer && b.length > 64) return buffer.Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
  let s = '';
  for (let i = 0; i < b.length; i++) s += HEX[b[i]!];
  return s;
}

export function fromHex(h: string): Uint8Array {
  const clean = h.replace(/\s+/g, '');
  if (clean.length % 2 || /[^0-9a-fA-F]/.test(clean)) throw new Error('bad hex');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.substr(i * 2, 2), 16);
  return out;
}

/** A standalone ArrayBuffer copy (WebCrypto wants BufferSource; avoids SharedArrayBuffer typing). */
export function toArrayBuffer(b: Uint8Array): ArrayBuffer {
  const out = new ArrayBuffer(b.length);
  new Uint8Array(out).set(b);
  return out;
}
