/**
 * Webhooks to departments' business systems: every case event is written to an outbox
 * (`webhook_deliveries`) in the same transaction as the change it reports, and delivered after the
 * commit, at least once: retried with exponential back-off until the receiver answers 2xx, across
 * restarts (the outbox is in the database). Each delivery carries the event id as `Idempotency-Key`
 * (the same for every retry), so the receiver keeps each event exactly once.
 *
 * Signature: `Sidian-Signature: sha256=<hex>` where hex = HMAC-SHA256(secret, `<timestamp>.<body>`)
 * and `<timestamp>` is `Sidian-Timestamp` (Unix seconds). The timestamp is signed so that a captured
 * delivery cannot be replayed later (receivers reject old timestamps; see verifyWebhookSignature).
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Db } from '../db/index';
import type { Database } from '../db/schema';

export interface WebhookOptions {
  /** First retry after this many ms; each further retry waits twice as long (default 5 s). */
  retryBaseMs: number;
  /** Longest wait between two attempts (default 1 h). */
  retryMaxMs: number;
  /** Attempts before a delivery is given up as 'failed' (default 12). */
  maxAttempts: number;
  /** Per attempt (default 10 s). */
  timeoutMs: number;
}

export const DEFAULT_WEBHOOK_OPTIONS: WebhookOptions = {
  retryBaseMs: 5_000,
  retryMaxMs: 3600_000,
  maxAttempts: 12,
  timeoutMs: 10_000,
};

export function signWebhook(secret: string, timestamp: string, body: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
}

/**
 * For receivers: whether `signature` (the Sidian-Signature header) is this body's under `secret`,
 * with a timestamp no older than `toleranceSeconds` (default 300).
 */
export function verifyWebhookSignature(o: {
  secret: string;
  timestamp: string | undefined;
  body: string;
  signature: string | undefined;
  toleranceSeconds?: number;
  now?: number;
}): boolean {
  if (!o.timestamp || !o.signature || !/^\d{1,12}$/.test(o.timestamp)) return false;
  const age = Math.abs((o.now ?? Date.now()) / 1000 - Number(o.timestamp));
  if (age > (o.toleranceSeconds ?? 300)) return false;
  const want = Buffer.from(signWebhook(o.secret, o.timestamp, o.body));
  const got = Buffer.from(o.signature);
  return want.length === got.length && timingSafeEqual(want, got);
}

export const idempotencyKey = (seq: number) => `sidian-case-event-${seq}`;

/** Queues the delivery of events to the webhooks of the departments concerned (inside the change's transaction). */
export async function enqueueDeliveries(
  trx: Transaction<Database>,
  departments: string[],
  seqs: number[],
): Promise<number> {
  if (!departments.length || !seqs.length) return 0;
  const hooks = await trx
    .selectFrom('webhooks')
    .select(['id', 'department_id'])
    .where('department_id', 'in', departments)
    .execute();
  const now = new Date().toISOString();
  const rows = hooks.flatMap((h) =>
    seqs.map((seq) => ({
      id: randomUUID(),
      webhook_id: h.id,
      department_id: h.department_id,
      event_seq: seq,
      status: 'pending',
      attempts: 0,
      next_attempt_at: now,
      last_status: null,
      last_error: null,
      created_at: now,
      delivered_at: null,
    })),
  );
  if (rows.length) await trx.insertInto('webhook_deliveries').values(rows).execute();
  return rows.length;
}

/** Delivers the outbox: woken after each commit and at the next retry time; one loop per process. */
export class WebhookDispatcher {
  private running = false;
  private again = false;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private current?: Promise<void>;

  constructor(
    private readonly db: Db,
    private readonly o: WebhookOptions,
  ) {}

  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.current = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.current?.catch(() => undefined);
  }

  private async run(): Promise<void> {
    this.running = true;
    if (this.timer) clearTimeout(this.timer);
    try {
      do {
        this.again = false;
        while (!this.stopped && (await this.deliverDue()) > 0) {
          /* until nothing is due */
        }
      } while (this.again && !this.stopped);
      await this.scheduleNext();
    } catch {
      // the database is gone (closing) or failing: try again later
      if (!this.stopped) this.timer = setTimeout(() => this.kick(), this.o.retryBaseMs).unref();
    } finally {
      this.running = false;
    }
  }

  private async scheduleNext(): Promise<void> {
    if (this.stopped) return;
    const next = await this.db
      .selectFrom('webhook_deliveries')
      .select('next_attempt_at')
      .where('status', '=', 'pending')
      .orderBy('next_attempt_at', 'asc')
      .limit(1)
      .executeTakeFirst();
    if (!next) return;
    const wait = Math.max(0, Date.parse(next.next_attempt_at) - Date.now());
    this.timer = setTimeout(() => this.kick(), Math.min(wait, 2 ** 31 - 1)).unref();
  }

  /** One batch of due deliveries; returns how many were attempted. */
  private async deliverDue(): Promise<number> {
    const due = await this.db
      .selectFrom('webhook_deliveries as d')
      .innerJoin('webhooks as w', 'w.id', 'd.webhook_id')
      .innerJoin('case_events as e', 'e.seq', 'd.event_seq')
      .select(['d.id', 'd.attempts', 'd.event_seq', 'w.url', 'w.secret', 'e.type', 'e.data'])
      .where('d.status', '=', 'pending')
      .where('d.next_attempt_at', '<=', new Date().toISOString())
      .orderBy('d.event_seq', 'asc')
      .limit(50)
      .execute();
    for (const d of due) {
      if (this.stopped) break;
      const seq = Number(d.event_seq);
      const timestamp = String(Math.floor(Date.now() / 1000));
      let status: number | null = null;
      let error: string | null = null;
      try {
        const r = await fetch(d.url, {
          method: 'POST',
          body: d.data,
          redirect: 'manual',
          signal: AbortSignal.timeout(this.o.timeoutMs),
          headers: {
            'content-type': 'application/json; charset=utf-8',
            'idempotency-key': idempotencyKey(seq),
            'sidian-event': d.type,
            'sidian-delivery': d.id,
            'sidian-timestamp': timestamp,
            'sidian-signature': signWebhook(d.secret, timestamp, d.data),
            'user-agent': 'Sidian-Webhooks/1',
          },
        });
        status = r.status;
        await r.body?.cancel().catch(() => undefined);
        if (r.status < 200 || r.status >= 300) error = `the receiver answered HTTP ${r.status}`;
      } catch (e) {
        error =
          (e as Error).name === 'TimeoutError'
            ? 'timed out'
            : String((e as Error).message ?? e).slice(0, 300);
      }
      const attempts = d.attempts + 1;
      const now = new Date();
      const delivered = error === null;
      const giveUp = !delivered && attempts >= this.o.maxAttempts;
      const wait = Math.min(this.o.retryMaxMs, this.o.retryBaseMs * 2 ** (attempts - 1));
      await this.db
        .updateTable('webhook_deliveries')
        .set({
          status: delivered ? 'delivered' : giveUp ? 'failed' : 'pending',
          attempts,
          last_status: status,
          last_error: error,
          delivered_at: delivered ? now.toISOString() : null,
          next_attempt_at: new Date(now.getTime() + (delivered || giveUp ? 0 : wait)).toISOString(),
        })
        .where('id', '=', d.id)
        .where('status', '=', 'pending')
        .execute();
    }
    return due.length;
  }
}
