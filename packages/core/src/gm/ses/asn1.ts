/** Small asn1js helpers for reading and writing the GB/T 38540 / GM/T 0031 structures (ses.asn1). */
import * as asn1js from 'asn1js';
import { SidianError } from '../../errors';

/** The largest seal or signature we read (a seal is mostly its picture). */
export const MAX_SES_INPUT = 8 * 1024 * 1024;

export type Node = asn1js.AsnType;

export function malformed(what: string, detail?: string): SidianError {
  return new SidianError('SES_MALFORMED', `${what}${detail ? `: ${detail}` : ''}`);
}

/** Decodes exactly one BER value filling `bytes` (nothing may follow it). */
export function decode(bytes: Uint8Array, what: string): Node {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw malformed(what, 'empty input');
  if (bytes.length > MAX_SES_INPUT) throw malformed(what, 'too large');
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const { offset, result } = asn1js.fromBER(ab);
  if (offset === -1 || result.error) throw malformed(what, `not DER (${result.error || 'unreadable'})`);
  if (offset !== bytes.length) throw malformed(what, 'bytes after the structure');
  return result;
}

/** The exact encoding of a decoded value, as it was in the input (what a signature covers). */
export function rawOf(node: Node): Uint8Array {
  return new Uint8Array(node.valueBeforeDecodeView);
}

export function children(node: Node | undefined, what: string, min: number, max = min): Node[] {
  if (!(node instanceof asn1js.Sequence)) throw malformed(what, 'expected a SEQUENCE');
  const items = node.valueBlock.value;
  if (items.length < min || items.length > max) {
    throw malformed(
      what,
      `expected ${min === max ? min : `${min} to ${max}`} elements, found ${items.length}`,
    );
  }
  return items;
}

export function seqOf(node: Node | undefined, what: string): Node[] {
  if (!(node instanceof asn1js.Sequence)) throw malformed(what, 'expected a SEQUENCE OF');
  return node.valueBlock.value;
}

export function ia5(node: Node | undefined, what: string): string {
  if (!(node instanceof asn1js.IA5String)) throw malformed(what, 'expected an IA5String');
  return node.getValue();
}

export function utf8(node: Node | undefined, what: string): string {
  if (!(node instanceof asn1js.Utf8String)) throw malformed(what, 'expected a UTF8String');
  return node.getValue();
}

export function printable(node: Node | undefined, what: string): string {
  if (!(node instanceof asn1js.PrintableString || node instanceof asn1js.IA5String)) {
    throw malformed(what, 'expected a PrintableString');
  }
  return node.getValue();
}

export function int(node: Node | undefined, what: string): number {
  if (!(node instanceof asn1js.Integer)) throw malformed(what, 'expected an INTEGER');
  const v = node.toBigInt();
  if (v < 0n || v > 0x7fffffffn) throw malformed(what, 'integer out of range');
  return Number(v);
}

export function octets(node: Node | undefined, what: string): Uint8Array {
  if (!(node instanceof asn1js.OctetString) || node.idBlock.isConstructed) {
    throw malformed(what, 'expected an OCTET STRING');
  }
  return new Uint8Array(node.valueBlock.valueHexView);
}

export function bits(node: Node | undefined, what: string): Uint8Array {
  if (!(node instanceof asn1js.BitString) || node.idBlock.isConstructed) {
    throw malformed(what, 'expected a BIT STRING');
  }
  if (node.valueBlock.unusedBits !== 0) throw malformed(what, 'BIT STRING with unused bits');
  return new Uint8Array(node.valueBlock.valueHexView);
}

export function oid(node: Node | undefined, what: string): string {
  if (!(node instanceof asn1js.ObjectIdentifier)) throw malformed(what, 'expected an OBJECT IDENTIFIER');
  return node.getValue();
}

export function time(node: Node | undefined, what: string, kind: 'utc' | 'generalized' | 'either'): Date {
  const ok =
    (kind !== 'generalized' && node instanceof asn1js.UTCTime) ||
    (kind !== 'utc' && node instanceof asn1js.GeneralizedTime);
  if (!ok) throw malformed(what, kind === 'utc' ? 'expected a UTCTime' : 'expected a GeneralizedTime');
  const d = (node as asn1js.UTCTime | asn1js.GeneralizedTime).toDate();
  if (Number.isNaN(d.getTime())) throw malformed(what, 'unreadable time');
  return d;
}

/** [n] EXPLICIT context tag, or undefined when `node` is not one. */
export function explicit(node: Node | undefined, n: number): Node | undefined {
  if (!node || node.idBlock.tagClass !== 3 || node.idBlock.tagNumber !== n) return undefined;
  const inner = (node as asn1js.Constructed).valueBlock.value;
  if (!node.idBlock.isConstructed || inner?.length !== 1)
    throw malformed(`[${n}]`, 'expected one value inside');
  return inner[0];
}

export function isTagged(node: Node | undefined, n: number): boolean {
  return !!node && node.idBlock.tagClass === 3 && node.idBlock.tagNumber === n;
}

// ---- writing ----

export const enc = {
  seq: (...items: Node[]) => new asn1js.Sequence({ value: items }),
  ia5: (v: string) => new asn1js.IA5String({ value: v }),
  utf8: (v: string) => new asn1js.Utf8String({ value: v }),
  printable: (v: string) => new asn1js.PrintableString({ value: v }),
  int: (v: number) => new asn1js.Integer({ value: v }),
  octets: (v: Uint8Array) => new asn1js.OctetString({ valueHex: v.slice().buffer }),
  bits: (v: Uint8Array) => new asn1js.BitString({ valueHex: v.slice().buffer, unusedBits: 0 }),
  oid: (v: string) => new asn1js.ObjectIdentifier({ value: v }),
  /** GeneralizedTime, whole seconds, 'Z' (DER, X.690 §11.7). */
  generalized: (d: Date) =>
    new asn1js.GeneralizedTime({ valueDate: new Date(Math.floor(d.getTime() / 1000) * 1000) }),
  explicit: (n: number, inner: Node) =>
    new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: n }, value: [inner] }),
};

export function toDer(node: Node): Uint8Array {
  return new Uint8Array(node.toBER(false));
}
