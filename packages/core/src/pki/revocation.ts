/**
 * Revocation evidence (ETSI EN 319 102-1 §5.2.6, RFC 5280 §6.3, RFC 6960): CRLs and OCSP responses
 * gathered from a PDF's document security store (ISO 32000-2 §12.8.4.3: /Certs, /CRLs, /OCSPs and
 * the per-signature /VRI), from a CMS SignedData (its `crls` field, OCSP as other revocation info,
 * Adobe's revocation-info-archival attribute), or given by the caller; and the status of a
 * certificate at a point in time from that evidence, with a record of which item decided it.
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { type PdfView } from '../pdf/document';
import { decodeStream } from '../pdf/filters';
import { isSidianError } from '../errors';
import { PdfDict, PdfRef, PdfStream, type PdfObject } from '../pdf/objects';
import { type CertificateInfo, describeName, parseCertificate } from './certificate';
import { type Asn1Node, bytesEqual, parseDer, readBitStringBytes, readOid, readTime, toHex } from './der';
import { hashNameForOid } from '../algorithms';
import { OID } from './oids';
import { sm3 } from '../gm/sm3';
import { type ParsedCrl, parseCrl } from './path-crl';
import { digestSync } from './sha2';

/** Where an item of evidence came from. */
export type EvidenceSource = 'dss' | 'vri' | 'cms' | 'given';

// CRLs are read by path-crl.ts's parser (RFC 5280 §5), one for path validation and evidence alike
export { parseCrl, type ParsedCrl };

const revokedIndex = new WeakMap<ParsedCrl, Map<string, Date>>();
/** When the CRL says the certificate with this serial (hex of the INTEGER content) was revoked. */
function revokedAt(crl: ParsedCrl, serialHex: string): Date | undefined {
  let index = revokedIndex.get(crl);
  if (!index) {
    index = new Map(crl.entries.map((e) => [e.serialHex, e.revocationDate]));
    revokedIndex.set(crl, index);
  }
  return index.get(serialHex);
}

/** One certificate's entry in an OCSP response (RFC 6960 §4.2.1 SingleResponse). */
export interface OcspSingle {
  hashOid: string;
  issuerNameHash: Uint8Array;
  issuerKeyHash: Uint8Array;
  serialHex: string;
  status: 'good' | 'revoked' | 'unknown';
  revocationTime?: Date;
  thisUpdate: Date;
  nextUpdate?: Date;
}

export interface ParsedOcsp {
  producedAt: Date;
  responses: OcspSingle[];
  /** ResponderID: the responder's Name (DER) or the SHA-1 of its key. */
  responderName?: Uint8Array;
  responderKeyHash?: Uint8Array;
  certificates: Uint8Array[];
  tbs: Uint8Array;
  sigAlg: Asn1Node;
  signature: Uint8Array;
}

const OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1';
const MAX_DSS_ITEMS = 512;
const MAX_DSS_BYTES = 64 * 1024 * 1024;
const OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';
const OTHER_REV_INFO_OCSP = '1.3.6.1.5.5.7.16.2';
const ADBE_REVOCATION_INFO = '1.2.840.113583.1.1.8';
const CRL_DISTRIBUTION_POINTS = '2.5.29.31';
const AUTHORITY_INFO_ACCESS = '1.3.6.1.5.5.7.1.1';
const AD_OCSP = '1.3.6.1.5.5.7.48.1';

/**
 * An OCSPResponse (RFC 6960 §4.2.1) with a basic response, read with pkijs; undefined when it is not
 * one or not successful. The DER is first walked by our bounded parser, so hostile nesting cannot
 * make pkijs work hard.
 */
export function parseOcspResponse(der: Uint8Array): ParsedOcsp | undefined {
  try {
    parseDer(der, { maxNodes: 200_000, allowTrailing: true });
    const resp = pkijs.OCSPResponse.fromBER(der as Uint8Array<ArrayBuffer>);
    if (resp.responseStatus.valueBlock.valueDec !== 0 || !resp.responseBytes) return undefined;
    if (resp.responseBytes.responseType !== OCSP_BASIC) return undefined;
    const basicDer = resp.responseBytes.response.valueBlock.valueHexView;
    const basic = pkijs.BasicOCSPResponse.fromBER(basicDer as Uint8Array<ArrayBuffer>);
    const node = parseDer(basicDer, { maxNodes: 200_000 });
    const data = basic.tbsResponseData;
    const out: ParsedOcsp = {
      producedAt: data.producedAt,
      responses: [],
      certificates: (basic.certs ?? []).map((c) => new Uint8Array(c.toSchema().toBER(false))),
      tbs: node.child(0).raw,
      sigAlg: node.child(1),
      signature: readBitStringBytes(node.child(2)),
    };
    if (data.responderID instanceof asn1js.OctetString)
      out.responderKeyHash = data.responderID.valueBlock.valueHexView.slice();
    else
      out.responderName = new Uint8Array(
        (data.responderID as pkijs.RelativeDistinguishedNames).toSchema().toBER(false),
      );
    // pkijs re-encodes the Name; take the original bytes from the DER when it is a Name ([1] EXPLICIT)
    const rid = node.child(0).children.find((c) => c.isContext(1) && c.constructed);
    if (rid) out.responderName = rid.child(0).raw;
    for (const r of data.responses) {
      const cs = r.certStatus as asn1js.BaseBlock;
      const tag = cs.idBlock.tagNumber;
      const single: OcspSingle = {
        hashOid: r.certID.hashAlgorithm.algorithmId,
        issuerNameHash: r.certID.issuerNameHash.valueBlock.valueHexView.slice(),
        issuerKeyHash: r.certID.issuerKeyHash.valueBlock.valueHexView.slice(),
        serialHex: toHex(r.certID.serialNumber.valueBlock.valueHexView),
        status: tag === 0 ? 'good' : tag === 1 ? 'revoked' : 'unknown',
        thisUpdate: r.thisUpdate,
        nextUpdate: r.nextUpdate,
      };
      if (single.status === 'revoked') {
        // revoked [1] IMPLICIT RevokedInfo: revocationTime GeneralizedTime first
        const raw = new Uint8Array(cs.toBER(false));
        single.revocationTime = readTime(parseDer(raw).child(0));
      }
      out.responses.push(single);
    }
    return out;
  } catch {
    return undefined;
  }
}

export interface CrlItem {
  kind: 'crl';
  der: Uint8Array;
  source: EvidenceSource;
  /** PDF object number of the DSS stream, when it came from a DSS. */
  object?: number;
  parsed: ParsedCrl;
}

export interface OcspItem {
  kind: 'ocsp';
  der: Uint8Array;
  source: EvidenceSource;
  object?: number;
  parsed: ParsedOcsp;
}

/** Certificates and revocation data a verifier may use. */
export interface Evidence {
  certs: Uint8Array[];
  crls: CrlItem[];
  ocsps: OcspItem[];
}

export const emptyEvidence = (): Evidence => ({ certs: [], crls: [], ocsps: [] });

/** The union of several evidence sets, each item once. */
export function mergeEvidence(...sets: Evidence[]): Evidence {
  const out = emptyEvidence();
  const seen = new Set<string>();
  const once = (kind: string, der: Uint8Array) => {
    const id = kind + toHex(der);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  };
  for (const s of sets) {
    for (const c of s.certs) if (once('c', c)) out.certs.push(c);
    for (const c of s.crls) if (once('r', c.der)) out.crls.push(c);
    for (const o of s.ocsps) if (once('o', o.der)) out.ocsps.push(o);
  }
  return out;
}

function addCrl(e: Evidence, der: Uint8Array, source: EvidenceSource, object?: number): void {
  const parsed = parseCrl(der);
  if (parsed) e.crls.push({ kind: 'crl', der, source, object, parsed });
}

function addOcsp(e: Evidence, der: Uint8Array, source: EvidenceSource, object?: number): void {
  const parsed = parseOcspResponse(der);
  if (parsed) e.ocsps.push({ kind: 'ocsp', der, source, object, parsed });
}

/** Evidence the caller gives (CRLs and OCSP responses, DER). */
export function givenEvidence(crls: Uint8Array[] = [], ocsps: Uint8Array[] = []): Evidence {
  const e = emptyEvidence();
  for (const c of crls) addCrl(e, c, 'given');
  for (const o of ocsps) addOcsp(e, o, 'given');
  return e;
}

/** The DSS of this revision of the document: /Certs, /CRLs, /OCSPs and everything its /VRI names. */
export function dssEvidence(view: PdfView): Evidence {
  const e = emptyEvidence();
  try {
    const dss = view.dict(view.catalog().get('DSS'));
    if (!dss) return e;
    const seen = new Set<number>();
    // Bounded work on a hostile DSS: at most MAX_DSS_ITEMS streams and MAX_DSS_BYTES decoded in all.
    let items = 0;
    let bytesLeft = MAX_DSS_BYTES;
    const take = (arr: unknown, key: 'Certs' | 'CRLs' | 'OCSPs', source: EvidenceSource) => {
      for (const r of (view.array(arr as PdfObject | undefined) ?? []).slice(0, MAX_DSS_ITEMS)) {
        if (++items > MAX_DSS_ITEMS || bytesLeft <= 0) return;
        const num = r instanceof PdfRef ? r.num : undefined;
        if (num !== undefined) {
          if (seen.has(num)) continue;
          seen.add(num);
        }
        const s = view.resolve(r);
        if (!(s instanceof PdfStream)) continue;
        let bytes: Uint8Array;
        try {
          // charged to the document's work budget too (pdf/budget.ts), which ends the job when spent
          bytes = s.dict.get('Filter') ? decodeStream(s, bytesLeft, view.doc.budget) : s.data;
        } catch (err) {
          if (isSidianError(err) && err.code === 'LIMIT_EXCEEDED') throw err;
          continue;
        }
        bytesLeft -= bytes.length;
        if (bytesLeft < 0) return;
        if (key === 'Certs') e.certs.push(bytes);
        else if (key === 'CRLs') addCrl(e, bytes, source, num);
        else addOcsp(e, bytes, source, num);
      }
    };
    take(dss.get('Certs'), 'Certs', 'dss');
    take(dss.get('CRLs'), 'CRLs', 'dss');
    take(dss.get('OCSPs'), 'OCSPs', 'dss');
    const vri = view.dict(dss.get('VRI'));
    if (vri) {
      let n = 0;
      for (const v of vri.map.values()) {
        if (++n > MAX_DSS_ITEMS) break;
        const d = view.dict(v);
        if (!(d instanceof PdfDict)) continue;
        take(d.get('Cert'), 'Certs', 'vri');
        take(d.get('CRL'), 'CRLs', 'vri');
        take(d.get('OCSP'), 'OCSPs', 'vri');
      }
    }
  } catch (err) {
    if (isSidianError(err) && err.code === 'LIMIT_EXCEEDED') throw err;
    /* an unreadable DSS is no evidence */
  }
  return e;
}

/**
 * Revocation data a CMS SignedData carries: the `crls` field (CRLs, and OCSP responses as
 * OtherRevocationInfoFormat id-ri-ocsp-response, RFC 5940 §4.1) and the signed attribute
 * adbe-revocationInfoArchival (ISO 32000-2 §12.8.3.3.2) that Acrobat-era signers write.
 */
export function cmsEvidence(cmsDer: Uint8Array): Evidence {
  const e = emptyEvidence();
  try {
    const ci = parseDer(cmsDer, { maxNodes: 500_000, allowTrailing: true });
    const sd = ci.child(1).child(0);
    for (const node of sd.children) {
      if (node.isContext(0) && node.constructed)
        for (const c of node.children) if (c.tag === 0x30) e.certs.push(c.raw);
      if (node.isContext(1) && node.constructed) {
        for (const c of node.children) {
          if (c.tag === 0x30) addCrl(e, c.raw, 'cms');
          else if (c.isContext(1) && readOid(c.child(0)) === OTHER_REV_INFO_OCSP)
            addOcsp(e, c.child(1).raw, 'cms');
        }
      }
      if (node.tag === 0x31) {
        for (const si of node.children) {
          const attrs = si.children.find((c) => c.isContext(0) && c.constructed);
          for (const attr of attrs?.children ?? []) {
            if (readOid(attr.child(0)) !== ADBE_REVOCATION_INFO) continue;
            const value = attr.child(1).child(0);
            for (const part of value.children) {
              // crl [0] EXPLICIT SEQUENCE OF CertificateList, ocsp [1] EXPLICIT SEQUENCE OF OCSPResponse
              if (part.isContext(0)) for (const c of part.child(0).children) addCrl(e, c.raw, 'cms');
              if (part.isContext(1)) for (const c of part.child(0).children) addOcsp(e, c.raw, 'cms');
            }
          }
        }
      }
    }
  } catch {
    /* not a CMS we can read: no evidence from it */
  }
  return e;
}

/** What decided one certificate's status, for the report. */
export interface UsedEvidence {
  kind: 'crl' | 'ocsp';
  source: EvidenceSource;
  /** DSS object number, when from a DSS. */
  object?: number;
  /** The certificate whose status it gave. */
  certificate: string;
  serialNumber: string;
  issuer: string;
  thisUpdate: string;
  nextUpdate: string | null;
  status: 'good' | 'revoked';
  revokedAt?: string;
}

export interface RevocationResult {
  status: 'good' | 'revoked' | 'unknown';
  used?: UsedEvidence;
  reasons: string[];
}

type VerifyFn = (
  issuer: CertificateInfo,
  sigAlg: Asn1Node,
  data: Uint8Array,
  signature: Uint8Array,
) => Promise<boolean | undefined>;

/**
 * The status of `cert` (issued by `issuer`) at time `at`, from `evidence`. A CRL counts when its
 * issuer is the certificate's issuer and its signature verifies (RFC 5280 §6.3.3 (f)); an OCSP
 * response when it is signed by the issuer or by a responder the issuer delegated with
 * id-kp-OCSPSigning (RFC 6960 §4.2.2.2) and its CertID names this certificate (§4.1.1).
 * A revocation at or before `at` is final. "Not revoked" needs fresh evidence: issued while the
 * certificate was still valid (CRLs drop expired certificates, RFC 5280 §3.3) and speaking for
 * `at` — issued at or after it, or with a nextUpdate at or after it.
 */
export async function revocationStatus(
  cert: CertificateInfo,
  issuer: CertificateInfo,
  at: Date,
  evidence: Evidence,
  verify: VerifyFn,
): Promise<RevocationResult> {
  const reasons: string[] = [];
  let good: UsedEvidence | undefined;
  const who = describeName(cert.subject);
  const base = { certificate: who, serialNumber: cert.serialNumberHex, issuer: describeName(issuer.subject) };
  const fresh = (thisUpdate: Date, nextUpdate?: Date) =>
    thisUpdate <= cert.notAfter && (thisUpdate >= at || (nextUpdate !== undefined && nextUpdate >= at));
  for (const item of evidence.crls) {
    const crl = item.parsed;
    if (!bytesEqual(crl.issuer, issuer.subject)) continue;
    if (!(await crlSignedBy(crl, issuer, verify))) {
      const note = `a CRL from "${describeName(issuer.subject)}" has a bad signature and was ignored`;
      if (!reasons.includes(note)) reasons.push(note);
      continue;
    }
    const used: UsedEvidence = {
      kind: 'crl',
      source: item.source,
      object: item.object,
      ...base,
      thisUpdate: crl.thisUpdate.toISOString(),
      nextUpdate: crl.nextUpdate?.toISOString() ?? null,
      status: 'good',
    };
    const when = revokedAt(crl, cert.serialNumberHex);
    if (when && when <= at) {
      reasons.push(`certificate "${who}" was revoked on ${when.toISOString()}`);
      return {
        status: 'revoked',
        used: { ...used, status: 'revoked', revokedAt: when.toISOString() },
        reasons,
      };
    }
    if (!good && (when || fresh(crl.thisUpdate, crl.nextUpdate))) good = used;
  }
  for (const item of evidence.ocsps) {
    const o = item.parsed;
    for (const single of o.responses) {
      if (single.serialHex !== cert.serialNumberHex) continue;
      const hash = hashNameForOid(single.hashOid);
      if (!hash) continue;
      const issuerKey = readBitStringBytes(parseDer(issuer.spki).child(1));
      // an SM3 CertID (GM/T 0010 OCSP) hashes with SM3, every other with its SHA
      const digest = (d: Uint8Array) => (hash === 'SM3' ? sm3(d) : digestSync(hash, d));
      if (!bytesEqual(single.issuerNameHash, digest(issuer.subject))) continue;
      if (!bytesEqual(single.issuerKeyHash, digest(issuerKey))) continue;
      if (!(await ocspSignedFor(o, issuer, verify))) {
        const note = `an OCSP response about "${who}" is not signed by its issuer or a delegated responder and was ignored`;
        if (!reasons.includes(note)) reasons.push(note);
        continue;
      }
      if (single.nextUpdate && single.nextUpdate < single.thisUpdate) continue;
      const used: UsedEvidence = {
        kind: 'ocsp',
        source: item.source,
        object: item.object,
        ...base,
        thisUpdate: single.thisUpdate.toISOString(),
        nextUpdate: single.nextUpdate?.toISOString() ?? null,
        status: 'good',
      };
      if (single.status === 'revoked' && single.revocationTime && single.revocationTime <= at) {
        reasons.push(`certificate "${who}" was revoked on ${single.revocationTime.toISOString()} (OCSP)`);
        return {
          status: 'revoked',
          used: { ...used, status: 'revoked', revokedAt: single.revocationTime.toISOString() },
          reasons,
        };
      }
      const revokedLater = single.status === 'revoked' && single.revocationTime && single.revocationTime > at;
      if (
        !good &&
        (revokedLater || (single.status === 'good' && fresh(single.thisUpdate, single.nextUpdate)))
      )
        good = used;
    }
  }
  if (good) return { status: 'good', used: good, reasons };
  return { status: 'unknown', reasons };
}

/** CRL signature checks, remembered per CRL and issuer key: the same items come back attempt after attempt. */
const crlChecks = new WeakMap<ParsedCrl, Map<string, boolean>>();

async function crlSignedBy(crl: ParsedCrl, issuer: CertificateInfo, verify: VerifyFn): Promise<boolean> {
  let m = crlChecks.get(crl);
  if (!m) crlChecks.set(crl, (m = new Map()));
  const key = toHex(issuer.spki);
  let ok = m.get(key);
  if (ok === undefined) {
    ok = (await verify(issuer, crl.sigAlg, crl.tbs, crl.signature)) === true;
    m.set(key, ok);
  }
  return ok;
}

/** The response is signed by the issuer itself or by a certificate the issuer gave id-kp-OCSPSigning. */
async function ocspSignedFor(o: ParsedOcsp, issuer: CertificateInfo, verify: VerifyFn): Promise<boolean> {
  const candidates: CertificateInfo[] = [issuer];
  for (const der of o.certificates.slice(0, 10)) {
    try {
      candidates.push(parseCertificate(der));
    } catch {
      /* skip */
    }
  }
  for (const c of candidates) {
    const named = o.responderName
      ? bytesEqual(o.responderName, c.subject)
      : !!o.responderKeyHash &&
        bytesEqual(o.responderKeyHash, digestSync('SHA-1', readBitStringBytes(parseDer(c.spki).child(1))));
    if (!named) continue;
    if (c !== issuer) {
      // a delegated responder: issued by the CA, for OCSP signing, valid when it signed
      if (!bytesEqual(c.issuer, issuer.subject)) continue;
      const eku = c.extensions.get(OID.extKeyUsage);
      if (!eku || !parseDer(eku.value).children.some((n) => readOid(n) === OCSP_SIGNING)) continue;
      if (o.producedAt < c.notBefore || o.producedAt > c.notAfter) continue;
      const cn = parseDer(c.der, { maxNodes: 20_000 });
      if ((await verify(issuer, cn.child(1), cn.child(0).raw, readBitStringBytes(cn.child(2)))) !== true)
        continue;
    }
    if ((await verify(c, o.sigAlg, o.tbs, o.signature)) === true) return true;
  }
  return false;
}

/** CRL distribution point URLs (RFC 5280 §4.2.1.13) of a certificate: http(s) fullName URIs. */
export function crlUrls(cert: CertificateInfo): string[] {
  const ext = cert.extensions.get(CRL_DISTRIBUTION_POINTS);
  if (!ext) return [];
  const out: string[] = [];
  try {
    collectUris(parseDer(ext.value), out, 0);
  } catch {
    /* unreadable extension */
  }
  return out.filter((u) => /^https?:\/\//i.test(u));
}

/** OCSP responder URLs from the authority information access extension (RFC 5280 §4.2.2.1). */
export function ocspUrls(cert: CertificateInfo): string[] {
  const ext = cert.extensions.get(AUTHORITY_INFO_ACCESS);
  if (!ext) return [];
  const out: string[] = [];
  try {
    for (const ad of parseDer(ext.value).children) {
      if (readOid(ad.child(0)) !== AD_OCSP) continue;
      const loc = ad.child(1);
      if (loc.cls === 2 && loc.tagNumber === 6) out.push(new TextDecoder().decode(loc.content));
    }
  } catch {
    /* unreadable extension */
  }
  return out.filter((u) => /^https?:\/\//i.test(u));
}

function collectUris(n: Asn1Node, out: string[], depth: number): void {
  if (depth > 8) return;
  // GeneralName uniformResourceIdentifier [6] IA5String
  if (n.cls === 2 && n.tagNumber === 6 && !n.constructed) {
    out.push(new TextDecoder().decode(n.content));
    return;
  }
  if (n.constructed) for (const c of n.children) collectUris(c, out, depth + 1);
}

/** An OCSP request (RFC 6960 §4.1.1) for one certificate, SHA-1 CertID as responders expect. */
export function buildOcspRequest(cert: CertificateInfo, issuer: CertificateInfo): Uint8Array {
  const issuerKey = readBitStringBytes(parseDer(issuer.spki).child(1));
  const req = new pkijs.OCSPRequest();
  req.tbsRequest.requestList = [
    new pkijs.Request({
      reqCert: new pkijs.CertID({
        hashAlgorithm: new pkijs.AlgorithmIdentifier({
          algorithmId: OID.sha1,
          algorithmParams: new asn1js.Null(),
        }),
        issuerNameHash: new asn1js.OctetString({ valueHex: digestSync('SHA-1', issuer.subject) }),
        issuerKeyHash: new asn1js.OctetString({ valueHex: digestSync('SHA-1', issuerKey) }),
        serialNumber: new asn1js.Integer({ valueHex: hexToBuffer(cert.serialNumberHex) }),
      }),
    }),
  ];
  return new Uint8Array(req.toSchema(true).toBER(false));
}

function hexToBuffer(h: string): ArrayBuffer {
  const b = new Uint8Array(h.length / 2);
  for (let i = 0; i < b.length; i++) b[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return b.buffer;
}
