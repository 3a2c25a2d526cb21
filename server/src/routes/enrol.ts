/** Citizen certificates: POST /api/enrol (CSR + portal token), GET /api/crl, revocation. */
import type { FastifyInstance } from 'fastify';
import { actorOf } from '../auth';
import type { Ctx } from '../context';
import { badRequest, unauthorized } from '../errors';

export async function enrolRoutes(app: FastifyInstance, ctx: Ctx): Promise<void> {
  await app.register(async (scope) => {
    scope.addContentTypeParser(
      ['application/pkcs10', 'application/octet-stream'],
      { parseAs: 'buffer', bodyLimit: 64 * 1024 },
      (_r, b, done) => done(null, b),
    );
    scope.post(
      '/api/enrol',
      { bodyLimit: 64 * 1024, config: { rateLimit: { max: ctx.limits.enrolPerMinute, timeWindow: 60_000 } } },
      async (req, reply) => {
        const who = await ctx.auth.requireCitizen(req);
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
      },
    );
  });

  // The current full CRL, the same bytes from every instance on one database (see EnrolmentCa.currentCrl).
  app.get('/api/crl', async (req, reply) => {
    const crl = await ctx.ca.currentCrl();
    reply
      .header('cache-control', 'public, no-cache')
      .header('etag', `"crl-${crl.number}"`)
      .header('sidian-crl-number', String(crl.number));
    if (String(req.headers.accept ?? '').includes('application/x-pem-file')) {
      return reply.type('application/x-pem-file').send(crl.pem);
    }
    return reply.type('application/pkix-crl').send(Buffer.from(crl.der));
  });

  // A citizen revokes their own certificate; a department revokes any (e.g. on a report of loss).
  app.post('/api/certificates/:serial/revoke', async (req) => {
    const caller = await ctx.auth.caller(req);
    if (!caller) throw unauthorized('a portal token or department API key is required');
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
