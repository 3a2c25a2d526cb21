/**
 * The Sidian server (DESIGN.md "Server"): Fastify with JSON errors, security headers, CORS only for
 * configured embedding origins, rate limits on enrolment and time stamps; Kysely over SQLite (or
 * PostgreSQL by URL); blobs on the filesystem; a development PKI on first run.
 */
import fs from 'node:fs';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import { AuditLog } from './audit';
import { AuditAnchors } from './audit-anchor';
import { Auth, type PortalConfig } from './auth';
import { BlobStore } from './blobs';
import { DEFAULT_LIMITS, type Ctx, type Limits, type TestHooks } from './context';
import { openDatabase, reserveCounter } from './db/index';
import { frameworkErrors, installErrorHandlers } from './errors';
import { EnrolmentCa } from './pki/ca';
import { DEMO_DEPARTMENT, loadOrCreateServerPki } from './pki/dev-pki';
import { loadOperatorPki, missingPki, type OperatorPkiConfig } from './pki/operator-pki';
import { ConfigError } from './config-error';
import { toPem } from './pki/x509';
import { isCreditCode } from '../../packages/core/src/licence/identifier';
import { setSm2BasePointTable } from '../../packages/core/src/gm/sm2';
import { caseRoutes, type CaseRouteOptions } from './cases/routes';
import { basicRoutes } from './routes/basics';
import { enrolRoutes } from './routes/enrol';
import { sm2TsaSigner } from './pki/dev-pki';
import { holderLicenceRoutes } from './routes/holder-licences';
import { prefillRoutes, type PrefillService } from './routes/prefill';
import { licenceRoutes } from './routes/licences';
import { materialRoutes } from './routes/materials';
import { ocspRoutes } from './routes/ocsp';
import { sealRoutes } from './routes/seals';
import type { SealAuthorityConfig } from './seals/authority';
import { DEFAULT_DIST, staticRoutes } from './routes/static-files';
import { OID_TEXT } from './tsa/der';
import { blockSerials, TsaResponder } from './tsa/responder';
import { ReportCache, serverSealOptions } from './verify/cache';
import { WorkerPool } from './verify/pool';

export interface ServerOptions {
  dataDir: string;
  /** PostgreSQL connection string; SQLite under dataDir when absent. */
  databaseUrl?: string;
  port?: number;
  host?: string;
  /**
   * Development mode: dev tokens, a demo department, open audit reading, a PKI made on first run;
   * loopback addresses only. Default: production.
   */
  devMode?: boolean;
  /** The operator's CA, TSA and seal keys; required in production (pki/operator-pki.ts). */
  pki?: OperatorPkiConfig;
  /** The GB/T 38540 seal authority's SM2 key (制章者, seals/authority.ts); else SIDIAN_SEAL_MAKER_*, or made in development. */
  sealMaker?: SealAuthorityConfig;
  /** Origins of the sites that embed the elements (exact match, e.g. https://zwfw.example.gov.cn). */
  corsOrigins?: string[];
  limits?: Partial<Limits>;
  portal?: PortalConfig;
  /** The server's public base URL (QR codes, CRL distribution points). */
  publicUrl?: string;
  /** Directory holding the built elements bundle (sidian.js); default dist/elements. */
  elementsDir?: string;
  /** Directory holding the built demo portal (served in development mode); default dist/demo. */
  demoDir?: string;
  logger?: boolean;
  hooks?: TestHooks;
  tsaPolicy?: string;
  /** Key of the citizens' pseudonyms (≥ 32 bytes); default `<data>/secrets/pseudonym.key`, made on first start. */
  pseudonymSecret?: string | Uint8Array;
  /** Department ids that act as the CA operator: they, besides a certificate's holder, revoke it. */
  caOperators?: string[];
  /** How often the audit chain's head is time-stamped (ms; default 10 minutes; 0 = only at start and close). */
  auditAnchorMs?: number;
  /** Reverse proxies whose X-Forwarded-For is believed (addresses or CIDRs); none by default. */
  trustProxy?: string[];
  /** The services whose forms `GET /api/prefill` fills, with the licence types feeding each; default the demo's. */
  prefillServices?: PrefillService[];
  /** Cases (联办): webhook retry timing, SSE heartbeat. */
  cases?: CaseRouteOptions;
}

export interface SidianServer {
  app: FastifyInstance;
  ctx: Ctx;
  /** Starts listening; returns the base URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

/** The development department: created on first run, its API key kept in `<data>/dev-department.json`. */
async function ensureDevDepartment(ctx: Ctx): Promise<{ id: string; apiKey: string }> {
  const file = path.join(ctx.dataDir, 'dev-department.json');
  if (fs.existsSync(file)) {
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { id: string; apiKey: string };
    if (await ctx.auth.department(saved.apiKey)) return saved;
  }
  const existing = await ctx.db
    .selectFrom('departments')
    .select('id')
    .where('id', '=', 'dev-department')
    .executeTakeFirst();
  if (existing) await ctx.db.deleteFrom('departments').where('id', '=', 'dev-department').execute();
  const d = await ctx.auth.createDepartment({
    id: 'dev-department',
    name: DEMO_DEPARTMENT.name,
    creditCode: DEMO_DEPARTMENT.creditCode,
  });
  fs.writeFileSync(
    file,
    JSON.stringify({ ...d, name: DEMO_DEPARTMENT.name, creditCode: DEMO_DEPARTMENT.creditCode }, null, 2),
    { mode: 0o600 },
  );
  return d;
}

/**
 * Departments from `<data>/departments.json`: `[{ "id", "name", "creditCode", "apiKeySha256" }]`
 * (the SHA-256 hex of each API key; keys themselves are never written anywhere by the server).
 */
async function loadDepartments(ctx: Ctx): Promise<number> {
  const file = path.join(ctx.dataDir, 'departments.json');
  if (!fs.existsSync(file)) return 0;
  const list = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    id: string;
    name: string;
    creditCode: string;
    apiKeySha256: string;
  }[];
  if (!Array.isArray(list)) throw new Error(`${file} must hold an array of departments`);
  for (const d of list) {
    if (!d?.id || !d.name || !isCreditCode(d.creditCode) || !/^[0-9a-f]{64}$/.test(d.apiKeySha256 ?? '')) {
      throw new Error(`${file}: each department needs id, name, a valid creditCode and apiKeySha256 (hex)`);
    }
    await ctx.db
      .insertInto('departments')
      .values({
        id: d.id,
        name: d.name,
        credit_code: d.creditCode,
        api_key_hash: d.apiKeySha256,
        created_at: new Date().toISOString(),
      })
      .onConflict((oc) =>
        oc
          .column('id')
          .doUpdateSet({ name: d.name, credit_code: d.creditCode, api_key_hash: d.apiKeySha256 }),
      )
      .execute();
  }
  return list.length;
}

/** 127.0.0.0/8, ::1 and localhost: the addresses development mode may listen on. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return (
    h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h)
  );
}

/** What production refuses to start without, checked before anything is written to the data folder. */
function checkStartable(o: ServerOptions, devMode: boolean): void {
  const host = o.host ?? '127.0.0.1';
  if (devMode && !isLoopback(host)) {
    throw new ConfigError(
      'DEV_NOT_LOOPBACK',
      `开发模式会发放测试令牌和演示部门的密钥，只能监听本机地址 (127.0.0.1, ::1)，不能监听 ${host} / ` +
        `development mode hands out test tokens and the demo department's keys, so it listens on loopback only, not ${host}`,
    );
  }
  if (devMode) return;
  if (!o.pki) throw missingPki();
  const p = o.portal;
  const missing = [
    !p?.publicKeyPem && !p?.jwksUrl ? 'SIDIAN_PORTAL_PUBLIC_KEY or SIDIAN_PORTAL_JWKS_URL' : '',
    !p?.issuer ? 'SIDIAN_PORTAL_ISSUER' : '',
    !p?.audience ? 'SIDIAN_PORTAL_AUDIENCE' : '',
  ].filter(Boolean);
  if (missing.length) {
    throw new ConfigError(
      'PORTAL_MISSING',
      `生产模式需要配置门户令牌的公钥、签发者 (issuer) 和受众 (audience)；缺少: ${missing.join(', ')} / ` +
        `production needs the portal's token key, issuer and audience; missing: ${missing.join(', ')} (docs/production.md)`,
    );
  }
}

export async function buildServer(o: ServerOptions): Promise<SidianServer> {
  const devMode = o.devMode ?? false;
  checkStartable(o, devMode);
  const dataDir = path.resolve(o.dataDir);
  fs.mkdirSync(dataDir, { recursive: true });
  const limits: Limits = { ...DEFAULT_LIMITS, ...o.limits };
  const corsOrigins = (o.corsOrigins ?? []).map((s) => s.replace(/\/+$/, ''));

  if (o.tsaPolicy !== undefined && !OID_TEXT.test(o.tsaPolicy))
    throw new Error(`the TSA policy "${o.tsaPolicy}" is not an OID (e.g. 2.25.<uuid as integer>)`);
  // production never invents a PKI: the operator's, checked (key matches certificate, chains to the CA)
  const pki = o.pki ? await loadOperatorPki(o.pki) : await loadOrCreateServerPki(dataDir);
  const database = await openDatabase({ dataDir, databaseUrl: o.databaseUrl });
  const audit = new AuditLog(database.db, database.kind);
  const auth = await Auth.create(database.db, {
    portal: o.portal,
    devMode,
    dataDir,
    pseudonymSecret: o.pseudonymSecret,
  });
  const pool = new WorkerPool({ size: limits.verifyWorkers, maxOldGenerationSizeMb: limits.verifyHeapMb });
  const tsa = new TsaResponder({
    signer: { certificate: pki.tsa.der, chain: pki.tsa.chain ?? [pki.ca.der], key: pki.tsa.key },
    // 国密: SM3 requests get a token from the SM2 TSA (tsa/responder.ts)
    sm2Signer: pki.sm2?.tsa && sm2TsaSigner(pki.sm2.tsa, pki.sm2.ca),
    nextSerial: blockSerials((n) => reserveCounter(database.db, 'tsa-serial', n)),
    policy: o.tsaPolicy,
  });
  const ctx: Ctx = {
    dataDir,
    devMode,
    publicUrl: o.publicUrl,
    db: database.db,
    dbKind: database.kind,
    pki,
    trustPem: pki.anchors.map((a) => toPem(a, 'CERTIFICATE')).join(''),
    audit,
    auth,
    blobs: new BlobStore(dataDir),
    pool,
    reports: new ReportCache(),
    tsa,
    ca: new EnrolmentCa(database.db, pki, audit, { publicUrl: o.publicUrl }),
    limits,
    hooks: o.hooks ?? {},
    caOperators: o.caOperators ?? [],
    auditAnchors: new AuditAnchors(database.db, audit, tsa, dataDir),
  };
  await loadDepartments(ctx);
  if (devMode) await ensureDevDepartment(ctx);

  const app = Fastify({
    logger: o.logger
      ? {
          level: 'info',
          redact: {
            paths: ['req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie'],
            remove: true,
          },
        }
      : false,
    bodyLimit: 1024 * 1024,
    // X-Forwarded-For is honoured only from the configured reverse proxies (addresses or CIDRs)
    trustProxy: o.trustProxy?.length ? o.trustProxy : false,
    forceCloseConnections: true,
    requestTimeout: 10 * 60_000,
    frameworkErrors,
  });
  installErrorHandlers(app);

  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        // 'wasm-unsafe-eval' lets the page compile WebAssembly (SM3 in core's gm/sm3.wat, about twice
        // the JavaScript's speed); it allows no eval of JavaScript (CSP Level 3 §6.1.11.2)
        scriptSrc: ["'self'", "'wasm-unsafe-eval'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        connectSrc: ["'self'"],
        workerSrc: ["'self'", 'blob:'],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'self'", ...corsOrigins],
      },
    },
    crossOriginResourcePolicy: { policy: 'same-site' },
    crossOriginEmbedderPolicy: false,
    strictTransportSecurity: { maxAge: 15552000, includeSubDomains: true },
  });
  await app.register(cors, {
    origin: (origin, cb) => cb(null, !!origin && corsOrigins.includes(origin)),
    methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE', 'OPTIONS'],
    allowedHeaders: [
      'Authorization',
      'Content-Type',
      'X-Api-Key',
      'Tus-Resumable',
      'Upload-Length',
      'Upload-Metadata',
      'Upload-Offset',
      'Upload-Defer-Length',
      'Upload-Concat',
      'X-HTTP-Method-Override',
      'X-Requested-With',
    ],
    exposedHeaders: [
      'Location',
      'Upload-Offset',
      'Upload-Length',
      'Upload-Metadata',
      'Tus-Resumable',
      'Tus-Version',
      'Tus-Max-Size',
      'Tus-Extension',
      'Upload-Expires',
      'Sidian-Cache',
      'Sidian-Crl-Number',
    ],
    maxAge: 600,
  });
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_req, c) => ({
      statusCode: 429,
      error: 'RATE_LIMITED',
      message: `too many requests; retry after ${Math.ceil(c.ttl / 1000)} s`,
    }),
  });

  await basicRoutes(app, ctx);
  await enrolRoutes(app, ctx);
  await licenceRoutes(app, ctx);
  await holderLicenceRoutes(app, ctx);
  await prefillRoutes(app, ctx, o.prefillServices);
  await materialRoutes(app, ctx);
  await ocspRoutes(app, ctx);
  await caseRoutes(app, ctx, o.cases);
  await sealRoutes(app, ctx, o.sealMaker);

  // The elements bundle (/elements/) and, in development mode, the demo portal (/), from dist/.
  await staticRoutes(app, ctx, {
    elementsDir: o.elementsDir ?? path.join(DEFAULT_DIST, 'elements'),
    demoDir: o.demoDir ?? path.join(DEFAULT_DIST, 'demo'),
  });

  void pool.warmup();
  // What the first verification would do once, done here where it delays no request (the server
  // is not listening yet): sign the current CRLs, load the seal registry's snapshot (verify/cache.ts).
  // A failure is left to that verification to report.
  await ctx.ca.currentCrls().catch(() => undefined);
  await serverSealOptions(ctx).catch(() => undefined);
  // SM2's table of G's multiples (~65 ms once), which a server with no SM2 key of its own would
  // otherwise build at the first seal checked on this thread (POST /api/seals/verify of a DER seal)
  setSm2BasePointTable('now');
  ctx.auditAnchors.start(o.auditAnchorMs ?? 10 * 60_000);
  await ctx.auditAnchors.anchorNow().catch(() => undefined);

  let closed = false;
  return {
    app,
    ctx,
    async listen() {
      return app.listen({ port: o.port ?? 8080, host: o.host ?? '127.0.0.1' });
    },
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      await ctx.auditAnchors.stop();
      await ctx.auditAnchors.anchorNow().catch(() => undefined); // the last head, as the server stops
      await pool.close();
      await database.close();
      pki.close?.();
    },
  };
}
