/** AlgorithmIdentifiers that CMS SignedData carries for our signers. */
import { SidianError } from '../errors';
import { derAlgorithm, derExplicit, derInteger, derSequence } from '../pki/der';
import { HASH_LENGTH, HASH_OID, OID } from '../pki/oids';
import type { HashName, SignatureAlgorithmName } from '../signer/types';

/** digestAlgorithm: the hash OID with absent parameters (RFC 5754). */
export function digestAlgorithmIdentifier(hash: HashName): Uint8Array {
  const oid = HASH_OID[hash];
  if (!oid) throw new SidianError('KEY_UNSUPPORTED', `unsupported digest ${String(hash)}`);
  return derAlgorithm(oid);
}

const ECDSA_OIDS: Record<HashName, string> = {
  'SHA-256': OID.ecdsaWithSHA256,
  'SHA-384': OID.ecdsaWithSHA384,
  'SHA-512': OID.ecdsaWithSHA512,
};
const RSA_OIDS: Record<HashName, string> = {
  'SHA-256': OID.sha256WithRSAEncryption,
  'SHA-384': OID.sha384WithRSAEncryption,
  'SHA-512': OID.sha512WithRSAEncryption,
};

/**
 * signatureAlgorithm: ecdsa-with-SHAx (no parameters, RFC 5758), shaxWithRSAEncryption (NULL
 * parameters, RFC 4055), or id-RSASSA-PSS with RSASSA-PSS-params {hash, MGF1(hash), salt = hash
 * length, trailer 1 (default, omitted)} (RFC 4055 §3.1).
 */
export function signatureAlgorithmIdentifier(algorithm: SignatureAlgorithmName, hash: HashName): Uint8Array {
  switch (algorithm) {
    case 'ECDSA':
      return derAlgorithm(ECDSA_OIDS[hash]);
    case 'RSASSA-PKCS1-v1_5':
      return derAlgorithm(RSA_OIDS[hash], 'null');
    case 'RSA-PSS': {
      const hashAlg = derAlgorithm(HASH_OID[hash], 'null');
      return derAlgorithm(
        OID.rsassaPss,
        derSequence(
          derExplicit(0, hashAlg),
          derExplicit(1, derAlgorithm(OID.mgf1, hashAlg)),
          derExplicit(2, derInteger(HASH_LENGTH[hash])),
        ),
      );
    }
    default:
      throw new SidianError('KEY_UNSUPPORTED', `unsupported signature algorithm ${String(algorithm)}`);
  }
}
