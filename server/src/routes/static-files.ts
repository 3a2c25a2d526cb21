/**
 * Built files: the elements bundle under /elements/ (sidian.js, its lazy chunks, pdf.js's worker and
 * data files under /elements/pdfjs/) and the demo portal at / (development mode only). Both come
 * from `npm run build` (dist/); a missing build answers a JSON 404 that says so.
 *
 * In development mode, `GET /api/dev/department` also hands the demo department's seal (PKCS#12 and
 * its password) and API key to the demo portal, so the department's page can seal in the browser
 * (the key is imported into WebCrypto non-extractable) and register licences. A real department
 * keeps its seal key in its own browser or UKey and its API key on its own back office: production
 * mode has no such route.
 */
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Ctx } from '../context';
import { notFound } from '../errors';
import { DEMO_DEPARTMENT } from '../pki/dev-pki';

const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.ttf': 'font/ttf',
  '.woff2': 'font/woff2',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.bcmap': 'application/octet-stream',
  '.pfb': 'application/octet-stream',
  '.icc': 'application/octet-stream',
  '.md': 'text/plain; charset=utf-8',
  '': 'text/plain; charset=utf-8',
};

/** A path inside `dir` for a URL path, or undefined (traversal, odd characters, hidden files). */
export function safeJoin(dir: string, urlPath: string): string | undefined {
  let rel: string;
  try {
    rel = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (!/^[A-Za-z0-9._/-]*$/.test(rel) || rel.split('/').some((s) => s.startsWith('.'))) return undefined;
  const full = path.resolve(dir, rel);
  return full.startsWith(dir + path.sep) ? full : undefined;
}

/** Types worth compressing (text, JSON, wasm); images, fonts and CMaps are compressed already or tiny. */
const COMPRESSIBLE = new Set(['.js', '.mjs', '.css', '.html', '.json', '.map', '.wasm', '.svg', '.md', '']);
/** Files larger than this are sent as they are unless precompressed at build time. */
const MAX_COMPRESS_ON_THE_FLY = 16 * 1024 * 1024;

type Encoding = 'br' | 'gzip';

/**
 * The coding to send for an Accept-Encoding header (RFC 9110 §12.5.3): brotli before gzip, each only
 * when listed with a q-value above 0 (or through `*`).
 */
export function pickEncoding(acceptEncoding: string | undefined): Encoding | undefined {
  if (!acceptEncoding) return undefined;
  const q = new Map<string, number>();
  for (const part of acceptEncoding.toLowerCase().split(',')) {
    const [name, ...params] = part.trim().split(';');
    const qp = params.map((x) => x.trim()).find((x) => x.startsWith('q='));
    const value = qp ? Number(qp.slice(2)) : 1;
    if (name) q.set(name.trim(), Number.isFinite(value) ? value : 0);
  }
  const accepts = (e: string) => (q.get(e) ?? (e === 'x-gzip' ? 0 : (q.get('*') ?? 0))) > 0;
  if (accepts('br')) return 'br';
  if (accepts('gzip') || (q.get('x-gzip') ?? 0) > 0) return 'gzip';
  return undefined;
}

/** Compressed bodies made on the fly, by file and version (size and mtime); a few, most recent kept. */
const compressedCache = new Map<string, Buffer>();
const COMPRESSED_CACHE_ENTRIES = 64;

async function compressedBody(
  file: string,
  version: string,
  mtimeMs: number,
  enc: Encoding,
): Promise<Buffer> {
  // precompressed by `npm run build` (file.br, file.gz), if not older than the file
  const pre = `${file}.${enc === 'br' ? 'br' : 'gz'}`;
  try {
    const st = await fs.promises.stat(pre);
    if (st.isFile() && st.mtimeMs >= mtimeMs) return await fs.promises.readFile(pre);
  } catch {
    // none: compress here
  }
  const key = `${file}\0${version}\0${enc}`;
  const hit = compressedCache.get(key);
  if (hit) {
    compressedCache.delete(key);
    compressedCache.set(key, hit);
    return hit;
  }
  const data = await fs.promises.readFile(file);
  const body =
    enc === 'br'
      ? await brotli(data, {
          params: {
            [zlib.constants.BROTLI_PARAM_QUALITY]: 5,
            [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length,
          },
        })
      : await gzip(data, { level: 6 });
  compressedCache.set(key, body);
  while (compressedCache.size > COMPRESSED_CACHE_ENTRIES)
    compressedCache.delete(compressedCache.keys().next().value!);
  return body;
}

/** If-None-Match against one entity tag (weak comparison, RFC 9110 §13.1.2). */
function noneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const strip = (t: string) => t.trim().replace(/^W\//, '');
  return header.split(',').some((t) => t.trim() === '*' || strip(t) === strip(etag));
}

async function sendFile(
  req: FastifyRequest,
  reply: FastifyReply,
  file: string | undefined,
  missing: string,
  cache: string,
  crossOrigin: boolean,
) {
  if (!file) throw notFound();
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(file);
  } catch {
    return reply.status(404).send({ error: 'NOT_FOUND', message: missing });
  }
  if (!st.isFile()) return reply.status(404).send({ error: 'NOT_FOUND', message: missing });
  // public files: any site may load them, as module scripts (CORS mode) and their lazy chunks
  if (crossOrigin)
    reply.header('cross-origin-resource-policy', 'cross-origin').header('access-control-allow-origin', '*');
  const ext = path.extname(file);
  const compressible = COMPRESSIBLE.has(ext);
  const enc =
    compressible && st.size <= MAX_COMPRESS_ON_THE_FLY
      ? pickEncoding(req.headers['accept-encoding'])
      : undefined;
  const version = `${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}`;
  // one tag per representation: the gzip and brotli bodies differ from the plain one
  const etag = `"${version}${enc ? `-${enc === 'br' ? 'br' : 'gz'}` : ''}"`;
  reply.header('cache-control', cache).header('etag', etag);
  if (compressible) reply.header('vary', 'Accept-Encoding');
  // a revalidation costs a stat, not a read
  if (noneMatch(req.headers['if-none-match'], etag)) return reply.status(304).send();
  let body: Buffer;
  try {
    body = enc ? await compressedBody(file, version, st.mtimeMs, enc) : await fs.promises.readFile(file);
  } catch {
    return reply.status(404).send({ error: 'NOT_FOUND', message: missing });
  }
  reply.type(TYPES[ext] ?? 'application/octet-stream');
  if (enc) reply.header('content-encoding', enc);
  return reply.send(body);
}

/** The bundle's entry points (vite.config.ts): names without a hash, so a short cache time. */
export const ENTRY_FILES = new Set([
  'sidian.js',
  'seal-placer.js',
  'signature-pad.js',
  'licence-viewer.js',
  'material-uploader.js',
]);

export interface StaticDirs {
  /** dist/elements */
  elementsDir: string;
  /** dist/demo */
  demoDir: string;
}

export const DEFAULT_DIST = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../dist');

export async function staticRoutes(app: FastifyInstance, ctx: Ctx, dirs: StaticDirs): Promise<void> {
  const elementsDir = path.resolve(dirs.elementsDir);
  const demoDir = path.resolve(dirs.demoDir);

  // any site may load the bundle (cross-origin-resource-policy), like a script from a CDN
  app.get('/elements/*', async (req, reply) => {
    const rest = (req.params as { '*': string })['*'];
    const file = safeJoin(elementsDir, rest);
    // entry points keep their names (sidian.js, licence-viewer.js...); chunks carry a content hash
    const hashed =
      (!ENTRY_FILES.has(rest) && /-[A-Za-z0-9_-]{8}\.js$/.test(rest)) || rest.startsWith('pdfjs/');
    return sendFile(
      req,
      reply,
      file,
      `${rest} has not been built (npm run build)`,
      hashed ? 'public, max-age=86400' : 'public, max-age=300',
      true,
    );
  });

  if (!ctx.devMode) return;

  app.get('/api/dev/department', async () => {
    const file = path.join(ctx.dataDir, 'dev-department.json');
    const d = JSON.parse(await fs.promises.readFile(file, 'utf8')) as { id: string; apiKey: string };
    return {
      id: d.id,
      name: DEMO_DEPARTMENT.name,
      creditCode: DEMO_DEPARTMENT.creditCode,
      region: DEMO_DEPARTMENT.region,
      apiKey: d.apiKey,
      seal: { p12: Buffer.from(ctx.pki.seal.p12!).toString('base64'), password: ctx.pki.seal.password },
    };
  });

  const demoPage = (file: string) => (req: FastifyRequest, reply: FastifyReply) =>
    sendFile(
      req,
      reply,
      path.join(demoDir, file),
      'the demo portal has not been built (npm run build)',
      'no-cache',
      false,
    );
  app.get('/', demoPage('index.html'));
  app.get('/index.html', demoPage('index.html'));
  app.get('/assets/*', async (req, reply) => {
    const rest = (req.params as { '*': string })['*'];
    return sendFile(
      req,
      reply,
      safeJoin(path.join(demoDir, 'assets'), rest),
      'not built',
      'public, max-age=86400',
      false,
    );
  });
  app.get('/fonts/*', async (req, reply) => {
    const rest = (req.params as { '*': string })['*'];
    return sendFile(
      req,
      reply,
      safeJoin(path.join(demoDir, 'fonts'), rest),
      'not built',
      'public, max-age=86400',
      false,
    );
  });
}
