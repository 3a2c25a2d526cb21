/** Certificates: POST /api/enrol (CSR + portal token, or a department's API key for its seal), GET /api/crl, revocation. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { actorOf } from '../auth';
import type { Ctx } from '../context';
import { badRequest, forbidden, HttpError, notFound, unauthorized } from '../errors';
import type { CaKind } from '../pki/ca';

/** A fixed-window counter per key (in memory, per process, as @fastify/rate-limit keeps its own). */
export class WindowLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
  ) {}

  /** Counts one use; returns 0 when allowed, else the milliseconds until the window resets. */
  take(key: string, now = Date.now()): number {
    if (this.windows.size > 100_000)
      for (const [k, w] of this.windows) if (w.resetAt <= now) this.windows.delete(k);
    let w = this.windows.get(key);
    if (!w || w.resetAt <= now) {
      w = { count: 0, resetAt: now + this.windowMs };
      this.windows.set(key, w);
    }
    if (w.count >= this.max) return w.resetAt - now;
    w.count++;
    return 0;
  }
}

export async function enrolRoutes(app: FastifyInstance, ctx: Ctx): Promise<void> {
  const enrolLimit = new WindowLimiter(ctx.limits.enrolPerMinute, 60_000);
  await app.register(async (scope) => {
    scope.addContentTypeParser(
      ['application/pkcs10', 'application/octet-stream'],
      { parseAs: 'buffer', bodyLimit: 64 * 1024 },
      (_r, b, done) => done(null, b),
    );
    scope.post('/api/enrol', { bodyLimit: 64 * 1024 }, async (req, reply) => {
      // a citizen (portal token) enrols a signing key; a department (API key) a seal key
      const who = await ctx.auth.caller(req);
      if (!who) throw unauthorized('a portal token is required (Authorization: Bearer)', 'TOKEN_REQUIRED');
      // counted per citizen, after the token checks: anonymous or forged requests (401) never
      // use up the enrolments of the people behind the same proxy
      const wait = enrolLimit.take(who.id);
      if (wait > 0) {
        reply.header('retry-after', String(Math.ceil(wait / 1000)));
        throw new HttpError(
          429,
          'RATE_LIMITED',
          `too many enrolments; retry after ${Math.ceil(wait / 1000)} s`,
        );
      }
      let csr: Uint8Array | string;
      if (Buffer.isBuffer(req.body)) csr = new Uint8Array(req.body);
      else if (typeof req.body === 'string') csr = req.body;
      else if (req.body && typeof (req.body as { csr?: unknown }).csr === 'string')
        csr = (req.body as { csr: string }).csr;
      else
        throw badRequest(
          'send {"csr": "<PEM or base64 DER>"} or a PKCS#10 body (application/pkcs10)',
          'CSR_MISSING',
        );
      const result = await ctx.ca.enrol(csr, who);
      if (String(req.headers.accept ?? '').includes('application/pem-certificate-chain')) {
        return reply
          .type('application/pem-certificate-chain')
          .send(result.certificate + result.chain.join(''));
      }
      return reply.status(201).send(result);
    });
  });

  // The current full CRL, the same bytes from every instance on one database (see EnrolmentCa.currentCrl):
  // /api/crl of the P-256 CA, /api/crl/sm2 of the 国密 CA (signed with SM2-with-SM3).
  app.get('/api/crl', (req, reply) => sendCrl(req, reply, 'p256'));
  app.get('/api/crl/sm2', (req, reply) => {
    if (!ctx.pki.sm2?.ca) throw notFound('this server has no SM2 CA / 本服务器未配置 SM2 CA');
    return sendCrl(req, reply, 'sm2');
  });
  async function sendCrl(req: FastifyRequest, reply: FastifyReply, kind: CaKind) {
    const crl = await ctx.ca.currentCrl(kind);
    reply
      .header('cache-control', 'public, no-cache')
      .header('etag', `"crl-${crl.number}"`)
      .header('sidian-crl-number', String(crl.number));
    if (String(req.headers.accept ?? '').includes('application/x-pem-file')) {
      return reply.type('application/x-pem-file').send(crl.pem);
    }
    return reply.type('application/pkix-crl').send(Buffer.from(crl.der));
  }

  /**
   * Revocation belongs to the certificate's holder (portal token; someone else's serial is "not
   * found") and to the CA operator (a department named in `caOperators`). Other departments may not
   * revoke citizens' certificates (RFC 5280 §3.3: the CA revokes, on the subject's or an authorised
   * party's request).
   */
  app.post('/api/certificates/:serial/revoke', async (req) => {
    const caller = await ctx.auth.caller(req);
    if (!caller) throw unauthorized('a portal token or department API key is required');
    if (caller.kind === 'department' && !ctx.caOperators.includes(caller.id))
      throw forbidden(
        'only the holder or the CA operator revokes a certificate / 只有持有人或 CA 运营方可以吊销证书',
        'CA_OPERATOR_REQUIRED',
      );
    const { serial } = req.params as { serial: string };
    const raw = (req.body as { reason?: unknown } | undefined)?.reason ?? 0;
    const reason = typeof raw === 'number' ? raw : Number.NaN;
    const r = await ctx.ca.revoke(
      serial,
      reason,
      actorOf(caller),
      caller.kind === 'citizen' ? caller.id : undefined,
    );
    return { serialNumber: r.serial, revoked: true, revokedAt: r.revokedAt, reason: r.reason };
  });
}
