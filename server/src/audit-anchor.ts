/**
 * Anchoring the audit trail (docs/audit-anchoring.md). The hash chain alone shows that rows were
 * edited only to someone who did not recompute the hashes after the edit, and says nothing when
 * the newest rows are deleted. So the head (sequence number and hash) is time-stamped regularly
 * with the server's TSA (RFC 3161) and the signed heads are kept apart from the rows: in their own
 * table, appended to `<data>/audit-anchors.jsonl`, and exported by the operator
 * (`sidian audit anchor-export`) to storage the database's administrators do not control.
 * Verification then checks each anchored head against the rows: a rewritten row before an anchor
 * changes the hash at the anchored position; deleted rows leave an anchor pointing past the end.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { buildTimestampRequest, parseTimestampResponse } from '../../packages/core/src/cms/tsa';
import { verifyTimestampToken } from '../../packages/core/src/verify/cms-verify';
import { verifyAuditChain, type AuditLog, type ChainCheck } from './audit';
import type { Db } from './db/index';
import type { TsaResponder } from './tsa/responder';

/** One signed head, as stored and exported (one JSON object per line). */
export interface AuditAnchor {
  seq: number;
  hash: string;
  /** The TSA's genTime (ISO-8601). */
  time: string;
  /** The RFC 3161 TimeStampToken, DER in base64. */
  token: string;
}

export const ANCHOR_FILE = 'audit-anchors.jsonl';

/** What the TSA stamps: SHA-256 over a labelled (seq, hash) pair, so a token names exactly one head. */
export function anchorImprint(seq: number, hash: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(`sidian-audit-head\0${seq}\0${hash}`, 'utf8').digest());
}

export class AuditAnchors {
  private timer?: NodeJS.Timeout;
  private running?: Promise<AuditAnchor | undefined>;

  constructor(
    private readonly db: Db,
    private readonly audit: AuditLog,
    private readonly tsa: TsaResponder,
    private readonly dataDir: string,
  ) {}

  /** Time-stamps the current head unless it is anchored already; returns the new anchor. */
  anchorNow(): Promise<AuditAnchor | undefined> {
    // one at a time: two timers (or a timer and a shutdown) never stamp the same head twice
    this.running ??= this.anchorOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  private async anchorOnce(): Promise<AuditAnchor | undefined> {
    const head = await this.audit.head();
    if (head.seq === 0) return undefined;
    const last = await this.db
      .selectFrom('audit_anchors')
      .select('seq')
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (last && Number(last.seq) >= head.seq) return undefined;
    const nonce = BigInt('0x' + randomBytes(8).toString('hex'));
    const q = buildTimestampRequest(anchorImprint(head.seq, head.hash), 'SHA-256', { nonce, certReq: true });
    const reply = parseTimestampResponse((await this.tsa.respond(q)).reply);
    if (reply.status !== 0 || !reply.token)
      throw new Error(`the TSA refused the audit head: ${reply.statusText ?? ''}`);
    const check = await verifyTimestampToken(reply.token, async () => anchorImprint(head.seq, head.hash));
    const anchor: AuditAnchor = {
      seq: head.seq,
      hash: head.hash,
      time: (check.genTime ?? new Date()).toISOString(),
      token: Buffer.from(reply.token).toString('base64'),
    };
    const inserted = await this.db
      .insertInto('audit_anchors')
      .values(anchor)
      .onConflict((oc) => oc.column('seq').doNothing())
      .executeTakeFirst();
    // another server process on the same database anchored this head first: its token is the one kept
    if (!inserted || inserted.numInsertedOrUpdatedRows === 0n) return undefined;
    const file = path.join(this.dataDir, ANCHOR_FILE);
    fs.appendFileSync(file, JSON.stringify(anchor) + '\n', { mode: 0o600 });
    return anchor;
  }

  /** Anchors every `ms` (and not while nothing changed). */
  start(ms: number): void {
    if (ms <= 0) return;
    this.timer = setInterval(() => void this.anchorNow().catch(() => undefined), ms);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }
}

export async function listAnchors(db: Db): Promise<AuditAnchor[]> {
  const rows = await db.selectFrom('audit_anchors').selectAll().orderBy('seq').execute();
  return rows.map((r) => ({ seq: Number(r.seq), hash: r.hash, time: r.time, token: r.token }));
}

/** Reads anchors from a JSONL export (blank lines ignored); throws on a malformed line. */
export function readAnchorFile(file: string): AuditAnchor[] {
  const out: AuditAnchor[] = [];
  fs.readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (!line.trim()) return;
      let a: AuditAnchor;
      try {
        a = JSON.parse(line) as AuditAnchor;
      } catch {
        throw new Error(`${file}:${i + 1}: not JSON`);
      }
      if (
        !Number.isSafeInteger(a?.seq) ||
        !/^[0-9a-f]{64}$/.test(a.hash ?? '') ||
        typeof a.token !== 'string'
      )
        throw new Error(`${file}:${i + 1}: not an audit anchor {seq, hash, time, token}`);
      out.push(a);
    });
  return out;
}

export interface AnchoredCheck extends ChainCheck {
  anchors: number;
  /** The newest anchored head, when there is one. */
  anchoredUpTo?: { seq: number; time: string };
}

/**
 * The chain check, then every anchor — from the table and from each export — against the rows:
 * the TSA's signature (by the pinned TSA certificate) over exactly that head, the row at that
 * position with that hash, and no anchor that the table lost.
 */
export async function verifyAnchoredAudit(
  db: Db,
  o: { tsaCertificate: Uint8Array; exports?: AuditAnchor[][] },
): Promise<AnchoredCheck> {
  const chain = await verifyAuditChain(db);
  const table = await listAnchors(db);
  const bySeq = new Map<number, AuditAnchor>();
  const fail = (seq: number, reason: string): AnchoredCheck => ({
    ...chain,
    ok: false,
    anchors: bySeq.size,
    broken: { seq, reason },
  });
  for (const a of table) bySeq.set(a.seq, a);
  for (const list of o.exports ?? []) {
    for (const a of list) {
      const t = bySeq.get(a.seq);
      if (!t)
        return fail(
          a.seq,
          `an exported anchor of entry ${a.seq} (${a.time}) is missing from the anchor table`,
        );
      if (t.hash !== a.hash || t.token !== a.token)
        return fail(a.seq, `the anchor table's head for entry ${a.seq} differs from the exported one`);
    }
  }
  if (!chain.ok) return { ...chain, anchors: bySeq.size };
  const tsaCert = Buffer.from(o.tsaCertificate);
  let last: AuditAnchor | undefined;
  for (const a of [...bySeq.values()].sort((x, y) => x.seq - y.seq)) {
    const check = await verifyTimestampToken(new Uint8Array(Buffer.from(a.token, 'base64')), async () =>
      anchorImprint(a.seq, a.hash),
    );
    if (!check.ok)
      return fail(a.seq, `the anchor of entry ${a.seq} does not verify: ${check.reasons.join('; ')}`);
    if (!check.tsa || !tsaCert.equals(Buffer.from(check.tsa.der)))
      return fail(a.seq, `the anchor of entry ${a.seq} is not signed by the server's TSA`);
    if (a.seq > chain.rows)
      return fail(
        a.seq,
        `entry ${a.seq} was anchored at ${a.time} but the log ends at entry ${chain.rows}: newest rows were deleted (truncated)`,
      );
    const row = await db.selectFrom('audit_log').select('hash').where('seq', '=', a.seq).executeTakeFirst();
    if (row?.hash !== a.hash)
      return fail(
        a.seq,
        `entry ${a.seq} does not match the head anchored at ${a.time}: history up to it was rewritten`,
      );
    last = a;
  }
  return {
    ...chain,
    anchors: bySeq.size,
    ...(last ? { anchoredUpTo: { seq: last.seq, time: last.time } } : {}),
  };
}
