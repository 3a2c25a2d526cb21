/** Deriving a signer's signature algorithm and digest from its certificate and declared fields. */
import { keyTypeOf, signatureAlgorithmFor } from '../algorithms';
import { SidianError } from '../errors';
import { type CertificateInfo, type NamedCurve, parseCertificate } from '../pki/certificate';
import type { HashName, SignatureAlgorithmName, Signer } from './types';

export interface ResolvedAlgorithm {
  algorithm: SignatureAlgorithmName;
  hash: HashName;
  /** ECDSA only. */
  curve?: NamedCurve;
  /** RSA only: modulus length in bits. */
  modulusBits?: number;
  certificate: CertificateInfo;
}

const HASHES: readonly HashName[] = ['SHA-256', 'SHA-384', 'SHA-512', 'SM3'];

/** Default digest for a curve: SHA-256 for P-256, SHA-384 for P-384, SHA-512 for P-521. */
export function defaultHashForCurve(curve: NamedCurve): HashName {
  return curve === 'P-384' ? 'SHA-384' : curve === 'P-521' ? 'SHA-512' : 'SHA-256';
}

/**
 * The algorithm and digest a signer uses: its own `algorithm`/`hash` when set, otherwise derived from
 * the certificate's public key (RSA means PKCS#1 v1.5 unless the key is an id-RSASSA-PSS key).
 * An SM2 key (id-ecPublicKey on the SM2 curve) signs with SM2 and SM3 only. Throws
 * KEY_UNSUPPORTED for other keys (brainpool, Ed25519, ...) and for pairs the algorithm table lacks.
 */
export function resolveSignerAlgorithm(
  signer: Pick<Signer, 'certificate' | 'algorithm' | 'hash'>,
): ResolvedAlgorithm {
  const certificate = parseCertificate(signer.certificate);
  if (signer.hash !== undefined && !HASHES.includes(signer.hash)) {
    throw new SidianError('KEY_UNSUPPORTED', `unsupported digest ${String(signer.hash)}`);
  }
  const resolved = resolveByKey(signer, certificate);
  // the table must have a row that writes this pair (no RSA with SM3, no SM2 with SHA-256)
  if (!signatureAlgorithmFor(resolved.algorithm, resolved.hash)) {
    throw new SidianError('KEY_UNSUPPORTED', `${resolved.algorithm} with ${resolved.hash} is not supported`);
  }
  return resolved;
}

function resolveByKey(
  signer: Pick<Signer, 'algorithm' | 'hash'>,
  certificate: CertificateInfo,
): ResolvedAlgorithm {
  const pk = certificate.publicKey;
  if (keyTypeOf(certificate) === 'sm2') {
    if (signer.algorithm && signer.algorithm !== 'SM2') {
      throw new SidianError('KEY_UNSUPPORTED', `an SM2 certificate cannot sign with ${signer.algorithm}`);
    }
    return { algorithm: 'SM2', hash: signer.hash ?? 'SM3', certificate };
  }
  if (pk.kind === 'ec') {
    if (!pk.curve) {
      throw new SidianError(
        'KEY_UNSUPPORTED',
        `unsupported elliptic curve ${pk.curveOid || '(explicit parameters)'}`,
      );
    }
    if (signer.algorithm && signer.algorithm !== 'ECDSA') {
      throw new SidianError('KEY_UNSUPPORTED', `an EC certificate cannot sign with ${signer.algorithm}`);
    }
    return {
      algorithm: 'ECDSA',
      hash: signer.hash ?? defaultHashForCurve(pk.curve),
      curve: pk.curve,
      certificate,
    };
  }
  if (pk.kind === 'rsa') {
    const algorithm = signer.algorithm ?? (pk.pssOnly ? 'RSA-PSS' : 'RSASSA-PKCS1-v1_5');
    if (algorithm === 'ECDSA')
      throw new SidianError('KEY_UNSUPPORTED', 'an RSA certificate cannot sign with ECDSA');
    if (pk.pssOnly && algorithm !== 'RSA-PSS') {
      throw new SidianError('KEY_UNSUPPORTED', 'the certificate restricts its RSA key to RSA-PSS');
    }
    return { algorithm, hash: signer.hash ?? 'SHA-256', modulusBits: pk.modulusBits, certificate };
  }
  throw new SidianError('KEY_UNSUPPORTED', `unsupported public key algorithm ${pk.algorithmOid}`);
}

/** The digest a signer uses for the document and the signed attributes. */
export function signerHash(signer: Pick<Signer, 'certificate' | 'algorithm' | 'hash'>): HashName {
  return resolveSignerAlgorithm(signer).hash;
}
