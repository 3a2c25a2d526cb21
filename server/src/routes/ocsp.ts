/**
 * The enrolment CA's OCSP responder (RFC 6960 Appendix A.1): `POST /api/ocsp` with an
 * application/ocsp-request body, and `GET /api/ocsp/<url-encoded base64 of the DER request>`.
 * Always an application/ocsp-response: unreadable requests get `malformedRequest`.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { binaryBodies } from '../body';
import type { Ctx } from '../context';
import { HttpError } from '../errors';
import { OcspResponder, OcspStatus, ocspError } from '../pki/ocsp';

/** Largest OCSP request accepted (a request for 32 certificates with a nonce is about 3 KB). */
const REQUEST_BYTES = 16 * 1024;

export async function ocspRoutes(app: FastifyInstance, ctx: Ctx): Promise<void> {
  // the P-256 CA, and the SM2 CA when the server has one: each answers for the certificates it issued
  const sm2 = ctx.pki.sm2?.ca;
  const responder = new OcspResponder([
    { certificate: ctx.pki.ca.der, key: ctx.pki.ca.key, status: (serial) => ctx.ca.status(serial, 'p256') },
    ...(sm2
      ? [{ certificate: sm2.der, key: sm2.key, status: (serial: string) => ctx.ca.status(serial, 'sm2') }]
      : []),
  ]);
  const send = async (reply: FastifyReply, request: Uint8Array | undefined) => {
    const { response } = request
      ? await responder.respond(request)
      : { response: ocspError(OcspStatus.malformedRequest) };
    // a response answers the database as it is now: caches must ask again
    return reply
      .type('application/ocsp-response')
      .header('cache-control', 'no-cache')
      .send(Buffer.from(response));
  };
  const rateLimit = { max: ctx.limits.tsaPerMinute, timeWindow: 60_000 };

  app.get('/api/ocsp/*', { config: { rateLimit } }, async (req, reply) => {
    // the raw path, not the decoded parameter: base64 carries '/' and '+', which the client escapes or not
    const tail = req.url.split('?')[0]!.replace(/^\/api\/ocsp\//, '');
    let der: Uint8Array | undefined;
    try {
      const b64 = decodeURIComponent(tail).replace(/-/g, '+').replace(/_/g, '/').replace(/\s+/g, '');
      if (b64.length > 0 && b64.length <= (REQUEST_BYTES * 4) / 3 && /^[A-Za-z0-9+/]+={0,2}$/.test(b64))
        der = new Uint8Array(Buffer.from(b64, 'base64'));
    } catch {
      der = undefined; // bad percent-encoding
    }
    return send(reply, der);
  });

  await app.register(async (scope) => {
    binaryBodies(scope, REQUEST_BYTES);
    scope.post('/api/ocsp', { bodyLimit: REQUEST_BYTES, config: { rateLimit } }, async (req, reply) => {
      const ct = String(req.headers['content-type'] ?? '')
        .split(';')[0]!
        .trim()
        .toLowerCase();
      if (ct && ct !== 'application/ocsp-request')
        throw new HttpError(
          415,
          'UNSUPPORTED_MEDIA_TYPE',
          'send an RFC 6960 request as application/ocsp-request',
        );
      const body = req.body as Uint8Array | undefined;
      return send(reply, body && body.length ? body : undefined);
    });
  });
}
