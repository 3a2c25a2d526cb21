/** Signer over an SM2 private key (国密 SM2 with SM3), in pure JavaScript for browsers and Node. */
import { SidianError } from '../errors';
import {
  sm2Pkcs8,
  sm2PrivateKeyFromDer,
  sm2PublicKey,
  sm2RandomPrivateKey,
  sm2Sign,
  sm2Spki,
} from '../gm/sm2';
import { bytesEqual } from '../pki/der';
import { resolveSignerAlgorithm } from './algorithms';
import type { Signer } from './types';

export interface Sm2KeyPair {
  /** The private scalar d (32 bytes). Keep it secret; `pkcs8` holds the same key for export. */
  privateKey: Uint8Array;
  /** PKCS#8 PrivateKeyInfo DER, as OpenSSL 3 writes SM2 keys. */
  pkcs8: Uint8Array;
  /** The public point 04 || x || y. */
  publicKey: Uint8Array;
  /** SubjectPublicKeyInfo DER (id-ecPublicKey, SM2 curve), e.g. for a certificate request. */
  spki: Uint8Array;
}

/** A fresh SM2 key pair on the recommended curve (GB/T 32918.5), from crypto.getRandomValues. */
export function createSm2Key(): Sm2KeyPair {
  const privateKey = sm2RandomPrivateKey();
  const publicKey = sm2PublicKey(privateKey);
  return { privateKey, pkcs8: sm2Pkcs8(privateKey), publicKey, spki: sm2Spki(publicKey) };
}

/**
 * A Signer with an SM2 key: the key as 32 raw bytes, PKCS#8 or SEC1 DER; the certificate's public
 * key must be this key's (checked, so a seal never carries someone else's certificate). Signs the
 * signed attributes with SM2 over SM3(Z || attributes), Z with the default identifier
 * 1234567812345678 (GM/T 0009 §10). Throws KEY_UNSUPPORTED, CERT_MALFORMED.
 */
export function signerFromSm2(
  privateKey: Uint8Array | Sm2KeyPair,
  certificate: Uint8Array,
  chain: Uint8Array[] = [],
): Signer {
  const d = sm2PrivateKeyFromDer(privateKey instanceof Uint8Array ? privateKey : privateKey.privateKey);
  const publicKey = sm2PublicKey(d);
  return sm2SignerFor(publicKey, certificate, chain, async (signedAttributes) =>
    sm2Sign(d, signedAttributes, { publicKey }),
  );
}

/**
 * The Signer around an SM2 signing function for `publicKey` (the key may live elsewhere, e.g.
 * encrypted in Sm2KeyStore): checks that the certificate certifies this very key.
 * Throws KEY_UNSUPPORTED, CERT_MALFORMED.
 */
export function sm2SignerFor(
  publicKey: Uint8Array,
  certificate: Uint8Array,
  chain: Uint8Array[],
  sign: (signedAttributes: Uint8Array) => Promise<Uint8Array>,
): Signer {
  const resolved = resolveSignerAlgorithm({ certificate, algorithm: 'SM2', hash: 'SM3' });
  const pk = resolved.certificate.publicKey;
  if (pk.kind !== 'ec' || !bytesEqual(pk.point, publicKey)) {
    throw new SidianError('KEY_UNSUPPORTED', 'the SM2 key does not belong to the certificate');
  }
  return { certificate, chain, algorithm: 'SM2', hash: 'SM3', sign };
}
