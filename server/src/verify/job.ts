/** Jobs that parse untrusted PDFs; run inside the worker pool (worker.mjs). */
import type { VerificationReport, VerifyOptions } from '../../../packages/core/src/verify/types';
import { readLicence, licenceProblems, type LicenceMetadata } from '../../../packages/core/src/licence/index';
import {
  makerKeyOf,
  parseRegistry,
  registryStatus,
  sha256Hex,
  type RegistryEntry,
  type SerializedRegistry,
} from '../seals/registry';

export type Job =
  | { id: number; kind: 'warmup' }
  | { id: number; kind: 'verify'; pdf: Uint8Array; options: SerializableVerifyOptions }
  | { id: number; kind: 'licence'; pdf: Uint8Array; options: SerializableVerifyOptions };

export interface SerializableVerifyOptions {
  trustAnchors?: string[];
  crls?: string[];
  timeBudgetMs?: number;
  validationTime?: string;
  /** PEM anchors of the GB/T 38540 seal makers (the server's seal authority). */
  sealTrustAnchors?: string[];
  /** The seal registry (seals/registry.ts); when given, it answers every seal's status. */
  sealRegistry?: SerializedRegistry;
}

/** The last registry snapshot this worker parsed (a worker serves many jobs of one snapshot). */
let parsedRegistry: { digest: string; entries: Map<string, RegistryEntry> } | undefined;

/** The registry's word on a seal, as `POST /api/seals/verify` gives it for our own seals. */
function sealStatusFrom(r: SerializedRegistry): NonNullable<VerifyOptions['sealStatus']> {
  if (parsedRegistry?.digest !== r.digest) {
    // the pool sends the entries only to a worker that has not parsed this snapshot (pool.ts);
    // should the two ever disagree, fail rather than judge seals against an empty registry
    if (!r.entries)
      throw Object.assign(new Error('the seal registry snapshot was not sent'), {
        code: 'SEAL_REGISTRY_MISSING',
      });
    parsedRegistry = { digest: r.digest, entries: parseRegistry(r.entries) };
  }
  const entries = parsedRegistry.entries;
  const own = new Set(r.ownMakerKeys);
  return async (seal) => {
    const maker = makerKeyOf(seal.makerCertificate);
    // other makers: 'good' unless revoked here, as before the registry was complete (registry.ts)
    return registryStatus(entries.get(seal.esID), sha256Hex(seal.der), !!maker && own.has(maker), 'good');
  };
}

export interface LicenceInspection {
  report: VerificationReport;
  licence: LicenceMetadata | null;
  problems: string[];
  /** licence.json as it was in the revision covered by the newest valid seal (null when not there). */
  licenceCoveredBySeal: boolean;
}

type VerifyFn = (pdf: Uint8Array, options?: VerifyOptions) => Promise<VerificationReport>;

let verifyPdf: VerifyFn | undefined;

async function verifier(): Promise<VerifyFn> {
  if (verifyPdf) return verifyPdf;
  const core = (await import('@sidian/core')) as unknown as { verifyPdf?: VerifyFn };
  if (typeof core.verifyPdf !== 'function') {
    throw Object.assign(new Error('verifyPdf is not available in @sidian/core yet'), {
      code: 'NOT_IMPLEMENTED',
    });
  }
  verifyPdf = core.verifyPdf;
  return verifyPdf;
}

function options(o: SerializableVerifyOptions): VerifyOptions {
  return {
    trustAnchors: o.trustAnchors,
    crls: o.crls,
    timeBudgetMs: o.timeBudgetMs,
    validationTime: o.validationTime ? new Date(o.validationTime) : undefined,
    sealTrustAnchors: o.sealTrustAnchors,
    sealStatus: o.sealRegistry ? sealStatusFrom(o.sealRegistry) : undefined,
  };
}

export async function runJob(job: Job): Promise<unknown> {
  switch (job.kind) {
    case 'warmup':
      try {
        await verifier();
      } catch {
        /* reported per request */
      }
      return null;
    case 'verify':
      return (await verifier())(job.pdf, options(job.options));
    case 'licence': {
      const report = await (await verifier())(job.pdf, options(job.options));
      let licence: LicenceMetadata | undefined;
      let problems: string[] = [];
      try {
        licence = readLicence(job.pdf);
        problems = licence ? licenceProblems(licence) : ['the PDF has no licence.json attachment'];
      } catch (e) {
        problems = [(e as Error).message];
      }
      // licence.json must be the one the seal covers: read it again from the newest valid, trusted
      // approval or certification signature's signed revision and compare.
      let covered = false;
      if (licence) {
        const sealed = report.signatures.filter(
          (s) => s.kind !== 'document-timestamp' && s.status === 'valid' && s.byteRange?.length === 4,
        );
        for (const s of sealed) {
          const br = s.byteRange!;
          try {
            const atSeal = readLicence(job.pdf, { revisionEnd: br[2]! + br[3]! });
            if (atSeal && JSON.stringify(atSeal) === JSON.stringify(licence)) covered = true;
          } catch {
            /* not covered by this one */
          }
        }
      }
      const out: LicenceInspection = {
        report,
        licence: licence ?? null,
        problems,
        licenceCoveredBySeal: covered,
      };
      return out;
    }
  }
}
