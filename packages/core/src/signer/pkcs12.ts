/** Signer from a PKCS#12 (.p12/.pfx) file. */
import { keyTypeOf } from '../algorithms';
import { SidianError } from '../errors';
import { parseCertificate } from '../pki/certificate';
import { toArrayBuffer } from '../pki/der';
import { OID } from '../pki/oids';
import { parsePkcs12 } from '../pki/pkcs12';
import { signerFromCryptoKey } from './crypto-key';
import { signerFromSm2 } from './sm2';
import type { HashName, Signer } from './types';

export interface Pkcs12SignerOptions {
  /** RSA keys: PKCS#1 v1.5 (default) or RSA-PSS. */
  rsaScheme?: 'pkcs1' | 'pss';
  /** RSA keys: digest (default SHA-256). EC keys use the curve's digest. */
  hash?: HashName;
}

/**
 * Reads a PKCS#12 file (OpenSSL 3 defaults or `-legacy`, RSA, EC or SM2 keys), imports the key into
 * WebCrypto as non-extractable and returns signerFromCryptoKey(key, leaf, chain). The leaf is the
 * certificate matching the key (localKeyId, else public key); `chain` is its issuer path first,
 * then any other certificates in the file. An SM2 key gives signerFromSm2 (pure JavaScript).
 * Throws P12_MALFORMED, P12_BAD_PASSWORD, P12_UNSUPPORTED, KEY_UNSUPPORTED, CERT_MALFORMED.
 */
export async function signerFromPkcs12(
  p12: Uint8Array,
  password: string,
  options: Pkcs12SignerOptions = {},
): Promise<Signer> {
  const contents = await parsePkcs12(p12, password);
  const leaf = parseCertificate(contents.certificate);
  if (keyTypeOf(leaf) === 'sm2') {
    // SM2 (国密): no WebCrypto; the scalar is copied out of the PKCS#8, which is wiped here
    try {
      return signerFromSm2(contents.key.pkcs8, contents.certificate, contents.chain);
    } finally {
      contents.key.pkcs8.fill(0);
    }
  }
  const subtle = globalThis.crypto.subtle;
  let key: CryptoKey;
  // WebCrypto wants an ArrayBuffer: one copy of the key, wiped with the parsed one after import.
  const pkcs8 = toArrayBuffer(contents.key.pkcs8);
  try {
    if (contents.key.algorithmOid === OID.ecPublicKey) {
      const pk = leaf.publicKey;
      if (pk.kind !== 'ec' || !pk.curve)
        throw new SidianError('KEY_UNSUPPORTED', 'unsupported elliptic curve');
      key = await subtle.importKey('pkcs8', pkcs8, { name: 'ECDSA', namedCurve: pk.curve }, false, ['sign']);
    } else if (contents.key.algorithmOid === OID.rsaEncryption) {
      const name = options.rsaScheme === 'pss' ? 'RSA-PSS' : 'RSASSA-PKCS1-v1_5';
      key = await subtle.importKey('pkcs8', pkcs8, { name, hash: options.hash ?? 'SHA-256' }, false, [
        'sign',
      ]);
    } else {
      throw new SidianError(
        'KEY_UNSUPPORTED',
        `unsupported private key algorithm ${contents.key.algorithmOid}`,
      );
    }
  } catch (e) {
    if (e instanceof SidianError) throw e;
    throw new SidianError(
      'KEY_UNSUPPORTED',
      `the private key cannot be imported: ${(e as Error).message ?? String(e)}`,
    );
  } finally {
    contents.key.pkcs8.fill(0);
    new Uint8Array(pkcs8).fill(0);
  }
  return signerFromCryptoKey(key, contents.certificate, contents.chain);
}
