/**
 * The audit trail (全程留痕): an append-only, hash-chained log. Each row's hash is SHA-256 over
 * its own fields and the previous row's hash, so editing, deleting or inserting a row in the
 * database breaks the chain at that row, and `verifyAuditChain` finds it.
 */
import { createHash } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import type { Db, DbKind } from './db/index';
import type { AuditTable, Database } from './db/schema';

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditEntry {
  actor: string;
  action: string;
  subject: string;
}

export interface AuditRow extends AuditEntry {
  seq: number;
  time: string;
  prevHash: string;
  hash: string;
}

export function auditHash(r: {
  seq: number;
  time: string;
  actor: string;
  action: string;
  subject: string;
  prevHash: string;
}): string {
  return createHash('sha256')
    .update(JSON.stringify([r.seq, r.time, r.actor, r.action, r.subject, r.prevHash]), 'utf8')
    .digest('hex');
}

function toRow(r: AuditTable): AuditRow {
  return {
    seq: Number(r.seq),
    time: r.time,
    actor: r.actor,
    action: r.action,
    subject: r.subject,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

export class AuditLog {
  constructor(
    private readonly db: Db,
    private readonly kind: DbKind,
  ) {}

  /** Appends inside the caller's transaction: the entry commits or rolls back with the act it records. */
  async append(trx: Transaction<Database>, e: AuditEntry): Promise<AuditRow> {
    if (this.kind === 'postgres') {
      // one writer at a time across processes; released at commit/rollback
      await sql`SELECT pg_advisory_xact_lock(4242001)`.execute(trx);
    }
    const last = await trx
      .selectFrom('audit_log')
      .select(['seq', 'hash'])
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    const seq = last ? Number(last.seq) + 1 : 1;
    const prevHash = last?.hash ?? GENESIS_HASH;
    const time = new Date().toISOString();
    const row = { seq, time, actor: e.actor, action: e.action, subject: e.subject, prevHash };
    const hash = auditHash(row);
    await trx
      .insertInto('audit_log')
      .values({ seq, time, actor: e.actor, action: e.action, subject: e.subject, prev_hash: prevHash, hash })
      .execute();
    return { ...row, hash };
  }

  /** Appends in a transaction of its own. */
  async record(e: AuditEntry): Promise<AuditRow> {
    return this.db.transaction().execute((trx) => this.append(trx, e));
  }

  async page(after = 0, limit = 100): Promise<{ entries: AuditRow[]; next: number | null }> {
    const n = Math.max(1, Math.min(1000, Math.floor(limit)));
    const rows = await this.db
      .selectFrom('audit_log')
      .selectAll()
      .where('seq', '>', after)
      .orderBy('seq', 'asc')
      .limit(n + 1)
      .execute();
    const entries = rows.slice(0, n).map(toRow);
    return { entries, next: rows.length > n ? entries[entries.length - 1]!.seq : null };
  }

  async head(): Promise<{ seq: number; hash: string }> {
    const last = await this.db
      .selectFrom('audit_log')
      .select(['seq', 'hash'])
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    return last ? { seq: Number(last.seq), hash: last.hash } : { seq: 0, hash: GENESIS_HASH };
  }
}

export interface ChainCheck {
  ok: boolean;
  rows: number;
  head: string;
  /** The first row where the chain breaks, and why. */
  broken?: { seq: number; reason: string };
}

export async function verifyAuditChain(db: Db): Promise<ChainCheck> {
  let prev = GENESIS_HASH;
  let expectSeq = 1;
  let rows = 0;
  let after = 0;
  for (;;) {
    const batch = await db
      .selectFrom('audit_log')
      .selectAll()
      .where('seq', '>', after)
      .orderBy('seq', 'asc')
      .limit(1000)
      .execute();
    if (batch.length === 0) break;
    for (const raw of batch) {
      const r = toRow(raw);
      rows++;
      if (r.seq !== expectSeq)
        return {
          ok: false,
          rows,
          head: prev,
          broken: { seq: r.seq, reason: `expected sequence number ${expectSeq}: rows are missing` },
        };
      if (r.prevHash !== prev)
        return {
          ok: false,
          rows,
          head: prev,
          broken: { seq: r.seq, reason: 'previous-hash link does not match the row before' },
        };
      const h = auditHash(r);
      if (h !== r.hash)
        return {
          ok: false,
          rows,
          head: prev,
          broken: { seq: r.seq, reason: 'row content does not match its hash (edited)' },
        };
      prev = r.hash;
      expectSeq++;
      after = r.seq;
    }
  }
  return { ok: true, rows, head: prev };
}
