/**
 * Extending signatures for the long term (ETSI EN 319 142-1 §6.3, PAdES B-LT and B-LTA): a DSS
 * with every certificate of the signers' and TSAs' chains and their CRLs / OCSP responses —
 * fetched from the certificates' CRL distribution points (RFC 5280 §4.2.1.13) and OCSP responders
 * (authority information access, §4.2.2.1), or given — in one incremental update; then, with a
 * TSA, a document time-stamp over all of it. Earlier signatures stay valid: the input is a
 * byte-exact prefix of the output.
 */
import { parseCms, parseTimestampToken, signatureTimestampTokens } from '../cms';
import type { TsaSource } from '../cms/tsa';
import { SidianError } from '../errors';
import { PdfDocument } from '../pdf/document';
import { PdfString } from '../pdf/objects';
import { type CertificateInfo, parseCertificate } from '../pki/certificate';
import { bytesEqual, parseDer } from '../pki/der';
import { buildOcspRequest, crlUrls, ocspUrls, parseCrl, parseOcspResponse } from '../pki/revocation';
import { addValidationData } from './dss';
import { listFields } from './fields';
import { timestampPdf } from './sign-pdf';

/** Fetches a URL: GET (CRL) or POST with a body (OCSP); resolves with the response bytes. */
export type RevocationFetcher = (
  url: string,
  request?: { body: Uint8Array; contentType: string },
) => Promise<Uint8Array>;

export interface ExtendOptions {
  /** With a TSA, a document time-stamp follows the DSS (B-LTA); without, B-LT only. */
  tsa?: TsaSource;
  /** Certificates to complete the chains with (e.g. the trust anchors), DER. */
  certificates?: Uint8Array[];
  /** CRLs and OCSP responses to add as they are, DER. */
  crls?: Uint8Array[];
  ocsps?: Uint8Array[];
  /**
   * How to fetch CRLs and OCSP responses named in the certificates; default globalThis.fetch.
   * `false`: add only what is given.
   */
  fetch?: RevocationFetcher | false;
  /** Field name of the document time-stamp. */
  field?: string;
}

export interface ExtendResult {
  pdf: Uint8Array;
  /**
   * What was added: 'B-LT' validation data; 'B-LTA' also an archive time-stamp (and, before the
   * DSS, a document time-stamp for a signature that had none). The signatures' own levels are
   * what verifyPdf reports.
   */
  /** What went into the DSS and where each came from. */
  added: { certificates: number; crls: number; ocsps: number; fetched: string[] };
  level: 'B-LT' | 'B-LTA';
}

const MAX_FETCHES = 32;
const MAX_RESPONSE = 16 * 1024 * 1024;

export async function extendPdf(input: Uint8Array, options: ExtendOptions = {}): Promise<ExtendResult> {
  const { certs, untimed } = signatureCertificates(input);
  if (certs.length === 0)
    throw new SidianError('LTV_NOTHING_TO_EXTEND', 'the PDF has no signature to extend');
  // A signature without a time-stamp first gets a document time-stamp (B-T, EN 319 142-1 §6.3),
  // so that the DSS below also carries that time-stamp's validation data (B-LT) and the archive
  // time-stamp then covers both (B-LTA).
  const pdf = options.tsa && untimed ? await timestampPdf(input, { tsa: options.tsa }) : input;
  if (pdf !== input) certs.push(...signatureCertificates(pdf).certs);
  const all = dedupe([...certs, ...(options.certificates ?? [])]);
  const infos = all.map(safeParse).filter((c): c is CertificateInfo => !!c);
  const crls = [...(options.crls ?? [])];
  const ocsps = [...(options.ocsps ?? [])];
  const fetched: string[] = [];
  const fetcher = options.fetch === false ? undefined : (options.fetch ?? defaultFetcher());
  if (fetcher) {
    const done = new Set<string>();
    for (const cert of infos) {
      if (bytesEqual(cert.subject, cert.issuer)) continue; // a root: nobody above it revokes it
      const issuer = infos.find((c) => bytesEqual(c.subject, cert.issuer) && c !== cert);
      // OCSP first (smaller, per certificate), then the CRL when OCSP gave nothing.
      let have = false;
      if (issuer) {
        for (const url of ocspUrls(cert)) {
          if (done.size >= MAX_FETCHES) break;
          done.add('ocsp ' + url + cert.serialNumberHex);
          const body = await fetchOrThrow(fetcher, url, {
            body: buildOcspRequest(cert, issuer),
            contentType: 'application/ocsp-request',
          });
          if (!parseOcspResponse(body))
            throw new SidianError(
              'REVOCATION_UNREACHABLE',
              `the OCSP responder ${url} did not answer with a successful response`,
            );
          ocsps.push(body);
          fetched.push(url);
          have = true;
          break;
        }
      }
      if (have) continue;
      for (const url of crlUrls(cert)) {
        if (done.has('crl ' + url)) break;
        if (done.size >= MAX_FETCHES) break;
        done.add('crl ' + url);
        const body = await fetchOrThrow(fetcher, url);
        if (!parseCrl(body)) throw new SidianError('REVOCATION_UNREACHABLE', `${url} did not return a CRL`);
        crls.push(body);
        fetched.push(url);
        break;
      }
    }
  }
  const withDss = await addValidationData(pdf, { certificates: options.certificates, crls, ocsps });
  const out = options.tsa ? await timestampPdf(withDss, { tsa: options.tsa, field: options.field }) : withDss;
  return {
    pdf: out,
    added: { certificates: all.length, crls: crls.length, ocsps: ocsps.length, fetched },
    level: options.tsa ? 'B-LTA' : 'B-LT',
  };
}

/**
 * The certificates inside the document's signatures and their time-stamp tokens; `untimed` when a
 * signature has no signature time-stamp and the document has no document time-stamp.
 */
function signatureCertificates(pdf: Uint8Array): { certs: Uint8Array[]; untimed: boolean } {
  const doc = PdfDocument.load(pdf);
  if (doc.encrypted) throw new SidianError('PDF_ENCRYPTED', 'the PDF is encrypted');
  const view = doc.latest;
  const certs: Uint8Array[] = [];
  let withoutTimestamp = false;
  let docTimestamps = 0;
  for (const f of listFields(view)) {
    if (f.type !== 'Sig') continue;
    const sig = view.dict(f.dict.get('V'));
    const bytes = view.resolve(sig?.get('Contents'));
    if (!(bytes instanceof PdfString)) continue;
    const docTs = sig?.name('Type') === 'DocTimeStamp' || sig?.name('SubFilter') === 'ETSI.RFC3161';
    if (docTs) docTimestamps++;
    try {
      // /Contents is padded with zeros after the DER
      const cms = parseCms(parseDer(bytes.bytes, { allowTrailing: true, maxNodes: 500_000 }).raw);
      certs.push(...cms.certificates);
      for (const si of cms.signerInfos) {
        const tokens = signatureTimestampTokens(si);
        if (!docTs && tokens.length === 0) withoutTimestamp = true;
        for (const t of tokens) certs.push(...parseTimestampToken(t).cms.certificates);
      }
    } catch {
      /* not a CMS we can read */
    }
  }
  return { certs, untimed: withoutTimestamp && docTimestamps === 0 };
}

function dedupe(list: Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const c of list) if (!out.some((o) => bytesEqual(o, c))) out.push(c);
  return out;
}

function safeParse(der: Uint8Array): CertificateInfo | undefined {
  try {
    return parseCertificate(der);
  } catch {
    return undefined;
  }
}

async function fetchOrThrow(
  fetcher: RevocationFetcher,
  url: string,
  request?: { body: Uint8Array; contentType: string },
): Promise<Uint8Array> {
  try {
    const body = await fetcher(url, request);
    if (!(body instanceof Uint8Array) || body.length === 0) throw new Error('empty response');
    return body;
  } catch (e) {
    if (e instanceof SidianError) throw e;
    throw new SidianError(
      'REVOCATION_UNREACHABLE',
      `cannot fetch revocation data from ${url}: ${(e as Error)?.message ?? String(e)}`,
    );
  }
}

function defaultFetcher(): RevocationFetcher | undefined {
  if (typeof globalThis.fetch !== 'function') return undefined;
  return async (url, request) => {
    const res = await globalThis.fetch(url, {
      method: request ? 'POST' : 'GET',
      body: request?.body as BodyInit | undefined,
      headers: request ? { 'content-type': request.contentType } : undefined,
      signal: AbortSignal.timeout(30_000),
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const len = Number(res.headers.get('content-length') ?? 0);
    if (len > MAX_RESPONSE) throw new Error('response too large');
    const body = new Uint8Array(await res.arrayBuffer());
    if (body.length > MAX_RESPONSE) throw new Error('response too large');
    return body;
  };
}
