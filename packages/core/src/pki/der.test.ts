import { describe, expect, it } from 'vitest';
import {
  Asn1Error,
  compareDerOrder,
  derInteger,
  derOid,
  derSetOf,
  fromHex,
  parseDer,
  readInteger,
  readOctets,
  readOid,
  readTime,
  toHex,
} from './der';

describe('DER writer', () => {
  it('encodes INTEGERs minimally, in two’s complement', () => {
    expect(toHex(derInteger(0))).toBe('020100');
    expect(toHex(derInteger(127))).toBe('02017f');
    expect(toHex(derInteger(128))).toBe('02020080');
    expect(toHex(derInteger(-1))).toBe('0201ff');
    expect(toHex(derInteger(-128))).toBe('020180');
    expect(toHex(derInteger(-129))).toBe('0202ff7f');
    expect(toHex(derInteger(fromHex('0000ff')))).toBe('020200ff');
    for (const v of [0n, 1n, -1n, 255n, 256n, -256n, 2n ** 64n + 5n, -(2n ** 70n)]) {
      expect(readInteger(parseDer(derInteger(v)))).toBe(v);
    }
  });

  it('encodes and decodes OIDs', () => {
    expect(toHex(derOid('1.2.840.113549.1.9.16.2.47'))).toBe('060b2a864886f70d010910022f');
    for (const oid of ['2.5.4.3', '1.3.6.1.4.1.99999.3161.1', '2.999.1', '0.9.2342.19200300.100.1.25']) {
      expect(readOid(parseDer(derOid(oid)))).toBe(oid);
    }
  });

  it('sorts SET OF as X.690 11.6 requires', () => {
    const a = fromHex('300301'),
      b = fromHex('3004'),
      c = fromHex('0401ff');
    expect(toHex(derSetOf([a, b, c]))).toBe('31080401ff3003013004');
    expect(compareDerOrder(fromHex('01'), fromHex('0100'))).toBe(0);
    expect(compareDerOrder(fromHex('01'), fromHex('0101'))).toBeLessThan(0);
  });
});

describe('BER/DER reader', () => {
  it('reads indefinite lengths and constructed OCTET STRINGs', () => {
    // SEQUENCE (indefinite) { OCTET STRING constructed (indefinite) { 'ab', 'cd' } }
    const ber = fromHex('3080' + '2480' + '0401ab' + '0401cd' + '0000' + '0000');
    const seq = parseDer(ber);
    expect(seq.indefinite).toBe(true);
    expect(toHex(readOctets(seq.child(0)))).toBe('abcd');
    expect(() => parseDer(ber, { ber: false })).toThrow(Asn1Error);
  });

  it('rejects truncation, trailing bytes and excessive nesting', () => {
    expect(() => parseDer(fromHex('3005020101'))).toThrow(/truncated/);
    expect(() => parseDer(fromHex('020101ff'))).toThrow(/trailing/);
    let deep = fromHex('0500');
    for (let i = 0; i < 100; i++) deep = Uint8Array.from([0x30, 0x80, ...deep, 0, 0]);
    expect(() => parseDer(deep)).toThrow(/deep/);
    expect(() => parseDer(fromHex('3084ffffffff'))).toThrow(Asn1Error);
  });

  it('reads UTCTime and GeneralizedTime', () => {
    const t = (tag: number, text: string) => {
      const b = new TextEncoder().encode(text);
      return readTime(parseDer(Uint8Array.from([tag, b.length, ...b]))).toISOString();
    };
    expect(t(0x17, '491231235959Z')).toBe('2049-12-31T23:59:59.000Z');
    expect(t(0x17, '500101000000Z')).toBe('1950-01-01T00:00:00.000Z');
    expect(t(0x18, '20261128000000.5Z')).toBe('2026-11-28T00:00:00.500Z');
    expect(() => t(0x18, '20261128000000+0800')).toThrow(Asn1Error);
  });
});
