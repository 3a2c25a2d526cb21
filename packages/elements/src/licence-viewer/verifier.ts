/**
 * The licence check (verifyPdf, the pages' geometry for the seal marks, licence.json from the sealed
 * revision) in a Web Worker (verify-worker.ts), so that the main thread stays free for pdf.js's
 * drawing of the first page while the seals are checked. One worker serves every viewer on the page,
 * started by the first check (not ahead of the document: its start-up would compete with that of
 * pdf.js's worker, which the first page waits for). Falls back to the main thread when no worker can
 * start (a CSP without `worker-src`, a missing file).
 */
import {
  PdfDocument,
  isLicenceIdentifier,
  readLicence,
  verifyPdf,
  type LicenceMetadata,
  type VerificationReport,
} from '@sidian/core';
import { PageWorker } from '../shared/page-worker';

/** The licence metadata as read from the signed revision, with the identifier check. */
export interface LicenceInfo {
  metadata: LicenceMetadata;
  /** The identifier's ISO 7064 MOD 37,36 check character is correct. */
  identifierValid: boolean;
  /** licence.json differs in the latest revision from the one the seal covers. */
  changedAfterSealing: boolean;
}

/** A page's crop box and /Rotate (where the seal marks go). */
export interface PageGeometry {
  cropBox: [number, number, number, number];
  rotate: number;
}

/** What the check gives: plain data, the same from the worker and from the main thread. */
export interface LicenceCheck {
  report: VerificationReport;
  licence: LicenceInfo | null;
  /** The geometry of each page that carries a signature widget, by 1-based page number. */
  pages: Record<number, PageGeometry>;
}

/** The check itself: what the worker runs, and the main thread when there is no worker. */
export async function checkLicence(pdf: Uint8Array, trustAnchors: (Uint8Array | string)[]): Promise<LicenceCheck> {
  const report = await verifyPdf(pdf, splitTrust(trustAnchors));
  const doc = PdfDocument.load(pdf, { recover: true });
  // only the pages with a mark to place: walking a 200-page tree costs 15-35 ms, beside pdf.js's work
  const pages: Record<number, PageGeometry> = {};
  for (const w of report.signatures.flatMap((s) => s.widgets ?? [])) {
    const p = pages[w.page] ? undefined : doc.latest.pageAt(w.page - 1);
    if (p) pages[w.page] = { cropBox: p.cropBox, rotate: p.rotate };
  }
  return { report, licence: readLicenceInfo(pdf, report, doc), pages };
}

/**
 * PEM text may carry CRLs beside the anchors (the server's `/api/trust` ends with its current CRL):
 * `X509 CRL` blocks go to `crls`, every other block and all DER input stays a trust anchor.
 */
export function splitTrust(input: (Uint8Array | string)[]): {
  trustAnchors: (Uint8Array | string)[];
  crls: string[];
} {
  const trustAnchors: (Uint8Array | string)[] = [];
  const crls: string[] = [];
  const block = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;
  for (const item of input) {
    if (typeof item !== 'string') {
      trustAnchors.push(item);
      continue;
    }
    for (const m of item.matchAll(block)) (m[1] === 'X509 CRL' ? crls : trustAnchors).push(m[0]);
  }
  return { trustAnchors, crls };
}

/**
 * licence.json as the seal covers it: read from the revision that the last intact signature signed
 * (what was sealed), compared with the latest revision. Without an intact signature, the latest.
 */
export function readLicenceInfo(pdf: Uint8Array, report: VerificationReport, parsed?: PdfDocument): LicenceInfo | null {
  const ends = report.signatures
    .filter((s) => s.integrity === 'ok' && s.kind !== 'document-timestamp' && s.byteRange?.length === 4)
    .map((s) => s.byteRange![2]! + s.byteRange![3]!);
  let doc: PdfDocument;
  try {
    doc = parsed ?? PdfDocument.load(pdf, { recover: true });
  } catch {
    return null;
  }
  let latest: LicenceMetadata | undefined;
  let sealed: LicenceMetadata | undefined;
  try {
    latest = readLicence(doc);
  } catch {
    latest = undefined;
  }
  if (ends.length) {
    try {
      sealed = readLicence(doc, { revisionEnd: Math.max(...ends) });
    } catch {
      sealed = undefined;
    }
  }
  const metadata = sealed ?? latest;
  if (!metadata || typeof metadata !== 'object') return null;
  return {
    metadata,
    identifierValid: typeof metadata.identifier === 'string' && isLicenceIdentifier(metadata.identifier),
    changedAfterSealing: !!sealed && JSON.stringify(sealed) !== JSON.stringify(latest),
  };
}

// ---- the worker ------------------------------------------------------------------------------

/** A failed check as the worker reports it: the error's code survives the trip. */
export interface CheckFailure {
  code?: string;
  name?: string;
  message: string;
}

export type VerifyWorkerReply = { id: number; result: LicenceCheck } | { id: number; error: CheckFailure };

let nextId = 1;
const jobs = new Map<number, { resolve: (r: LicenceCheck) => void; reject: (e: unknown) => void; fallback: () => void }>();

const worker = new PageWorker<VerifyWorkerReply>(
  (url) =>
    url
      ? new Worker(url, { type: 'module', name: 'sidian-verify' })
      : new Worker(new URL('./verify-worker.ts', import.meta.url), { type: 'module', name: 'sidian-verify' }),
  (reply) => {
    const job = jobs.get(reply.id);
    if (!job) return;
    jobs.delete(reply.id);
    if ('result' in reply) job.resolve(reply.result);
    else job.reject(Object.assign(new Error(reply.error.message), reply.error));
  },
  () => {
    // these checks run on the main thread instead
    const pending = [...jobs.values()];
    jobs.clear();
    for (const job of pending) job.fallback();
  },
);

/** Where the verification worker is served (default: verify-worker next to this module, as bundled). */
export function configureVerifyWorker(url: string | URL): void {
  worker.configure(url);
}

/** Checks a licence in the worker (the bytes are copied, not transferred), else on the main thread. */
export function checkLicenceOffThread(pdf: Uint8Array, trustAnchors: (Uint8Array | string)[]): Promise<LicenceCheck> {
  const w = worker.get();
  if (!w) return checkLicence(pdf, trustAnchors);
  const id = nextId++;
  return new Promise<LicenceCheck>((resolve, reject) => {
    jobs.set(id, { resolve, reject, fallback: () => checkLicence(pdf, trustAnchors).then(resolve, reject) });
    w.postMessage({ id, pdf, trustAnchors });
  });
}
