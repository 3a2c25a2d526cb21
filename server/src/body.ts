/**
 * Binary request bodies read into one buffer of the announced size (no chunk list, no concat):
 * the buffer can then be moved to a worker thread without a copy. Over-limit bodies stop at once.
 *
 * Large bodies (PDFs to verify or register) go into shared memory: V8 counts a plain ArrayBuffer as
 * external memory of the event loop's isolate and answers 100 MB of arriving PDFs with full
 * garbage collections that stall the event loop for tens of milliseconds; a SharedArrayBuffer it
 * does not count, and the worker that verifies the PDF sees it without a copy. Small bodies (TSA
 * queries, CSRs) stay plain: WebCrypto refuses views of shared memory.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError } from './errors';

const SHARED_FROM = 1024 * 1024;
const alloc = (n: number) => (n >= SHARED_FROM ? new Uint8Array(new SharedArrayBuffer(n)) : new Uint8Array(n));

/**
 * Bytes of bodies taken in per turn of the event loop, over all requests. Many large uploads at
 * once would otherwise fill whole turns with copying (tens of milliseconds), and a health check or
 * a timestamp request arriving then would wait; past the budget a body pauses until the next turn.
 */
const TURN_BUDGET = 1024 * 1024;
let turnBytes = 0;
let turnResetQueued = false;

function spend(n: number): boolean {
  turnBytes += n;
  if (!turnResetQueued) {
    turnResetQueued = true;
    setImmediate(() => {
      turnBytes = 0;
      turnResetQueued = false;
    });
  }
  return turnBytes > TURN_BUDGET;
}

function tooLarge(limit: number) {
  return new HttpError(
    413,
    'PAYLOAD_TOO_LARGE',
    `the request body is larger than this server accepts (${limit} bytes)`,
  );
}

/** SHA-256 (hex) of bodies read by readBody, hashed chunk by chunk as they arrived (no 100 MB pass at the end). */
const digests = new WeakMap<Uint8Array, string>();

/** The SHA-256 (hex) of a body: computed while it arrived, or now. */
export function bodySha256(body: Uint8Array): string {
  return digests.get(body) ?? createHash('sha256').update(body).digest('hex');
}

export function readBody(
  req: FastifyRequest,
  payload: NodeJS.ReadableStream,
  limit: number,
): Promise<Uint8Array> {
  const declared = Number(req.headers['content-length']);
  const known = Number.isInteger(declared) && declared >= 0;
  if (known && declared > limit) {
    payload.resume?.();
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    let buf = alloc(known ? declared : 64 * 1024);
    let len = 0;
    const hash = createHash('sha256');
    const onData = (chunk: Buffer) => {
      if (len + chunk.length > limit) {
        cleanup();
        payload.resume?.();
        reject(tooLarge(limit));
        return;
      }
      if (len + chunk.length > buf.length) {
        const bigger = alloc(Math.min(limit, Math.max(buf.length * 2, len + chunk.length)));
        bigger.set(buf.subarray(0, len));
        buf = bigger;
      }
      buf.set(chunk, len);
      hash.update(chunk);
      len += chunk.length;
      if (spend(chunk.length) && payload.pause) {
        payload.pause();
        setImmediate(() => payload.resume());
      }
    };
    const onEnd = () => {
      cleanup();
      if (known && len !== declared)
        return reject(new HttpError(400, 'BAD_REQUEST', 'the body is shorter than its Content-Length'));
      const body = len === buf.length ? buf : buf.slice(0, len);
      digests.set(body, hash.digest('hex'));
      resolve(body);
    };
    const onError = (e: Error) => {
      cleanup();
      reject(e);
    };
    const cleanup = () => {
      payload.removeListener('data', onData as never);
      payload.removeListener('end', onEnd);
      payload.removeListener('error', onError);
    };
    payload.on('data', onData as never);
    payload.on('end', onEnd);
    payload.on('error', onError);
  });
}

/** In this scope every content type is read as raw bytes (Uint8Array) up to `limit`. */
export function binaryBodies(scope: FastifyInstance, limit: number): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', { bodyLimit: limit }, (req, payload, done) => {
    const routeLimit = req.routeOptions?.bodyLimit;
    readBody(req, payload, typeof routeLimit === 'number' ? Math.min(limit, routeLimit) : limit).then(
      (b) => done(null, b),
      (e) => done(e as Error, undefined),
    );
  });
}
