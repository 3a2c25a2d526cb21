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
  toBase64,
  verifyPdf,
  type LicenceMetadata,
  type SESeal,
  type SealStatus,
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

/**
 * What the seal registry (`seal-status-url`, e.g. the server's `GET /api/seals/:esID`) said of one
 * GB/T 38540 seal: `good`, `revoked` (注销, with when and why), `unknown` (no record of this seal:
 * 404, or the record is another seal) or `unavailable` (not reachable, or an answer we cannot read).
 */
export interface SealRegistryStatus {
  status: 'good' | 'revoked' | 'unknown' | 'unavailable';
  revokedAt?: string | null;
  revocationReason?: string | null;
}

/**
 * Where the seal registry is: `url` with `{esID}` replaced by the seal's code (else the code
 * appended), resolved against `base` (the page's base URL: the worker's own would differ).
 */
export interface SealRegistry {
  url: string;
  base: string;
}

/** How GB/T 38540 seals are checked, beside the PDF signatures (plain data: it crosses to the worker). */
export interface SealCheckOptions {
  /** Asked about each seal's status; without it nothing is fetched. */
  sealRegistry?: SealRegistry;
  /**
   * Anchors for the seal makers' (制章者) certificates; default the PDF signers' anchors. A server's
   * seal authority has its own (`GET /api/seals/trust`).
   */
  sealTrustAnchors?: (Uint8Array | string)[];
}

/** What the check gives: plain data, the same from the worker and from the main thread. */
export interface LicenceCheck {
  report: VerificationReport;
  licence: LicenceInfo | null;
  /** The geometry of each page that carries a signature widget, by 1-based page number. */
  pages: Record<number, PageGeometry>;
  /** The seal registry's answer for each GB/T 38540 seal asked about, by esID (empty without a registry). */
  seals: Record<string, SealRegistryStatus>;
}

/**
 * The check itself: what the worker runs, and the main thread when there is no worker. With a seal
 * registry, verifyPdf asks it about every GB/T 38540 seal while it verifies (core's `sealStatus`):
 * revoked makes the signature invalid (SES_SEAL_REVOKED), unknown or unreachable indeterminate.
 * Without one, nothing is fetched (offline verification).
 */
export async function checkLicence(
  pdf: Uint8Array,
  trustAnchors: (Uint8Array | string)[],
  { sealRegistry, sealTrustAnchors }: SealCheckOptions = {},
): Promise<LicenceCheck> {
  const seals: Record<string, SealRegistryStatus> = {};
  const asked = new Map<string, Promise<SealStatus>>();
  const sealStatus = sealRegistry
    ? (seal: SESeal): Promise<SealStatus> => {
        // one request per seal even when several signatures carry it
        let answer = asked.get(seal.esID);
        if (!answer) {
          answer = askSealRegistry(sealRegistry, seal).then((r) => {
            seals[seal.esID] = r;
            return toSealStatus(r);
          });
          asked.set(seal.esID, answer);
        }
        return answer;
      }
    : undefined;
  const report = await verifyPdf(pdf, {
    ...splitTrust(trustAnchors),
    ...(sealTrustAnchors ? { sealTrustAnchors: splitTrust(sealTrustAnchors).trustAnchors } : {}),
    sealStatus,
  });
  const doc = PdfDocument.load(pdf, { recover: true });
  // only the pages with a mark to place: walking a 200-page tree costs 15-35 ms, beside pdf.js's work
  const pages: Record<number, PageGeometry> = {};
  for (const w of report.signatures.flatMap((s) => s.widgets ?? [])) {
    const p = pages[w.page] ? undefined : doc.latest.pageAt(w.page - 1);
    if (p) pages[w.page] = { cropBox: p.cropBox, rotate: p.rotate };
  }
  return { report, licence: readLicenceInfo(pdf, report, doc), pages, seals };
}

/** A seal's registry URL: `{esID}` replaced, else the esID appended as a path segment. */
export function sealStatusUrlFor(registry: SealRegistry, esID: string): string {
  const id = encodeURIComponent(esID);
  const url = registry.url.includes('{esID}')
    ? registry.url.replaceAll('{esID}', id)
    : `${registry.url.replace(/\/+$/, '')}/${id}`;
  return new URL(url, registry.base).href;
}

const REGISTRY_TIMEOUT_MS = 15_000;

/** Asks the registry about one seal (same-origin credentials, like the licence registry). Never throws. */
export async function askSealRegistry(registry: SealRegistry, seal: SESeal): Promise<SealRegistryStatus> {
  let res: Response;
  try {
    res = await fetch(sealStatusUrlFor(registry, seal.esID), {
      credentials: 'same-origin',
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(REGISTRY_TIMEOUT_MS),
    });
  } catch {
    return { status: 'unavailable' };
  }
  if (res.status === 404) return { status: 'unknown' };
  if (!res.ok) return { status: 'unavailable' };
  let body: { status?: unknown; seal?: unknown; revokedAt?: unknown; revocationReason?: unknown };
  try {
    body = (await res.json()) as typeof body;
  } catch {
    return { status: 'unavailable' };
  }
  if (!body || typeof body !== 'object') return { status: 'unavailable' };
  // The record must be this very seal when the registry gives its DER (the server does, and checks
  // the same in /api/verify): another seal under a registered esID is not the registered one.
  if (typeof body.seal === 'string' && body.seal !== toBase64(seal.der)) return { status: 'unknown' };
  if (body.status === 'revoked')
    return {
      status: 'revoked',
      revokedAt: typeof body.revokedAt === 'string' ? body.revokedAt : null,
      revocationReason: typeof body.revocationReason === 'string' ? body.revocationReason : null,
    };
  // expiry is the seal's own validity period, which the verification checks itself (GB/T 38540 §9.1)
  if (body.status === 'valid' || body.status === 'expired') return { status: 'good' };
  return { status: 'unavailable' };
}

function toSealStatus(r: SealRegistryStatus): SealStatus {
  if (r.status !== 'revoked') return { status: r.status };
  const at = r.revokedAt ? new Date(r.revokedAt) : undefined;
  return {
    status: 'revoked',
    revokedAt: at && !Number.isNaN(at.getTime()) ? at : undefined,
    reason: r.revocationReason ?? undefined,
  };
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
export function readLicenceInfo(
  pdf: Uint8Array,
  report: VerificationReport,
  parsed?: PdfDocument,
): LicenceInfo | null {
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
const jobs = new Map<
  number,
  { resolve: (r: LicenceCheck) => void; reject: (e: unknown) => void; fallback: () => void }
>();

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

/**
 * Checks a licence in the worker (the bytes are copied, not transferred), else on the main thread.
 * The worker asks the seal registry itself (a worker's fetch is the page's origin, with its cookies):
 * the statuses are there while verifyPdf runs, so the verdict is computed once, by the engine.
 */
export function checkLicenceOffThread(
  pdf: Uint8Array,
  trustAnchors: (Uint8Array | string)[],
  seals: SealCheckOptions = {},
): Promise<LicenceCheck> {
  const w = worker.get();
  if (!w) return checkLicence(pdf, trustAnchors, seals);
  const id = nextId++;
  return new Promise<LicenceCheck>((resolve, reject) => {
    jobs.set(id, {
      resolve,
      reject,
      fallback: () => checkLicence(pdf, trustAnchors, seals).then(resolve, reject),
    });
    w.postMessage({ id, pdf, trustAnchors, seals });
  });
}
