/**
 * Verifying a detached CMS signature over content held elsewhere (an applicant's signature over an
 * uploaded material, as `createCadesSignature({documentDigest})` makes it): the same steps as a PDF
 * signature minus the PDF — digest and CMS signature (RFC 5652 §5.6), signing-certificate-v2, an
 * optional signature timestamp, then the chain to the given trust anchors.
 */
import { describeName, nameAttribute } from '../pki/certificate';
import { OID } from '../pki/oids';
import { type AnyHash, verifySignedData, verifyTimestampToken } from './cms-verify';
import { evaluateTrust, pemToDer } from './trust';
import type { SignerSummary, Status } from './types';

export interface DetachedContent {
  /** SHA-256 of the content, when that is all the verifier holds (enough for SHA-256 signatures). */
  sha256?: Uint8Array;
  /** The content's digest with any other algorithm the signature names. */
  digest?: (hash: AnyHash) => Promise<Uint8Array>;
}

export interface DetachedVerifyOptions {
  /** Trust anchors, PEM (one or many certificates) or DER. */
  trustAnchors?: (string | Uint8Array)[];
  /** Validation time (default: now, or a trusted signature timestamp's time). */
  at?: Date;
  /** CRLs (DER, or PEM text) to check the signer's and the TSA's chain against. */
  crls?: (string | Uint8Array)[];
}

export interface DetachedSignatureReport {
  /** invalid: integrity is not ok; indeterminate: only trust is not established. */
  status: Status;
  integrity: 'ok' | 'digest-mismatch' | 'bad-signature' | 'malformed';
  trust: 'trusted' | 'untrusted' | 'expired' | 'revoked' | 'unknown';
  /** The signer, with its whole subject name as text. */
  signer: (SignerSummary & { subject: string }) | null;
  digestAlgorithm: AnyHash | null;
  timestampTime: string | null;
  reasons: string[];
}

const safe = <T>(f: () => T): T | undefined => {
  try {
    return f();
  } catch {
    return undefined;
  }
};

export async function verifyDetachedSignature(
  cms: Uint8Array,
  content: DetachedContent,
  options: DetachedVerifyOptions = {},
): Promise<DetachedSignatureReport> {
  const digestOf = async (hash: AnyHash): Promise<Uint8Array> => {
    if (hash === 'SHA-256' && content.sha256) return content.sha256;
    if (content.digest) return content.digest(hash);
    throw new Error(`the content's ${hash} digest is not available`);
  };
  const report: DetachedSignatureReport = {
    status: 'invalid',
    integrity: 'malformed',
    trust: 'unknown',
    signer: null,
    digestAlgorithm: null,
    timestampTime: null,
    reasons: [],
  };
  const sd = await verifySignedData(cms, async (hash) => {
    try {
      return await digestOf(hash);
    } catch {
      return new Uint8Array(0); // verifySignedData then reports a digest mismatch
    }
  });
  report.integrity = sd.integrity;
  report.digestAlgorithm = sd.digestAlgorithm ?? null;
  report.reasons.push(...sd.reasons, ...sd.warnings);
  if (sd.eContent && sd.integrity === 'ok') {
    // an attached signature signs its own copy of the content, not the material beside it
    report.integrity = 'malformed';
    report.reasons.push('the CMS encapsulates its content; a detached signature is expected');
  }
  const signer = sd.signer;
  if (signer) {
    report.signer = {
      subject: describeName(signer.subject),
      commonName: safe(() => nameAttribute(signer.subject, OID.commonName)) ?? null,
      organization: safe(() => nameAttribute(signer.subject, OID.organizationName)) ?? null,
      serialNumber: signer.serialNumberHex,
      issuer: describeName(signer.issuer),
    };
  }
  if (report.integrity !== 'ok' || !signer) return report;

  const anchors = (options.trustAnchors ?? []).flatMap((a) => (typeof a === 'string' ? pemToDer(a) : [a]));
  const crls = (options.crls ?? []).flatMap((c) => (typeof c === 'string' ? pemToDer(c) : [c]));
  let at = options.at ?? new Date();
  let pool = sd.certificates;
  if (sd.timestampToken && sd.signatureValue) {
    const sigValue = sd.signatureValue;
    const ts = await verifyTimestampToken(
      sd.timestampToken,
      async (h) => new Uint8Array(await crypto.subtle.digest(h, sigValue as Uint8Array<ArrayBuffer>)),
    );
    pool = [...pool, ...ts.certificates];
    if (!ts.ok || !ts.genTime) {
      report.integrity = 'bad-signature';
      report.reasons.push(...ts.reasons.map((r) => `signature timestamp: ${r}`));
      return report;
    }
    report.timestampTime = ts.genTime.toISOString();
    const tsaTrust = ts.tsa
      ? await evaluateTrust(ts.tsa, pool, anchors, crls, ts.genTime, 'timestamping')
      : undefined;
    if (tsaTrust?.trust === 'trusted') {
      if (!options.at) at = ts.genTime;
    } else {
      report.reasons.push(
        `signature timestamp: ${tsaTrust?.reasons.join('; ') ?? 'no TSA certificate'}; its time is not used`,
      );
    }
  }
  const t = await evaluateTrust(signer, pool, anchors, crls, at, 'signing');
  report.trust = t.trust;
  report.reasons.push(...t.reasons);
  report.status = t.trust === 'trusted' ? 'valid' : t.trust === 'revoked' ? 'invalid' : 'indeterminate';
  return report;
}
