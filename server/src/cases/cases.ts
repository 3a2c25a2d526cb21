/**
 * Cases (办件, 联办): one intake, routed through departments in stages — the steps of a stage run in
 * parallel (并联审批), the stages in sequence — each step a decision (approve / return) or a seal on
 * the case's one PDF, each with a deadline. When the last step is done the issued licence goes into
 * the registry (统一发证).
 *
 * A transition is one database transaction: the step's and the case's state (optimistic versions:
 * two clerks acting at once, one wins, the other gets 409), the event (SSE and the webhook outbox)
 * and the audit entry with the document's SHA-256 at that point. A sealed PDF is stored
 * content-addressed BEFORE that transaction: a crash in between leaves an unreferenced blob and the
 * case as it was (nothing half-done is visible); sending the same PDF again then succeeds once.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import type { Department } from '../auth';
import type { Ctx } from '../context';
import type { CasesTable, CaseStepsTable, Database } from '../db/schema';
import { conflict, forbidden, notFound } from '../errors';
import { insertLicence, type PreparedLicence } from '../routes/licences';
import { enqueueDeliveries, type WebhookDispatcher } from './webhooks';

export type StepAction = 'seal' | 'approve';

export interface RouteStep {
  department: string;
  action: StepAction;
  deadline: string;
}

/** Where each seal goes: prepared fields in a row along the bottom of the last page (110 pt squares). */
export function sealRect(index: number): { x: number; y: number; width: number; height: number } {
  return { x: 20 + (index % 4) * 125, y: 20 + Math.floor(index / 4) * 125, width: 110, height: 110 };
}

export const fieldOf = (step: string) => `seal-${step.replace('.', '-')}`;

/** Wakes the SSE streams of this process after each commit. */
export const caseBus = new EventEmitter();
caseBus.setMaxListeners(0);

export interface CaseView {
  id: string;
  service: string;
  status: string;
  stage: number;
  version: number;
  applicant: { name: string };
  openedBy: { id: string; name: string };
  materials?: string[];
  document: { sha256: string; size: number; url: string };
  /** The departments holding the case now (the active steps). */
  holders: { id: string; name: string; step: string; deadline: string }[];
  /** The earliest deadline of the active steps. */
  deadline: string | null;
  licence: { id: string; url: string; page: string } | null;
  returnReason: string | null;
  steps: {
    step: string;
    stage: number;
    department: { id: string; name: string };
    action: string;
    field: string | null;
    deadline: string;
    status: string;
    version: number;
    overdue: boolean;
    actedBy: string | null;
    actedAt: string | null;
    reason: string | null;
  }[];
  createdAt: string;
  updatedAt: string;
}

async function departmentNames(
  db: Transaction<Database> | Ctx['db'],
  ids: string[],
): Promise<Map<string, string>> {
  if (!ids.length) return new Map();
  const rows = await db.selectFrom('departments').select(['id', 'name']).where('id', 'in', ids).execute();
  return new Map(rows.map((r) => [r.id, r.name]));
}

export async function caseView(
  db: Transaction<Database> | Ctx['db'],
  row: CasesTable,
  steps: CaseStepsTable[],
  o: { forApplicant?: boolean; now?: Date } = {},
): Promise<CaseView> {
  const now = (o.now ?? new Date()).toISOString();
  const names = await departmentNames(db, [
    ...new Set([row.opened_by, ...steps.map((s) => s.department_id)]),
  ]);
  const name = (id: string) => names.get(id) ?? id;
  const active = steps.filter((s) => s.status === 'active');
  const view: CaseView = {
    id: row.id,
    service: row.service,
    status: row.status,
    stage: Number(row.stage),
    version: Number(row.version),
    applicant: { name: row.applicant_name },
    openedBy: { id: row.opened_by, name: name(row.opened_by) },
    document: {
      sha256: row.document_sha256,
      size: Number(row.document_size),
      url: `/api/cases/${row.id}/document`,
    },
    holders: active.map((s) => ({
      id: s.department_id,
      name: name(s.department_id),
      step: s.step,
      deadline: s.deadline,
    })),
    deadline: active.length ? active.map((s) => s.deadline).sort()[0]! : null,
    licence: row.licence_id
      ? {
          id: row.licence_id,
          url: `/api/licences/${encodeURIComponent(row.licence_id)}`,
          page: `/v/${encodeURIComponent(row.licence_id)}`,
        }
      : null,
    returnReason: row.return_reason,
    steps: steps.map((s) => ({
      step: s.step,
      stage: Number(s.stage),
      department: { id: s.department_id, name: name(s.department_id) },
      action: s.action,
      field: s.field,
      deadline: s.deadline,
      status: s.status,
      version: Number(s.version),
      overdue: s.status === 'active' && s.deadline < now,
      actedBy: o.forApplicant ? null : s.acted_by,
      actedAt: s.acted_at,
      reason: s.reason,
    })),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (!o.forApplicant) view.materials = JSON.parse(row.materials) as string[];
  return view;
}

export async function loadSteps(
  db: Transaction<Database> | Ctx['db'],
  caseId: string,
): Promise<CaseStepsTable[]> {
  const rows = await db.selectFrom('case_steps').selectAll().where('case_id', '=', caseId).execute();
  return rows.sort(
    (a, b) => Number(a.stage) - Number(b.stage) || a.step.localeCompare(b.step, 'en', { numeric: true }),
  );
}

/** The next event number, in commit order (the counter's row stays locked until the transaction ends). */
async function nextSeq(trx: Transaction<Database>): Promise<number> {
  await trx
    .insertInto('counters')
    .values({ name: 'case-event', value: 0 })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const row = await trx
    .updateTable('counters')
    .set({ value: sql`value + 1` as never })
    .where('name', '=', 'case-event')
    .returning('value')
    .executeTakeFirstOrThrow();
  return Number(row.value);
}

export interface Happening {
  type: string;
  step?: string;
  reason?: string;
}

/**
 * Records what happened inside the transaction: one event per happening (with the case as it now
 * is), one audit entry per happening (who, what, the document's SHA-256), and the webhook outbox.
 */
async function record(
  ctx: Ctx,
  trx: Transaction<Database>,
  caseId: string,
  actor: string,
  happenings: Happening[],
): Promise<number[]> {
  const row = await trx.selectFrom('cases').selectAll().where('id', '=', caseId).executeTakeFirstOrThrow();
  const steps = await loadSteps(trx, caseId);
  const view = await caseView(trx, row, steps);
  const seqs: number[] = [];
  for (const h of happenings) {
    const seq = await nextSeq(trx);
    const time = new Date().toISOString();
    const data = {
      id: String(seq),
      type: h.type,
      caseId,
      time,
      actor,
      step: h.step ?? null,
      reason: h.reason ?? null,
      documentSha256: row.document_sha256,
      case: view,
    };
    await trx
      .insertInto('case_events')
      .values({ seq, case_id: caseId, type: h.type, data: JSON.stringify(data), time })
      .execute();
    await ctx.audit.append(trx, {
      actor,
      action: h.type,
      subject: `case:${caseId}${h.step ? ` step:${h.step}` : ''} sha256:${row.document_sha256}`,
    });
    seqs.push(seq);
  }
  const departments = [...new Set([row.opened_by, ...steps.map((s) => s.department_id)])];
  await enqueueDeliveries(trx, departments, seqs);
  return seqs;
}

export interface OpenCase {
  service: string;
  applicant: { pseudonym: string; name: string };
  materials: string[];
  document: { sha256: string; size: number };
  route: RouteStep[][];
}

export class CaseService {
  constructor(
    private readonly ctx: Ctx,
    readonly webhooks: WebhookDispatcher,
  ) {}

  private committed(): void {
    caseBus.emit('event');
    this.webhooks.kick();
  }

  async open(dept: Department, actor: string, c: OpenCase): Promise<string> {
    const id = randomUUID();
    const now = new Date().toISOString();
    await this.ctx.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('blobs')
        .values({ sha256: c.document.sha256, size: c.document.size, created_at: now })
        .onConflict((oc) => oc.column('sha256').doNothing())
        .execute();
      await trx
        .insertInto('cases')
        .values({
          id,
          service: c.service,
          applicant: c.applicant.pseudonym,
          applicant_name: c.applicant.name,
          opened_by: dept.id,
          materials: JSON.stringify(c.materials),
          status: 'in-progress',
          stage: 1,
          document_sha256: c.document.sha256,
          document_size: c.document.size,
          version: 1,
          licence_id: null,
          return_reason: null,
          created_at: now,
          updated_at: now,
        })
        .execute();
      const rows: CaseStepsTable[] = [];
      c.route.forEach((stage, si) =>
        stage.forEach((s, pi) => {
          const step = `${si + 1}.${pi + 1}`;
          rows.push({
            case_id: id,
            step,
            stage: si + 1,
            department_id: s.department,
            action: s.action,
            field: s.action === 'seal' ? fieldOf(step) : null,
            deadline: s.deadline,
            status: si === 0 ? 'active' : 'waiting',
            version: 1,
            acted_by: null,
            acted_at: null,
            reason: null,
          });
        }),
      );
      await trx.insertInto('case_steps').values(rows).execute();
      await record(this.ctx, trx, id, actor, [{ type: 'case.opened' }]);
    });
    this.committed();
    return id;
  }

  /**
   * Moves one step: approve, return (with a reason) or seal (the new document, already stored).
   * `stepVersion` is the version the clerk saw; `baseSha256` (seal) the document the seal extends.
   */
  async act(o: {
    dept: Department;
    actor: string;
    caseId: string;
    step: string;
    kind: 'approve' | 'return' | 'seal';
    stepVersion?: number;
    reason?: string;
    sealed?: { baseSha256: string; sha256: string; size: number };
    /** Registered in the same transaction when this act completes the case. */
    licence?: (trx: Transaction<Database>) => Promise<PreparedLicence | undefined>;
  }): Promise<void> {
    const { ctx } = this;
    await ctx.db.transaction().execute(async (trx) => {
      const now = new Date().toISOString();
      // the case row first: on PostgreSQL its lock orders concurrent acts on one case
      let bump = trx
        .updateTable('cases')
        .set({ version: sql`version + 1` as never, updated_at: now })
        .where('id', '=', o.caseId)
        .where('status', '=', 'in-progress');
      if (o.sealed) bump = bump.where('document_sha256', '=', o.sealed.baseSha256);
      const bumped = await bump.executeTakeFirst();
      if (Number(bumped.numUpdatedRows) !== 1) {
        const row = await trx.selectFrom('cases').selectAll().where('id', '=', o.caseId).executeTakeFirst();
        if (!row) throw notFound('no such case', 'CASE_NOT_FOUND');
        if (row.status !== 'in-progress')
          throw conflict(
            `案件已${row.status === 'done' ? '办结' : '退回'} / the case is already ${row.status}`,
            'CASE_CLOSED',
          );
        throw conflict(
          `案件文件已被其他部门更新，请重新获取后再盖章 / the case's document changed since you fetched it (now sha256 ${row.document_sha256}); fetch it again and seal that`,
          'CASE_DOCUMENT_CHANGED',
        );
      }
      const step = await trx
        .selectFrom('case_steps')
        .selectAll()
        .where('case_id', '=', o.caseId)
        .where('step', '=', o.step)
        .executeTakeFirst();
      if (!step) throw notFound('no such step in this case', 'CASE_STEP_NOT_FOUND');
      if (step.department_id !== o.dept.id)
        throw forbidden('这一步不属于本部门 / this step belongs to another department', 'CASE_NOT_YOUR_STEP');
      const expected = o.stepVersion ?? Number(step.version);
      const moved = await trx
        .updateTable('case_steps')
        .set({
          status: o.kind === 'return' ? 'returned' : 'done',
          version: sql`version + 1` as never,
          acted_by: o.actor,
          acted_at: now,
          reason: o.reason ?? null,
        })
        .where('case_id', '=', o.caseId)
        .where('step', '=', o.step)
        .where('status', '=', 'active')
        .where('version', '=', expected)
        .executeTakeFirst();
      if (Number(moved.numUpdatedRows) !== 1) {
        throw conflict(
          step.status === 'active'
            ? `步骤 ${o.step} 已被改动（版本 ${step.version}，您看到的是 ${expected}）/ step ${o.step} changed since you loaded it (version ${step.version}, you saw ${expected}); reload the case`
            : `步骤 ${o.step} 已由 ${step.acted_by ?? '其他经办人'} 处理 / step ${o.step} is ${step.status}` +
                (step.acted_by ? ` (by ${step.acted_by} at ${step.acted_at})` : '') +
                '; reload the case',
          'CASE_STEP_CONFLICT',
        );
      }
      const happenings: Happening[] = [
        {
          type: `step.${o.kind === 'approve' ? 'approved' : o.kind === 'seal' ? 'sealed' : 'returned'}`,
          step: o.step,
          reason: o.reason,
        },
      ];
      if (o.sealed) {
        await trx
          .insertInto('blobs')
          .values({ sha256: o.sealed.sha256, size: o.sealed.size, created_at: now })
          .onConflict((oc) => oc.column('sha256').doNothing())
          .execute();
        await trx
          .updateTable('cases')
          .set({ document_sha256: o.sealed.sha256, document_size: o.sealed.size })
          .where('id', '=', o.caseId)
          .execute();
      }
      if (o.kind === 'return') {
        await trx
          .updateTable('case_steps')
          .set({ status: 'cancelled' })
          .where('case_id', '=', o.caseId)
          .where('status', 'in', ['active', 'waiting'])
          .execute();
        await trx
          .updateTable('cases')
          .set({ status: 'returned', return_reason: o.reason ?? null })
          .where('id', '=', o.caseId)
          .execute();
        happenings.push({ type: 'case.returned', reason: o.reason });
      } else {
        const open = await trx
          .selectFrom('case_steps')
          .select('step')
          .where('case_id', '=', o.caseId)
          .where('stage', '=', step.stage)
          .where('status', '=', 'active')
          .execute();
        if (open.length === 0) {
          const next = Number(step.stage) + 1;
          const activated = await trx
            .updateTable('case_steps')
            .set({ status: 'active' })
            .where('case_id', '=', o.caseId)
            .where('stage', '=', next)
            .where('status', '=', 'waiting')
            .executeTakeFirst();
          if (Number(activated.numUpdatedRows) > 0) {
            await trx.updateTable('cases').set({ stage: next }).where('id', '=', o.caseId).execute();
            happenings.push({ type: 'stage.started', step: String(next) });
          } else {
            const licence = await o.licence?.(trx);
            if (licence) {
              const opener = await trx
                .selectFrom('cases as c')
                .innerJoin('departments as d', 'd.id', 'c.opened_by')
                .select(['d.id', 'd.name', 'd.credit_code'])
                .where('c.id', '=', o.caseId)
                .executeTakeFirstOrThrow();
              await insertLicence(
                trx,
                ctx,
                { kind: 'department', id: opener.id, name: opener.name, creditCode: opener.credit_code },
                licence,
              );
              await ctx.audit.append(trx, {
                actor: o.actor,
                action: 'licence.register',
                subject: `licence:${licence.licence.identifier}`,
              });
            }
            await trx
              .updateTable('cases')
              .set({ status: 'done', licence_id: licence?.licence.identifier ?? null })
              .where('id', '=', o.caseId)
              .execute();
            happenings.push({ type: 'case.completed' });
          }
        }
      }
      await record(ctx, trx, o.caseId, o.actor, happenings);
    });
    this.committed();
  }
}

/** Test builds only (development mode and the variable set): stops a seal between storing the PDF and the transaction. */
export async function pauseBeforeCaseCommit(ctx: Ctx): Promise<void> {
  const marker = ctx.devMode ? process.env.SIDIAN_TEST_PAUSE_BEFORE_CASE_COMMIT : undefined;
  if (!marker) return;
  fs.writeFileSync(marker, String(process.pid));
  await new Promise(() => undefined); // until the test kills the process
}
