/** ECDSA signature encodings: WebCrypto's r||s (IEEE P1363) and CMS/X.509's DER SEQUENCE{r, s}. */
import { SidianError } from '../errors';
import { derInteger, derSequence, parseDer } from '../pki/der';

/** Field size in bytes for a WebCrypto curve name. */
export function curveFieldSize(curve: string): number {
  switch (curve) {
    case 'P-256':
      return 32;
    case 'P-384':
      return 48;
    case 'P-521':
      return 66;
    default:
      throw new SidianError('KEY_UNSUPPORTED', `unsupported curve ${curve}`);
  }
}

/** r||s (two equal halves) to DER SEQUENCE { INTEGER r, INTEGER s }. */
export function ecdsaRawToDer(raw: Uint8Array): Uint8Array {
  if (raw.length === 0 || raw.length % 2 !== 0) {
    throw new SidianError('SIGNER_FAILED', `ECDSA signature of odd length ${raw.length}`);
  }
  const n = raw.length / 2;
  return derSequence(derInteger(raw.subarray(0, n)), derInteger(raw.subarray(n)));
}

/**
 * DER SEQUENCE { r, s } to r||s with each half left-padded to `fieldSize`; null when `der` is not a
 * strictly DER-encoded ECDSA signature for that field size.
 */
export function ecdsaDerToRaw(der: Uint8Array, fieldSize: number): Uint8Array | null {
  try {
    const seq = parseDer(der, { ber: false, maxDepth: 2 }).expect(0x30);
    if (seq.children.length !== 2) return null;
    const out = new Uint8Array(fieldSize * 2);
    for (let i = 0; i < 2; i++) {
      const int = seq.children[i]!.expect(0x02);
      let c = int.content;
      if (c.length === 0 || c[0]! & 0x80) return null; // negative
      if (c.length > 1 && c[0] === 0 && !(c[1]! & 0x80)) return null; // non-minimal
      if (c[0] === 0) c = c.subarray(1);
      if (c.length > fieldSize) return null;
      out.set(c, (i + 1) * fieldSize - c.length);
    }
    return out;
  } catch {
    return null;
  }
}

/**
 * Accepts an ECDSA signature as DER or as r||s and returns DER. DER is tried first; a value that is
 * not DER must be exactly 2 * fieldSize bytes.
 */
export function normalizeEcdsaSignature(sig: Uint8Array, fieldSize: number): Uint8Array {
  const raw = ecdsaDerToRaw(sig, fieldSize);
  if (raw) return ecdsaRawToDer(raw); // re-encode: canonical DER either way
  if (sig.length === fieldSize * 2) return ecdsaRawToDer(sig);
  throw new SidianError(
    'SIGNER_FAILED',
    `ECDSA signature is neither DER nor r||s of ${fieldSize * 2} bytes (got ${sig.length} bytes)`,
  );
}
