/** What every route can reach. */
import type { AuditLog } from './audit';
import type { Auth } from './auth';
import type { BlobStore } from './blobs';
import type { Db, DbKind } from './db/index';
import type { EnrolmentCa } from './pki/ca';
import type { ServerPki } from './pki/dev-pki';
import type { TsaResponder } from './tsa/responder';
import type { ReportCache } from './verify/cache';
import type { WorkerPool } from './verify/pool';

export interface Limits {
  /** Largest PDF accepted by /api/verify and /api/licences (bytes, default 100 MB). */
  verifyBodyBytes: number;
  /** Largest material upload (bytes, default 1 GiB). */
  materialBytes: number;
  /** Time budget per verification (ms, default 10 000). */
  verifyTimeMs: number;
  /** Requests per minute per client address. */
  tsaPerMinute: number;
  enrolPerMinute: number;
  /** Worker processes for verification (default min(4, cores)). */
  verifyWorkers?: number;
  /** V8 heap of each verification worker process (MB, default 1024); beyond it only that worker dies. */
  verifyHeapMb?: number;
}

export const DEFAULT_LIMITS: Limits = {
  verifyBodyBytes: 100 * 1024 * 1024,
  materialBytes: 1024 * 1024 * 1024,
  verifyTimeMs: 10_000,
  tsaPerMinute: 6000,
  enrolPerMinute: 20,
};

/** Failure injection for tests of transactional behaviour (never set in production). */
export interface TestHooks {
  /** Called inside the registration transaction after the licence row is written. */
  afterLicenceInsert?: () => void | Promise<void>;
}

export interface Ctx {
  dataDir: string;
  devMode: boolean;
  publicUrl?: string;
  db: Db;
  dbKind: DbKind;
  pki: ServerPki;
  trustPem: string;
  audit: AuditLog;
  auth: Auth;
  blobs: BlobStore;
  pool: WorkerPool;
  /** Verification reports per (file hash, trust anchors, CRL number). */
  reports: ReportCache;
  tsa: TsaResponder;
  ca: EnrolmentCa;
  limits: Limits;
  hooks: TestHooks;
}
