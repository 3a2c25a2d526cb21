/** Health, trust anchors, verification, time stamps, development tokens. */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import { binaryBodies } from '../body';
import type { Ctx } from '../context';
import { badRequest, HttpError, unprocessable } from '../errors';
import type { VerificationReport } from '../../../packages/core/src/verify/types';

export function looksLikePdf(b: Uint8Array): boolean {
  const head = Buffer.from(b.subarray(0, Math.min(b.length, 1024))).toString('latin1');
  return head.includes('%PDF-');
}

const round = (n: number) => Math.round(n * 10) / 10;

export async function basicRoutes(app: FastifyInstance, ctx: Ctx): Promise<void> {
  const started = Date.now();
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  let previousMax = 0;
  const window = setInterval(() => {
    previousMax = loop.max;
    loop.reset();
  }, 10_000);
  window.unref();
  app.addHook('onClose', async () => {
    clearInterval(window);
    loop.disable();
  });
  app.get('/api/health', async () => {
    return {
      status: 'ok',
      uptimeSeconds: Math.round((Date.now() - started) / 1000),
      database: ctx.dbKind,
      devMode: ctx.devMode,
      workers: ctx.pool.size,
      /** Event-loop delay (ms): percentiles over the current 10-second window, max over the last 10-20 s. */
      eventLoopDelayMs: {
        p50: round(loop.percentile(50) / 1e6),
        p99: round(loop.percentile(99) / 1e6),
        max: round(Math.max(previousMax, loop.max) / 1e6),
      },
    };
  });

  app.get('/api/trust', async (_req, reply) => {
    return reply.type('application/x-pem-file; charset=utf-8').send(ctx.trustPem);
  });

  // Binary bodies (PDF, timestamp queries) in their own scope: every content type arrives as a Buffer.
  await app.register(async (scope) => {
    binaryBodies(scope, ctx.limits.verifyBodyBytes);

    scope.post('/api/verify', { bodyLimit: ctx.limits.verifyBodyBytes }, async (req) => {
      const body = req.body as Uint8Array | undefined;
      if (!body || body.length === 0) throw badRequest('send the PDF as the request body', 'EMPTY_BODY');
      if (!looksLikePdf(body)) throw unprocessable('the body is not a PDF (no %PDF- header)', 'PDF_NOT_PDF');
      // ?at=ISO-8601: validate as at that time (long-term validation, PAdES B-LT/B-LTA)
      const at = (req.query as { at?: unknown }).at;
      if (at !== undefined && (typeof at !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(at) || Number.isNaN(Date.parse(at))))
        throw badRequest('at must be an ISO-8601 time, e.g. 2030-01-01T00:00:00Z', 'BAD_TIME');
      const report = await ctx.pool.run<VerificationReport>(
        {
          kind: 'verify',
          pdf: body,
          transferOk: true,
          options: {
            trustAnchors: [ctx.trustPem],
            timeBudgetMs: ctx.limits.verifyTimeMs,
            validationTime: at === undefined ? undefined : new Date(at).toISOString(),
          },
        },
        ctx.limits.verifyTimeMs * 3,
      );
      return report;
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
        typeof b.ttlSeconds === 'number' && b.ttlSeconds > -3600 && b.ttlSeconds <= 86400
          ? b.ttlSeconds
          : 3600;
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
}
