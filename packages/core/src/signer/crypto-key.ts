/** Signer over a WebCrypto private key (browser: non-extractable, kept in IndexedDB). */
import { SidianError } from '../errors';
import { toArrayBuffer } from '../pki/der';
import { HASH_LENGTH } from '../algorithms';
import { defaultHashForCurve, resolveSignerAlgorithm } from './algorithms';
import { curveFieldSize, ecdsaRawToDer } from './ecdsa';
import type { HashName, SignatureAlgorithmName, Signer } from './types';

const MIN_RSA_BITS = 2048;
const MAX_RSA_BITS = 4096;

/**
 * A Signer over a WebCrypto private key: ECDSA P-256 (SHA-256), P-384 (SHA-384), P-521 (SHA-512),
 * RSASSA-PKCS1-v1_5 and RSA-PSS (2048–4096 bits; the digest is the key's `hash`; PSS salt length =
 * digest length). Checks that the key's type matches the certificate's public key (the key itself
 * cannot be compared without signing). ECDSA output is converted to DER.
 * Throws KEY_UNSUPPORTED, CERT_MALFORMED.
 */
export function signerFromCryptoKey(
  privateKey: CryptoKey,
  certificate: Uint8Array,
  chain: Uint8Array[] = [],
): Signer {
  if (!privateKey || typeof privateKey !== 'object' || !('algorithm' in privateKey)) {
    throw new SidianError('KEY_UNSUPPORTED', 'privateKey must be a CryptoKey');
  }
  if (privateKey.type !== 'private') throw new SidianError('KEY_UNSUPPORTED', 'the key is not a private key');
  if (!privateKey.usages.includes('sign'))
    throw new SidianError('KEY_UNSUPPORTED', 'the key is not usable for signing');

  const alg = privateKey.algorithm as KeyAlgorithm & {
    namedCurve?: string;
    modulusLength?: number;
    hash?: { name: string };
  };
  let algorithm: SignatureAlgorithmName;
  let hash: HashName;
  let params: AlgorithmIdentifier | EcdsaParams | RsaPssParams;
  let fieldSize = 0;
  switch (alg.name) {
    case 'ECDSA': {
      const curve = alg.namedCurve;
      if (curve !== 'P-256' && curve !== 'P-384' && curve !== 'P-521') {
        throw new SidianError('KEY_UNSUPPORTED', `unsupported curve ${String(curve)}`);
      }
      algorithm = 'ECDSA';
      hash = defaultHashForCurve(curve);
      fieldSize = curveFieldSize(curve);
      params = { name: 'ECDSA', hash } satisfies EcdsaParams;
      const resolved = resolveSignerAlgorithm({ certificate, algorithm, hash });
      if (resolved.curve !== curve) {
        throw new SidianError(
          'KEY_UNSUPPORTED',
          `the key is on ${curve} but the certificate's key is on ${resolved.curve}`,
        );
      }
      break;
    }
    case 'RSASSA-PKCS1-v1_5':
    case 'RSA-PSS': {
      const bits = alg.modulusLength ?? 0;
      if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
        throw new SidianError(
          'KEY_UNSUPPORTED',
          `RSA keys must have ${MIN_RSA_BITS}–${MAX_RSA_BITS} bits (got ${bits})`,
        );
      }
      const h = alg.hash?.name;
      if (h !== 'SHA-256' && h !== 'SHA-384' && h !== 'SHA-512') {
        throw new SidianError('KEY_UNSUPPORTED', `unsupported RSA digest ${String(h)}`);
      }
      algorithm = alg.name;
      hash = h;
      params =
        alg.name === 'RSA-PSS'
          ? ({ name: 'RSA-PSS', saltLength: HASH_LENGTH[h] } satisfies RsaPssParams)
          : { name: alg.name };
      const resolved = resolveSignerAlgorithm({ certificate, algorithm, hash });
      if (resolved.modulusBits !== bits) {
        throw new SidianError(
          'KEY_UNSUPPORTED',
          `the key has ${bits} bits but the certificate's key has ${resolved.modulusBits}`,
        );
      }
      break;
    }
    default:
      throw new SidianError('KEY_UNSUPPORTED', `unsupported key algorithm ${alg.name}`);
  }

  const certCopy = certificate.slice();
  const chainCopy = chain.map((c) => c.slice());
  return {
    certificate: certCopy,
    chain: chainCopy,
    algorithm,
    hash,
    async sign(signedAttributes: Uint8Array): Promise<Uint8Array> {
      let sig: Uint8Array;
      try {
        sig = new Uint8Array(
          await globalThis.crypto.subtle.sign(params, privateKey, toArrayBuffer(signedAttributes)),
        );
      } catch (e) {
        throw new SidianError('SIGNER_FAILED', `signing failed: ${(e as Error).message ?? String(e)}`);
      }
      return algorithm === 'ECDSA' ? ecdsaRawToDer(checkRawLength(sig, fieldSize)) : sig;
    },
  };
}

function checkRawLength(sig: Uint8Array, fieldSize: number): Uint8Array {
  if (sig.length !== fieldSize * 2) {
    throw new SidianError('SIGNER_FAILED', `unexpected ECDSA signature length ${sig.length}`);
  }
  return sig;
}
