/** Health, trust anchors, verification, time stamps, development tokens. */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { binaryBodies, bodySha256 } from '../body';
import { listAnchors } from '../audit-anchor';
import type { Ctx } from '../context';
import { badRequest, HttpError, unprocessable } from '../errors';
import { verifyWithServerState } from '../verify/cache';

export function looksLikePdf(b: Uint8Array): boolean {
  const head = Buffer.from(b.subarray(0, Math.min(b.length, 1024))).toString('latin1');
  return head.includes('%PDF-');
}

const round = (n: number) => Math.round(n * 10) / 10;

/** Aborted when the client closes its connection before the answer is sent (its job is then cancelled). */
export function clientGoneSignal(reply: FastifyReply): AbortSignal {
  const ac = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) ac.abort();
  });
  return ac.signal;
}

export async function basicRoutes(app: FastifyInstance, ctx: Ctx): Promise<void> {
  const started = Date.now();
  // Measured from the moment the server listens: a stall before that delays no request (none can
  // reach it yet), while the start-up it would catch (the routes registered, the seal authority
  // loaded or made: one synchronous stretch of 45-150 ms on two cores) would read as a stall of the
  // running server for its first 10-20 s.
  const loop = monitorEventLoopDelay({ resolution: 10 });
  let previousMax = 0;
  let window: NodeJS.Timeout | undefined;
  app.addHook('onListen', async () => {
    if (window) return;
    loop.enable();
    window = setInterval(() => {
      previousMax = loop.max;
      loop.reset();
    }, 10_000);
    window.unref();
  });
  app.addHook('onClose', async () => {
    clearInterval(window);
    loop.disable();
  });
  // Anonymous callers learn only that the server is up; mode, database and load are for operators
  // (callers with a department API key), as they help an attacker pick targets.
  app.get('/api/health', async (req) => {
    const caller = await ctx.auth.caller(req);
    if (caller?.kind !== 'department') return { status: 'ok' };
    return {
      status: 'ok',
      mode: ctx.devMode ? 'development' : 'production',
      uptimeSeconds: Math.round((Date.now() - started) / 1000),
      database: ctx.dbKind,
      devMode: ctx.devMode,
      workers: ctx.pool.size,
      /** Event-loop delay (ms) since the server listens: percentiles over the current 10-second window, max over the last 10-20 s. */
      eventLoopDelayMs: {
        p50: round(loop.percentile(50) / 1e6),
        p99: round(loop.percentile(99) / 1e6),
        max: round(Math.max(previousMax, loop.max) / 1e6),
      },
    };
  });

  // The trust anchors (the P-256 root, then the SM2 root), then each CA's current CRL (`X509 CRL`
  // PEM blocks, the P-256 CA's first): what <licence-viewer trust="/api/trust"> checks seals against,
  // so that a certificate revoked through this server is `revoked` in the viewer too. `?crl=0` gives
  // the certificates alone.
  app.get('/api/trust', async (req, reply) => {
    reply.type('application/x-pem-file; charset=utf-8').header('cache-control', 'no-cache');
    if ((req.query as { crl?: string }).crl === '0') return reply.send(ctx.trustPem);
    const crls = await ctx.ca.currentCrls();
    return reply
      .header('sidian-crl-number', String(crls[0]!.number))
      .send(ctx.trustPem + crls.map((c) => c.pem).join(''));
  });

  // Binary bodies (PDF, timestamp queries) in their own scope: every content type arrives as a Buffer.
  await app.register(async (scope) => {
    binaryBodies(scope, ctx.limits.verifyBodyBytes);

    // against the trust anchors and the server's current CRL, through the report cache (verify/cache.ts)
    scope.post('/api/verify', { bodyLimit: ctx.limits.verifyBodyBytes }, async (req, reply) => {
      const body = req.body as Uint8Array | undefined;
      if (!body || body.length === 0) throw badRequest('send the PDF as the request body', 'EMPTY_BODY');
      if (!looksLikePdf(body)) throw unprocessable('the body is not a PDF (no %PDF- header)', 'PDF_NOT_PDF');
      // ?at=ISO-8601: validate as at that time (long-term validation, PAdES B-LT/B-LTA), still
      // against the server's anchors and current CRL, through the report cache (keyed by that time)
      const at = (req.query as { at?: unknown }).at;
      if (
        at !== undefined &&
        (typeof at !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(at) || Number.isNaN(Date.parse(at)))
      )
        throw badRequest('at must be an ISO-8601 time, e.g. 2030-01-01T00:00:00Z', 'BAD_TIME');
      const { report, cache, crlNumber } = await verifyWithServerState(ctx, bodySha256(body), () => body, {
        transferOk: true,
        signal: clientGoneSignal(reply),
        validationTime: at === undefined ? undefined : new Date(at).toISOString(),
      });
      return reply.header('sidian-cache', cache).header('sidian-crl-number', String(crlNumber)).send(report);
    });

    scope.post(
      '/api/tsa',
      { bodyLimit: 64 * 1024, config: { rateLimit: { max: ctx.limits.tsaPerMinute, timeWindow: 60_000 } } },
      async (req, reply) => {
        const body = req.body as Uint8Array | undefined;
        const ct = String(req.headers['content-type'] ?? '')
          .split(';')[0]!
          .trim()
          .toLowerCase();
        if (ct && ct !== 'application/timestamp-query') {
          throw new HttpError(
            415,
            'UNSUPPORTED_MEDIA_TYPE',
            'send an RFC 3161 request as application/timestamp-query',
          );
        }
        const result = await ctx.tsa.respond(body ?? new Uint8Array(0));
        return reply.type('application/timestamp-reply').send(Buffer.from(result.reply));
      },
    );
  });

  if (ctx.devMode) {
    app.post('/api/dev/token', async (req) => {
      const b = (req.body ?? {}) as { name?: unknown; idNumber?: unknown; ttlSeconds?: unknown };
      if (
        typeof b.name !== 'string' ||
        !b.name.trim() ||
        typeof b.idNumber !== 'string' ||
        !b.idNumber.trim()
      ) {
        throw badRequest('body must be {"name": "...", "idNumber": "..."}');
      }
      if (b.name.length > 128 || b.idNumber.length > 64) throw badRequest('name or idNumber too long');
      const ttl =
        typeof b.ttlSeconds === 'number' && b.ttlSeconds > -3600 && b.ttlSeconds <= ctx.auth.maxTokenLifetime
          ? b.ttlSeconds
          : Math.min(3600, ctx.auth.maxTokenLifetime);
      return { token: await ctx.auth.devToken(b.name.trim(), b.idNumber.trim(), ttl) };
    });
  }

  app.get('/api/audit', async (req) => {
    const caller = await ctx.auth.caller(req);
    if (!ctx.devMode && caller?.kind !== 'department')
      throw new HttpError(401, 'API_KEY_REQUIRED', 'a department API key is required');
    const q = req.query as { after?: string; limit?: string };
    const after = q.after !== undefined ? Number(q.after) : 0;
    const limit = q.limit !== undefined ? Number(q.limit) : 100;
    if (!Number.isInteger(after) || after < 0 || !Number.isInteger(limit) || limit < 1)
      throw badRequest('after and limit must be non-negative integers');
    const page = await ctx.audit.page(after, limit);
    const head = await ctx.audit.head();
    return { ...page, head };
  });

  // The time-stamped heads (JSON lines, as `sidian audit anchor-export` writes them): for a copy
  // kept where the database's administrators cannot reach (docs/audit-anchoring.md).
  app.get('/api/audit/anchors', async (req, reply) => {
    const caller = await ctx.auth.caller(req);
    if (!ctx.devMode && caller?.kind !== 'department')
      throw new HttpError(401, 'API_KEY_REQUIRED', 'a department API key is required');
    const anchors = await listAnchors(ctx.db);
    return reply
      .type('application/jsonl; charset=utf-8')
      .send(anchors.map((a) => JSON.stringify(a) + '\n').join(''));
  });
}
