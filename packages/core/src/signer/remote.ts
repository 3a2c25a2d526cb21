/** Remote signers: a department HSM, a UKey middleware, a cloud signing API — digest out, signature in. */
import { SidianError } from '../errors';
import { derAlgorithm, derOctetString, derSequence, toArrayBuffer } from '../pki/der';
import { HASH_LENGTH, HASH_OID } from '../algorithms';
import { resolveSignerAlgorithm } from './algorithms';
import { curveFieldSize, ecdsaDerToRaw, normalizeEcdsaSignature } from './ecdsa';
import type { HashName, SignatureAlgorithmName, Signer } from './types';

export interface RemoteSignInfo {
  algorithm: SignatureAlgorithmName;
  hash: HashName;
  /** RSA-PSS salt length (the digest length). */
  saltLength?: number;
  /** RSASSA-PKCS1-v1_5 only: the DER DigestInfo, for devices that sign a raw DigestInfo. */
  digestInfo?: Uint8Array;
  /** The DER of the signed attributes the digest was computed over (for audit logs). */
  signedAttributes: Uint8Array;
}

export interface RemoteSignerOptions {
  certificate: Uint8Array;
  chain?: Uint8Array[];
  /** Default: from the certificate's key (RSA means PKCS#1 v1.5). */
  algorithm?: SignatureAlgorithmName;
  /** Default: SHA-256 (SHA-384 for P-384, SHA-512 for P-521). */
  hash?: HashName;
  /**
   * Signs a digest. ECDSA results may be DER or r||s; RSA results are the raw signature value.
   */
  signDigest: (digest: Uint8Array, info: RemoteSignInfo) => Promise<Uint8Array>;
  /**
   * Verify each returned signature against the certificate's public key before using it
   * (default true): a remote service that signs with the wrong key fails here, not in a verifier.
   */
  verify?: boolean;
}

/** Throws KEY_UNSUPPORTED / CERT_MALFORMED at construction; sign() throws SIGNER_FAILED. */
export function signerFromRemote(options: RemoteSignerOptions): Signer {
  if (typeof options?.signDigest !== 'function') {
    throw new SidianError('KEY_UNSUPPORTED', 'signerFromRemote needs a signDigest function');
  }
  const certificate = options.certificate.slice();
  const chain = (options.chain ?? []).map((c) => c.slice());
  const resolved = resolveSignerAlgorithm({ certificate, algorithm: options.algorithm, hash: options.hash });
  const { algorithm, hash } = resolved;
  const verify = options.verify !== false;
  const fieldSize = resolved.curve ? curveFieldSize(resolved.curve) : 0;
  const saltLength = algorithm === 'RSA-PSS' ? HASH_LENGTH[hash] : undefined;
  let publicKey: Promise<CryptoKey> | undefined;

  const importPublicKey = () => {
    const spki = toArrayBuffer(resolved.certificate.spki);
    const alg =
      algorithm === 'ECDSA' ? { name: 'ECDSA', namedCurve: resolved.curve! } : { name: algorithm, hash };
    return globalThis.crypto.subtle.importKey('spki', spki, alg, false, ['verify']);
  };

  return {
    certificate,
    chain,
    algorithm,
    hash,
    async sign(signedAttributes: Uint8Array): Promise<Uint8Array> {
      const subtle = globalThis.crypto.subtle;
      const digest = new Uint8Array(await subtle.digest(hash, toArrayBuffer(signedAttributes)));
      const info: RemoteSignInfo = { algorithm, hash, signedAttributes: signedAttributes.slice() };
      if (saltLength !== undefined) info.saltLength = saltLength;
      if (algorithm === 'RSASSA-PKCS1-v1_5') {
        info.digestInfo = derSequence(derAlgorithm(HASH_OID[hash], 'null'), derOctetString(digest));
      }
      let result: Uint8Array;
      try {
        result = await options.signDigest(digest, info);
      } catch (e) {
        if (e instanceof SidianError) throw e;
        throw new SidianError('SIGNER_FAILED', `remote signer failed: ${(e as Error)?.message ?? String(e)}`);
      }
      if (!(result instanceof Uint8Array) || result.length === 0) {
        throw new SidianError('SIGNER_FAILED', 'remote signer returned no signature');
      }
      const signature = algorithm === 'ECDSA' ? normalizeEcdsaSignature(result, fieldSize) : result.slice();
      if (verify) {
        publicKey ??= importPublicKey();
        let ok = false;
        try {
          const key = await publicKey;
          const sigForWebCrypto = algorithm === 'ECDSA' ? ecdsaDerToRaw(signature, fieldSize)! : signature;
          const params =
            algorithm === 'ECDSA'
              ? { name: 'ECDSA', hash }
              : algorithm === 'RSA-PSS'
                ? { name: 'RSA-PSS', saltLength }
                : { name: algorithm };
          ok = await subtle.verify(
            params as AlgorithmIdentifier,
            key,
            toArrayBuffer(sigForWebCrypto),
            toArrayBuffer(signedAttributes),
          );
        } catch {
          ok = false;
        }
        if (!ok) {
          throw new SidianError(
            'SIGNER_FAILED',
            "the remote signature does not verify with the certificate's public key",
          );
        }
      }
      return signature;
    },
  };
}
