/** Minimal DER for the TSA's hot path: a bounded TLV reader and writers (asn1js is ~20× slower here). */

export interface Tlv {
  tag: number;
  /** Offsets into the input: the whole TLV, and its content. */
  start: number;
  contentStart: number;
  end: number;
}

export class DerError extends Error {}

/** Reads the TLV at `pos` (definite lengths only, as DER requires). */
export function readTlv(b: Uint8Array, pos: number, limit = b.length): Tlv {
  if (pos + 2 > limit) throw new DerError('truncated');
  const tag = b[pos]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('high tag numbers are not used here');
  let len = b[pos + 1]!;
  let p = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new DerError('bad length');
    if (p + n > limit) throw new DerError('truncated');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[p + i]!;
    p += n;
  }
  if (p + len > limit) throw new DerError('truncated');
  return { tag, start: pos, contentStart: p, end: p + len };
}

/** The TLVs inside a constructed TLV. */
export function children(b: Uint8Array, t: Tlv, max = 64): Tlv[] {
  const out: Tlv[] = [];
  for (let p = t.contentStart; p < t.end;) {
    if (out.length >= max) throw new DerError('too many elements');
    const c = readTlv(b, p, t.end);
    out.push(c);
    p = c.end;
  }
  return out;
}

export const raw = (b: Uint8Array, t: Tlv) => b.subarray(t.start, t.end);
export const content = (b: Uint8Array, t: Tlv) => b.subarray(t.contentStart, t.end);

/**
 * OBJECT IDENTIFIER content to dotted text (X.690 §8.19). Arcs are BigInt: UUID OIDs under 2.25
 * (ITU-T X.667) have 128-bit arcs that a float would round, so a request naming our own policy
 * would not match it.
 */
export function decodeOid(c: Uint8Array): string {
  if (c.length === 0 || c[c.length - 1]! & 0x80) throw new DerError('bad OBJECT IDENTIFIER');
  const parts: string[] = [];
  let v = 0n;
  for (let i = 0; i < c.length; i++) {
    if (v === 0n && c[i] === 0x80) throw new DerError('OBJECT IDENTIFIER arc not minimally encoded');
    v = (v << 7n) | BigInt(c[i]! & 0x7f);
    if (!(c[i]! & 0x80)) {
      if (parts.length === 0) {
        const first = v < 40n ? 0n : v < 80n ? 1n : 2n;
        parts.push(String(first), String(v - first * 40n));
      } else parts.push(String(v));
      v = 0n;
    }
  }
  return parts.join('.');
}

/** A dotted OID as text, e.g. from configuration: digits and dots, a first arc 0-2. */
export const OID_TEXT = /^[0-2](\.(0|[1-9]\d*))+$/;

// ------------------------------------------------------------------ writing

function lengthBytes(n: number): number[] {
  if (n < 0x80) return [n];
  const out: number[] = [];
  while (n > 0) {
    out.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return [0x80 | out.length, ...out];
}

export function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const lb = lengthBytes(len);
  const out = new Uint8Array(1 + lb.length + len);
  out[0] = tag;
  out.set(lb, 1);
  let o = 1 + lb.length;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export const seq = (...parts: Uint8Array[]) => tlv(0x30, ...parts);
export const set = (...parts: Uint8Array[]) => tlv(0x31, ...parts);
export const octets = (b: Uint8Array) => tlv(0x04, b);

export function oid(s: string): Uint8Array {
  const p = s.split('.').map(Number);
  const bytes: number[] = [];
  const push = (v: number) => {
    const tmp = [v & 0x7f];
    v = Math.floor(v / 128);
    while (v > 0) {
      tmp.unshift((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    bytes.push(...tmp);
  };
  push(p[0]! * 40 + p[1]!);
  for (let i = 2; i < p.length; i++) {
    // arcs beyond 2^53 (UUID OIDs under 2.25) need BigInt
    if (!Number.isSafeInteger(p[i]!)) return oidBig(s);
    push(p[i]!);
  }
  return tlv(0x06, Uint8Array.from(bytes));
}

function oidBig(s: string): Uint8Array {
  const p = s.split('.').map((x) => BigInt(x));
  const bytes: number[] = [];
  const push = (v: bigint) => {
    const tmp = [Number(v & 0x7fn)];
    v >>= 7n;
    while (v > 0n) {
      tmp.unshift(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    bytes.push(...tmp);
  };
  push(p[0]! * 40n + p[1]!);
  for (let i = 2; i < p.length; i++) push(p[i]!);
  return tlv(0x06, Uint8Array.from(bytes));
}

/** Non-negative INTEGER. */
export function integer(v: bigint | number): Uint8Array {
  let n = BigInt(v);
  if (n < 0n) throw new DerError('negative');
  const bytes: number[] = [];
  do {
    bytes.unshift(Number(n & 0xffn));
    n >>= 8n;
  } while (n > 0n);
  if (bytes[0]! & 0x80) bytes.unshift(0);
  return tlv(0x02, Uint8Array.from(bytes));
}

/** INTEGER from unsigned big-endian magnitude bytes. */
export function integerFromBytes(mag: Uint8Array): Uint8Array {
  let i = 0;
  while (i < mag.length - 1 && mag[i] === 0) i++;
  const m = mag.subarray(i);
  return m[0]! & 0x80 ? tlv(0x02, Uint8Array.of(0), m) : tlv(0x02, m);
}

export function generalizedTime(d: Date): Uint8Array {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const s = `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  return tlv(
    0x18,
    Uint8Array.from(s, (c) => c.charCodeAt(0)),
  );
}

export function utf8String(s: string): Uint8Array {
  return tlv(0x0c, new TextEncoder().encode(s));
}

/** ECDSA r||s (WebCrypto) to the DER SEQUENCE CMS carries. */
export function ecdsaDer(sig: Uint8Array): Uint8Array {
  const h = sig.length / 2;
  return seq(integerFromBytes(sig.subarray(0, h)), integerFromBytes(sig.subarray(h)));
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
