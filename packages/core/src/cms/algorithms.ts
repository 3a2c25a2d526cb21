/** AlgorithmIdentifiers that CMS SignedData carries for our signers, read from the algorithm table. */
import { HASH_OID, signatureAlgorithmFor } from '../algorithms';
import { SidianError } from '../errors';
import { derAlgorithm } from '../pki/der';
import type { HashName, SignatureAlgorithmName } from '../signer/types';

/** digestAlgorithm: the hash OID with absent parameters (RFC 5754, GM/T 0010 §7). */
export function digestAlgorithmIdentifier(hash: HashName): Uint8Array {
  const oid = HASH_OID[hash];
  if (!oid) throw new SidianError('KEY_UNSUPPORTED', `unsupported digest ${String(hash)}`);
  return derAlgorithm(oid);
}

/** signatureAlgorithm: the table's row for (algorithm, hash), encoded as that row writes it. */
export function signatureAlgorithmIdentifier(algorithm: SignatureAlgorithmName, hash: HashName): Uint8Array {
  const row = signatureAlgorithmFor(algorithm, hash);
  if (!row?.encode) {
    throw new SidianError(
      'KEY_UNSUPPORTED',
      `unsupported signature algorithm ${String(algorithm)} with ${String(hash)}`,
    );
  }
  return row.encode(hash);
}
