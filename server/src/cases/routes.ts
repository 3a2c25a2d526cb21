/**
 * Cases over HTTP (DESIGN.md "Cases (联办)"): departments (X-Api-Key) open cases, see their queue and
 * a Server-Sent Events stream of changes (resumable with Last-Event-ID), approve, return or seal;
 * the applicant (portal token) follows the case; webhooks and their delivery log; overdue steps.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Transaction } from 'kysely';
import { docMdpPermission, listFields } from '../../../packages/core/src/sign/fields';
import { PdfDocument } from '../../../packages/core/src/pdf/document';
import { actorOf, type Caller, type Department } from '../auth';
import { binaryBodies } from '../body';
import type { Ctx } from '../context';
import type { CasesTable, Database } from '../db/schema';
import { badRequest, conflict, forbidden, notFound, unauthorized, unprocessable } from '../errors';
import { prepareLicence, type PreparedLicence } from '../routes/licences';
import { looksLikePdf } from '../routes/basics';
import { x509 } from '../pki/x509';
import type { LicenceInspection } from '../verify/job';
import {
  caseBus,
  caseView,
  CaseService,
  loadSteps,
  pauseBeforeCaseCommit,
  sealRect,
  type RouteStep,
} from './cases';
import { DEFAULT_WEBHOOK_OPTIONS, WebhookDispatcher, type WebhookOptions } from './webhooks';

export interface CaseRouteOptions {
  webhooks?: Partial<WebhookOptions>;
  /** SSE comment lines keep idle connections open through proxies (ms, default 15 s). */
  heartbeatMs?: number;
}

const CASE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const STEP_ID = /^\d{1,2}\.\d{1,2}$/;

function clerkActor(req: FastifyRequest, dept: Department): string {
  const clerk = req.headers['x-sidian-clerk'];
  if (clerk === undefined) return actorOf(dept);
  if (typeof clerk !== 'string' || !/^[\p{L}\p{N} ._-]{1,64}$/u.test(clerk))
    throw badRequest('X-Sidian-Clerk must be a short name (letters, digits, space, . _ -)');
  return `${actorOf(dept)}/clerk:${clerk}`;
}

function parseRoute(route: unknown, departments: Set<string>): RouteStep[][] {
  if (!Array.isArray(route) || route.length < 1 || route.length > 20)
    throw badRequest(
      'route must be a list of 1 to 20 stages, each a list of steps run in parallel',
      'CASE_BAD_ROUTE',
    );
  return route.map((stage, si) => {
    if (!Array.isArray(stage) || stage.length < 1 || stage.length > 10)
      throw badRequest(`stage ${si + 1} must be a list of 1 to 10 steps`, 'CASE_BAD_ROUTE');
    const seen = new Set<string>();
    return stage.map((s: unknown, pi) => {
      const step = s as Partial<RouteStep> | null;
      const where = `step ${si + 1}.${pi + 1}`;
      if (!step || typeof step.department !== 'string' || !departments.has(step.department))
        throw badRequest(`${where}: unknown department "${String(step?.department)}"`, 'CASE_BAD_ROUTE');
      if (seen.has(step.department))
        throw badRequest(`${where}: a department appears twice in one stage`, 'CASE_BAD_ROUTE');
      seen.add(step.department);
      if (step.action !== 'seal' && step.action !== 'approve')
        throw badRequest(`${where}: action must be "seal" or "approve"`, 'CASE_BAD_ROUTE');
      const t = typeof step.deadline === 'string' ? Date.parse(step.deadline) : NaN;
      if (!Number.isFinite(t))
        throw badRequest(`${where}: deadline must be an ISO-8601 time`, 'CASE_BAD_ROUTE');
      return { department: step.department, action: step.action, deadline: new Date(t).toISOString() };
    });
  });
}

/** Whether the certificate's organizationIdentifier (if any) is this credit code. */
function sameCreditCode(leafBase64: string | undefined, creditCode: string): boolean {
  if (!leafBase64) return false;
  try {
    const ids = new x509.X509Certificate(Buffer.from(leafBase64, 'base64')).subjectName.getField('2.5.4.97');
    return ids.length === 0 || ids.every((v) => v === creditCode);
  } catch {
    return false;
  }
}

export async function caseRoutes(app: FastifyInstance, ctx: Ctx, o: CaseRouteOptions = {}): Promise<void> {
  const dispatcher = new WebhookDispatcher(ctx.db, { ...DEFAULT_WEBHOOK_OPTIONS, ...o.webhooks });
  const cases = new CaseService(ctx, dispatcher);
  const heartbeatMs = o.heartbeatMs ?? 15_000;
  const streams = new Set<() => void>();
  app.addHook('onClose', async () => {
    for (const end of streams) end();
    await dispatcher.stop();
  });
  dispatcher.kick(); // deliveries left over from before a restart

  const verifyJob = async (pdf: Uint8Array) =>
    ctx.pool.run<LicenceInspection>(
      {
        kind: 'licence',
        pdf,
        options: {
          trustAnchors: [ctx.trustPem],
          crls: (await ctx.ca.currentCrls()).map((c) => c.pem),
          timeBudgetMs: ctx.limits.verifyTimeMs,
        },
      },
      ctx.limits.verifyTimeMs * 3,
    );

  async function findCase(id: string): Promise<CasesTable> {
    if (!CASE_ID.test(id)) throw notFound('no such case', 'CASE_NOT_FOUND');
    const row = await ctx.db.selectFrom('cases').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('no such case', 'CASE_NOT_FOUND');
    return row;
  }

  /** Departments on the route or the opener; the applicant. Others learn nothing (404). */
  async function readableCase(caller: Caller | undefined, id: string) {
    if (!caller) throw unauthorized("a department API key or the applicant's portal token is required");
    const row = await findCase(id);
    const steps = await loadSteps(ctx.db, id);
    const allowed =
      caller.kind === 'citizen'
        ? row.applicant === caller.id
        : row.opened_by === caller.id || steps.some((s) => s.department_id === caller.id);
    if (!allowed) throw notFound('no such case', 'CASE_NOT_FOUND');
    return { row, steps };
  }

  // ---------------------------------------------------------------- opening

  app.post(
    '/api/cases',
    { bodyLimit: Math.ceil(ctx.limits.verifyBodyBytes * 1.4) + 65536 },
    async (req, reply) => {
      const dept = await ctx.auth.requireDepartment(req);
      const b = req.body as Record<string, unknown> | undefined;
      if (!b || typeof b !== 'object') throw badRequest('send the case as JSON');
      const service = b.service;
      if (typeof service !== 'string' || !service.trim() || service.length > 200)
        throw badRequest('service must be a short text (the service applied for)', 'CASE_BAD_REQUEST');
      const applicant = b.applicant as { name?: unknown; idNumber?: unknown } | undefined;
      if (
        typeof applicant?.name !== 'string' ||
        typeof applicant.idNumber !== 'string' ||
        !applicant.name.trim() ||
        applicant.name.length > 128 ||
        !applicant.idNumber.trim() ||
        applicant.idNumber.length > 64
      )
        throw badRequest('applicant must be {name, idNumber}', 'CASE_BAD_REQUEST');
      const pseudonym = ctx.auth.pseudonym(applicant.idNumber.trim());
      const materials = b.materials ?? [];
      if (!Array.isArray(materials) || materials.length > 100 || materials.some((m) => typeof m !== 'string'))
        throw badRequest('materials must be a list of material ids', 'CASE_BAD_REQUEST');
      // the existing scoping (routes/materials.ts): a material is its owner's, and read by the department
      // the application was made to — so the case may list only the applicant's materials handed to this department
      if (materials.length) {
        const rows = await ctx.db
          .selectFrom('materials')
          .select(['id', 'owner', 'department_id'])
          .where('id', 'in', materials as string[])
          .execute();
        for (const id of materials as string[]) {
          const m = rows.find((r) => r.id === id);
          if (!m || m.owner !== pseudonym || m.department_id !== dept.id)
            throw unprocessable(
              `材料 ${id} 不是该申请人提交给本部门的材料 / material ${id} is not a material the applicant handed to your department`,
              'CASE_MATERIAL_UNKNOWN',
            );
        }
      }
      const allDepartments = new Set(
        (await ctx.db.selectFrom('departments').select('id').execute()).map((r) => r.id),
      );
      const route = parseRoute(b.route, allDepartments);
      if (typeof b.document !== 'string' || !b.document)
        throw badRequest("document must be the case's PDF, base64", 'CASE_BAD_REQUEST');
      const pdf = new Uint8Array(Buffer.from(b.document, 'base64'));
      if (!looksLikePdf(pdf))
        throw unprocessable('the document is not a PDF (no %PDF- header)', 'PDF_NOT_PDF');
      const ins = await verifyJob(pdf);
      if (ins.report.status !== 'unsigned')
        throw unprocessable(
          "the case's document must not be signed yet: its first seal certifies it (DocMDP P=2) and prepares the fields of the later seals",
          'CASE_DOCUMENT_SIGNED',
        );
      // a licence is issued by the opening department, whose seal the registry requires (registrationProblems)
      if (ins.licence) {
        if (ins.licence.issuer?.creditCode !== dept.creditCode)
          throw unprocessable(
            'the document carries a licence issued by another authority: only the issuing department opens its case',
            'CASE_LICENCE_OTHER_ISSUER',
          );
        if (!route.flat().some((st) => st.department === dept.id && st.action === 'seal'))
          throw unprocessable(
            'the document carries a licence: the route needs a seal step of the issuing (opening) department',
            'CASE_BAD_ROUTE',
          );
      }
      const doc = await ctx.blobs.putBytes(pdf);
      const id = await cases.open(dept, clerkActor(req, dept), {
        service: service.trim(),
        applicant: { pseudonym, name: applicant.name.trim() },
        materials: materials as string[],
        document: doc,
        route,
      });
      const { row, steps } = await readableCase(dept, id);
      return reply
        .status(201)
        .header('location', `/api/cases/${id}`)
        .send(await caseView(ctx.db, row, steps));
    },
  );

  // ---------------------------------------------------------------- reading

  async function queueOf(dept: Department) {
    const rows = await ctx.db
      .selectFrom('case_steps as s')
      .innerJoin('cases as c', 'c.id', 's.case_id')
      .select([
        's.case_id',
        's.step',
        's.action',
        's.deadline',
        's.version',
        's.field',
        'c.service',
        'c.applicant_name',
        'c.document_sha256',
      ])
      .where('s.department_id', '=', dept.id)
      .where('s.status', '=', 'active')
      .orderBy('s.deadline', 'asc')
      .limit(500)
      .execute();
    const now = new Date().toISOString();
    return {
      items: rows.map((r) => ({
        caseId: r.case_id,
        step: r.step,
        action: r.action,
        field: r.field,
        deadline: r.deadline,
        overdue: r.deadline < now,
        version: Number(r.version),
        service: r.service,
        applicant: { name: r.applicant_name },
        documentSha256: r.document_sha256,
      })),
    };
  }

  app.get('/api/cases', async (req) => {
    const caller = await ctx.auth.caller(req);
    if (!caller) throw unauthorized('a department API key or a portal token is required');
    if (caller.kind === 'citizen') {
      const rows = await ctx.db
        .selectFrom('cases')
        .selectAll()
        .where('applicant', '=', caller.id)
        .orderBy('created_at', 'desc')
        .limit(100)
        .execute();
      return {
        items: await Promise.all(
          rows.map(async (r) => caseView(ctx.db, r, await loadSteps(ctx.db, r.id), { forApplicant: true })),
        ),
      };
    }
    const q = (req.query as { queue?: string }).queue;
    if (q !== 'mine')
      throw badRequest('use ?queue=mine for the steps waiting for your department', 'CASE_BAD_REQUEST');
    return queueOf(caller);
  });

  app.get('/api/departments/:id/queue', async (req) => {
    const dept = await ctx.auth.requireDepartment(req);
    if ((req.params as { id: string }).id !== dept.id)
      throw forbidden('a department reads only its own queue', 'CASE_OTHER_DEPARTMENT');
    return queueOf(dept);
  });

  app.get('/api/cases/overdue', async (req) => {
    const dept = await ctx.auth.requireDepartment(req);
    const now = new Date();
    const rows = await ctx.db
      .selectFrom('case_steps as s')
      .innerJoin('cases as c', 'c.id', 's.case_id')
      .select(['s.case_id', 's.step', 's.action', 's.deadline', 'c.service', 'c.applicant_name'])
      .where('s.department_id', '=', dept.id)
      .where('s.status', '=', 'active')
      .where('s.deadline', '<', now.toISOString())
      .orderBy('s.deadline', 'asc')
      .limit(1000)
      .execute();
    return {
      department: dept.id,
      items: rows.map((r) => ({
        caseId: r.case_id,
        step: r.step,
        action: r.action,
        deadline: r.deadline,
        overdueSeconds: Math.floor((now.getTime() - Date.parse(r.deadline)) / 1000),
        service: r.service,
        applicant: { name: r.applicant_name },
      })),
    };
  });

  app.get('/api/cases/events', async (req, reply) => {
    const dept = await ctx.auth.requireDepartment(req);
    return stream(req, reply, { department: dept.id });
  });

  app.get('/api/cases/:id', async (req) => {
    const caller = await ctx.auth.caller(req);
    const { row, steps } = await readableCase(caller, (req.params as { id: string }).id);
    const view = await caseView(ctx.db, row, steps, { forApplicant: caller!.kind === 'citizen' });
    if (caller!.kind !== 'department') return view;
    // what the department's active seal step needs to seal in its browser
    const mine = steps.find(
      (s) => s.department_id === caller!.id && s.status === 'active' && s.action === 'seal',
    );
    if (!mine) return view;
    const sealSteps = steps.filter((s) => s.action === 'seal');
    const sealedBefore = sealSteps.filter((s) => s.status === 'done').length;
    const certify = sealedBefore === 0;
    const idx = sealSteps.findIndex((s) => s.step === mine.step);
    return {
      ...view,
      sealing: {
        step: mine.step,
        version: Number(mine.version),
        field: mine.field,
        rect: sealRect(idx),
        baseSha256: row.document_sha256,
        // the first seal certifies (P=2) and prepares the fields of all the others
        certify: certify ? 2 : null,
        prepareFields: certify
          ? sealSteps
              .map((s, i) => ({ s, i }))
              .filter(({ s }) => s.step !== mine.step)
              .map(({ s, i }) => ({ name: s.field!, rect: sealRect(i) }))
          : [],
      },
    };
  });

  app.get('/api/cases/:id/document', async (req, reply) => {
    const { row } = await readableCase(await ctx.auth.caller(req), (req.params as { id: string }).id);
    return reply
      .type('application/pdf')
      .header('cache-control', 'no-store')
      .header('etag', `"${row.document_sha256}"`)
      .header('x-content-sha256', row.document_sha256)
      .send(await ctx.blobs.read(row.document_sha256));
  });

  app.get('/api/cases/:id/events', async (req, reply) => {
    const caller = await ctx.auth.caller(req);
    const { row } = await readableCase(caller, (req.params as { id: string }).id);
    return stream(req, reply, { caseId: row.id });
  });

  // ---------------------------------------------------------------- acting

  function stepParams(req: FastifyRequest) {
    const { id, step } = req.params as { id: string; step: string };
    if (!CASE_ID.test(id)) throw notFound('no such case', 'CASE_NOT_FOUND');
    if (!STEP_ID.test(step)) throw notFound('no such step in this case', 'CASE_STEP_NOT_FOUND');
    return { id, step };
  }

  function versionOf(v: unknown): number | undefined {
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
      throw badRequest('version must be a positive integer');
    return v;
  }

  /** The step, checked to be the caller's and of the given action, before any work. */
  async function ownStep(dept: Department, id: string, stepId: string, action: 'seal' | 'approve' | 'any') {
    const { row, steps } = await readableCase(dept, id);
    const step = steps.find((s) => s.step === stepId);
    if (!step) throw notFound('no such step in this case', 'CASE_STEP_NOT_FOUND');
    if (step.department_id !== dept.id)
      throw forbidden('这一步不属于本部门 / this step belongs to another department', 'CASE_NOT_YOUR_STEP');
    if (action !== 'any' && step.action !== action)
      throw conflict(`step ${stepId} is a ${step.action} step`, 'CASE_WRONG_ACTION');
    return { row, step, steps };
  }

  app.post('/api/cases/:id/steps/:step/approve', async (req) => {
    const dept = await ctx.auth.requireDepartment(req);
    const { id, step } = stepParams(req);
    const b = (req.body ?? {}) as { version?: unknown };
    await ownStep(dept, id, step, 'approve');
    await cases.act({
      dept,
      actor: clerkActor(req, dept),
      caseId: id,
      step,
      kind: 'approve',
      stepVersion: versionOf(b.version),
    });
    const { row, steps } = await readableCase(dept, id);
    return caseView(ctx.db, row, steps);
  });

  app.post('/api/cases/:id/steps/:step/return', async (req) => {
    const dept = await ctx.auth.requireDepartment(req);
    const { id, step } = stepParams(req);
    const b = (req.body ?? {}) as { version?: unknown; reason?: unknown };
    if (typeof b.reason !== 'string' || !b.reason.trim() || b.reason.length > 1000)
      throw badRequest(
        '退回需要说明理由 / a return needs a reason (up to 1000 characters)',
        'CASE_REASON_REQUIRED',
      );
    await ownStep(dept, id, step, 'any');
    await cases.act({
      dept,
      actor: clerkActor(req, dept),
      caseId: id,
      step,
      kind: 'return',
      reason: b.reason.trim(),
      stepVersion: versionOf(b.version),
    });
    const { row, steps } = await readableCase(dept, id);
    return caseView(ctx.db, row, steps);
  });

  await app.register(async (scope) => {
    binaryBodies(scope, ctx.limits.verifyBodyBytes);
    scope.post('/api/cases/:id/steps/:step/seal', { bodyLimit: ctx.limits.verifyBodyBytes }, async (req) => {
      const dept = await ctx.auth.requireDepartment(req);
      const { id, step: stepId } = stepParams(req);
      const actor = clerkActor(req, dept);
      const version = req.headers['x-sidian-step-version'];
      const stepVersion = version === undefined ? undefined : versionOf(Number(version));
      const { row, step, steps } = await ownStep(dept, id, stepId, 'seal');
      if (row.status !== 'in-progress') throw conflict(`the case is already ${row.status}`, 'CASE_CLOSED');
      if (step.status !== 'active')
        throw conflict(
          `步骤 ${stepId} 当前不可处理 / step ${stepId} is ${step.status}, not waiting for you`,
          'CASE_STEP_CONFLICT',
        );
      const body = req.body as Uint8Array | undefined;
      if (!body || !looksLikePdf(body))
        throw badRequest('send the sealed PDF as the request body', 'EMPTY_BODY');
      // 1. an incremental update of the current document: its bytes are a prefix of the upload
      const current = await ctx.blobs.read(row.document_sha256);
      if (
        body.length <= current.length ||
        Buffer.compare(Buffer.from(body.buffer, body.byteOffset, current.length), current) !== 0
      )
        throw conflict(
          `上传的文件不是案件当前文件的增量更新 / the upload is not an incremental update of the case's current document (sha256 ${row.document_sha256}); fetch it again and seal that`,
          'CASE_DOCUMENT_CHANGED',
        );
      // 2. every seal verifies, the earlier ones unchanged, exactly one new
      const ins = await verifyJob(body);
      const seals = ins.report.signatures.filter((s) => s.kind !== 'document-timestamp');
      const sealedBefore = steps.filter((s) => s.action === 'seal' && s.status === 'done').length;
      const bad = ins.report.signatures.filter((s) => s.status !== 'valid');
      if (bad.length)
        throw unprocessable(
          `盖章后的文件未通过验证 / the sealed document does not verify: ${bad
            .map((s) => `${s.field}: ${s.status} (${s.reasons.slice(0, 3).join('; ')})`)
            .join(' | ')}`,
          'CASE_SEAL_INVALID',
        );
      if (seals.length !== sealedBefore + 1)
        throw unprocessable(
          `expected exactly one new seal (${sealedBefore} before, ${seals.length} now)`,
          'CASE_SEAL_COUNT',
        );
      const seal = seals[seals.length - 1]!;
      // 3. the new seal is this department's, in this step's field
      // the name, and the organizationIdentifier (2.5.4.97, the 统一社会信用代码) when the certificate has one
      if (
        (seal.signer?.organization !== dept.name && seal.signer?.commonName !== dept.name) ||
        !sameCreditCode(seal.chain?.[0], dept.creditCode)
      )
        throw forbidden(
          `新印章不是本部门的 / the new seal is ${seal.signer?.organization ?? seal.signer?.commonName ?? 'unnamed'}'s, not ${dept.name}'s`,
          'CASE_SEAL_NOT_YOURS',
        );
      if (seal.field !== step.field)
        throw unprocessable(
          `the seal must be in field "${step.field}", not "${seal.field}"`,
          'CASE_SEAL_WRONG_FIELD',
        );
      if (sealedBefore === 0) {
        // the first seal certifies with P=2 and prepares the later seals' fields
        const view = PdfDocument.load(body).latest;
        if (seal.kind !== 'certification' || docMdpPermission(view) !== 2)
          throw unprocessable(
            'the first seal of a case must certify the document with DocMDP P=2 (certify: 2)',
            'CASE_SEAL_NOT_CERTIFIED',
          );
        const names = new Set(
          listFields(view)
            .filter((f) => f.type === 'Sig' && !f.dict.has('V'))
            .map((f) => f.fullName),
        );
        const missing = steps.filter((s) => s.action === 'seal' && s.step !== stepId && !names.has(s.field!));
        if (missing.length)
          throw unprocessable(
            `the certification must prepare the empty fields of the later seals: ${missing.map((s) => s.field).join(', ')} missing`,
            'CASE_FIELDS_NOT_PREPARED',
          );
      }
      // 4. the last step: the licence it issues is checked now and registered in the transaction
      const others = steps.filter((s) => s.step !== stepId && s.status !== 'done');
      let licence: PreparedLicence | undefined;
      if (others.length === 0 && ins.licence) {
        const opener = await ctx.db
          .selectFrom('departments')
          .selectAll()
          .where('id', '=', row.opened_by)
          .executeTakeFirstOrThrow();
        licence = await prepareLicence(
          ctx,
          { kind: 'department', id: opener.id, name: opener.name, creditCode: opener.credit_code },
          body,
        );
      }
      // 5. content-addressed first, then one transaction
      const stored = await ctx.blobs.putBytes(body);
      await pauseBeforeCaseCommit(ctx);
      await cases.act({
        dept,
        actor,
        caseId: id,
        step: stepId,
        kind: 'seal',
        stepVersion,
        sealed: { baseSha256: row.document_sha256, ...stored },
        licence: async (_trx: Transaction<Database>) => licence,
      });
      const after = await readableCase(dept, id);
      return caseView(ctx.db, after.row, after.steps);
    });
  });

  // ---------------------------------------------------------------- webhooks

  app.post('/api/webhooks', async (req, reply) => {
    const dept = await ctx.auth.requireDepartment(req);
    const b = (req.body ?? {}) as { url?: unknown; secret?: unknown };
    let url: URL;
    try {
      url = new URL(String(b.url));
    } catch {
      throw badRequest('url must be an absolute http(s) URL', 'WEBHOOK_BAD_URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw badRequest('url must be an absolute http(s) URL', 'WEBHOOK_BAD_URL');
    if (!ctx.devMode && url.protocol !== 'https:')
      throw badRequest('production delivers webhooks over https only', 'WEBHOOK_BAD_URL');
    if (typeof b.secret !== 'string' || b.secret.length < 16 || b.secret.length > 256)
      throw badRequest('secret must be 16 to 256 characters (it signs every delivery)', 'WEBHOOK_BAD_SECRET');
    const id = crypto.randomUUID();
    await ctx.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('webhooks')
        .values({
          id,
          department_id: dept.id,
          url: url.href,
          secret: b.secret as string,
          created_at: new Date().toISOString(),
        })
        .execute();
      await ctx.audit.append(trx, {
        actor: actorOf(dept),
        action: 'webhook.register',
        subject: `webhook:${id}`,
      });
    });
    return reply.status(201).send({ id, url: url.href });
  });

  app.get('/api/webhooks', async (req) => {
    const dept = await ctx.auth.requireDepartment(req);
    const rows = await ctx.db
      .selectFrom('webhooks')
      .select(['id', 'url', 'created_at'])
      .where('department_id', '=', dept.id)
      .execute();
    return { items: rows.map((r) => ({ id: r.id, url: r.url, createdAt: r.created_at })) };
  });

  app.get('/api/webhooks/deliveries', async (req) => {
    const dept = await ctx.auth.requireDepartment(req);
    const rows = await ctx.db
      .selectFrom('webhook_deliveries as d')
      .innerJoin('case_events as e', 'e.seq', 'd.event_seq')
      .select([
        'd.id',
        'd.webhook_id',
        'd.event_seq',
        'e.type',
        'e.case_id',
        'd.status',
        'd.attempts',
        'd.last_status',
        'd.last_error',
        'd.next_attempt_at',
        'd.created_at',
        'd.delivered_at',
      ])
      .where('d.department_id', '=', dept.id)
      .orderBy('d.event_seq', 'desc')
      .limit(500)
      .execute();
    return {
      items: rows.map((r) => ({
        id: r.id,
        webhook: r.webhook_id,
        eventId: String(r.event_seq),
        idempotencyKey: `sidian-case-event-${Number(r.event_seq)}`,
        type: r.type,
        caseId: r.case_id,
        status: r.status,
        attempts: Number(r.attempts),
        lastStatus: r.last_status,
        lastError: r.last_error,
        nextAttemptAt: r.status === 'pending' ? r.next_attempt_at : null,
        createdAt: r.created_at,
        deliveredAt: r.delivered_at,
      })),
    };
  });

  // ---------------------------------------------------------------- Server-Sent Events

  /**
   * Streams the events a department (or one case's readers) may see, from after Last-Event-ID.
   * Woken by this process's commits; events are read from the database, so a client reconnecting
   * to another instance or after a restart resumes where it stopped.
   */
  async function stream(
    req: FastifyRequest,
    reply: FastifyReply,
    filter: { department?: string; caseId?: string },
  ) {
    const raw = req.headers['last-event-id'] ?? (req.query as { lastEventId?: string }).lastEventId;
    let last = 0;
    if (raw !== undefined) {
      if (typeof raw !== 'string' || !/^\d{1,15}$/.test(raw))
        throw badRequest('Last-Event-ID must be an event id');
      last = Number(raw);
    }
    reply.hijack();
    const res = reply.raw;
    const headers = reply.getHeaders();
    res.writeHead(200, {
      ...(headers as Record<string, string>),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
    });
    res.write('retry: 2000\n\n');
    let closed = false;
    let dirty = true;
    let wake: (() => void) | undefined;
    const onEvent = () => {
      dirty = true;
      wake?.();
    };
    const end = () => {
      closed = true;
      wake?.();
    };
    caseBus.on('event', onEvent);
    streams.add(end);
    res.on('close', end);
    const heartbeat = setInterval(() => {
      if (!closed) res.write(': keep-alive\n\n');
    }, heartbeatMs).unref();
    try {
      while (!closed) {
        if (!dirty) {
          await new Promise<void>((r) => (wake = r));
          wake = undefined;
          continue;
        }
        dirty = false;
        for (;;) {
          let q = ctx.db.selectFrom('case_events').selectAll().where('seq', '>', last);
          if (filter.caseId) q = q.where('case_id', '=', filter.caseId);
          if (filter.department) {
            const d = filter.department;
            q = q.where((eb) =>
              eb.or([
                eb(
                  'case_id',
                  'in',
                  eb.selectFrom('case_steps').select('case_id').where('department_id', '=', d),
                ),
                eb('case_id', 'in', eb.selectFrom('cases').select('id').where('opened_by', '=', d)),
              ]),
            );
          }
          const rows = await q.orderBy('seq', 'asc').limit(200).execute();
          for (const e of rows) {
            if (closed) break;
            last = Number(e.seq);
            res.write(`id: ${last}\nevent: ${e.type}\ndata: ${e.data}\n\n`);
          }
          if (rows.length < 200 || closed) break;
        }
      }
    } catch {
      /* the database closed under us: the client reconnects with Last-Event-ID */
    } finally {
      clearInterval(heartbeat);
      caseBus.off('event', onEvent);
      streams.delete(end);
      res.end();
    }
  }
}
