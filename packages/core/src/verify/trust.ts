/**
 * Chain building and trust (RFC 5280 §6, simplified to what PAdES validation at a point in time
 * needs): a path from the signer to a configured trust anchor, each certificate's signature,
 * validity at the validation time, the signer's key usage, and revocation from CRLs.
 */
import { type CertificateInfo, describeName, parseCertificate } from '../pki/certificate';
import { bytesEqual, parseDer, readBitStringBytes, readOid, toHex } from '../pki/der';
import { OID } from '../pki/oids';
import { type Evidence, type ParsedCrl, type UsedEvidence, parseCrl, revocationStatus } from '../pki/revocation';
import { verifySignature } from './cms-verify';

export type TrustVerdict = 'trusted' | 'untrusted' | 'expired' | 'revoked' | 'unknown';

export interface TrustResult {
  trust: TrustVerdict;
  reasons: string[];
  /** The path found, leaf first (DER). */
  path: Uint8Array[];
}

export { parseCrl, type ParsedCrl } from '../pki/revocation';

const pemCache = new Map<string, Uint8Array[]>();

export function pemToDer(input: Uint8Array | string): Uint8Array[] {
  if (typeof input === 'string') {
    let cached = pemCache.get(input);
    if (!cached) {
      cached = pemToDerUncached(input);
      if (pemCache.size >= 64) pemCache.delete(pemCache.keys().next().value!);
      pemCache.set(input, cached);
    }
    return cached;
  }
  return pemToDerUncached(input);
}

function pemToDerUncached(input: Uint8Array | string): Uint8Array[] {
  if (input instanceof Uint8Array) {
    // PEM passed as bytes?
    if (input[0] === 0x2d /* - */) return pemToDer(new TextDecoder().decode(input));
    return [input];
  }
  const out: Uint8Array[] = [];
  const re = /-----BEGIN [^-]+-----([\s\S]*?)-----END [^-]+-----/g;
  for (let m = re.exec(input); m; m = re.exec(input)) {
    const b64 = m[1]!.replace(/\s+/g, '');
    const bin = atob(b64);
    out.push(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
  }
  return out;
}

function tryParse(der: Uint8Array): CertificateInfo | undefined {
  try {
    return parseCertificate(der);
  } catch {
    return undefined;
  }
}

/** Results of certificate signature checks: the same chains come back document after document. */
const issuedCache = new Map<string, boolean>();

/** True when `issuer` signed `cert`. */
async function issued(issuer: CertificateInfo, cert: CertificateInfo): Promise<boolean> {
  if (!bytesEqual(issuer.subject, cert.issuer)) return false;
  const id = toHex(cert.der) + '/' + toHex(issuer.spki);
  const known = issuedCache.get(id);
  if (known !== undefined) return known;
  let ok = false;
  try {
    const c = parseDer(cert.der, { maxNodes: 20_000 });
    ok = (await verifySignature(issuer, c.child(1), 'SHA-256', c.child(0).raw, readBitStringBytes(c.child(2)))) === true;
  } catch {
    ok = false;
  }
  if (issuedCache.size >= 1024) issuedCache.delete(issuedCache.keys().next().value!);
  issuedCache.set(id, ok);
  return ok;
}

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
  purpose: 'signing' | 'timestamping' = 'signing',
  revocation?: RevocationInput,
): Promise<TrustResult> {
  const reasons: string[] = [];
  const anchors = anchorsDer.map(tryParse).filter((c): c is CertificateInfo => !!c);
  const candidates = pool.map(tryParse).filter((c): c is CertificateInfo => !!c);
  const path: CertificateInfo[] = [leaf];
  let anchored = false;
  for (let depth = 0; depth < 10; depth++) {
    const cur = path[path.length - 1]!;
    // Reached an anchor? (the certificate itself is an anchor, or an anchor issued it)
    const self = anchors.find((a) => bytesEqual(a.der, cur.der));
    if (self) {
      anchored = true;
      break;
    }
    let anchorIssuer: CertificateInfo | undefined;
    for (const a of anchors) if (await issued(a, cur)) anchorIssuer = a;
    if (anchorIssuer) {
      path.push(anchorIssuer);
      anchored = true;
      break;
    }
    let next: CertificateInfo | undefined;
    for (const c of candidates) {
      if (path.some((p) => bytesEqual(p.der, c.der))) continue;
      if (await issued(c, cur)) {
        next = c;
        break;
      }
    }
    if (!next) break;
    path.push(next);
  }
  const result = (trust: TrustVerdict): TrustResult => ({ trust, reasons, path: path.map((p) => p.der) });

  // Validity at the validation time, for every certificate on the path.
  for (const c of path) {
    if (at < c.notBefore) {
      reasons.push(`certificate "${describeName(c.subject)}" is not yet valid at ${at.toISOString()}`);
      return result('expired');
    }
    if (at > c.notAfter) {
      reasons.push(`certificate "${describeName(c.subject)}" expired on ${c.notAfter.toISOString()} (validation time ${at.toISOString()})`);
      return result('expired');
    }
  }
  if (revocation) {
    // Revocation from the evidence (pki/revocation.ts), recording what decided each certificate.
    for (let i = 0; i < path.length - 1; i++) {
      const c = path[i]!;
      const r = await revocationStatus(c, path[i + 1]!, at, revocation.evidence, (iss, alg, data, sig) =>
        verifySignature(iss, alg, 'SHA-256', data, sig),
      );
      if (r.used) revocation.used.push(r.used);
      if (r.status === 'revoked') {
        reasons.push(...r.reasons);
        return result('revoked');
      }
      // A certificate that has expired by the time of the verification has left its CA's CRLs:
      // only evidence from while it was valid shows that it was not revoked (EN 319 102-1 §5.6.2.1).
      if (r.status === 'unknown' && revocation.requireAfterExpiry && revocation.requireAfterExpiry > c.notAfter) {
        reasons.push(
          ...r.reasons,
          `no revocation data from before the expiry of "${describeName(c.subject)}" (${c.notAfter.toISOString()}) shows that it was not revoked at ${at.toISOString()}`,
        );
        return result('unknown');
      }
    }
  }
  // Revocation: CRLs whose issuer is on the path and whose signature verifies.
  const crls = crlsDer.map(parseCrl).filter((c): c is ParsedCrl => !!c);
  for (let i = 0; i < (revocation ? 0 : path.length - 1); i++) {
    const c = path[i]!;
    const iss = path[i + 1]!;
    for (const crl of crls) {
      if (!bytesEqual(crl.issuer, iss.subject)) continue;
      const sigOk = await verifySignature(iss, crl.sigAlg, 'SHA-256', crl.tbs, crl.signature);
      if (!sigOk) {
        reasons.push(`a CRL from "${describeName(iss.subject)}" has a bad signature and was ignored`);
        continue;
      }
      const when = crl.revoked.get(c.serialNumberHex);
      if (when && when <= at) {
        reasons.push(`certificate "${describeName(c.subject)}" was revoked on ${when.toISOString()}`);
        return result('revoked');
      }
    }
  }
  // Key usage of the leaf.
  const ku = leaf.extensions.get(OID.keyUsage);
  if (ku && purpose === 'signing') {
    try {
      // BIT STRING content: unused-bits count, then the bits (RFC 5280 §4.2.1.3)
      const node = parseDer(ku.value).expect(0x03, 'keyUsage');
      const first = node.content[1] ?? 0;
      const digitalSignature = (first & 0x80) !== 0;
      const nonRepudiation = (first & 0x40) !== 0;
      if (!digitalSignature && !nonRepudiation) {
        reasons.push('the signer certificate may not be used for signatures (key usage lacks digitalSignature and nonRepudiation)');
        return result('untrusted');
      }
    } catch {
      reasons.push('the signer certificate has an unreadable key usage');
      return result('untrusted');
    }
  }
  if (purpose === 'timestamping') {
    const eku = leaf.extensions.get(OID.extKeyUsage);
    let ok = false;
    try {
      if (eku) ok = parseDer(eku.value).children.some((n) => readOid(n) === OID.timeStamping);
    } catch {
      ok = false;
    }
    if (!ok) {
      reasons.push('the timestamp certificate lacks the timeStamping extended key usage');
      return result('untrusted');
    }
  }
  if (!anchored) {
    reasons.push(
      anchors.length === 0
        ? 'no trust anchors were given, so the signer cannot be trusted'
        : `no path from "${describeName(leaf.subject)}" to a trust anchor`,
    );
    return result('untrusted');
  }
  return result('trusted');
}

