/**
 * The licence registry (证照库). Departments register sealed licences with their API key; anyone
 * holding the identifier (the QR code) can see its status, metadata and document.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { actorOf, type Department } from '../auth';
import { binaryBodies } from '../body';
import type { Ctx } from '../context';
import { badRequest, conflict, forbidden, HttpError, notFound, unprocessable } from '../errors';
import { extendLicence, renewArchiveTimestamps } from '../ltv';
import { clientGoneSignal, looksLikePdf } from './basics';
import type { LicenceInspection } from '../verify/job';
import type { Transaction } from 'kysely';
import type { Database, LicencesTable } from '../db/schema';
import { isLicenceIdentifier } from '../../../packages/core/src/licence/identifier';
import { licenceValidity, type LicenceMetadata } from '../../../packages/core/src/licence/licence';
import {
  isLicenceWithdrawal,
  licenceStatusTerm,
  LICENCE_WITHDRAWALS,
  type LicenceStatus,
} from '../../../packages/core/src/licence/status';
import { serverSealOptions, verifyWithServerState } from '../verify/cache';
import {
  faviconSvg,
  licencePage,
  licencePageCss,
  pageLang,
  verificationPage,
  wantsHtml,
} from './licence-page';

export type { LicenceStatus };

/** The registry's status: what a department set (cancelled 注销, revoked 吊销, suspended 中止), else the validity dates. */
export function licenceStatus(
  row: Pick<LicencesTable, 'status' | 'valid_from' | 'valid_until'>,
  at = new Date(),
): LicenceStatus {
  if (isLicenceWithdrawal(row.status)) return row.status;
  return licenceValidity({ validFrom: row.valid_from, validUntil: row.valid_until }, at);
}

export function publicLicence(row: LicencesTable) {
  const status = licenceStatus(row);
  const m = JSON.parse(row.metadata) as LicenceMetadata;
  return {
    id: row.id,
    status,
    /** The status in words, from the one table (packages/core/src/licence/status.ts). */
    statusText: {
      'zh-CN': licenceStatusTerm(status, 'zh-CN').term,
      en: licenceStatusTerm(status, 'en').term,
    },
    typeName: row.type_name,
    typeCode: row.type_code,
    number: row.number,
    holder: { name: row.holder_name, idType: row.holder_id_type },
    issuer: { name: row.issuer_name, creditCode: row.issuer_code },
    issueDate: row.issue_date,
    validFrom: row.valid_from,
    validUntil: row.valid_until,
    data: m.data ?? {},
    sha256: row.sha256,
    size: Number(row.size),
    registeredAt: row.registered_at,
    revokedAt: row.revoked_at,
    revocationReason: row.revocation_reason,
    file: `/api/licences/${encodeURIComponent(row.id)}/file`,
    page: `/v/${encodeURIComponent(row.id)}`,
  };
}

function checkId(id: string) {
  if (!isLicenceIdentifier(id))
    throw notFound('no such licence (the identifier is not well formed)', 'LICENCE_NOT_FOUND');
}

async function findLicence(ctx: Ctx, id: string): Promise<LicencesTable> {
  checkId(id);
  const row = await ctx.db.selectFrom('licences').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('no such licence', 'LICENCE_NOT_FOUND');
  return row;
}

/** Why a sealed licence PDF cannot be registered by this department, or nothing. */
export function registrationProblems(
  ins: LicenceInspection,
  dept: Department,
): { status: number; code: string; message: string } | undefined {
  const { report, licence, problems } = ins;
  if (report.status === 'unsigned')
    return { status: 422, code: 'LICENCE_NOT_SEALED', message: 'the PDF carries no seal' };
  if (report.status !== 'valid') {
    const reasons = report.signatures.flatMap((s) => s.reasons).slice(0, 5);
    return {
      status: 422,
      code: 'LICENCE_SEAL_INVALID',
      message: `the seal does not verify against the trust anchors (${report.status}${reasons.length ? ': ' + reasons.join('; ') : ''})`,
    };
  }
  if (!licence)
    return { status: 422, code: 'LICENCE_MISSING', message: 'the PDF has no licence.json attachment' };
  if (problems.length)
    return {
      status: 422,
      code: 'LICENCE_INCOMPLETE',
      message: `licence.json is incomplete: ${problems.join('; ')}`,
    };
  if (!ins.licenceCoveredBySeal)
    return {
      status: 422,
      code: 'LICENCE_NOT_COVERED',
      message: 'licence.json was not covered by a valid seal (attach it before sealing)',
    };
  const sealedByIssuer = report.signatures.some(
    (s) =>
      s.kind !== 'document-timestamp' &&
      s.status === 'valid' &&
      s.trust === 'trusted' &&
      (s.signer?.organization === licence.issuer.name || s.signer?.commonName === licence.issuer.name),
  );
  if (!sealedByIssuer)
    return {
      status: 422,
      code: 'LICENCE_SEALED_BY_OTHER',
      message: `no valid seal of the issuing authority ${licence.issuer.name}`,
    };
  if (licence.issuer.creditCode !== dept.creditCode) {
    return {
      status: 403,
      code: 'LICENCE_OTHER_ISSUER',
      message: 'a department can register only the licences it issues (issuer.creditCode differs)',
    };
  }
  return undefined;
}

/** A sealed licence checked for registration and stored (B-LTA) as a blob, not yet in the registry. */
export interface PreparedLicence {
  licence: LicenceMetadata;
  sha256: string;
  size: number;
}

/**
 * Checks a sealed licence PDF for registration by `dept` (registrationProblems) and stores it as
 * B-LTA, content-addressed (harmless if the registering transaction then fails). Throws HttpError.
 */
export async function prepareLicence(ctx: Ctx, dept: Department, body: Uint8Array): Promise<PreparedLicence> {
  // a signature carrying a GB/T 38540 seal is judged as POST /api/verify judges it: against the
  // seal maker's anchors and the seal registry (a licence sealed with a revoked seal is refused)
  const { sealTrustAnchors, sealRegistry } = await serverSealOptions(ctx);
  const ins = await ctx.pool.run<LicenceInspection>(
    {
      kind: 'licence',
      pdf: body,
      options: {
        trustAnchors: [ctx.trustPem],
        crls: (await ctx.ca.currentCrls()).map((c) => c.pem),
        timeBudgetMs: ctx.limits.verifyTimeMs,
        sealTrustAnchors,
        sealRegistry,
      },
    },
    ctx.limits.verifyTimeMs * 3,
  );
  const problem = registrationProblems(ins, dept);
  if (problem) throw new HttpError(problem.status, problem.code, problem.message);
  // stored as B-LTA: the server's CA certificate and CRL in a DSS, then its own TSA's
  // document time-stamp, so the seal stays verifiable after its certificate expires
  let stored: Uint8Array;
  try {
    stored = await extendLicence(ctx, body);
  } catch (e) {
    throw new HttpError(
      503,
      'LTV_UNAVAILABLE',
      `long-term validation data could not be added: ${(e as Error).message}`,
    );
  }
  const { sha256, size } = await ctx.blobs.putBytes(stored);
  return { licence: ins.licence!, sha256, size };
}

/** Files a prepared licence in the registry inside the caller's transaction (no audit entry: the caller writes it). */
export async function insertLicence(
  trx: Transaction<Database>,
  ctx: Ctx,
  dept: Department,
  p: PreparedLicence,
): Promise<void> {
  const { licence: l, sha256, size } = p;
  const now = new Date().toISOString();
  const exists = await trx
    .selectFrom('licences')
    .select('id')
    .where('id', '=', l.identifier)
    .executeTakeFirst();
  if (exists) throw conflict('a licence with this identifier is already registered', 'LICENCE_EXISTS');
  const sameNumber = await trx
    .selectFrom('licences')
    .select('id')
    .where('issuer_code', '=', l.issuer.creditCode)
    .where('number', '=', l.number)
    .executeTakeFirst();
  if (sameNumber)
    throw conflict('this issuer already registered a licence with this number', 'LICENCE_NUMBER_EXISTS');
  await trx
    .insertInto('blobs')
    .values({ sha256, size, created_at: now })
    .onConflict((oc) => oc.column('sha256').doNothing())
    .execute();
  await trx
    .insertInto('licences')
    .values({
      id: l.identifier,
      number: l.number,
      type_code: l.typeCode,
      type_name: l.typeName,
      holder_name: l.holder.name,
      holder_id_type: l.holder.idType,
      holder_id_hash: ctx.auth.holderIdHash(l.holder.idNumber),
      issuer_name: l.issuer.name,
      issuer_code: l.issuer.creditCode,
      department_id: dept.id,
      issue_date: l.issueDate,
      valid_from: l.validFrom,
      valid_until: l.validUntil,
      sha256,
      size,
      metadata: JSON.stringify({ ...l, holder: { ...l.holder, idNumber: undefined } }),
      status: 'valid',
      registered_at: now,
      revoked_at: null,
      revocation_reason: null,
    })
    .execute();
}

/**
 * Registers one sealed licence PDF for `dept`: checks it (registrationProblems), stores it as B-LTA
 * (prepareLicence) and files it in one transaction with its audit entry. Throws HttpError with the refusal.
 */
async function registerLicence(
  ctx: Ctx,
  dept: Department,
  body: Uint8Array | undefined,
): Promise<LicencesTable> {
  if (!body || body.length === 0)
    throw badRequest('send the sealed licence PDF as the request body', 'EMPTY_BODY');
  if (!looksLikePdf(body)) throw unprocessable('the body is not a PDF (no %PDF- header)', 'PDF_NOT_PDF');
  const prepared = await prepareLicence(ctx, dept, body);
  try {
    await ctx.db.transaction().execute(async (trx) => {
      await insertLicence(trx, ctx, dept, prepared);
      await ctx.hooks.afterLicenceInsert?.();
      await ctx.audit.append(trx, {
        actor: actorOf(dept),
        action: 'licence.register',
        subject: `licence:${prepared.licence.identifier}`,
      });
    });
  } catch (e) {
    // a unique-key race with a concurrent registration of the same licence
    if (/unique|duplicate/i.test((e as Error).message ?? '') && !(e as { status?: number }).status) {
      throw conflict('a licence with this identifier is already registered', 'LICENCE_EXISTS');
    }
    throw e;
  }
  return findLicence(ctx, prepared.licence.identifier);
}

/** Licences one batch registration may carry (each is verified and extended like a single one). */
const BATCH_MAX = 100;

/** The licences of a batch body: {"licences": [base64, ...]}, 1 to BATCH_MAX of them. */
function batchBody(body: Uint8Array | undefined): Uint8Array[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(body ?? new Uint8Array()));
  } catch {
    throw badRequest('send {"licences": [base64 PDF, ...]} as JSON', 'BATCH_BAD_BODY');
  }
  const list = (parsed as { licences?: unknown } | null)?.licences;
  if (!Array.isArray(list) || list.length === 0 || list.some((x) => typeof x !== 'string'))
    throw badRequest('send {"licences": [base64 PDF, ...]} with at least one licence', 'BATCH_BAD_BODY');
  if (list.length > BATCH_MAX) throw badRequest(`at most ${BATCH_MAX} licences per batch`, 'BATCH_TOO_LARGE');
  return (list as string[]).map((b64) => new Uint8Array(Buffer.from(b64, 'base64')));
}

export async function licenceRoutes(app: FastifyInstance, ctx: Ctx): Promise<void> {
  await app.register(async (scope) => {
    binaryBodies(scope, ctx.limits.verifyBodyBytes);
    scope.post('/api/licences', { bodyLimit: ctx.limits.verifyBodyBytes }, async (req, reply) => {
      const dept = await ctx.auth.requireDepartment(req);
      const row = await registerLicence(ctx, dept, req.body as Uint8Array | undefined);
      return reply
        .status(201)
        .header('location', `/api/licences/${encodeURIComponent(row.id)}`)
        .send(publicLicence(row));
    });
    // 批量登记: the licences of a batch sealing (sealBatch) in one call, JSON
    // {"licences": [base64 PDF, ...]}; each one is registered on its own (its own checks and
    // transaction, as POST /api/licences), so one refusal does not undo or stop the others.
    scope.post('/api/licences/batch', { bodyLimit: ctx.limits.verifyBodyBytes }, async (req) => {
      const dept = await ctx.auth.requireDepartment(req);
      const pdfs = batchBody(req.body as Uint8Array | undefined);
      const results = [];
      for (const [index, pdf] of pdfs.entries()) {
        try {
          const row = await registerLicence(ctx, dept, pdf);
          results.push({ index, status: 201, licence: publicLicence(row) });
        } catch (e) {
          // the earlier items are registered: the answer must still say which, so nothing escapes
          if (e instanceof HttpError) {
            results.push({ index, status: e.status, error: e.code, message: e.message });
          } else if ((e as Error)?.name === 'SidianError') {
            results.push({
              index,
              status: 422,
              error: String((e as { code?: unknown }).code),
              message: (e as Error).message,
            });
          } else {
            req.log.error({ err: e, index }, 'batch licence registration failed');
            results.push({ index, status: 500, error: 'INTERNAL', message: 'internal server error' });
          }
        }
      }
      const registered = results.filter((r) => r.status === 201).length;
      return { registered, failed: results.length - registered, results };
    });
  });

  app.get('/api/licences/:id', async (req) =>
    publicLicence(await findLicence(ctx, (req.params as { id: string }).id)),
  );

  app.get('/api/licences/:id/file', async (req, reply) => {
    const row = await findLicence(ctx, (req.params as { id: string }).id);
    return sendPdf(reply, ctx, row);
  });

  app.get('/api/licences/:id/verification', async (req, reply) => {
    const row = await findLicence(ctx, (req.params as { id: string }).id);
    // the stored file is content-addressed: its hash is the cache key that POST /api/verify uses too
    const { report, cache, crlNumber } = await verifyWithServerState(
      ctx,
      row.sha256,
      () => ctx.blobs.read(row.sha256),
      { signal: clientGoneSignal(reply) }, // a verifier that leaves cancels the job
    );
    reply
      .header('sidian-cache', cache)
      .header('sidian-crl-number', String(crlNumber))
      .header('vary', 'Accept, Accept-Language');
    // a person who followed the 核验签章 link gets the verdict in words; machines get JSON
    const q = req.query as { format?: unknown; lang?: unknown };
    if (wantsHtml(req.headers.accept, q.format))
      return reply
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(verificationPage(publicLicence(row), report, pageLang(req.headers['accept-language'], q.lang)));
    return { licence: publicLicence(row), report };
  });

  // Renews the archive time-stamps of the calling department's licences whose TSA certificate
  // expires within `withinDays` (default 90): body `{ withinDays }` -> `{ renewed, checked, failed }`.
  app.post('/api/licences/renew-timestamps', async (req) => {
    const dept = await ctx.auth.requireDepartment(req);
    const within = (req.body as { withinDays?: unknown } | undefined)?.withinDays ?? 90;
    if (typeof within !== 'number' || !Number.isFinite(within) || within < 0 || within > 3650)
      throw badRequest('withinDays must be a number of days from 0 to 3650');
    return renewArchiveTimestamps(ctx, {
      withinMs: within * 86400_000,
      departmentId: dept.id,
      actor: actorOf(dept),
    });
  });

  app.post('/api/licences/:id/revoke', async (req) => {
    const dept = await ctx.auth.requireDepartment(req);
    const { id } = req.params as { id: string };
    const body = req.body as { reason?: unknown; status?: unknown } | undefined;
    const reason = body?.reason;
    if (reason !== undefined && (typeof reason !== 'string' || reason.length > 500))
      throw badRequest('reason must be a short text');
    // 注销 (cancelled, no fault), 吊销 (revoked, a penalty) or 中止 (suspended): the registry keeps which.
    const status = body?.status ?? 'revoked';
    if (!isLicenceWithdrawal(status))
      throw badRequest(`status must be one of ${LICENCE_WITHDRAWALS.join(', ')}`);
    await ctx.db.transaction().execute(async (trx) => {
      checkId(id);
      const row = await trx
        .selectFrom('licences')
        .select(['id', 'department_id', 'status'])
        .where('id', '=', id)
        .executeTakeFirst();
      if (!row) throw notFound('no such licence', 'LICENCE_NOT_FOUND');
      if (row.department_id !== dept.id)
        throw forbidden('only the issuing department can revoke a licence', 'LICENCE_OTHER_ISSUER');
      if (isLicenceWithdrawal(row.status) && row.status !== 'suspended')
        throw conflict(`the licence is already ${row.status}`, 'LICENCE_REVOKED');
      await trx
        .updateTable('licences')
        .set({
          status,
          revoked_at: new Date().toISOString(),
          revocation_reason: (reason as string | undefined) ?? null,
        })
        .where('id', '=', id)
        .execute();
      await ctx.audit.append(trx, {
        actor: actorOf(dept),
        action: 'licence.revoke',
        subject: `licence:${id}`,
      });
    });
    return publicLicence(await findLicence(ctx, id));
  });

  app.get('/v/style.css', async (_req, reply) => {
    return reply
      .type('text/css; charset=utf-8')
      .header('cache-control', 'public, max-age=3600')
      .send(licencePageCss);
  });

  // the pages' icon; also at /favicon.ico, which browsers ask for on pages without one (the JSON view)
  for (const url of ['/v/favicon.svg', '/favicon.ico'])
    app.get(url, async (_req, reply) =>
      reply.type('image/svg+xml').header('cache-control', 'public, max-age=86400').send(faviconSvg),
    );

  app.get('/v/:id', async (req, reply) => {
    const { id } = req.params as { id: string };
    let row: LicencesTable | undefined;
    if (isLicenceIdentifier(id))
      row = await ctx.db.selectFrom('licences').selectAll().where('id', '=', id).executeTakeFirst();
    return reply
      .status(row ? 200 : 404)
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('vary', 'Accept-Language')
      .send(
        licencePage(
          id,
          row ? publicLicence(row) : undefined,
          pageLang(req.headers['accept-language'], (req.query as { lang?: unknown }).lang),
        ),
      );
  });
}

function sendPdf(reply: FastifyReply, ctx: Ctx, row: LicencesTable): FastifyReply {
  return reply
    .type('application/pdf')
    .header(
      'content-disposition',
      `inline; filename="licence-${row.number.replace(/[^A-Za-z0-9._-]/g, '_')}.pdf"`,
    )
    .header('content-length', String(row.size))
    .header('x-content-sha256', row.sha256)
    .send(ctx.blobs.stream(row.sha256));
}
