/**
 * Long-term validation (PAdES B-LT / B-LTA; ETSI EN 319 102-1 §5.6 "validation process for
 * signatures with time and long-term validation material", as pyHanko applies it): a signature is
 * validated at the verification time, and when its chain has expired or been revoked by then, at
 * the time of the earliest time-stamp that proves it existed before — its own signature
 * time-stamp, or a document time-stamp written after it — with the revocation data that
 * time-stamp covers (the DSS of the revision it signs). A document time-stamp is such a proof only
 * when its own chain holds at the verification time, or at the time of a later document
 * time-stamp that is itself a proof (archive time-stamps renewed before their TSA expires).
 */
import type { PdfDocument } from '../pdf/document';
import type { CertificateInfo } from '../pki/certificate';
import { toBase64 } from '../pki/der';
import { type Evidence, type UsedEvidence, dssEvidence, mergeEvidence } from '../pki/revocation';
import { evaluateTrust, type TrustResult } from './trust';
import type { SignatureEvidence, SignatureReport } from './types';

/** What a signature's trust verdict needs, gathered while judging it. */
export interface PendingTrust {
  cert: CertificateInfo;
  pool: Uint8Array[];
  purpose: 'signing' | 'timestamping';
  /** Where its signed bytes end. */
  end: number;
  /** Revocation data and certificates inside its own CMS. */
  own: Evidence;
  /** A document time-stamp's time (when its token verified). */
  time?: Date;
  /** The signature time-stamp (B-T), when its token verified. */
  signatureTimestamp?: { time: Date; tsa?: CertificateInfo; certificates: Uint8Array[]; evidence: Evidence };
}

export interface TrustContext {
  doc: PdfDocument;
  anchors: Uint8Array[];
  /** CRLs and OCSP responses the caller gave. */
  given: Evidence;
  /** The DSS of the newest revision. */
  finalDss: Evidence;
  /** The time of the verification. */
  at: Date;
  /** Whether the caller chose that time (else it is now). */
  atGiven: boolean;
  checkTime: () => void;
}

/** A document time-stamp that proves existence at `time`. */
interface ProofOfExistence {
  field: string;
  time: Date;
  end: number;
  /** The DSS it covers. */
  dss: Evidence;
}

/** A time-stamp's time may run ahead of the verifier's clock by this much, no more. */
const CLOCK_SKEW_MS = 5 * 60_000;
const MAX_PROOFS = 16;

export async function settleTrust(
  judged: { report: SignatureReport; pending?: PendingTrust }[],
  ctx: TrustContext,
): Promise<void> {
  const proofs: ProofOfExistence[] = [];
  const docTimestamps = judged.filter((j) => j.report.kind === 'document-timestamp').reverse();
  for (const j of docTimestamps) {
    ctx.checkTime();
    if (!j.pending) continue;
    const p = j.pending;
    if (p.time && p.time.getTime() > ctx.at.getTime() + CLOCK_SKEW_MS) {
      j.report.trust = 'unknown';
      j.report.reasons.push(
        `the document time-stamp's time ${p.time.toISOString()} is after the verification time ${ctx.at.toISOString()}`,
      );
      continue;
    }
    const ok = await settleOne(
      j.report,
      p,
      ctx,
      proofs.filter((q) => q.end > p.end),
    );
    if (ok && p.time) {
      proofs.push({ field: j.report.field, time: p.time, end: p.end, dss: coveredDss(ctx.doc, p.end) });
      if (proofs.length >= MAX_PROOFS) break;
    }
  }
  for (const j of judged) {
    if (j.report.kind === 'document-timestamp' || !j.pending) continue;
    ctx.checkTime();
    const p = j.pending;
    await settleOne(
      j.report,
      p,
      ctx,
      proofs.filter((q) => q.end > p.end),
    );
  }
}

function coveredDss(doc: PdfDocument, end: number): Evidence {
  const v = doc.revisionAt(end);
  return v ? dssEvidence(v) : { certs: [], crls: [], ocsps: [] };
}

/** Settles one signature's trust; true when trusted. `later`: proofs written after it. */
async function settleOne(
  report: SignatureReport,
  p: PendingTrust,
  ctx: TrustContext,
  later: ProofOfExistence[],
): Promise<boolean> {
  const evidenceNow = mergeEvidence(ctx.finalDss, ctx.given, p.own);
  const givenCrls = ctx.given.crls.map((c) => c.der);
  const attempt = async (
    cert: CertificateInfo,
    pool: Uint8Array[],
    at: Date,
    evidence: Evidence,
    purpose: 'signing' | 'timestamping',
  ) => {
    const used: UsedEvidence[] = [];
    // The caller's CRLs (the server's own) also go through RFC 5280 §6.3 CRL processing in
    // pki/path.ts; all evidence, theirs included, through pki/revocation.ts at the time `at`.
    const t = await evaluateTrust(cert, [...pool, ...evidence.certs], ctx.anchors, givenCrls, at, purpose, {
      evidence,
      used,
      requireAfterExpiry: ctx.at,
    });
    return { t, used };
  };
  const dssSummary = (e: Evidence, coveredBy: string | null): SignatureEvidence['dss'] =>
    e.certs.length + e.crls.length + e.ocsps.length
      ? { coveredBy, certs: e.certs.length, crls: e.crls.length, ocsps: e.ocsps.length }
      : null;

  // The validation time without a document time-stamp: the signature time-stamp's, when its
  // TSA is trusted now (or at the time of a later proof); otherwise the verification time. An
  // untrusted TSA (anyone can run one) must not move the time back before an expiry or revocation.
  let t0 = ctx.at;
  let stamp: SignatureEvidence['timestamp'] = null;
  const notes: string[] = [];
  const st = p.signatureTimestamp;
  if (st) {
    let tsa: { t: TrustResult } | undefined;
    if (st.tsa) {
      const ev = mergeEvidence(ctx.finalDss, ctx.given, st.evidence);
      tsa = await attempt(st.tsa, st.certificates, ctx.at, ev, 'timestamping');
      for (const q of tsa.t.trust === 'trusted' ? [] : later) {
        const r = await attempt(
          st.tsa,
          st.certificates,
          q.time,
          mergeEvidence(q.dss, ctx.given, st.evidence),
          'timestamping',
        );
        if (r.t.trust === 'trusted') {
          tsa = r;
          break;
        }
      }
    }
    if (st.time.getTime() > ctx.at.getTime() + CLOCK_SKEW_MS) {
      notes.push(
        `signature timestamp: its time ${st.time.toISOString()} is after the verification time; its time is not used as the validation time`,
      );
    } else if (tsa?.t.trust === 'trusted') {
      t0 = st.time;
      stamp = { kind: 'signature-timestamp', field: null, time: st.time.toISOString() };
    } else {
      notes.push(
        `signature timestamp: ${tsa?.t.reasons.join('; ') ?? 'no TSA certificate'}; its time is not used as the validation time`,
      );
    }
  }
  let best = await attempt(p.cert, p.pool, t0, evidenceNow, p.purpose);
  let time = t0;
  let dss = dssSummary(ctx.finalDss, null);
  if (best.t.trust !== 'trusted' && best.t.trust !== 'untrusted') {
    // Expired, revoked or without revocation data now: the earliest later proof of existence.
    // When none makes it trusted, the verdict at the earliest proof is the one that counts
    // (revoked before it, or no revocation data covered by it), with the reason for "now".
    const atT0 = best;
    let first: { r: typeof best; q: ProofOfExistence } | undefined;
    for (const q of [...later].sort((a, b) => a.time.getTime() - b.time.getTime() || a.end - b.end)) {
      if (q.time >= t0) continue;
      const r = await attempt(p.cert, p.pool, q.time, mergeEvidence(q.dss, ctx.given, p.own), p.purpose);
      first ??= { r, q };
      if (r.t.trust === 'trusted' || r.t.trust === 'revoked') {
        first = { r, q };
        break;
      }
    }
    if (first) {
      best = first.r;
      time = first.q.time;
      stamp = { kind: 'document-timestamp', field: first.q.field, time: first.q.time.toISOString() };
      dss = dssSummary(first.q.dss, first.q.field);
      if (best.t.trust !== 'trusted')
        notes.push(...atT0.t.reasons.map((r) => `at ${t0.toISOString()}: ${r}`));
    }
  }
  report.trust = best.t.trust;
  report.chain = best.t.path.map(toBase64);
  // Reported for long-term validation: a time asked for, a time-stamp's time, evidence used
  // (a plain verification "now" without any stays as it was, comparable run to run).
  if (ctx.atGiven || stamp) report.validationTime = time.toISOString();
  if (stamp || dss || best.used.length) report.evidence = { timestamp: stamp, dss, revocation: best.used };
  report.reasons.push(...notes);
  // when trusted: CRLs that had to be set aside (pki/path.ts warnings), as for any verification
  report.reasons.push(...best.t.reasons);
  return best.t.trust === 'trusted';
}
