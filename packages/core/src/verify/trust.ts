/**
 * Trust for verification: the one place verify asks whether a signer, a time-stamp authority or
 * a CRL issuer chains to the configured trust anchors. It calls RFC 5280 path validation
 * (pki/path.ts) and turns its result into the report's trust verdict.
 */
import type { CertificateInfo } from '../pki/certificate';
import { type PathPurpose, type PathValidationResult, validatePath } from '../pki/path';

export { pemToDer } from '../pki/pem';

export type TrustVerdict = 'trusted' | 'untrusted' | 'expired' | 'revoked' | 'unknown';

export interface TrustResult {
  trust: TrustVerdict;
  reasons: string[];
  /** The path found, leaf first (DER). */
  path: Uint8Array[];
  /** What path validation found wrong, when it did. */
  problem?: PathValidationResult['problem'];
}

const PURPOSE: Record<'signing' | 'timestamping' | 'crl-signing', PathPurpose> = {
  signing: 'signer',
  timestamping: 'tsa',
  'crl-signing': 'crl-issuer',
};

export async function evaluateTrust(
  leaf: CertificateInfo,
  pool: Uint8Array[],
  anchorsDer: Uint8Array[],
  crlsDer: Uint8Array[],
  at: Date,
  purpose: 'signing' | 'timestamping' | 'crl-signing' = 'signing',
): Promise<TrustResult> {
  const r = await validatePath({
    target: leaf.der,
    intermediates: pool,
    trustAnchors: anchorsDer,
    crls: crlsDer,
    time: at,
    purpose: PURPOSE[purpose],
    revocation: 'if-available',
  });
  const trust: TrustVerdict = r.valid
    ? 'trusted'
    : r.problem === 'revoked'
      ? 'revoked'
      : r.problem === 'validity'
        ? 'expired'
        : 'untrusted';
  // a trusted path may still come with CRLs that had to be set aside: say so
  return { trust, reasons: r.valid ? (r.warnings ?? []) : r.reasons, path: r.path, problem: r.problem };
}
