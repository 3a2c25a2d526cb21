/** HTTP errors: every failure leaves the server as `{ error, message }` JSON, never with a stack trace. */
import type { FastifyError, FastifyInstance } from 'fastify';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (message: string, code = 'BAD_REQUEST') => new HttpError(400, code, message);
export const unauthorized = (message = 'authentication required', code = 'UNAUTHORIZED') =>
  new HttpError(401, code, message);
export const forbidden = (message = 'not allowed', code = 'FORBIDDEN') => new HttpError(403, code, message);
export const notFound = (message = 'not found', code = 'NOT_FOUND') => new HttpError(404, code, message);
export const conflict = (message: string, code = 'CONFLICT') => new HttpError(409, code, message);
export const unprocessable = (message: string, code = 'UNPROCESSABLE') => new HttpError(422, code, message);

/** HTTP status for the stable codes of SidianError (core). */
const SIDIAN_STATUS: Record<string, number> = {
  PDF_NOT_PDF: 422,
  PDF_TRUNCATED: 422,
  PDF_NO_XREF: 422,
  PDF_MALFORMED: 422,
  PDF_ENCRYPTED: 422,
  PDF_TOO_COMPLEX: 422,
  VERIFY_UNREADABLE: 422,
  // the document needs more work (decoded bytes, time, memory) than one verification may have; the
  // body's own size has its own answer (413 PAYLOAD_TOO_LARGE)
  LIMIT_EXCEEDED: 422,
  CERT_MALFORMED: 422,
  LICENCE_MISSING: 422,
  LICENCE_INVALID: 422,
};

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError & { code?: string; status?: number }, req, reply) => {
    let status = 500;
    let code = 'INTERNAL';
    let message = 'internal server error';
    if (err instanceof HttpError) {
      status = err.status;
      code = err.code;
      message = err.message;
    } else if (err?.name === 'SidianError' && typeof err.code === 'string') {
      status = SIDIAN_STATUS[err.code] ?? 422;
      code = err.code;
      message = err.message;
    } else if (err?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      status = 413;
      code = 'PAYLOAD_TOO_LARGE';
      message = 'the request body is larger than this server accepts';
    } else if (err?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      status = 415;
      code = 'UNSUPPORTED_MEDIA_TYPE';
      message = 'unsupported content type';
    } else if (
      err?.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
      err?.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH'
    ) {
      status = 400;
      code = 'BAD_REQUEST';
      message = err.message;
    } else if (err?.validation) {
      status = 400;
      code = 'BAD_REQUEST';
      message = err.message;
    } else if (typeof err?.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      // fastify and plugin errors with a client status (bad JSON, rate limits, ...)
      status = err.statusCode;
      code =
        status === 429
          ? 'RATE_LIMITED'
          : status === 413
            ? 'PAYLOAD_TOO_LARGE'
            : status === 415
              ? 'UNSUPPORTED_MEDIA_TYPE'
              : 'BAD_REQUEST';
      message = err.message;
    }
    if (status >= 500)
      req.log.error({ err: { message: err?.message, code: err?.code, stack: err?.stack } }, 'request failed');
    reply.status(status).type('application/json; charset=utf-8').send({ error: code, message });
  });
  app.setNotFoundHandler((req, reply) => {
    reply
      .status(404)
      .type('application/json; charset=utf-8')
      .send({ error: 'NOT_FOUND', message: `no route for ${req.method} ${req.url.split('?')[0]}` });
  });
}
