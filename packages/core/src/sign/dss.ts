/**
 * PAdES B-LT: the document security store (ETSI EN 319 142-1 §5.4.2, ISO 32000-2 §12.8.4.3) added
 * in its own incremental update — certificates, CRLs and OCSP responses a verifier needs later,
 * when the CAs may be gone. Followed by `timestampPdf` it makes B-LTA.
 */
import { parseCms, signatureTimestampTokens, parseTimestampToken } from '../cms';
import { SidianError } from '../errors';
import { decodeStream, deflateNative } from '../pdf/filters';
import { PdfDocument } from '../pdf/document';
import { PdfDict, PdfName, PdfRef, PdfStream, PdfString } from '../pdf/objects';
import { toHex } from '../pki/der';
import { IncrementalWriter } from '../pdf/writer';
import { listFields } from './fields';

export interface ValidationData {
  /** DER certificates; the chains inside the document's signatures are always included. */
  certificates?: Uint8Array[];
  /** DER CRLs. */
  crls?: Uint8Array[];
  /** DER OCSP responses. */
  ocsps?: Uint8Array[];
}

export async function addValidationData(pdf: Uint8Array, data: ValidationData = {}): Promise<Uint8Array> {
  const doc = PdfDocument.load(pdf);
  if (doc.encrypted) throw new SidianError('PDF_ENCRYPTED', 'the PDF is encrypted');
  const view = doc.latest;
  // Certificates carried by the signatures and their timestamps.
  const found: Uint8Array[] = [];
  for (const f of listFields(view)) {
    if (f.type !== 'Sig') continue;
    const contents = view.dict(f.dict.get('V'))?.get('Contents');
    const bytes = view.resolve(contents);
    if (!(bytes instanceof PdfString)) continue;
    try {
      const cms = parseCms(bytes.bytes);
      found.push(...cms.certificates);
      for (const si of cms.signerInfos) {
        for (const token of signatureTimestampTokens(si)) found.push(...parseTimestampToken(token).cms.certificates);
      }
    } catch {
      /* not a CMS we can read: nothing to add from it */
    }
  }
  const catalog = view.catalog().clone();
  const dssObj = catalog.get('DSS');
  const dss = view.dict(dssObj)?.clone() ?? new PdfDict();
  const w = new IncrementalWriter(doc);
  const existing = new Set<string>();
  const arrays: Record<'Certs' | 'CRLs' | 'OCSPs', PdfRef[]> = { Certs: [], CRLs: [], OCSPs: [] };
  for (const key of ['Certs', 'CRLs', 'OCSPs'] as const) {
    for (const r of view.array(dss.get(key)) ?? []) {
      if (!(r instanceof PdfRef)) continue;
      arrays[key].push(r);
      const s = view.resolve(r);
      if (s instanceof PdfStream) {
        try {
          existing.add(key + toHex(decodeStream(s, 16 * 1024 * 1024)));
        } catch {
          /* unreadable entry: keep it, compare nothing */
        }
      }
    }
  }
  const add = async (key: 'Certs' | 'CRLs' | 'OCSPs', items: Uint8Array[]) => {
    for (const item of items) {
      const id = key + toHex(item);
      if (existing.has(id)) continue;
      existing.add(id);
      const compressed = await deflateNative(item);
      arrays[key].push(w.add(new PdfStream(new PdfDict([['Filter', PdfName.of('FlateDecode')]]), compressed)));
    }
  };
  await add('Certs', [...found, ...(data.certificates ?? [])]);
  await add('CRLs', data.crls ?? []);
  await add('OCSPs', data.ocsps ?? []);
  dss.set('Type', PdfName.of('DSS'));
  for (const key of ['Certs', 'CRLs', 'OCSPs'] as const) if (arrays[key].length) dss.set(key, arrays[key]);
  if (dssObj instanceof PdfRef) w.set(dssObj, dss);
  else {
    catalog.set('DSS', w.add(dss));
    w.set(view.rootRef, catalog);
  }
  const { bytes } = w.build();
  const out = new Uint8Array(pdf.length + bytes.length);
  out.set(pdf, 0);
  out.set(bytes, pdf.length);
  return out;
}

