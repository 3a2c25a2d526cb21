/**
 * Trust for verification: the one place verify asks whether a signer, a time-stamp authority or
 * a CRL issuer chains to the configured trust anchors. It calls RFC 5280 path validation
 * (pki/path.ts) and turns its result into the report's trust verdict. Long-term validation
 * (verify/long-term.ts) adds its revocation evidence (DSS, OCSP, CMS revocation data) and its
 * validation time, which path validation consults for every certificate on the path.
 */
import { type CertificateInfo, describeName } from '../pki/certificate';
import { toHex } from '../pki/der';
import {
  type PathPurpose,
  type PathValidationResult,
  type RevocationEvidenceCheck,
  validatePath,
} from '../pki/path';
import { type Evidence, type UsedEvidence, revocationStatus } from '../pki/revocation';
import { verifySignature } from './cms-verify';

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

/** Revocation evidence for evaluateTrust; `used` collects the items that decided each certificate. */
export interface RevocationInput {
  evidence: Evidence;
  used: UsedEvidence[];
  /** The time of the verification: certificates expired by then need evidence from before expiry. */
  requireAfterExpiry?: Date;
}

export async function evaluateTrust(
  leaf: CertificateInfo,
  pool: Uint8Array[],
  anchorsDer: Uint8Array[],
  crlsDer: Uint8Array[],
  at: Date,
  purpose: 'signing' | 'timestamping' | 'crl-signing' = 'signing',
  revocation?: RevocationInput,
): Promise<TrustResult> {
  // What decided each certificate's status, by certificate: only those on the path returned count.
  const decided = new Map<string, UsedEvidence>();
  const fromEvidence: RevocationEvidenceCheck | undefined = revocation
    ? async (cert, issuer, time) => {
        const r = await revocationStatus(cert, issuer, time, revocation.evidence, (iss, alg, data, sig) =>
          verifySignature(iss, alg, 'SHA-256', data, sig),
        );
        if (r.used) decided.set(toHex(cert.der), r.used);
        else decided.delete(toHex(cert.der));
        // A certificate that has expired by the time of the verification has left its CA's CRLs:
        // only evidence from while it was valid shows that it was not revoked (EN 319 102-1 §5.6.2.1).
        if (
          r.status === 'unknown' &&
          revocation.requireAfterExpiry &&
          revocation.requireAfterExpiry > cert.notAfter
        )
          return {
            status: 'unknown',
            required: true,
            reasons: [
              ...r.reasons,
              `no revocation data from before the expiry of "${describeName(cert.subject)}" (${cert.notAfter.toISOString()}) shows that it was not revoked at ${time.toISOString()}`,
            ],
          };
        return { status: r.status, reasons: r.reasons };
      }
    : undefined;
  const r = await validatePath({
    target: leaf.der,
    intermediates: pool,
    trustAnchors: anchorsDer,
    crls: crlsDer,
    time: at,
    purpose: PURPOSE[purpose],
    revocation: 'if-available',
    revocationEvidence: fromEvidence,
  });
  if (revocation) {
    for (const der of r.path) {
      const used = decided.get(toHex(der));
      if (used) revocation.used.push(used);
    }
  }
  const trust: TrustVerdict = r.valid
    ? 'trusted'
    : r.problem === 'revoked'
      ? 'revoked'
      : r.problem === 'validity'
        ? 'expired'
        : r.problem === 'revocation-unknown'
          ? 'unknown'
          : 'untrusted';
  // a trusted path may still come with CRLs that had to be set aside: say so
  return { trust, reasons: r.valid ? (r.warnings ?? []) : r.reasons, path: r.path, problem: r.problem };
}
